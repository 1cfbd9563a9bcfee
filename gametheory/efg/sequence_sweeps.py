"""The treeplex sweeps on per-sequence vectors ``[S]`` instead of padded ``[I, A]`` arrays.

A behavioural policy is stored per sequence, ``b[seq(I, a)] = b(a | I)``; slot 0 (the empty
sequence) is unused. No work is spent on padded slots: on liar's dice (1 die, 6 sides) an
infoset has 2 legal actions on average and 12 at most, so a padded array is six times longer
than the sequence vector. Sums over an infoset's actions are sorted segment sums over
``tp.seq_row`` (:func:`infoset_sum`); the sequences of one level form one contiguous block
(``tp.level_sequences(d)``), so a level is a slice, not a gather.

* :func:`top_down_seq`: realization plan ``x[s] = x[parent(s)] * b[s]``, level by level.
* :func:`bottom_up_seq`: ``z(s) = u[s] + sum_{J child of s} V_J`` with ``V_I`` a per-infoset
  reduction of ``z`` over the infoset's sequences (counterfactual values, best responses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from .treeplex import Treeplex, fold_up

Array = Any

__all__ = ["to_sequences", "infoset_sum", "per_sequence", "top_down_seq", "bottom_up_seq",
           "join_levels", "level_size", "segment_logsumexp"]


def to_sequences(tp: Treeplex, padded: Array, fill=0.0) -> Array:
    """Padded ``[I, A]`` -> per-sequence ``[S]`` (``fill`` in slot 0)."""
    out = padded.reshape(-1)[tp.seq_slot]
    return out.at[0].set(jnp.asarray(fill, out.dtype))


def infoset_sum(tp: Treeplex, values: Array) -> Array:
    """``[S]`` -> ``[I]``: the sum over each infoset's sequences (slot 0 left out)."""
    return jax.ops.segment_sum(values, tp.seq_row, num_segments=tp.num_infosets,
                               indices_are_sorted=True)


def per_sequence(tp: Treeplex, per_infoset: Array) -> Array:
    """``[I]`` -> ``[S]``: each sequence gets its infoset's value (slot 0: infoset 0's, or 0
    for a player without infosets)."""
    if tp.num_infosets == 0:
        return jnp.zeros(tp.seq_row.shape, per_infoset.dtype)
    return per_infoset[jnp.maximum(tp.seq_row, 0)]


def segment_logsumexp(values: Array, rows: Array, n: int) -> tuple[Array, Array]:
    """``(lse [n], top [S_d])``: the logsumexp of each of the ``n`` sorted segments ``rows`` of
    a level's ``values``, stabilised by the segment maximum, which is returned per entry too."""
    top = jax.ops.segment_max(values, rows, num_segments=n, indices_are_sorted=True)
    top_s = top[rows]
    total = jax.ops.segment_sum(jnp.exp(values - top_s), rows, num_segments=n,
                                indices_are_sorted=True)
    return top + jnp.log(total), top_s


def top_down_seq(tp: Treeplex, behavioural: Array) -> Array:
    """Realization plan ``x [S]`` of a per-sequence behavioural policy ``b [S]``.

    The parent of a level-``d`` sequence is a level-``d - 1`` sequence (the empty one for
    ``d = 0``; :func:`gametheory.efg.treeplex.build_treeplex` checks it), so each level gathers
    from the previous level's block only and the blocks are joined once at the end (a join per
    level copies the growing prefix: 1.5x slower on liar's dice 1x6)."""
    prev = jnp.ones((1,), behavioural.dtype)
    blocks = [prev]
    for d in range(tp.num_levels):
        block = tp.level_sequences(d)
        first = tp.seq_offsets[d - 1] if d else 0
        prev = prev[tp.seq_parent[block] - first] * behavioural[block]
        blocks.append(prev)
    return jnp.concatenate(blocks)


def bottom_up_seq(tp: Treeplex, utility: Array, reduce: Callable) -> tuple[Array, list]:
    """Fold ``utility [S]`` from the deepest level up, in sequence space.

    ``reduce(z, rows, d) -> (V [n_d], out)`` receives the level's ``z [S_d]`` (``z`` = utility
    + sum of the child infosets' values), the level-local infoset row of each of its sequences
    (sorted; segment ids for ``n_d = tp.level_offsets[d + 1] - tp.level_offsets[d]``
    segments) and the level. Returns the value of the empty sequence
    ``utility[0] + sum_{root J} V_J`` and the list of per-level ``out`` (level order).
    """
    return fold_up(tp, utility, lambda d: utility[tp.level_sequences(d)], tp.child_seq,
                   lambda z, d: reduce(z, tp.seq_local_row[tp.level_sequences(d)], d))


def join_levels(tp: Treeplex, levels: list, fill=0.0, like=None) -> Array:
    """Per-level ``[S_d]`` blocks -> one ``[S]`` vector with ``fill`` in slot 0."""
    if not levels:
        return jnp.full((tp.num_sequences,), fill, like.dtype if like is not None else None)
    head = jnp.full((1,), fill, levels[0].dtype)
    return jnp.concatenate([head] + list(levels))


def level_size(tp: Treeplex, d: int) -> int:
    """``n_d``: the number of infosets of level ``d``."""
    return tp.level_offsets[d + 1] - tp.level_offsets[d]
