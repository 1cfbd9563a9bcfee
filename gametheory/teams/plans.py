"""Pure plans of one player's treeplex: batched best responses and enumeration.

* :func:`best_response_plans`: the bottom-up sweep ``V[parent(I)] += max_a V[seq(I, a)]`` over a
  batch of utility vectors ``u [B, S]``, then top-down the maximising reduced pure plans
  (``x[seq(I, a*)] = x[parent(I)]``, zero below unreached infosets). Infosets may be *forced*
  to one action per batch row (used for teammates that share one policy).
* :func:`enumerate_pure_plans`: every reduced pure plan (a plan fixes an action only at the
  infosets it reaches), as 0/1 realization plans; :func:`count_pure_plans` counts them first:
  ``N(s) = prod_{I below s} sum_a N(seq(I, a))``.
* :func:`clean_plan`: the nearest exact realization plan of an LP solution (renormalised per
  infoset), so that values computed from it are exact for a valid strategy.
"""

from __future__ import annotations

import numpy as np

from .sequence_form import PlayerTree

__all__ = ["best_response_plans", "count_pure_plans", "enumerate_pure_plans", "clean_plan",
           "plan_choices", "format_count", "DEFAULT_MAX_PLANS"]

#: Largest number of reduced pure plans :func:`enumerate_pure_plans` builds by default.
DEFAULT_MAX_PLANS = 500_000


def best_response_plans(tree: PlayerTree, utility: np.ndarray, forced=None):
    """Maximise ``utility[b] @ x`` over pure plans ``x`` for every row ``b``.

    Args:
      tree: the player's :class:`~gametheory.teams.PlayerTree`.
      utility: ``[B, S]`` (or ``[S]``) utility per sequence.
      forced: optional ``[B, I]`` int array: slot forced at each infoset (``-1`` = free).

    Returns ``(values [B], plans [B, S])`` (squeezed for 1-D input); ties pick the lowest slot.
    """
    u = np.asarray(utility, np.float64)
    squeeze = u.ndim == 1
    v = np.array(u[None] if squeeze else u, dtype=np.float64)
    batch = v.shape[0]
    choice = np.zeros((batch, tree.num_infosets), np.int64)
    slots = np.arange(tree.seq_index.shape[1])
    for d in reversed(range(tree.num_levels)):
        rows = tree.level(d)
        sidx = tree.seq_index[rows]
        z = np.where(sidx >= 0, v[:, np.maximum(sidx, 0)], -np.inf)
        if forced is not None:
            f = np.asarray(forced)[:, rows]
            z = np.where((f[..., None] < 0) | (slots == f[..., None]), z, -np.inf)
        arg = np.argmax(z, axis=-1)
        best = np.take_along_axis(z, arg[..., None], axis=-1)[..., 0]
        np.add.at(v, (slice(None), tree.parent[rows]), best)
        choice[:, rows] = arg
    plans = np.zeros_like(v)
    plans[:, 0] = 1.0
    batch_idx = np.arange(batch)[:, None]
    for d in range(tree.num_levels):
        rows = tree.level(d)
        seq = tree.seq_index[rows][np.arange(rows.stop - rows.start), choice[:, rows]]
        plans[batch_idx, seq] = plans[:, tree.parent[rows]]
    values = v[:, 0]
    return (values[0], plans[0]) if squeeze else (values, plans)


def format_count(n: int) -> str:
    """``n`` for humans: exact below a million, else ``about 10^k`` (works for huge ints)."""
    if n < 1_000_000:
        return str(n)
    return f"about 10^{len(str(n)) - 1}"


def _children(tree: PlayerTree) -> list[list[int]]:
    kids = [[] for _ in range(tree.num_sequences)]
    for i, par in enumerate(tree.parent):
        kids[int(par)].append(i)
    return kids


def count_pure_plans(tree: PlayerTree) -> int:
    """Number of reduced pure plans (Python int, exact even when huge)."""
    kids = _children(tree)
    count = [1] * tree.num_sequences
    for s in reversed(range(tree.num_sequences)):  # children have larger sequence ids
        total = 1
        for i in kids[s]:
            total *= sum(count[int(c)] for c in tree.seq_index[i] if c >= 0)
        count[s] = total
    return count[0]


def enumerate_pure_plans(tree: PlayerTree, max_plans: int = DEFAULT_MAX_PLANS) -> np.ndarray:
    """``[N, S]`` 0/1 array of every reduced pure plan (``N = count_pure_plans(tree)``).

    Raises ``ValueError`` when there are more than ``max_plans`` of them.
    """
    total = count_pure_plans(tree)
    if total > max_plans:
        raise ValueError(
            f"this player has {format_count(total)} reduced pure plans, more than "
            f"max_plans={max_plans}; "
            "exact enumeration is infeasible for this game (use a smaller game, or raise "
            "max_plans if you have the memory)."
        )
    kids = _children(tree)
    size = tree.num_sequences
    below = [None] * size
    for s in reversed(range(size)):
        block = np.zeros((1, size), np.int8)
        for i in kids[s]:
            options = []
            for c in tree.seq_index[i]:
                if c < 0:
                    continue
                sub = below[int(c)].copy()
                sub[:, c] = 1
                options.append(sub)
            opts = np.concatenate(options)
            block = (block[:, None, :] | opts[None, :, :]).reshape(-1, size)
        below[s] = block
    plans = below[0]
    plans[:, 0] = 1
    return plans


def plan_choices(tree: PlayerTree, plans: np.ndarray) -> np.ndarray:
    """``[B, I]`` slot each pure plan takes at each infoset, ``-1`` where it is not reached."""
    plans = np.asarray(plans)
    reached = plans[:, tree.parent] > 0.5
    taken = np.where(tree.seq_index >= 0, plans[:, np.maximum(tree.seq_index, 0)], 0) > 0.5
    return np.where(reached, np.argmax(taken, axis=-1), -1)


def clean_plan(tree: PlayerTree, plan) -> np.ndarray:
    """The realization plan of the behavioural strategy ``x[seq(I, a)] / sum_a' x[seq(I, a')]``
    (uniform where the sum is 0): exact treeplex constraints, equal to ``plan`` up to rounding.
    """
    x = np.clip(np.asarray(plan, np.float64), 0.0, None)
    out = np.zeros(tree.num_sequences)
    out[0] = 1.0
    mask = tree.seq_index >= 0
    for d in range(tree.num_levels):
        rows = tree.level(d)
        sidx = tree.seq_index[rows]
        m = mask[rows]
        w = np.where(m, x[np.maximum(sidx, 0)], 0.0)
        tot = w.sum(axis=-1, keepdims=True)
        beh = np.where(tot > 0, w / np.where(tot > 0, tot, 1.0), m / m.sum(-1, keepdims=True))
        vals = out[tree.parent[rows]][:, None] * beh
        out[sidx[m]] = vals[m]
    return out
