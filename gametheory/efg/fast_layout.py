"""Merge walked subtrees and lay out the sequence form in NumPy (no per-infoset Python loops).

Input: parts returned by :func:`gametheory.efg.fast_walk.walk_subtree`, in the order the
reference walk (:func:`gametheory.efg.sequence_form._walk`, a depth-first stack walk) visits
them. Infosets are numbered by first discovery over the parts in that order, which is the
reference walk's discovery order; the output is the dict of plain arrays that
:func:`gametheory.efg.sequence_form._layout` returns (and the disk cache stores), with the same
infoset order, sequence ids and, since every sum runs over the same terms in the same order
(``np.bincount`` adds sequentially), bitwise equal floats.
"""

from __future__ import annotations

import numpy as np

__all__ = ["merge_parts", "layout"]


def _recall_error(game, player, key):
    return ValueError(
        f"{game} does not have perfect recall: infoset {key!r} of player {player} is "
        "reached from two different own sequences (or with different legal actions)."
    )


def _slot_offsets(counts: np.ndarray) -> np.ndarray:
    """``[sum counts]`` slot number of every sequence within its infoset."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def merge_parts(parts: list, game) -> dict:
    """One global description from the parts: infosets deduplicated by key in part order, every
    part's discovery sequence ids mapped to global discovery ids."""
    out = dict(nodes=sum(p["nodes"] for p in parts), keys=[], parents=[], counts=[], actions=[],
               first=[])
    seq_maps = [[None, None] for _ in parts]
    idx_maps = [[None, None] for _ in parts]
    for pl in range(2):
        table = {}
        keys, g_parent, g_counts, g_actions = [], [], [], []
        n_seq = 1
        g_first = []
        for j, part in enumerate(parts):
            local = part["keys"][pl]
            counts = part["counts"][pl]
            gidx = np.empty(len(local), np.int64)
            new = []
            for i, key in enumerate(local):
                g = table.get(key)
                if g is None:
                    g = table[key] = len(keys)
                    keys.append(key)
                    new.append(i)
                gidx[i] = g
            new = np.asarray(new, np.int64)
            g_counts.append(counts[new])
            firsts = n_seq + np.cumsum(counts[new]) - counts[new]
            n_seq += int(counts[new].sum())
            g_first.append(firsts)
            all_first = np.concatenate(g_first) if g_first else np.zeros(0, np.int64)
            all_counts = np.concatenate(g_counts)
            # local discovery sequence ids -> global discovery ids
            seq_map = np.zeros(1 + int(counts.sum()), np.int64)
            slots = _slot_offsets(counts)
            seq_map[1:] = np.repeat(all_first[gidx], counts) + slots
            if np.any(all_counts[gidx] != counts):
                bad = int(np.flatnonzero(all_counts[gidx] != counts)[0])
                raise _recall_error(game, pl, local[bad])
            parent = seq_map[part["parents"][pl]]
            if j == 0:
                g_parent.append(parent)
                g_actions.append(part["actions"][pl])
            else:
                known = np.concatenate(g_parent)
                old = np.ones(len(local), bool)
                old[new] = False
                prev = gidx[old]
                if np.any(known[prev] != parent[old]):
                    bad = int(np.flatnonzero(old)[np.flatnonzero(known[prev] != parent[old])[0]])
                    raise _recall_error(game, pl, local[bad])
                g_parent.append(parent[new])
                starts = np.cumsum(counts) - counts
                take = np.repeat(starts[new], counts[new]) + _slot_offsets(counts[new])
                g_actions.append(part["actions"][pl][take])
            seq_maps[j][pl] = seq_map
            idx_maps[j][pl] = gidx
        out["keys"].append(keys)
        out["parents"].append(np.concatenate(g_parent))
        out["counts"].append(np.concatenate(g_counts))
        out["actions"].append(np.concatenate(g_actions))
        out["first"].append(np.concatenate(g_first))
    for name in ("d_idx", "d_opp", "d_prob", "d_reach"):
        out[name] = []
    for pl in range(2):
        out["d_idx"].append(np.concatenate([idx_maps[j][pl][p["d_idx"][pl]]
                                            for j, p in enumerate(parts)]))
        out["d_opp"].append(np.concatenate([seq_maps[j][1 - pl][p["d_opp"][pl]]
                                            for j, p in enumerate(parts)]))
        out["d_prob"].append(np.concatenate([p["d_prob"][pl] for p in parts]))
        out["d_reach"].append(np.concatenate([p["d_reach"][pl] for p in parts]))
    out["t_s0"] = np.concatenate([seq_maps[j][0][p["t_s0"]] for j, p in enumerate(parts)])
    out["t_s1"] = np.concatenate([seq_maps[j][1][p["t_s1"]] for j, p in enumerate(parts)])
    for name in ("t_prob", "t_r0", "t_r1"):
        out[name] = np.concatenate([p[name] for p in parts])
    return out


def _levels(parent_infoset: np.ndarray) -> np.ndarray:
    """Depth of every infoset in its player's forest (``-1`` parent = root); parents are
    discovered before their children, so the fixed point is reached after depth+1 sweeps."""
    level = np.zeros(len(parent_infoset), np.int64)
    has_parent = parent_infoset >= 0
    par = parent_infoset[has_parent]
    while True:
        new = np.zeros_like(level)
        new[has_parent] = level[par] + 1
        if np.array_equal(new, level):
            return level
        level = new


def layout(merged: dict, game) -> dict:
    """The cacheable arrays of :func:`gametheory.efg.sequence_form._layout` from
    :func:`merge_parts`'s output."""
    out = {}
    perms, positions = [], []
    for p in range(2):
        keys = merged["keys"][p]
        counts = merged["counts"][p]
        parents = merged["parents"][p]
        first = merged["first"][p]
        n = len(keys)
        n_seq = int(counts.sum()) + 1
        infoset_of_seq = np.full(n_seq, -1, np.int64)
        infoset_of_seq[1:] = np.repeat(np.arange(n), counts)
        level = _levels(infoset_of_seq[parents])
        order = np.argsort(level, kind="stable")
        position = np.empty(n, np.int64)
        position[order] = np.arange(n)
        width = int(counts.max()) if n else 1
        slots = _slot_offsets(counts)
        actions = np.full((n, width), -1, np.int64)
        actions[position[infoset_of_seq[1:]], slots] = merged["actions"][p]
        mask = actions >= 0
        seq_index = np.full((n, width), -1, np.int64)
        seq_index[mask] = np.arange(1, int(mask.sum()) + 1)
        perm = np.zeros(n_seq, np.int64)  # discovery sequence id -> layout sequence id
        perm[first[infoset_of_seq[1:]] + slots] = seq_index[position[infoset_of_seq[1:]], slots]
        out[f"p{p}_infosets"] = np.array([keys[o] for o in order], dtype=str)
        out[f"p{p}_actions"] = actions
        out[f"p{p}_parent"] = perm[parents[order]]
        out[f"p{p}_level"] = level[order]
        reach = np.bincount(merged["d_idx"][p], weights=merged["d_reach"][p], minlength=n)
        out[f"p{p}_reach"] = reach[order]
        perms.append(perm)
        positions.append(position)
    for p in range(2):  # chance-weighted reach of each infoset per opponent sequence
        rows = positions[p][merged["d_idx"][p]]
        cols = perms[1 - p][merged["d_opp"][p]]
        width = len(perms[1 - p])
        uniq, first, inv = np.unique(rows * width + cols, return_index=True, return_inverse=True)
        sums = np.bincount(inv.ravel(), weights=merged["d_prob"][p], minlength=len(uniq))
        o = np.argsort(first, kind="stable")  # first-occurrence order, as a dict keeps keys
        out[f"p{p}_reach_rows"] = uniq[o] // width
        out[f"p{p}_reach_cols"] = uniq[o] % width
        out[f"p{p}_reach_vals"] = sums[o]
    r0, r1 = merged["t_r0"], merged["t_r1"]
    bad = np.abs(r0 + r1) > 1e-9 * np.maximum(1.0, np.abs(r0))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{game}: terminal returns {[r0[i], r1[i]]} do not sum to zero.")
    rows = perms[0][merged["t_s0"]]
    cols = perms[1][merged["t_s1"]]
    width = max(int(cols.max(initial=0)), 0) + 1
    uniq, inv = np.unique(rows * width + cols, return_inverse=True)
    vals = np.bincount(inv.ravel(), weights=merged["t_prob"] * r0, minlength=len(uniq))
    keep = vals != 0
    out["payoff_rows"] = (uniq // width)[keep]
    out["payoff_cols"] = (uniq % width)[keep]
    out["payoff_values"] = vals[keep]
    out["utility_range"] = (np.array([r0.min(), r0.max()], np.float64) if len(r0)
                            else np.array([np.inf, -np.inf]))
    return out
