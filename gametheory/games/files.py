"""Load a user's normal-form game from a file: ``.npy``/``.csv`` matrix or ``.npz`` tensor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .normal_form import matrix_game, nplayer_game

__all__ = ["load_game_file"]

SUFFIXES = (".npy", ".csv", ".npz")


def load_game_file(path):
    """Read a game from ``path``.

    * ``.npy`` or ``.csv``: a 2-player zero-sum matrix, the row player's payoffs ``[m, n]``;
    * ``.npz``: an n-player payoff tensor ``[n, A_1, ..., A_n]`` under the key ``payoffs``.

    Raises ValueError with the reason if the file is missing, unreadable or holds bad values.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ValueError(f"unsupported game file {str(path)!r}; use one of {', '.join(SUFFIXES)}.")
    if not path.is_file():
        raise ValueError(f"game file {str(path)!r} does not exist.")
    try:
        if path.suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        elif path.suffix == ".csv":
            data = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        else:
            with np.load(path, allow_pickle=False) as archive:
                data = archive["payoffs"] if "payoffs" in archive else None
                found = ", ".join(archive.files) or "nothing"
    except Exception as err:  # corrupt file, bad CSV cell, pickled object...
        raise ValueError(f"cannot read game file {str(path)!r}: {err}") from err
    if path.suffix == ".npz" and data is None:
        raise ValueError(
            f"{str(path)!r} has no array named 'payoffs' (found: {found}); save it with "
            "np.savez(path, payoffs=tensor)."
        )
    build = nplayer_game if path.suffix == ".npz" else matrix_game
    try:
        return build(data, name=path.name)
    except ValueError as err:
        raise ValueError(f"bad game in {str(path)!r}: {err}") from err
