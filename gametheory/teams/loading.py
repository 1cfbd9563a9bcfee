"""One entry point from a game spec (name, file, OpenSpiel string, tensor) to a team game."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .extensive_form import openspiel_team_game
from .normal_form import heterogeneous_team_game, matching_bits_team_game, normal_form_team_game
from .sequence_form import TeamGame

__all__ = ["team_game", "TEAM_GAMES"]

#: Built-in normal-form team games, by name (each takes ``adversary=``).
TEAM_GAMES = {
    "heterogeneous": heterogeneous_team_game,
    "matching_bits": matching_bits_team_game,
}


def team_game(game, adversary: int, team=None) -> TeamGame:
    """A :class:`~gametheory.teams.TeamGame` from

    * a built-in name (``"heterogeneous"``, ``"matching_bits"``),
    * an ``.npz`` file holding an n-player payoff tensor under the key ``payoffs``,
    * an OpenSpiel game string or ``pyspiel.Game`` (e.g. ``"kuhn_poker(players=3)"``),
    * a payoff tensor ``[n, A_1, ..., A_n]`` or a ``gametheory.games.NPlayerGame``,

    with ``adversary`` against ``team`` (default: all other players).
    """
    if isinstance(game, TeamGame):
        if adversary != game.adversary or (team is not None and tuple(team) != game.team):
            raise ValueError(
                f"this TeamGame already has adversary {game.adversary} and team "
                f"{list(game.team)}; rebuild it from the original game to re-team it."
            )
        return game
    if isinstance(game, str):
        if game in TEAM_GAMES:
            built = TEAM_GAMES[game](adversary=adversary)
            if team is not None and tuple(team) != built.team:
                raise ValueError(
                    f"team {list(team)} and adversary {adversary} are not a partition of the "
                    f"players of {game!r}; the team must be {list(built.team)}."
                )
            return built
        if Path(game).suffix == ".npz":
            from ..games.files import load_game_file

            return normal_form_team_game(load_game_file(game), adversary, team,
                                         name=Path(game).stem)
        return openspiel_team_game(game, adversary, team)
    if hasattr(game, "payoffs") or isinstance(game, (np.ndarray, list, tuple)):
        return normal_form_team_game(game, adversary, team)
    return openspiel_team_game(game, adversary, team)
