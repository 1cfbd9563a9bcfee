"""A zoo of normal-form games, each with the source of its payoffs.

Every function returns a validated game (see :mod:`gametheory.games.normal_form`).
:func:`make` builds a game from its name as written on the command line, e.g.
``rps``, ``random_zero_sum:20x20:seed=3``, ``blotto:5:3`` or ``spinning_top:10_4_blotto``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from importlib import resources

import numpy as np

from .normal_form import (
    MatrixGame,
    NPlayerGame,
    PreferenceGame,
    matrix_game,
    nplayer_game,
    preference_game,
)

__all__ = [
    "rock_paper_scissors",
    "biased_rps",
    "perturbed_rps",
    "matching_pennies",
    "shapley_game",
    "comal_3x3",
    "random_zero_sum",
    "random_skill_game",
    "disc_game",
    "blotto",
    "spinning_top",
    "SPINNING_TOP_NAMES",
    "make",
    "describe",
]

SPINNING_TOP_NAMES = (
    "rps",
    "5_3_blotto",
    "5_4_blotto",
    "kuhn_poker",
    "10_3_blotto",
    "5_5_blotto",
    "3_move_parity_game_2",
    "10_4_blotto",
)


def rock_paper_scissors() -> MatrixGame:
    """Rock-paper-scissors, win = 1, loss = -1; unique NE uniform, value 0."""
    return matrix_game([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], name="rps")


def biased_rps() -> MatrixGame:
    """Biased RPS of Perolat et al. 2021 ("From Poincaré recurrence to convergence in imperfect
    information games", Sec. 6): NE (1/16, 10/16, 5/16)."""
    return matrix_game(
        [[0.0, -0.25, 0.5], [0.25, 0.0, -0.05], [-0.5, 0.05, 0.0]], name="biased_rps"
    )


def perturbed_rps() -> MatrixGame:
    """Perturbed RPS of the MMD paper (Sokota et al. 2023, Sec. 5; code
    ``examples/nfg/perturbed_rps.py``): ``[[0,-3,3],[3,0,-1],[-3,1,0]]`` rescaled to [0, 1]."""
    raw = np.array([[0, -3, 3], [3, 0, -1], [-3, 1, 0]], dtype=np.float64)
    return matrix_game((raw - raw.min()) / (raw.max() - raw.min()), name="perturbed_rps")


def matching_pennies() -> MatrixGame:
    """Matching pennies; unique NE uniform, value 0."""
    return matrix_game([[1, -1], [-1, 1]], name="matching_pennies")


def shapley_game() -> NPlayerGame:
    """Shapley's 3x3 general-sum game (Shapley 1964; OpenSpiel ``matrix_shapleys_game``),
    on which fictitious play cycles; unique NE: both uniform."""
    row = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    col = [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    return nplayer_game([row, col], name="shapley")


def comal_3x3() -> PreferenceGame:
    """Intransitive 3x3 preference game of COMAL (Liu et al. 2024, Sec. 4):
    ``P[b>a] = P[c>b] = 0.9``, ``P[a>c] = 0.8``; unique NE (4/11, 3/11, 4/11)."""
    p = np.full((3, 3), 0.5)
    for winner, loser, prob in ((1, 0, 0.9), (2, 1, 0.9), (0, 2, 0.8)):
        p[winner, loser], p[loser, winner] = prob, 1.0 - prob
    return preference_game(p, name="comal_3x3")


def random_zero_sum(m: int, n: int | None = None, seed: int = 0) -> MatrixGame:
    """Zero-sum game with i.i.d. uniform [-1, 1] payoffs (NumPy ``default_rng(seed)``)."""
    n = m if n is None else n
    _check_positive(m=m, n=n)
    a = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(m, n))
    return matrix_game(a, name=f"random_zero_sum:{m}x{n}:seed={seed}")


def random_skill_game(n: int, seed: int = 0, skill: float = 1.0) -> MatrixGame:
    """Random symmetric game of skill (Czarnecki et al. 2020, Sec. 3):
    ``M = 0.5 (W - W^T) + s_i - s_j`` with ``W ~ U(-1, 1)`` (the cyclic part) and ``s ~ skill *
    U(-1, 1)`` (the transitive part), rescaled so that ``max |M| = 1``."""
    _check_positive(n=n)
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1.0, 1.0, size=(n, n))
    s = skill * rng.uniform(-1.0, 1.0, size=n)
    m = 0.5 * (w - w.T) + s[:, None] - s[None, :]
    scale = np.abs(m).max()
    return matrix_game(m / scale if scale > 0 else m, name=f"random_skill:{n}:seed={seed}")


def disc_game(n: int, seed: int = 0) -> MatrixGame:
    """Disc game (Balduzzi et al. 2019, "Open-ended learning in symmetric zero-sum games",
    Sec. 4): ``n`` agents drawn uniformly on the unit disc,
    ``M[i, j] = u_i^T [[0,-1],[1,0]] u_j``."""
    _check_positive(n=n)
    rng = np.random.default_rng(seed)
    radius = np.sqrt(rng.uniform(size=n))
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    u = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    return matrix_game(u @ rot @ u.T, name=f"disc:{n}:seed={seed}")


def blotto_strategies(coins: int, fields: int) -> np.ndarray:
    """All ways to place ``coins`` identical coins on ``fields`` fields, in lexicographic order."""
    return np.array(
        [s for s in itertools.product(range(coins + 1), repeat=fields) if sum(s) == coins],
        dtype=np.int64,
    )


def blotto(coins: int, fields: int) -> MatrixGame:
    """Colonel Blotto from its rules: each player splits ``coins`` over ``fields``; a field is won
    by the larger stack. Payoff ``clip((won - lost) / max(fields - 2, 1), -1, 1)``, the scaling of
    the published spinning-top matrices (Czarnecki et al. 2020), whose strategy order
    (lexicographic) is used too."""
    _check_positive(coins=coins, fields=fields)
    s = blotto_strategies(coins, fields)
    won = (s[:, None, :] > s[None, :, :]).sum(-1)
    lost = (s[:, None, :] < s[None, :, :]).sum(-1)
    m = np.clip((won - lost) / max(fields - 2, 1), -1.0, 1.0)
    return matrix_game(m, name=f"blotto:{coins}:{fields}")


def spinning_top(name: str) -> MatrixGame:
    """A published empirical-game matrix of Czarnecki et al. 2020, "Real World Games Look Like
    Spinning Tops" (see ``data/SPINNING_TOPS.md``). ``name`` in :data:`SPINNING_TOP_NAMES`."""
    if name not in SPINNING_TOP_NAMES:
        raise ValueError(
            f"unknown spinning-top game {name!r}; choose one of {', '.join(SPINNING_TOP_NAMES)}."
        )
    path = resources.files("gametheory.games") / "data" / "spinning_tops_small.npz"
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as data:
        return matrix_game(data[name], name=f"spinning_top:{name}")


def _check_positive(**sizes: int) -> None:
    for key, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{key} must be a positive integer; got {value!r}.")


# name -> (builder taking the ':'-separated arguments, help text)
_FIXED: dict[str, tuple[Callable, str]] = {
    "rps": (rock_paper_scissors, "rock-paper-scissors"),
    "biased_rps": (biased_rps, "biased RPS (Perolat et al. 2021)"),
    "perturbed_rps": (perturbed_rps, "perturbed RPS of the MMD paper"),
    "matching_pennies": (matching_pennies, "matching pennies"),
    "shapley": (shapley_game, "Shapley's 3x3 general-sum game"),
    "comal_3x3": (comal_3x3, "COMAL 3x3 intransitive preference game"),
}
_PATTERNS: dict[str, str] = {
    "random_zero_sum": "random_zero_sum:MxN:seed=S  uniform[-1,1] zero-sum game",
    "random_skill": "random_skill:N:seed=S  random game of skill (Czarnecki et al. 2020)",
    "disc": "disc:N:seed=S  disc game population (Balduzzi et al. 2019)",
    "blotto": "blotto:COINS:FIELDS  Colonel Blotto from its rules",
    "spinning_top": "spinning_top:NAME  published matrices: " + ", ".join(SPINNING_TOP_NAMES),
}


def describe() -> list[tuple[str, str]]:
    """(name or pattern, description) for every game :func:`make` understands."""
    rows = [(k, v[1]) for k, v in _FIXED.items()]
    rows += [(v.split("  ")[0], v.split("  ")[1]) for v in _PATTERNS.values()]
    return rows


def _parse_int(text: str, what: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} in {spec!r} must be an integer; got {text!r}.") from None


def make(spec: str):
    """Build a zoo game from its name, e.g. ``random_zero_sum:20x20:seed=3``.

    Raises ValueError for unknown names or bad arguments.
    """
    head, *args = spec.split(":")
    if head in _FIXED:
        if args:
            raise ValueError(f"game {head!r} takes no arguments; got {spec!r}.")
        return _FIXED[head][0]()
    seed = 0
    rest = []
    for arg in args:
        match = re.fullmatch(r"seed=(.+)", arg)
        if match:
            seed = _parse_int(match.group(1), "seed", spec)
        else:
            rest.append(arg)
    if head == "random_zero_sum" and len(rest) == 1:
        dims = rest[0].lower().split("x")
        if len(dims) != 2:
            raise ValueError(f"expected random_zero_sum:MxN[:seed=S]; got {spec!r}.")
        m, n = (_parse_int(d, "size", spec) for d in dims)
        return random_zero_sum(m, n, seed=seed)
    if head == "random_skill" and len(rest) == 1:
        return random_skill_game(_parse_int(rest[0], "size", spec), seed=seed)
    if head == "disc" and len(rest) == 1:
        return disc_game(_parse_int(rest[0], "size", spec), seed=seed)
    if head == "blotto" and len(rest) == 2:
        return blotto(_parse_int(rest[0], "coins", spec), _parse_int(rest[1], "fields", spec))
    if head == "spinning_top" and len(rest) == 1:
        return spinning_top(rest[0])
    if head in _PATTERNS:
        raise ValueError(f"bad arguments in {spec!r}; expected {_PATTERNS[head].split('  ')[0]}.")
    raise ValueError(
        f"unknown game {spec!r}; run `gametheory games` for the list "
        "(or pass a .npy/.csv/.npz file)."
    )
