"""Reward-transformation CFR+ (RTCFR+): a last-iterate method in the sequence form.

Meng et al., "Efficient Last-Iterate Convergence Algorithms in Solving Games" (arXiv
2308.11256), and its extensive-form follow-up "Efficient Last-Iterate Convergence in Solving
Extensive-Form Games" (NeurIPS 2025; the authors' code is ``main.py`` of
github.com/menglinjian/NeurIPS-2025-RTCFR, written on LiteEFG). CFR+ is run on the game
regularised towards a reference profile ``r``: each player's payoff gradient is transformed to

    v_t = q_t - mu (x_t - r)        (sequence form; Eq. (4) of the NeurIPS paper),

the gradient of ``<q, x> - mu/2 ||x - r||^2``, whose counterfactual regrets feed regret
matching+ at every infoset. The regularised game has a unique equilibrium that CFR+'s *last*
iterate approaches; every ``reset_every`` iterations the reference moves to the current
iterate (a proximal-point outer loop, ``T_u`` in the paper), so the last iterate converges to a
Nash equilibrium of the original game.

Details as in the authors' code: the policy played is the RM+ policy ``sigma`` mixed with the
uniform policy, ``hat_sigma(a | I) proportional to (1 - gamma_0 |A_I|) sigma(a | I) + gamma``,
with ``gamma`` halved at every reference update (``gamma_0 = 1e-10``: a numerical safeguard
that keeps every action's probability positive); the counterfactual values passed up the tree
are those of ``sigma``, the plans ``x`` in the transformation and the reference are those of
``hat_sigma``; regret matching+ plays uniformly at an infoset whose positive regrets sum to less
than ``threshold = 1e-9`` (LiteEFG's normalisation; with the perturbation, an infoset the
opponent almost never reaches has regrets of about that size, and the iterates of the code
depend on it); updates alternate between the players; the accumulated regrets are kept across
reference updates, and the update that lands on a multiple of ``reset_every`` starts with the
reference update. Defaults ``mu = 1e-3``, ``reset_every = 100`` are the code's published ones.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from ...solvers.base import Solver, check_count, check_nonnegative
from ...solvers.params import check_flag
from ..sequence_sweeps import infoset_sum, per_sequence, top_down_seq
from .cfr import counterfactual_regrets, initial_sequence_policies, regret_matching

__all__ = ["RTCFRState", "rtcfr_plus"]


class RTCFRState(NamedTuple):
    regrets: tuple  # per player [S] accumulated regrets per sequence, clipped at 0 (RM+)
    unperturbed: tuple  # per player [S] RM+ policy sigma per sequence
    behavioural: tuple  # per player [S] policy played per sequence, hat_sigma
    plans: tuple  # per player [S] realization plan of hat_sigma
    reference: tuple  # per player [S] reference plan r
    perturbation: jnp.ndarray  # [] current gamma
    step: jnp.ndarray  # [] int32


def rtcfr_plus(mu: float = 1e-3, reset_every: int = 100, perturbation: float = 1e-10,
               alternating: bool = True, threshold: float = 1e-9) -> Solver:
    """Reward-transformation CFR+ (Meng et al. 2025): last iterate converges to a Nash eq.

    CFR+ on the payoff gradient ``q - mu (x - r)`` regularised towards a reference plan ``r``
    that moves to the current iterate every ``reset_every`` iterations (module docstring).
    Defaults (the authors' code, NeurIPS 2025): ``mu = 1e-3``, ``reset_every = 100``,
    ``perturbation = 1e-10`` (the uniform mixing ``gamma``, halved at every reference
    update), alternating updates, ``threshold = 1e-9`` (RM+ is uniform where the positive
    regrets sum to less; 0 is plain RM+). ``policy`` is the last iterate, the method's output.
    """
    mu = check_nonnegative(mu, "mu")
    reset_every = check_count(reset_every, "reset_every")
    gamma0 = check_nonnegative(perturbation, "perturbation")
    alternating = check_flag(alternating, "alternating")
    threshold = check_nonnegative(threshold, "threshold")

    def init(game, initial=None):
        widest = max(tp.max_actions for tp in game.treeplexes)
        if gamma0 * widest >= 1.0:
            raise ValueError(
                f"perturbation must be below 1 / (most actions at an infoset) = {1 / widest:g} "
                f"for this game; got {gamma0!r}. Use the default 1e-10.")
        b = initial_sequence_policies(game, initial)
        plans = tuple(top_down_seq(tp, p) for tp, p in zip(game.treeplexes, b))
        zeros = tuple(jnp.zeros_like(p) for p in b)
        dtype = game.payoff_values.dtype
        return RTCFRState(zeros, b, b, plans, plans, jnp.asarray(gamma0, dtype),
                          jnp.zeros((), jnp.int32))

    def perturb(tp, sigma, gamma):
        count = tp.seq_num_actions.astype(sigma.dtype)
        mixed = (1.0 - gamma0 * count) * sigma + gamma
        return mixed / per_sequence(tp, infoset_sum(tp, mixed))

    def update(game, state):
        t = state.step + 1
        reset = t % reset_every == 0
        gamma = jnp.where(reset, 0.5 * state.perturbation, state.perturbation)
        reference = tuple(jnp.where(reset, x, r) for x, r in zip(state.plans, state.reference))
        regrets, sigma, hat, plans = (list(state.regrets), list(state.unperturbed),
                                      list(state.behavioural), list(state.plans))
        start = tuple(plans)  # simultaneous updates play against the profile at the start
        for p, tp in enumerate(game.treeplexes):
            q = game.payoff_gradient(p, (plans if alternating else start)[1 - p])
            v = q - mu * (plans[p] - reference[p])
            regrets[p] = jnp.maximum(regrets[p] + counterfactual_regrets(tp, v, sigma[p]), 0.0)
            sigma[p] = regret_matching(tp, regrets[p], threshold)
            hat[p] = perturb(tp, sigma[p], gamma)
            plans[p] = top_down_seq(tp, hat[p])
        return RTCFRState(tuple(regrets), tuple(sigma), tuple(hat), tuple(plans), reference,
                          gamma, t)

    return Solver(init, update, lambda game, state: state.plans, name="rtcfr_plus")
