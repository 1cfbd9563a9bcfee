"""Exact metrics of sequence-form profiles by one vectorized bottom-up sweep per player.

* :func:`best_response_values`: ``max_x' x'^T A y`` and ``max_y' -x^T A y'`` (bottom-up ``max``).
* :func:`nash_conv` = their sum (the game is zero-sum, so the profile's own values cancel) and
  :func:`exploitability` = NashConv / 2, the number ``pyspiel.exploitability`` returns.
* :func:`regularized_gap`: the saddle-point gap of the game regularised by
  ``temp * sum_I x_parent(I) KL(b_I || rho_I)`` (bottom-up ``logsumexp``), which MMD's last
  iterate drives to zero; :func:`regularized_gap_seq` the same with per-sequence log-magnets
  (:mod:`gametheory.efg.sequence_sweeps`), as the solvers keep them.

All functions take one profile (a pair of realization plans); ``jax.vmap`` them for batches.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .sequence_sweeps import (
    bottom_up_seq,
    level_size,
    per_sequence,
    segment_logsumexp,
    to_sequences,
)
from .treeplex import bottom_up, top_down

__all__ = [
    "best_response_values",
    "best_responses",
    "nash_conv",
    "exploitability",
    "regularized_gap",
    "regularized_gap_seq",
    "dilated_kl",
    "soft_best_response_value",
]


def _argmax_reduce(z, mask, rows):
    z = jnp.where(mask, z, -jnp.inf)
    best = jnp.argmax(z, axis=-1)
    return jnp.max(z, axis=-1), (best[:, None] == jnp.arange(z.shape[-1])).astype(z.dtype)


def _best_response_value(tp, q):
    """``max_x <q, x>`` over the treeplex: a bottom-up ``max`` on per-sequence values (no work on
    padded slots: liar's dice 1x6 has 2 actions per infoset on average, 12 at most)."""

    def reduce(z, rows, d):
        return jax.ops.segment_max(z, rows, num_segments=level_size(tp, d),
                                   indices_are_sorted=True), None

    return bottom_up_seq(tp, q, reduce)[0]


def best_response_values(game, plans) -> tuple:
    """``(max_x' x'^T A y, max_y' -x^T A y')``: each player's best-response value."""
    return tuple(_best_response_value(tp, q)
                 for tp, q in zip(game.treeplexes, game.gradients(plans)))


def best_responses(game, plans) -> tuple:
    """Pure best-response realization plans ``(x_br(y), y_br(x))`` (ties: lowest slot)."""
    out = []
    for tp, q in zip(game.treeplexes, game.gradients(plans)):
        _, levels = bottom_up(tp, q, _argmax_reduce)
        b = jnp.concatenate(levels, axis=0) if levels else jnp.zeros(tp.mask.shape, q.dtype)
        out.append(top_down(tp, b))
    return tuple(out)


def nash_conv(game, plans):
    """NashConv of a profile: the summed gains of both players' best responses (>= 0)."""
    br0, br1 = best_response_values(game, plans)
    return br0 + br1


def exploitability(game, plans):
    """NashConv / 2, as ``pyspiel.exploitability``."""
    return nash_conv(game, plans) / 2


def log_magnet_seq(tp, magnet):
    """Per-sequence log-magnet ``[S]`` of a behavioural magnet ``[I, A]`` (``None`` stays
    ``None``: dilated entropy, ``rho = 1``)."""
    if magnet is None:
        return None
    return to_sequences(tp, jnp.log(jnp.where(tp.mask, magnet, 1.0)))


def soft_best_response_value(tp, q, temp, magnet=None, weights=None):
    """``max_x <q, x> - temp * D_rho(x)`` where ``D_rho(x) = sum_I x_p(I) KL(b_I || rho_I)``.

    ``magnet``: behavioural ``[I, A]`` (rows on the simplex) or ``None`` for dilated entropy
    (``rho = 1``, OpenSpiel's ``MMDDilatedEnt`` regulariser); ``weights``: optional ``[I]``
    weights of the local KL terms.
    """
    return soft_best_response_value_seq(tp, q, temp, log_magnet_seq(tp, magnet), weights)


def dilated_kl(tp, plan, magnet=None, weights=None):
    """``D_rho(x) = sum_I w_I x_p(I) KL(b_I || rho_I)`` = ``sum_s w x_s (log b_s - log rho_s)``."""
    return dilated_kl_seq(tp, plan, log_magnet_seq(tp, magnet), weights)


def regularized_gap(game, plans, temp, magnets=None, weights=None):
    """Saddle-point gap of the regularised game ``x^T A y - temp D(x) + temp D(y)``.

    ``magnets``: ``None`` (dilated entropy, as OpenSpiel's ``MMDDilatedEnt.get_gap``) or a pair
    of behavioural magnets ``[I, A]``; ``weights``: ``None`` or a pair of ``[I]`` weights of the
    local KL terms. Zero exactly at the regularised equilibrium.
    """
    log_magnets = None if magnets is None else tuple(
        log_magnet_seq(tp, m) for tp, m in zip(game.treeplexes, magnets))
    return regularized_gap_seq(game, plans, temp, log_magnets, weights)


def soft_best_response_value_seq(tp, q, temp, log_magnet=None, weights=None):
    """:func:`soft_best_response_value` on per-sequence vectors: ``q`` and ``log_magnet``
    (``None``: dilated entropy) are ``[S]``, ``weights`` ``[I]``."""

    def reduce(z, rows, d):
        n, block = level_size(tp, d), tp.level_sequences(d)
        t = temp if weights is None else temp * weights[tp.level(d)]
        y = z / (t if weights is None else t[rows])
        if log_magnet is not None:
            y = y + log_magnet[block]
        return t * segment_logsumexp(y, rows, n)[0], None

    return bottom_up_seq(tp, q, reduce)[0]


def dilated_kl_seq(tp, plan, log_magnet=None, weights=None):
    """:func:`dilated_kl` of a per-sequence plan ``[S]``: ``sum_s w x_s (log b_s - log rho_s)``
    with ``b_s = x_s / x_parent(s)`` (sequences never reached count 0)."""
    parent = plan[tp.seq_parent]
    log_b = jnp.log(jnp.where(plan > 0, plan / jnp.where(parent > 0, parent, 1.0), 1.0))
    if log_magnet is not None:
        log_b = log_b - log_magnet
    terms = jnp.where(plan > 0, plan * log_b, 0.0)
    if weights is not None:
        terms = terms * per_sequence(tp, weights)
    return jnp.sum(terms[1:])


def regularized_gap_seq(game, plans, temp, log_magnets=None, weights=None):
    """:func:`regularized_gap` with per-sequence log-magnets ``[S]`` (the solvers' log-policies;
    ``None``: dilated entropy): one logsumexp sweep per player, as one dilated MMD step."""
    log_magnets = (None, None) if log_magnets is None else log_magnets
    weights = (None, None) if weights is None else weights
    gap = 0.0
    for tp, q, x, m, w in zip(game.treeplexes, game.gradients(plans), plans, log_magnets,
                              weights):
        gap = gap + soft_best_response_value_seq(tp, q, temp, m, w) + temp * dilated_kl_seq(
            tp, x, m, w)
    return gap
