"""Two-team zero-sum games in sequence form: a team of players against one adversary.

A :class:`TeamGame` keeps, per player, a treeplex (the sequence-form strategy polytope, numbered
exactly as :func:`gametheory.efg.treeplex.build_treeplex` numbers it) and the payoff as a sparse
tensor over **sequence tuples**: entry ``z`` says that the terminal histories reached by the
sequences ``seqs[z, 0], ..., seqs[z, n-1]`` (one per player) pay the team, summed over its
members and weighted by chance, ``payoff[z]`` in total; the adversary gets ``-payoff[z]``.

With realization plans ``x_i`` (``x_i[0] = 1`` on the empty sequence) the team's expected total
utility is ``sum_z payoff[z] * prod_i x_i[seqs[z, i]]``. A normal-form player is a treeplex with
a single infoset (sequence ``1 + a`` = action ``a``).

The team correlates ex ante (TMECor, Celli & Gatti 2018; Farina et al. 2018): its strategy is a
:class:`TeamMixture`, a probability vector over joint pure plans (one reduced pure plan per
teammate), and the adversary plays a realization plan.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

__all__ = ["TeamGame", "TeamMixture", "PlayerTree", "build_player_tree", "check_team"]


@dataclasses.dataclass(frozen=True, eq=False)
class PlayerTree:
    """One player's treeplex as NumPy index arrays (infosets sorted by level).

    ``parent [I]``: parent sequence of each infoset (0 = empty sequence); ``seq_index [I, A]``:
    sequence id of each legal slot, ``-1`` on padded slots; ``level_offsets``: row offsets of
    the levels; ``keys``: information-state strings (``""`` for a normal-form player);
    ``actions [I, A]``: game action ids of the slots (``-1`` padded); ``treeplex``: the same
    layout as a :class:`gametheory.efg.treeplex.Treeplex` (JAX arrays) for the efg sweeps.
    """

    parent: np.ndarray
    seq_index: np.ndarray
    level_offsets: tuple
    keys: tuple
    actions: np.ndarray
    treeplex: object

    @property
    def num_sequences(self) -> int:
        return self.treeplex.num_sequences

    @property
    def num_infosets(self) -> int:
        return int(self.parent.shape[0])

    @property
    def mask(self) -> np.ndarray:
        return self.seq_index >= 0

    @property
    def num_levels(self) -> int:
        return len(self.level_offsets) - 1

    def level(self, d: int) -> slice:
        return slice(self.level_offsets[d], self.level_offsets[d + 1])


def build_player_tree(parent_seq, level, actions, keys) -> PlayerTree:
    """A :class:`PlayerTree` from infosets already sorted by level (see ``build_treeplex``)."""
    from ..efg.treeplex import build_treeplex

    actions = np.asarray(actions, np.int64)
    tp, seq_index = build_treeplex(parent_seq, level, actions >= 0)
    return PlayerTree(
        parent=np.asarray(parent_seq, np.int64),
        seq_index=np.asarray(seq_index, np.int64),
        level_offsets=tuple(tp.level_offsets),
        keys=tuple(str(k) for k in keys),
        actions=actions,
        treeplex=tp,
    )


class TeamMixture(NamedTuple):
    """A correlated team strategy: ``weights [K]`` over ``K`` joint pure plans.

    ``plans[j]`` is ``[K, S_j]`` (0/1 realization plans) for the ``j``-th teammate in
    ``game.team`` order. Rows may also hold mixed realization plans: row ``k`` then stands for
    the teammates mixing independently (an uncorrelated team strategy).
    """

    weights: np.ndarray
    plans: tuple


def check_team(num_players: int, adversary, team=None) -> tuple[tuple[int, ...], int]:
    """Validate ``adversary`` and ``team``; return ``(team, adversary)``.

    The team defaults to every player but the adversary; a given team must be exactly that set
    (team and adversary partition the players).
    """
    if isinstance(adversary, bool) or not isinstance(adversary, (int, np.integer)):
        raise ValueError(f"adversary must be a player index (int); got {adversary!r}.")
    adversary = int(adversary)
    if not 0 <= adversary < num_players:
        raise ValueError(
            f"adversary index {adversary} is out of range: the game has players "
            f"0..{num_players - 1}. Pass --adversary / adversary= one of them."
        )
    rest = tuple(p for p in range(num_players) if p != adversary)
    if team is None:
        team = rest
    else:
        try:
            team = tuple(int(p) for p in team)
        except (TypeError, ValueError):
            raise ValueError(f"team must be a sequence of player indices; got {team!r}.") from None
        if sorted(team) != list(rest):
            raise ValueError(
                f"team {list(team)} and adversary {adversary} are not a partition of the players "
                f"0..{num_players - 1}: every player other than the adversary must be in the "
                f"team exactly once (e.g. team={list(rest)}), and the adversary must not be."
            )
    if not team:
        raise ValueError("the team is empty: a team game needs at least 2 players.")
    return team, adversary


@dataclasses.dataclass(frozen=True, eq=False)
class TeamGame:
    """A two-team zero-sum game: ``team`` (tuple of players) against ``adversary``.

    Attributes:
      name: display name.
      kind: ``"normal_form"`` or ``"extensive_form"``.
      trees: one :class:`PlayerTree` per player (game order).
      seqs: ``[Z, n_players]`` sequence id of every player for each payoff entry.
      payoff: ``[Z]`` chance-weighted team total utility of each entry (adversary: minus it).
      team, adversary: the partition of the players.
      game_string: OpenSpiel game string (extensive form) or ``""``.
    """

    name: str
    kind: str
    trees: tuple
    seqs: np.ndarray
    payoff: np.ndarray
    team: tuple
    adversary: int
    game_string: str = ""

    @property
    def num_players(self) -> int:
        return len(self.trees)

    @property
    def num_sequences(self) -> tuple[int, ...]:
        return tuple(t.num_sequences for t in self.trees)

    @property
    def adversary_tree(self) -> PlayerTree:
        return self.trees[self.adversary]

    # --- payoffs ---------------------------------------------------------------------------
    def team_reach(self, mixture: TeamMixture) -> np.ndarray:
        """``[Z]``: probability that the team's sequences of each entry are all played."""
        weights = np.asarray(mixture.weights, np.float64)
        total = np.zeros(self.payoff.shape[0])
        for k in np.flatnonzero(weights):  # one joint plan at a time: memory O(Z)
            reach = np.full(self.payoff.shape[0], weights[k])
            for j, p in enumerate(self.team):
                reach *= np.asarray(mixture.plans[j][k], np.float64)[self.seqs[:, p]]
            total += reach
        return total

    def adversary_utility(self, mixture: TeamMixture) -> np.ndarray:
        """``[S_adv]``: the team's utility per adversary sequence against ``mixture``.

        The team's value against an adversary plan ``y`` is ``adversary_utility(mixture) @ y``.
        """
        return np.bincount(self.seqs[:, self.adversary], self.payoff * self.team_reach(mixture),
                           minlength=self.adversary_tree.num_sequences)

    def value(self, mixture: TeamMixture, adversary_plan) -> float:
        """The team's expected total utility (minus the adversary's)."""
        return float(self.adversary_utility(mixture) @ np.asarray(adversary_plan, np.float64))

    def pure_mixture(self, joint_plan) -> TeamMixture:
        """The mixture that plays one joint plan (a tuple of plans, team order) for sure."""
        return TeamMixture(np.ones(1), tuple(np.asarray(x, np.float64)[None] for x in joint_plan))

    def describe(self) -> str:
        sizes = ", ".join(f"p{p}: {t.num_infosets} infosets / {t.num_sequences} sequences"
                          for p, t in enumerate(self.trees))
        return (f"{self.name} ({self.kind.replace('_', '-')}): team {list(self.team)} vs "
                f"adversary {self.adversary}; {sizes}; {self.payoff.shape[0]} payoff entries")
