"""One player's treeplex: the sequence-form strategy polytope as padded index arrays.

Infosets are numbered level by level (level = number of the player's own earlier decisions), so
the rows of a level form one contiguous slice of every ``[I, A]`` array. Sequences are numbered
``0`` (the empty sequence) and then level by level, row-major over the legal slots; the
sequences of one level therefore form one contiguous block too.

Two sweeps do all the work, each a Python loop over the (few) levels of gathers:

* :func:`top_down` turns a behavioural policy ``b [I, A]`` into the realization plan
  ``x [S]``: ``x[seq(I, a)] = x[parent(I)] * b(a | I)``.
* :func:`bottom_up` folds a per-sequence utility ``u [S]`` from the leaves up:
  ``z(I, a) = u[seq(I, a)] + sum_{J child of (I, a)} V_J`` and ``V_I = reduce_a z(I, a)``;
  ``reduce`` is ``max`` for a best response, ``logsumexp`` for the dilated-entropy prox step and
  an expectation for counterfactual values.

The solvers sweep per-sequence vectors instead (:mod:`gametheory.efg.sequence_sweeps`, on the
``seq_*`` leaves below), which spends no work on padded slots, and so do the exploitability and
the regularised gap; these padded sweeps serve the pure best-response plans and ``reg_cfr``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = Any

__all__ = ["Treeplex", "build_treeplex", "top_down", "bottom_up", "to_padded", "masked_max"]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Treeplex:
    """Index arrays of one player's sequence form (see the module docstring for the numbering).

    Leaves:
      parent: ``[I]`` sequence id of each infoset's parent sequence (0 = empty sequence).
      seq_index: ``[I, A]`` sequence id of each (infoset, action slot); 0 on padded slots.
      mask: ``[I, A]`` legal action slots.
      flat_index: per level ``[S_d]`` positions of the legal slots in the level's flattened
        ``[n_d * A]`` block (row-major), i.e. the level's sequences in order.
      child_slot: per level ``[n_{d+1}]`` position of each next-level infoset's parent
        sequence in the level's flattened ``[n_d * A]`` block (the slot its value flows into);
        empty for the last level.
      root_children: ``[C_root]`` level-0 rows below the empty sequence.
      seq_row: ``[S]`` infoset of each sequence (``-1`` for the empty sequence); non-decreasing
        after position 0, since the sequences are numbered row-major.
      seq_local_row: ``[S]`` the same row counted from the first row of its level.
      seq_parent: ``[S]`` parent sequence of each sequence's infoset (0 for the empty one).
      seq_slot: ``[S]`` position of each sequence in the flattened ``[I * A]`` array.
      seq_num_actions: ``[S]`` number of legal actions at each sequence's infoset (1 for the
        empty sequence).
      child_seq: per level ``[n_{d+1}]`` position of each next-level infoset's parent sequence
        in level ``d``'s block of sequences; empty for the last level.
    Static:
      level_offsets: ``L + 1`` row offsets of the levels.
      num_sequences: ``S`` (including the empty sequence).
      seq_offsets: ``L + 1`` first sequence id of each level (``seq_offsets[0] = 1``) and ``S``.
    """

    parent: Array
    seq_index: Array
    mask: Array
    flat_index: tuple
    child_slot: tuple
    root_children: Array
    seq_row: Array
    seq_local_row: Array
    seq_parent: Array
    seq_slot: Array
    seq_num_actions: Array
    child_seq: tuple
    level_offsets: tuple = dataclasses.field(metadata=dict(static=True))
    num_sequences: int = dataclasses.field(metadata=dict(static=True))
    seq_offsets: tuple = dataclasses.field(metadata=dict(static=True))

    @property
    def num_infosets(self) -> int:
        return self.level_offsets[-1]

    @property
    def num_levels(self) -> int:
        return len(self.level_offsets) - 1

    @property
    def max_actions(self) -> int:
        return self.mask.shape[-1]

    def level(self, d: int) -> slice:
        return slice(self.level_offsets[d], self.level_offsets[d + 1])

    def level_sequences(self, d: int) -> slice:
        """The ids of the sequences of level ``d`` (one contiguous block)."""
        return slice(self.seq_offsets[d], self.seq_offsets[d + 1])


def build_treeplex(parent_seq: np.ndarray, level: np.ndarray, mask: np.ndarray) -> tuple:
    """Index arrays from infosets already sorted by level.

    Args:
      parent_seq: ``[I]`` parent sequence id of every infoset (ids as numbered by this layout).
      level: ``[I]`` non-decreasing level of every infoset.
      mask: ``[I, A]`` legal slots.

    Returns ``(treeplex, seq_index)`` with ``seq_index [I, A]`` (``-1`` on padded slots).
    """
    parent_seq = np.asarray(parent_seq, np.int64)
    level = np.asarray(level, np.int64)
    mask = np.asarray(mask, bool)
    n_inf, n_act = mask.shape
    if n_inf and np.any(np.diff(level) < 0):
        raise ValueError("infosets must be sorted by level.")
    num_levels = int(level.max()) + 1 if n_inf else 0
    offsets = [int(np.searchsorted(level, d)) for d in range(num_levels)] + [n_inf]
    seq_index = np.full((n_inf, n_act), -1, np.int64)
    seq_index[mask] = np.arange(1, int(mask.sum()) + 1)
    num_sequences = int(mask.sum()) + 1

    # Where each sequence sits in its level's flattened [n_d * A] block.
    slot_of_seq = np.zeros(num_sequences, np.int64)
    rows, cols = np.nonzero(mask)
    slot_of_seq[seq_index[rows, cols]] = rows * n_act + cols
    flat_index, child_slot = [], []
    for d in range(num_levels):
        lo, hi = offsets[d], offsets[d + 1]
        flat_index.append(np.flatnonzero(mask[lo:hi].ravel()).astype(np.int32))
        if d + 1 < num_levels:
            parents = parent_seq[offsets[d + 1]:offsets[d + 2]]
            first, last = (seq_index[lo:hi][mask[lo:hi]][[0, -1]] if mask[lo:hi].any()
                           else (0, -1))
            if np.any((parents < first) | (parents > last)):
                raise ValueError(f"an infoset of level {d + 1} hangs below a sequence that is "
                                 f"not of level {d}: levels must count the player's own "
                                 "earlier decisions.")
            child_slot.append((slot_of_seq[parents] - lo * n_act).astype(np.int32))
        else:
            child_slot.append(np.zeros(0, np.int32))
    root = np.flatnonzero(parent_seq[: offsets[1]] == 0) if num_levels else np.zeros(0, int)
    if num_levels and np.any(parent_seq[: offsets[1]] != 0):
        raise ValueError("level-0 infosets must hang below the empty sequence.")
    # Per-sequence view (rows, cols are in sequence order: row-major over legal slots).
    seq_offsets = [1 + int(mask[:offsets[d]].sum()) for d in range(num_levels)] + [
        num_sequences]
    seq_row = np.concatenate([[-1], rows])
    seq_local_row = np.concatenate([[-1], rows - np.asarray(offsets)[level[rows]]])
    seq_parent = np.concatenate([[0], parent_seq[rows]])
    seq_slot = np.concatenate([[0], rows * n_act + cols])
    seq_num_actions = np.concatenate([[1], mask.sum(axis=-1)[rows]])
    child_seq = [parent_seq[offsets[d + 1]:offsets[d + 2]] - seq_offsets[d]
                 for d in range(num_levels - 1)] + ([np.zeros(0, np.int64)] if num_levels else [])
    tp = Treeplex(
        parent=device_array(parent_seq, np.int32),
        seq_index=device_array(np.maximum(seq_index, 0), np.int32),
        mask=device_array(mask, bool),
        flat_index=tuple(device_array(f, np.int32) for f in flat_index),
        child_slot=tuple(device_array(c, np.int32) for c in child_slot),
        root_children=device_array(root, np.int32),
        seq_row=device_array(seq_row, np.int32),
        seq_local_row=device_array(seq_local_row, np.int32),
        seq_parent=device_array(seq_parent, np.int32),
        seq_slot=device_array(seq_slot, np.int32),
        seq_num_actions=device_array(seq_num_actions, np.int32),
        child_seq=tuple(device_array(c, np.int32) for c in child_seq),
        level_offsets=tuple(offsets),
        num_sequences=num_sequences,
        seq_offsets=tuple(seq_offsets),
    )
    return tp, seq_index


def device_array(values, dtype):
    """``jnp.asarray(values, dtype)`` without compiling: ``jnp.asarray`` of a NumPy array with a
    cast runs a jitted conversion, one XLA compilation per array shape (tens of ms each); here
    the cast is done in NumPy and the copy by ``jax.device_put``."""
    return jax.device_put(np.asarray(values, dtype=np.dtype(dtype)))


def to_padded(tp: Treeplex, values: Array, fill=0.0) -> Array:
    """Sequence vector ``[S]`` -> padded ``[I, A]`` array (``fill`` on padded slots)."""
    out = values[tp.seq_index]
    return jnp.where(tp.mask, out, jnp.asarray(fill, out.dtype))


def top_down(tp: Treeplex, behavioural: Array) -> Array:
    """Realization plan ``x [S]`` of a behavioural policy ``b [I, A]`` (rows on the simplex)."""
    x = jnp.ones((1,), behavioural.dtype)
    for d in range(tp.num_levels):
        rows = behavioural[tp.level(d)]
        block = x[tp.parent[tp.level(d)]][:, None] * rows
        x = jnp.concatenate([x, block.reshape(-1)[tp.flat_index[d]]])
    return x


def masked_max(z: Array, mask: Array) -> Array:
    return jnp.max(jnp.where(mask, z, -jnp.inf), axis=-1)


def bottom_up(tp: Treeplex, utility: Array, reduce: Callable) -> tuple[Array, list]:
    """Fold ``utility [S]`` from the deepest level up.

    ``reduce(z, mask, rows) -> (V [n_d], out)`` receives the level's ``z [n_d, A]`` (``z`` =
    utility + sum of the child infosets' values; padded slots hold 0), its mask and its row
    slice. Returns the value of the empty sequence ``utility[0] + sum_{root J} V_J`` and the
    list of per-level ``out`` (level order).
    """
    u = to_padded(tp, utility)

    def padded_reduce(z, d):
        rows = tp.level(d)
        mask = tp.mask[rows]
        return reduce(jnp.where(mask, z.reshape(mask.shape), 0.0), mask, rows)

    # each child infoset's value flows into its parent slot of the flattened [n_d * A] block
    # (a scatter-add of n_{d+1} values: cheaper than gathering a padded children block)
    return fold_up(tp, utility, lambda d: u[tp.level(d)].reshape(-1), tp.child_slot,
                   padded_reduce)


def fold_up(tp: Treeplex, utility: Array, level_values: Callable, child_index: tuple,
            reduce: Callable) -> tuple[Array, list]:
    """The loop of the bottom-up sweeps, padded (:func:`bottom_up`) or per sequence
    (:func:`gametheory.efg.sequence_sweeps.bottom_up_seq`): from the deepest level up, the
    level's flat values ``level_values(d)`` get each child infoset's value added at position
    ``child_index[d]`` (its parent sequence), then ``reduce(z, d) -> (V [n_d], out)``. Returns
    ``utility[0] + sum_{root J} V_J`` and the per-level ``out`` (level order)."""
    outs = [None] * tp.num_levels
    below = None
    for d in reversed(range(tp.num_levels)):
        z = level_values(d)
        if below is not None and child_index[d].shape[0]:
            z = z + jax.ops.segment_sum(below, child_index[d], num_segments=z.shape[0])
        below, outs[d] = reduce(z, d)
    root = utility[0]
    if below is not None and tp.root_children.shape[0]:
        root = root + jnp.sum(below[tp.root_children])
    return root, outs
