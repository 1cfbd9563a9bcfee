"""Counterfactual regret minimisation in the sequence form: CFR and CFR+.

Counterfactual values come from one bottom-up sweep per player: with ``q`` the player's payoff
gradient (the opponent's plan and chance already folded in),
``cfv(I, a) = q[seq(I, a)] + sum_{J child of (I, a)} V_J`` and ``V_I = sum_a b(a | I) cfv(I, a)``.
The instantaneous regret is ``cfv(I, a) - V_I``.

* CFR (Zinkevich et al. 2007): cumulative regrets, regret matching, uniform average.
* CFR+ (Tammelin 2014): regret matching+ (cumulative regrets clipped at 0), alternating updates
  and linear averaging (iterate ``t`` has weight ``t``), as OpenSpiel's ``CFRPlusSolver``.

The average is the weighted average of realization plans, which is the reach-weighted average of
behavioural policies.

Regrets and policies are per-sequence vectors ``[S]`` (:mod:`gametheory.efg.sequence_sweeps`;
slot 0, the empty sequence, unused): no work on the padded slots of an ``[I, A]`` array.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ...solvers.base import Solver
from ...solvers.params import check_flag
from ..sequence_sweeps import (
    bottom_up_seq,
    infoset_sum,
    join_levels,
    level_size,
    per_sequence,
    to_sequences,
    top_down_seq,
)
from ._common import initial_behavioural

__all__ = ["CFRState", "cfr", "cfr_plus", "regret_matching", "counterfactual_regrets",
           "regret_solver", "initial_sequence_policies"]


class CFRState(NamedTuple):
    regrets: tuple  # per player [S] accumulated regrets per sequence (clipped at 0 in CFR+)
    behavioural: tuple  # per player [S] current behavioural policy per sequence
    plans: tuple  # per player [S] current realization plan
    plan_sums: tuple  # per player [S] weighted sum of past plans
    weight_sum: jnp.ndarray  # [] sum of the averaging weights
    step: jnp.ndarray  # [] int32


def regret_matching(tp, regrets, threshold=0.0):
    """Per-sequence policy ``[S]`` proportional to the positive part of the regrets ``[S]`` at
    each infoset; uniform where none is positive (or, with ``threshold > 0``, where the
    positive parts sum to less than ``threshold``)."""
    pos = jnp.maximum(regrets, 0.0)
    total = per_sequence(tp, infoset_sum(tp, pos))
    keep = (total > 0) & (total >= threshold)
    uniform = 1.0 / tp.seq_num_actions.astype(regrets.dtype)
    return jnp.where(keep, pos / jnp.where(keep, total, 1.0), uniform)


def counterfactual_regrets(tp, q, behavioural):
    """Instantaneous counterfactual regrets ``[S]`` (0 in slot 0) of the per-sequence policy
    ``behavioural [S]`` given the payoff gradient ``q [S]``."""

    def reduce(z, rows, d):
        b = behavioural[tp.level_sequences(d)]
        value = jax.ops.segment_sum(b * z, rows, num_segments=level_size(tp, d),
                                    indices_are_sorted=True)
        return value, z - value[rows]

    _, levels = bottom_up_seq(tp, q, reduce)
    return join_levels(tp, levels, like=q)


def initial_sequence_policies(game, initial=None) -> tuple:
    """Per-sequence behavioural policies ``[S]`` to start from (see ``initial_behavioural``)."""
    return tuple(to_sequences(tp, b, fill=1.0)
                 for tp, b in zip(game.treeplexes, initial_behavioural(game, initial)))


def regret_solver(name: str, rule, weight, alternating: bool) -> Solver:
    """A solver of the CFR family: one regret minimiser per infoset, fed counterfactual regrets.

    At iteration ``t`` (from 1) each player in turn (player 1 after player 0's new policy when
    ``alternating``, both against the old profile otherwise) computes the instantaneous
    counterfactual regrets ``r [S]`` of its current per-sequence policy, and
    ``rule(tp, regrets, r, t) -> (regrets, behavioural)`` gives its new accumulated regrets and
    policy (``t`` a float array). The plans played at iteration ``t`` enter the average with
    weight ``weight(t)``, as in OpenSpiel's solvers (the uniform start has weight ``weight(1)``).
    """

    def init(game, initial=None):
        b = initial_sequence_policies(game, initial)
        plans = tuple(top_down_seq(tp, p) for tp, p in zip(game.treeplexes, b))
        zeros = tuple(jnp.zeros_like(p) for p in b)
        sums = tuple(jnp.zeros_like(x) for x in plans)
        dtype = game.payoff_values.dtype
        return CFRState(zeros, b, plans, sums, jnp.zeros((), dtype), jnp.zeros((), jnp.int32))

    def update(game, state):
        t = state.step + 1
        tf = t.astype(state.weight_sum.dtype)
        w = weight(tf)
        regrets, behavioural, plans = list(state.regrets), list(state.behavioural), list(
            state.plans)
        sums = tuple(s + w * x for s, x in zip(state.plan_sums, state.plans))
        start = tuple(plans)  # simultaneous updates play against the profile at the start
        for p, tp in enumerate(game.treeplexes):
            q = game.payoff_gradient(p, (plans if alternating else start)[1 - p])
            instant = counterfactual_regrets(tp, q, behavioural[p])
            regrets[p], behavioural[p] = rule(tp, regrets[p], instant, tf)
            plans[p] = top_down_seq(tp, behavioural[p])
        return CFRState(tuple(regrets), tuple(behavioural), tuple(plans), sums,
                        state.weight_sum + w, t)

    def average(game, state):
        w = jnp.maximum(state.weight_sum, 1e-300)
        return tuple(jnp.where(state.weight_sum > 0, s / w, x)
                     for s, x in zip(state.plan_sums, state.plans))

    return Solver(init, update, lambda game, state: state.plans, average=average, name=name)


def _cfr(name: str, plus: bool, linear: bool, alternating: bool) -> Solver:
    def rule(tp, regrets, instant, t):
        r = regrets + instant
        r = jnp.maximum(r, 0.0) if plus else r
        return r, regret_matching(tp, r)

    weight = (lambda t: t) if linear else jnp.ones_like
    return regret_solver(name, rule, weight, alternating)


def cfr(alternating: bool = False) -> Solver:
    """Vanilla CFR: regret matching on cumulative counterfactual regrets, uniform average.
    With ``alternating`` on, player 1 updates against player 0's new policy."""
    return _cfr("cfr", plus=False, linear=False,
                alternating=check_flag(alternating, "alternating"))


def cfr_plus(alternating: bool = True, linear_average: bool = True) -> Solver:
    """CFR+ (Tammelin 2014): regret matching+, alternating updates and linear averaging."""
    return _cfr("cfr_plus", plus=True, linear=check_flag(linear_average, "linear_average"),
                alternating=check_flag(alternating, "alternating"))
