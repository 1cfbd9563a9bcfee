"""Resolve a GAME argument: a payoff file, a zoo name or an OpenSpiel game string."""

from __future__ import annotations

from pathlib import Path

from ..games import files as game_files
from ..games import zoo
from ..solvers.params import did_you_mean

__all__ = ["load_game", "game_kind", "game_names"]


def _zoo_heads() -> list[str]:
    return [name.split(":")[0] for name, _ in zoo.describe()]


def game_names() -> list[str]:
    """Every game name the CLI knows: zoo names, then OpenSpiel's (when installed)."""
    names = _zoo_heads()
    try:
        import pyspiel
    except ImportError:
        return names
    return names + sorted(pyspiel.registered_names())


def game_kind(spec: str) -> str:
    """``"normal_form"`` for a payoff file or a zoo name, ``"extensive_form"`` for a registered
    OpenSpiel game, without building the game; ``ValueError`` for an unknown name."""
    if Path(spec).suffix in game_files.SUFFIXES or spec.split(":")[0] in _zoo_heads():
        return "normal_form"
    _check_openspiel_name(spec)
    return "extensive_form"


def _check_openspiel_name(spec: str) -> None:
    head = spec.split(":")[0]
    try:
        from .. import efg  # noqa: F401
    except ImportError as err:  # OpenSpiel not installed
        raise ValueError(
            f"unknown game {spec!r}: not in the zoo (`gametheory games`), and OpenSpiel games "
            f"need the 'openspiel' extra ({err})." + did_you_mean(head, _zoo_heads())
        ) from err
    import pyspiel

    base = spec.split("(")[0].strip()
    if base not in pyspiel.registered_names():
        raise ValueError(
            f"unknown game {spec!r}: neither a zoo game (`gametheory games`), a .npy/.csv/.npz "
            "file, nor an OpenSpiel game name." + did_you_mean(base, game_names())
        )


def load_game(spec: str, progress: bool = False):
    """Resolve GAME: a ``.npy``/``.csv``/``.npz`` file, a zoo name or an OpenSpiel game string.

    Returns ``(game, kind)`` with kind ``"normal_form"`` or ``"extensive_form"``.
    ``progress`` shows a bar while an OpenSpiel game's tree is walked (the sequence form).
    Raises ``ValueError`` for unknown names, with the closest known name.
    """
    if Path(spec).suffix in game_files.SUFFIXES:
        return game_files.load_game_file(spec), "normal_form"
    if spec.split(":")[0] in _zoo_heads():
        return zoo.make(spec), "normal_form"
    _check_openspiel_name(spec)
    from .. import efg

    try:
        return efg.sequence_form_game(spec, progress=progress), "extensive_form"
    except ValueError as err:
        raise ValueError(
            f"unknown or unsupported game {spec!r}: {err} (zoo games: `gametheory games`)."
        ) from err
