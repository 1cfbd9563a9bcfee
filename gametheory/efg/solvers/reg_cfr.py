"""Regularised CFR (Reg-CFR): a last-iterate method in the sequence form.

Liu, Ozdaglar, Yu and Zhang, "The Power of Regularization in Solving Extensive-Form Games"
(ICLR 2023), Reg-CFR: CFR on the game regularised by ``tau`` times a dilated regulariser, with
*optimistic* online gradient ascent with an adaptive step as the local regret minimiser at
every infoset. The last iterate converges to the regularised equilibrium, within ``O(tau)`` of
a Nash equilibrium; halving ``tau`` every ``halve_tau_every`` iterations moves it on towards
one. This follows the authors' implementation, ``LiteEFG/baselines/Reg_CFR.py`` of LiteEFG
1.0.0 (Liu, Farina and Ozdaglar), at its defaults: the Euclidean dilated regulariser
``psi(x) = sum_I x_p(I) ||b_I||^2 / 2`` with unit infoset weights and the linearised ("not
out_reg") update. Both players update simultaneously. Per infoset ``I`` and iteration:

* regularised counterfactual values ``g(I, a) = q(I, a) + sum_{J below (I, a)} V_J`` with
  ``V_J = <g_J, u_J> - tau ||u_J||^2 / 2``, all at the current policy ``u``;
* the step ``eta_I = 1 / sqrt(kappa + sum_{s=2..t} ||g_s - g_{s-1}||^2)`` (from iteration 2;
  ``1 / sqrt(kappa)`` before);
* optimistic gradient steps, projected on the simplex with every action at least
  ``floor / |A_I|``:

      bar_u <- P(m bar_u + (1 - m) u_0 + eta (g - tau bar_u)),   m = eta_t / eta_{t-1},
      u     <- P(bar_u + eta (g - tau bar_u))                    (the new bar_u),

  ``u_0`` the initial policy (the shrink towards it keeps the adaptive step stable).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from ...solvers.base import Solver, check_count, check_nonnegative
from ..treeplex import bottom_up, top_down
from ._common import initial_behavioural

__all__ = ["RegCFRState", "reg_cfr", "project_floored_simplex", "regularized_values"]


class RegCFRState(NamedTuple):
    policy: tuple  # per player [I, A] current behavioural policy u
    anchor: tuple  # per player [I, A] optimistic anchor bar_u
    initial: tuple  # per player [I, A] initial policy u_0
    prev_values: tuple  # per player [I, A] last regularised counterfactual values g
    curvature: tuple  # per player [I] kappa + sum of ||g_s - g_{s-1}||^2
    eta: tuple  # per player [I] current step
    plans: tuple  # per player [S] realization plan of u
    tau: jnp.ndarray  # [] regularisation weight
    step: jnp.ndarray  # [] int32


def project_floored_simplex(tp, v, floor):
    """Euclidean projection of each row of ``v [I, A]`` on ``{b : b(a) >= floor / |A_I|,
    sum_a b(a) = 1}`` over the legal slots (0 on padded slots)."""
    count = jnp.sum(tp.mask, axis=-1, keepdims=True)
    mass = 1.0 - floor
    z = jnp.where(tp.mask, v, -jnp.inf)
    desc = -jnp.sort(-z, axis=-1)
    legal = jnp.isfinite(desc)
    desc = jnp.where(legal, desc, 0.0)
    css = jnp.cumsum(desc, axis=-1)
    k = jnp.arange(1, v.shape[-1] + 1, dtype=v.dtype)
    active = legal & (desc - (css - mass) / k > 0)
    rho = jnp.sum(active, axis=-1, keepdims=True)
    css_rho = jnp.take_along_axis(css, jnp.maximum(rho - 1, 0), axis=-1)
    theta = (css_rho - mass) / jnp.maximum(rho, 1)
    b = jnp.where(tp.mask, jnp.maximum(v - theta, 0.0) + floor / count, 0.0)
    return b / jnp.sum(b, axis=-1, keepdims=True)


def regularized_values(tp, q, policy, tau):
    """``[I, A]`` counterfactual values of ``policy`` in the game regularised by
    ``tau * psi`` (Euclidean dilated regulariser, unit weights) given payoff gradient ``q``."""

    def reduce(z, mask, rows):
        u = policy[rows]
        value = jnp.sum(u * z, axis=-1) - 0.5 * tau * jnp.sum(u * u, axis=-1)
        return value, z

    _, levels = bottom_up(tp, q, reduce)
    return jnp.concatenate(levels, axis=0) if levels else jnp.zeros_like(policy)


def reg_cfr(tau: float = 1e-3, kappa: float = 1.0, floor: float = 1e-3,
            halve_tau_every: int = 100000) -> Solver:
    """Reg-CFR (Liu et al. 2023): regularised optimistic CFR; last iterate near a Nash eq.

    CFR with optimistic, adaptively stepped, projected gradient ascent at every infoset on the
    game regularised by ``tau`` times the Euclidean dilated regulariser (module docstring).
    Defaults of the authors' LiteEFG 1.0.0 ``baselines/Reg_CFR.py``: ``tau = 1e-3``
    (regularisation), ``kappa = 1`` (initial inverse squared step), ``floor = 1e-3`` (each
    action keeps probability ``>= floor / |A_I|``; their ``gamma``), ``tau`` halved every
    ``halve_tau_every = 100000`` iterations (their ``shrink_iter``). The last iterate
    converges to the regularised equilibrium, whose exploitability is ``O(tau)``.
    """
    tau0 = check_nonnegative(tau, "tau")
    kappa = check_nonnegative(kappa, "kappa")
    if kappa <= 0:
        raise ValueError(f"kappa must be a finite number > 0 (the initial 1 / step^2); "
                         f"got {kappa!r}.")
    floor = check_nonnegative(floor, "floor")
    if floor >= 1.0:
        raise ValueError(f"floor must be in [0, 1) (a share of each infoset's mass); "
                         f"got {floor!r}.")
    halve_every = check_count(halve_tau_every, "halve_tau_every")

    def init(game, initial=None):
        b = initial_behavioural(game, initial)
        plans = tuple(top_down(tp, p) for tp, p in zip(game.treeplexes, b))
        dtype = game.payoff_values.dtype
        zeros = tuple(jnp.zeros_like(p) for p in b)
        curv = tuple(jnp.full((tp.num_infosets,), kappa, dtype) for tp in game.treeplexes)
        eta = tuple(jnp.full((tp.num_infosets,), kappa ** -0.5, dtype)
                    for tp in game.treeplexes)
        return RegCFRState(b, b, b, zeros, curv, eta, plans, jnp.asarray(tau0, dtype),
                           jnp.zeros((), jnp.int32))

    def update(game, state):
        t = state.step + 1
        tau = state.tau
        qs = game.gradients(state.plans)
        out = [[], [], [], [], [], []]
        for p, tp in enumerate(game.treeplexes):
            u, bar, u0 = state.policy[p], state.anchor[p], state.initial[p]
            g = regularized_values(tp, qs[p], u, tau)
            change = jnp.sum(jnp.where(tp.mask, g - state.prev_values[p], 0.0) ** 2, axis=-1)
            first = t == 1
            curv = jnp.where(first, state.curvature[p], state.curvature[p] + change)
            eta = jnp.where(first, state.eta[p], curv ** -0.5)
            mix = (eta / state.eta[p])[:, None]
            step = eta[:, None]
            bar = project_floored_simplex(
                tp, mix * bar + (1.0 - mix) * u0 + step * (g - tau * bar), floor)
            u = project_floored_simplex(tp, bar + step * (g - tau * bar), floor)
            for lst, value in zip(out, (u, bar, g, curv, eta, top_down(tp, u))):
                lst.append(value)
        policy, anchor, values, curv, eta, plans = (tuple(x) for x in out)
        tau = jnp.where(t % halve_every == 0, 0.5 * tau, tau)
        return RegCFRState(policy, anchor, state.initial, values, curv, eta, plans, tau, t)

    return Solver(init, update, lambda game, state: state.plans, name="reg_cfr")
