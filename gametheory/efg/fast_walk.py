"""One tight walk of an OpenSpiel subtree, recording the raw sequence form as flat typed arrays.

The reference walk (:func:`gametheory.efg.sequence_form._walk`) does per-node Python work:
``state.child(a)`` for every action, ``is_terminal`` + ``is_chance_node`` + ``current_player``
on every node, ``legal_actions`` on every decision node and dictionary updates of the reach
terms. Here (profiled with cProfile on ``liars_dice(numdice=1,dice_sides=6)``):

* one ``current_player()`` call classifies a node (``PlayerId.TERMINAL`` / ``CHANCE``);
* the last child of a node is made by ``state.apply_action`` on the node itself (the node is not
  needed any more), the others by ``state.child``; the walk continues with that last child
  without a stack round trip. The visiting order is that of the reference walk (last action
  first), so infosets are discovered in the same order;
* ``legal_actions`` is asked once per infoset (OpenSpiel's legal actions are a function of the
  information state), and each infoset's sequences are numbered when it is discovered;
* per decision node and per terminal history a few numbers are appended to ``array.array``
  buffers (8 bytes each, no Python objects kept); the sums (reach, payoff triplets) are done in
  NumPy afterwards, in the same order as the reference walk, so they are bitwise equal.

Sequence ids here are *discovery* ids: ``0`` is the empty sequence and infoset ``i``'s slots are
``first[i] .. first[i] + n_actions[i] - 1``. :mod:`gametheory.efg.fast_layout` renumbers them.
"""

from __future__ import annotations

from array import array

import numpy as np

__all__ = ["walk_subtree", "max_nodes_error"]


def max_nodes_error(game, max_nodes: int) -> ValueError:
    return ValueError(
        f"{game} has more than max_nodes={max_nodes} histories; the sequence form is built by "
        "walking the whole tree (about 200 bytes of memory and 1-2 microseconds per history). "
        "Pass a larger max_nodes= if you have the memory and time, or use a smaller variant of "
        "the game."
    )


def walk_subtree(game, state, prob: float = 1.0, max_nodes: int = 10**9, tick=None,
                 report_max: int | None = None, more=()) -> dict:
    """Walk the subtree below ``state`` (reached with chance probability ``prob``), then those
    below the ``(state, prob)`` pairs of ``more`` in order (no player has acted above any of
    them).

    ``state`` is consumed (actions are applied to it). ``tick(n)``, if given, is called with the
    number of histories walked every 2**16 histories. ``report_max``: the limit named in the
    error when more than ``max_nodes`` histories are walked (default ``max_nodes``). Returns a
    dict of NumPy arrays and lists (see :func:`gametheory.efg.fast_layout.merge_parts`).
    """
    import pyspiel

    terminal_id = int(pyspiel.PlayerId.TERMINAL)
    chance_id = int(pyspiel.PlayerId.CHANCE)
    tables = ({}, {})  # information state string -> (index, parent seq, first seq, actions, 1/k)
    keys = ([], [])
    parents = (array("q"), array("q"))
    counts = (array("q"), array("q"))
    flat_actions = (array("q"), array("q"))
    next_seq = [1, 1]
    # Per decision node: infoset, opponent's sequence, chance probability, chance x uniform
    # opponent reach.
    d_idx = (array("q"), array("q"))
    d_opp = (array("q"), array("q"))
    d_prob = (array("d"), array("d"))
    d_reach = (array("d"), array("d"))
    t_s0, t_s1, t_prob, t_r0, t_r1 = array("q"), array("q"), array("d"), array("d"), array("d")
    app_s0, app_s1, app_prob, app_r0, app_r1 = (t_s0.append, t_s1.append, t_prob.append,
                                                 t_r0.append, t_r1.append)
    get0, get1 = tables[0].get, tables[1].get
    (i0, i1), (o0, o1), (q0, q1), (w0, w1) = (
        (a[0].append, a[1].append) for a in (d_idx, d_opp, d_prob, d_reach))
    stack = [(st, q, 0, 0, 1.0, 1.0) for st, q in reversed(more)]
    push, pop = stack.append, stack.pop
    s0 = s1 = 0
    u0 = u1 = 1.0
    nodes = 0
    step = 1 << 16
    limit = min(max_nodes, step)
    ticked = 0

    def new_infoset(player, key, parent):
        acts = state.legal_actions()
        k = len(acts)
        if k == 0:
            raise ValueError(f"{game}: infoset {key!r} of player {player} has no legal actions.")
        entry = (len(keys[player]), parent, next_seq[player], acts, 1.0 / k)
        next_seq[player] += k
        tables[player][key] = entry
        keys[player].append(key)
        parents[player].append(parent)
        counts[player].append(k)
        flat_actions[player].extend(acts)
        return entry

    def recall_error(player, key):
        return ValueError(
            f"{game} does not have perfect recall: infoset {key!r} of player {player} is "
            "reached from two different own sequences (or with different legal actions)."
        )

    while True:
        nodes += 1
        if nodes > limit:
            if nodes > max_nodes:
                raise max_nodes_error(game, report_max or max_nodes)
            if tick is not None:
                tick(nodes - 1 - ticked)
                ticked = nodes - 1
            limit = min(max_nodes, limit + step)
        p = state.current_player()
        if p == 0:
            key = state.information_state_string(0)
            entry = get0(key)
            if entry is None:
                entry = new_infoset(0, key, s0)
            idx, parent, first, acts, share = entry
            if parent != s0:
                raise recall_error(0, key)
            i0(idx)
            o0(s1)
            q0(prob)
            w0(prob * u1)
            u0 = u0 * share
            last = len(acts) - 1
            for j in range(last):
                push((state.child(acts[j]), prob, first + j, s1, u0, u1))
            state.apply_action(acts[last])
            s0 = first + last
            continue
        if p == 1:
            key = state.information_state_string(1)
            entry = get1(key)
            if entry is None:
                entry = new_infoset(1, key, s1)
            idx, parent, first, acts, share = entry
            if parent != s1:
                raise recall_error(1, key)
            i1(idx)
            o1(s0)
            q1(prob)
            w1(prob * u0)
            u1 = u1 * share
            last = len(acts) - 1
            for j in range(last):
                push((state.child(acts[j]), prob, s0, first + j, u0, u1))
            state.apply_action(acts[last])
            s1 = first + last
            continue
        if p == terminal_id:
            ret = state.returns()
            app_s0(s0)
            app_s1(s1)
            app_prob(prob)
            app_r0(ret[0])
            app_r1(ret[1])
        elif p == chance_id:
            outcomes = [(a, q) for a, q in state.chance_outcomes() if q > 0]
            if outcomes:
                for a, q in outcomes[:-1]:
                    push((state.child(a), prob * q, s0, s1, u0, u1))
                a, q = outcomes[-1]
                state.apply_action(a)
                prob = prob * q
                continue
        else:
            raise ValueError(f"{game}: unexpected player id {p} (simultaneous node?).")
        if not stack:
            break
        state, prob, s0, s1, u0, u1 = pop()
    if tick is not None:
        tick(nodes - ticked)

    def ints(a):
        return np.frombuffer(a, np.int64).copy() if len(a) else np.zeros(0, np.int64)

    def floats(a):
        return np.frombuffer(a, np.float64).copy() if len(a) else np.zeros(0, np.float64)

    return dict(
        nodes=nodes,
        keys=keys,
        parents=tuple(ints(a) for a in parents),
        counts=tuple(ints(a) for a in counts),
        actions=tuple(ints(a) for a in flat_actions),
        d_idx=tuple(ints(a) for a in d_idx),
        d_opp=tuple(ints(a) for a in d_opp),
        d_prob=tuple(floats(a) for a in d_prob),
        d_reach=tuple(floats(a) for a in d_reach),
        t_s0=ints(t_s0), t_s1=ints(t_s1), t_prob=floats(t_prob), t_r0=floats(t_r0),
        t_r1=floats(t_r1),
    )
