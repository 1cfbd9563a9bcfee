"""Normal-form team games from a payoff tensor, and two small reference games.

A payoff tensor ``[n, A_1, ..., A_n]`` (``payoffs[i, a_1, ..., a_n]`` is player ``i``'s payoff)
becomes a :class:`~gametheory.teams.TeamGame` whose team utility is the sum of its members'
payoffs. The game must be zero-sum (all payoffs of a joint action sum to 0), so the team's
total is minus the adversary's.
"""

from __future__ import annotations

import itertools

import numpy as np

from .sequence_form import TeamGame, build_player_tree, check_team

__all__ = ["normal_form_team_game", "heterogeneous_team_game", "matching_bits_team_game"]


def _payoff_tensor(payoffs) -> np.ndarray:
    if hasattr(payoffs, "payoffs"):  # gametheory.games.NPlayerGame
        payoffs = payoffs.payoffs
    try:
        arr = np.asarray(payoffs, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"payoffs must be an array of numbers; got {type(payoffs).__name__}.") \
            from err
    if arr.ndim < 3 or arr.shape[0] != arr.ndim - 1:
        raise ValueError(
            "a normal-form team game needs a payoff tensor of shape [n_players, A_1, ..., A_n] "
            f"with n_players >= 2; got shape {arr.shape}."
        )
    if 0 in arr.shape:
        raise ValueError(f"payoff tensor is empty (shape {arr.shape}); every player needs an "
                         "action.")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(f"payoff tensor has a non-finite entry at {bad}; use finite payoffs.")
    return arr


def normal_form_team_game(payoffs, adversary: int, team=None,
                          name: str = "team_matrix") -> TeamGame:
    """A zero-sum normal-form team game.

    Args:
      payoffs: ``[n, A_1, ..., A_n]`` payoff tensor (or a ``gametheory.games.NPlayerGame``).
      adversary: the adversary's player index.
      team: the team's players (default: everybody else; must be exactly everybody else).
      name: display name.

    Raises ``ValueError`` if the tensor is malformed, the team and adversary do not partition
    the players, or some joint action's payoffs do not sum to zero.
    """
    arr = _payoff_tensor(payoffs)
    n = arr.shape[0]
    team, adversary = check_team(n, adversary, team)
    total = arr.sum(axis=0)
    scale = max(1.0, float(np.abs(arr).max()))
    if np.any(np.abs(total) > 1e-9 * scale):
        cell = np.unravel_index(int(np.argmax(np.abs(total))), total.shape)
        raise ValueError(
            f"the game is not zero-sum: the payoffs at joint action {list(map(int, cell))} sum "
            f"to {float(total[cell]):.6g}. A two-team zero-sum game needs the team's total "
            "utility to be minus the adversary's in every outcome (subtract any constant sum)."
        )
    trees = tuple(
        build_player_tree([0], [0], [np.arange(a)], [""]) for a in arr.shape[1:]
    )
    profiles = np.array(list(itertools.product(*(range(a) for a in arr.shape[1:]))), np.int64)
    team_total = arr[list(team)].sum(axis=0)[tuple(profiles.T)]
    keep = team_total != 0
    return TeamGame(name=name, kind="normal_form", trees=trees, seqs=profiles[keep] + 1,
                    payoff=team_total[keep], team=team, adversary=adversary)


def _two_vs_one(team_utility) -> np.ndarray:
    """Payoff tensor ``[3, 2, 2, 2]``: teammates 0, 1 each get half of the team's utility."""
    u = np.asarray(team_utility, np.float64)
    return np.stack([u / 2, u / 2, -u])


def heterogeneous_team_game(adversary: int = 2) -> TeamGame:
    """Players 0 and 1 (team) against player 2 (adversary), each picking a bit.

    The adversary picks ``b``; the team wins (+1 in total, the adversary -1) iff
    ``(a_0, a_1) = (b, 1 - b)``, else loses (-1). The team value is 0 (correlate uniformly on
    ``(0, 1)`` and ``(1, 0)``), but teammates that must play identically (``a_0 = a_1``) always
    lose: the team needs distinct roles. ``adversary`` re-teams the same three-player
    zero-sum game (payoffs: ``u/2, u/2, -u`` for players 0, 1, 2).
    """
    u = -np.ones((2, 2, 2))
    for b in (0, 1):
        u[b, 1 - b, b] = 1.0
    return normal_form_team_game(_two_vs_one(u), adversary=adversary, name="heterogeneous")


def matching_bits_team_game(adversary: int = 2) -> TeamGame:
    """Players 0 and 1 (team) against player 2, each picking a bit.

    The team wins 1 (the adversary loses 1) when its two bits match each other and differ from
    the adversary's; otherwise nobody scores. Team value 0.5 (correlate on ``(0, 0)`` and
    ``(1, 1)`` with probability 1/2 each). ``adversary`` re-teams the same game.
    """
    u = np.zeros((2, 2, 2))
    for a in (0, 1):
        u[a, a, 1 - a] = 1.0
    return normal_form_team_game(_two_vs_one(u), adversary=adversary, name="matching_bits")
