"""Magnetic mirror descent (MMD) and its magnet-reset form MPO.

Step sizes and temperatures are relative to the payoff scale ``S`` measured at init
(:mod:`.scale`): the step is ``lr / S`` and the temperature ``temp * S``, so ``lr * temp`` (the
weight of the magnet) and ``lr * q / S`` are dimensionless and one default serves every game.
``scale=1.0`` reads both in the absolute units of the papers.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from .. import rules
from .base import (
    Solver,
    as_schedule,
    check_count,
    check_flag,
    check_nonnegative,
    initial_logits,
    probabilities,
)
from .polish import maybe_polish
from .restarts import DEFAULT_THRESHOLDS, RestartState, check_thresholds, init_restart, restart_step
from .scale import check_scale, measured_scale

__all__ = ["mmd", "mpo", "MMDState", "magnetic_step", "step_residual"]


class MMDState(NamedTuple):
    logits: tuple  # per player [..., A_i] normalised log-policy
    magnet_logits: tuple  # per player [..., A_i] normalised log-magnet
    scale: jnp.ndarray  # [..., 1] payoff scale S
    restart: RestartState  # adaptive magnet resets (unused otherwise)
    step: jnp.ndarray  # [] int32


def magnetic_step(game, logits, magnet_logits, lr, temp, extragradient=False) -> tuple:
    """One MMD step for every player (Sokota et al. 2023, eq. (5)), optionally as mirror prox.

    ``lr`` and ``temp`` are absolute here (the solvers divide / multiply by the payoff scale).
    With ``extragradient=True`` the step is taken from ``pi`` with the payoff gradient at the
    look-ahead point ``pi_half = MMD(pi, q(pi))`` (Nemirovski 2004, eq. (3.1), applied to the
    KL-regularised game). The fixed point is the same regularised equilibrium, but the step size
    may be of order ``1 / max|A|`` instead of ``temp / max|A|^2``, so each regularised game is
    solved in far fewer steps on ill-conditioned games. ``lr <= 1 / max|A_ij|`` is the safe range
    (the payoff map is ``max|A_ij|``-Lipschitz from l1 to l-inf; Nemirovski 2004, Thm. 3.2);
    larger steps work on many games but can cycle (matching pennies at ``lr = 1.5``).
    """
    qs = game.gradients(probabilities(logits))
    step = tuple(rules.mmd(l, q, lr, temp, m) for l, q, m in zip(logits, qs, magnet_logits))
    if not extragradient:
        return step
    qs = game.gradients(probabilities(step))
    return tuple(rules.mmd(l, q, lr, temp, m) for l, q, m in zip(logits, qs, magnet_logits))


def step_residual(old_logits, new_logits):
    """``sum_i ||pi_i' - pi_i||_1``: the fixed-point residual of one step, per game."""
    return sum(jnp.sum(jnp.abs(jnp.exp(n) - jnp.exp(o)), axis=-1)
               for o, n in zip(old_logits, new_logits))


def _check_every(value, name):
    if isinstance(value, str) and value.strip().lower() == "adaptive":
        return "adaptive"
    return check_count(value, name, allow_none=True)


def mmd(lr=0.1, temp=0.1, magnet="uniform", magnet_lr=0.0, magnet_every=None,
        anneal=0.0, extragradient=False, reset_thresholds=DEFAULT_THRESHOLDS, reset_periods=3.0,
        scale="game", polish=False) -> Solver:
    """Magnetic mirror descent with negative entropy (Sokota et al. 2023, eq. (5)).

    ``log pi' ∝ (log pi + eta*alpha*log rho + eta*q) / (1 + eta*alpha)``
    (:func:`gametheory.rules.mmd`) with step ``eta = lr / S`` and temperature ``alpha = temp * S``
    for the payoff scale ``S`` measured at init (``scale="game"``; a number fixes ``S``,
    ``scale=1.0`` = absolute units).

    * Fixed magnet (``magnet_lr=0``, ``magnet_every=None``): the last iterate converges linearly
      to the regularised equilibrium (the QRE for a uniform magnet) when ``lr*temp`` is small
      enough (Thm. 3.4), not to the Nash equilibrium of the game itself.
    * Moving magnet (``magnet_lr > 0``): ``rho' ∝ rho^(1-magnet_lr) pi'^magnet_lr`` after each
      step (Sec. 4.2).
    * Magnet reset (``magnet_every=K``): ``rho <- pi`` every K steps; ``"adaptive"``: when the
      step residual has fallen by the ``reset_thresholds`` (:mod:`.restarts`), but not before
      ``reset_periods / (lr * temp)`` steps, ``reset_periods`` time constants of the
      regularised game's linear convergence (its contraction per step is about
      ``lr * temp``, a dimensionless product). This is MPO, see :func:`mpo`.
    * Annealing (``anneal=p > 0``): temperature ``temp / (1 + t)^p`` at step t.
    * ``extragradient=True``: mirror-prox form of each step (:func:`magnetic_step`).
    * ``polish=True``: certified support polish at checks (:mod:`.polish`).

    ``magnet``: ``"uniform"`` or ``"initial"`` (the initial policy).
    """
    lr = as_schedule(lr, "lr")
    temp0 = as_schedule(temp, "temp")
    anneal = check_nonnegative(anneal, "anneal")
    magnet_lr = check_nonnegative(magnet_lr, "magnet_lr")
    magnet_every = _check_every(magnet_every, "magnet_every")
    thresholds = check_thresholds(reset_thresholds, "reset_thresholds")
    reset_periods = check_nonnegative(reset_periods, "reset_periods")
    scale = check_scale(scale)
    extragradient = check_flag(extragradient, "extragradient")
    if magnet not in ("uniform", "initial"):
        raise ValueError(f"magnet must be 'uniform' or 'initial'; got {magnet!r}.")
    if magnet_lr > 1:
        raise ValueError(f"magnet_lr is a mixture weight in [0, 1]; got {magnet_lr}.")

    def temperature(step):
        return temp0(step) / (1.0 + step) ** anneal if anneal else temp0(step)

    def init(game, initial=None):
        logits = initial_logits(game, initial)
        magnets = logits if magnet == "initial" else initial_logits(game, None)
        s = measured_scale(scale, game)
        return MMDState(logits, magnets, s, init_restart(s[..., 0]), jnp.zeros((), jnp.int32))

    def update(game, state):
        eta = lr(state.step) / state.scale
        alpha = temperature(state.step) * state.scale
        logits = magnetic_step(game, state.logits, state.magnet_logits, eta, alpha,
                               extragradient)
        magnets = state.magnet_logits
        if magnet_lr:
            magnets = tuple(rules.magnet_update(m, l, magnet_lr) for m, l in zip(magnets, logits))
        step = state.step + 1
        restart = state.restart
        if magnet_every == "adaptive":
            hold = reset_periods / (lr(state.step) * temperature(state.step))
            reset, restart = restart_step(restart, step_residual(state.logits, logits), step,
                                          thresholds, hold)
            reset = reset[..., None]
        elif magnet_every is not None:
            reset = step % magnet_every == 0
        if magnet_every is not None:
            magnets = tuple(jnp.where(reset, l, m) for l, m in zip(logits, magnets))
        return MMDState(logits, magnets, state.scale, restart, step)

    solver = Solver(init, update, lambda game, state: probabilities(state.logits), name="mmd")
    return maybe_polish(solver, polish)


def mpo(lr=1.0, temp=0.003, reset_every="adaptive", extragradient=True,
        reset_thresholds=DEFAULT_THRESHOLDS, reset_periods=3.0, scale="game",
        polish=True) -> Solver:
    """Magnetic Preference Optimization (Wang et al. 2024, Alg. 1): MMD whose magnet starts at the
    initial policy and is reset to the current iterate, every ``reset_every`` steps or
    (``"adaptive"``) on measured progress.

    Adaptive resets happen when the step residual has fallen by the ``reset_thresholds``
    (sufficient, necessary-and-stalled, artificial; :mod:`.restarts`) and the magnet has been
    held for at least ``reset_periods / (lr * temp)`` steps (see :func:`mmd`).

    Each block of steps converges linearly to the regularised equilibrium around the current
    magnet; the sequence of magnets is a proximal-point iteration, so the *last* iterate converges
    to a Nash equilibrium of the original game. COMAL
    (:func:`gametheory.solvers.regularized.comal`) takes the same inner step but moves its
    reference only when the regularised game is solved to a tolerance (its NashConv), where MPO
    resets on the step residual. ``lr`` and ``temp`` are relative to the payoff scale (see
    :func:`mmd`).

    ``extragradient=True`` takes each MMD step in mirror-prox form (:func:`magnetic_step`): on
    larger, ill-conditioned games (e.g. random 20x20, equilibria with tiny probabilities) it
    reaches 1e-6 where the plain step needs orders of magnitude more iterations. Mirror prox
    is stable for ``lr <= 1`` relative to the payoff scale of a centred game (Nemirovski 2004,
    ``eta <= 1 / max|A_ij|``); ``lr=2`` is faster on random games but its iterate cycles on
    rock-paper-scissors and on about a quarter of random 10x10 games.
    """
    solver = mmd(lr=lr, temp=temp, magnet="initial", magnet_every=_mpo_every(reset_every),
                 extragradient=extragradient, reset_thresholds=reset_thresholds,
                 reset_periods=reset_periods, scale=scale, polish=polish)
    return solver._replace(name="mpo")


def _mpo_every(value):
    if value is None:
        raise ValueError("reset_every must be a positive integer or 'adaptive'; got None.")
    if isinstance(value, str) and value.strip().lower() == "adaptive":
        return "adaptive"
    return check_count(value, "reset_every")
