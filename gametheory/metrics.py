"""Equilibrium metrics for normal-form games; all are jit- and vmap-able.

Conventions (OpenSpiel's): NashConv = sum of the players' best-response gains;
exploitability = NashConv / num_players, which for a two-player zero-sum game is NashConv / 2.
"""

from __future__ import annotations

import jax.numpy as jnp

from . import rules

__all__ = ["nash_conv", "exploitability", "duality_gap", "regularized_gap"]


def nash_conv(game, policies):
    """Sum over players of ``max_a q_i(a) - <pi_i, q_i>`` (>= 0; 0 exactly at a Nash)."""
    return game.nash_conv(policies)


def exploitability(game, policies):
    """NashConv / num_players (for 2-player zero-sum: NashConv / 2, OpenSpiel's convention)."""
    return game.exploitability(policies)


def duality_gap(game, policies):
    """``max_x' x'^T A y - min_y' x^T A y'`` of a two-player zero-sum game (= NashConv)."""
    if not hasattr(game, "matrix"):  # an NPlayerGame: zero-sum only if the tables cancel
        from .lp import zero_sum_matrix

        try:
            zero_sum_matrix(game)
        except ValueError:
            raise ValueError(
                f"the duality gap is defined for two-player zero-sum games; {game.name!r} is "
                "not one. Use nash_conv / exploitability (Nash) or gametheory.correlated.cce_gap "
                "/ ce_gap (correlated equilibria)."
            ) from None
    return game.nash_conv(policies)


def regularized_gap(game, policies, temp, magnets=None):
    """NashConv of the KL-regularised game ``u_i(pi) - temp * KL(pi_i || rho_i)``.

    Its zero is the regularised equilibrium (the QRE when the magnets ``rho`` are uniform), the
    fixed point of MMD / INPO with the same ``temp`` and magnet. The regularised best-response
    value is ``temp * logsumexp(log rho + q / temp)`` (Sokota et al. 2023, App. B).
    ``magnets``: tuple of probability vectors (default uniform).
    """
    if magnets is None:
        magnets = game.uniform_policies()
    gap = 0.0
    for p, q, rho in zip(policies, game.gradients(policies), magnets):
        log_rho = jnp.log(rho)
        log_p = jnp.log(jnp.clip(p, 1e-300))
        kl = jnp.sum(jnp.where(p > 0, p * (log_p - log_rho), 0.0), axis=-1)
        best = temp * rules.logsumexp(log_rho + q / temp, keepdims=False)
        gap = gap + best - (jnp.sum(p * q, axis=-1) - temp * kl)
    return gap
