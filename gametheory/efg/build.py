"""Fast build of the sequence-form arrays: a tight walk, optionally split across processes.

Games whose tree starts with chance (poker deals, liar's dice rolls) split into one subtree per
root chance outcome (descending through consecutive chance nodes until there are at least as
many parts as workers).
The parts are listed in the order a depth-first stack walk visits them (last outcome first), so
merging them (:func:`gametheory.efg.fast_layout.merge_parts`) reproduces the serial walk's
infoset order exactly: the result does not depend on the number of workers.

The first part is walked in this process; if it took long enough that the rest is worth the
start of worker processes (``concurrent.futures.ProcessPoolExecutor``), the other parts go to
``workers - 1`` processes and this one, else they are all walked here.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import warnings

from .fast_layout import layout, merge_parts
from .fast_walk import max_nodes_error, walk_subtree

__all__ = ["build_arrays", "default_workers"]

#: Estimated seconds of walking left after the first part above which the remaining parts go to
#: worker processes: forking a process that holds JAX, the copy-on-write faults that follow and
#: the infosets each part rediscovers cost a few tenths of a second (liars_dice(1, 6), a 0.5 s
#: walk, takes 1.8x the CPU seconds in 2 processes on 2 cores), so only larger trees gain.
PARALLEL_THRESHOLD_S = 1.0


def default_workers() -> int:
    """Worker processes used by default: the usable CPU cores not already busy (1-minute load
    average, this process counted as idle), at most 8, or 1 when fewer than 4 are idle.

    Each part rediscovers the opponent's infosets and the merge deduplicates them: on
    ``liars_dice(numdice=1,dice_sides=8)`` (8 parts) the parallel build spends 1.5x the CPU
    seconds of the serial one (2 processes on 2 idle cores: 24.5 s against 20.0 s), so only 4 or
    more idle cores gain."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        n = os.cpu_count() or 1
    try:
        busy = max(0, round(os.getloadavg()[0]) - 1)
    except (AttributeError, OSError):  # pragma: no cover - Windows
        busy = 0
    idle = min(n - busy, 8)
    return idle if idle >= 4 else 1


def _split(game, target: int) -> tuple[list, int]:
    """``([(actions, prob), ...], nodes)``: the roots of the parts, in depth-first visiting
    order, and the number of chance nodes expanded to find them."""
    import pyspiel

    chance_id = int(pyspiel.PlayerId.CHANCE)
    parts = [((), 1.0)]
    expanded = 0
    while len(parts) < target:
        nxt = []
        for actions, prob in parts:
            state = game.new_initial_state()
            for a in actions:
                state.apply_action(a)
            if state.current_player() != chance_id:
                return parts, expanded
            outcomes = [(a, q) for a, q in state.chance_outcomes() if q > 0]
            nxt.extend((actions + (a,), prob * q) for a, q in reversed(outcomes))
        expanded += len(parts)
        parts = nxt
    return parts, expanded


def _walk_part(game_string: str, actions: tuple, prob: float, max_nodes: int,
               report_max: int) -> dict:
    import pyspiel

    game = pyspiel.load_game(game_string)
    if game.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
        game = pyspiel.convert_to_turn_based(game)
    state = game.new_initial_state()
    for a in actions:
        state.apply_action(a)
    return walk_subtree(game, state, prob, max_nodes, report_max=report_max)


def _mp_context():
    import multiprocessing

    # fork is cheap (no re-import) and safe here: the workers run only pyspiel and NumPy.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _walk_in_parallel(game, roots, workers, budget, max_nodes, tick, start) -> list:
    """Walk the parts below ``roots`` with ``workers - 1`` processes and this one, which takes
    the parts no process has started yet, from the last; returns them in the order of
    ``roots``."""
    from concurrent.futures import ProcessPoolExecutor

    game_string = str(game)
    results = [None] * len(roots)
    with warnings.catch_warnings():
        # JAX (and Python 3.12+) warn on any fork of a multithreaded process; the workers run
        # only pyspiel and NumPy, never JAX.
        warnings.filterwarnings("ignore", message=r".*fork\(\)")
        # Objects of this process out of the collector's reach while forking, so that the
        # workers' garbage collections do not touch (and copy) the inherited pages.
        gc.freeze()
        try:
            pool = ProcessPoolExecutor(min(workers - 1, len(roots)), mp_context=_mp_context())
            futures = [pool.submit(_walk_part, game_string, a, q, budget, max_nodes)
                       for a, q in roots]
        finally:
            gc.unfreeze()
        try:
            for i in reversed(range(len(roots))):
                if futures[i].cancel():  # not started by a worker: walk it here
                    actions, prob = roots[i]
                    results[i] = walk_subtree(game, start(actions), prob, budget, tick, max_nodes)
            for i, fut in enumerate(futures):
                if results[i] is None:
                    results[i] = fut.result()
                    if tick is not None:
                        tick(results[i]["nodes"])
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    if sum(r["nodes"] for r in results) > budget:
        raise max_nodes_error(game, max_nodes)
    return results


def build_arrays(game, max_nodes: int, workers: int | None = None, bar=None) -> dict:
    """The cacheable sequence-form arrays of ``game`` (a pyspiel game, already validated by
    :func:`gametheory.efg.sequence_form.load_openspiel_game`).

    ``workers``: processes for the subtrees below the root chance outcomes (``None``:
    :func:`default_workers`; ``1``: walk everything here). ``bar``: optional tqdm counter.
    """
    if workers is None:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer or None; got {workers!r}.")
    tick = bar.update if bar is not None else None
    # As few parts as keep the workers busy: each part rediscovers the infosets it shares with
    # the others (liars_dice(1, 6) in its 36 deals costs 1.5x the CPU of one walk, in its 6
    # rolls of player 0 about 1.2x).
    roots, expanded = _split(game, workers) if workers > 1 else ([((), 1.0)], 0)
    budget = max_nodes - expanded

    def start(actions):
        state = game.new_initial_state()
        for a in actions:
            state.apply_action(a)
        return state

    t0 = time.perf_counter()
    actions, prob = roots[0]
    parts = [walk_subtree(game, start(actions), prob, budget, tick, max_nodes)]
    budget -= parts[0]["nodes"]
    elapsed = time.perf_counter() - t0
    rest = roots[1:]
    game_string = str(game)
    if rest and workers > 1 and elapsed * len(rest) > PARALLEL_THRESHOLD_S:
        parts += _walk_in_parallel(game, rest, workers, budget, max_nodes, tick, start)
    elif rest:  # one walk of the rest: the parts share their infosets
        more = [(start(actions), prob) for actions, prob in rest[1:]]
        actions, prob = rest[0]
        parts.append(walk_subtree(game, start(actions), prob, budget, tick, max_nodes, more))
    if bar is not None:
        bar.set_description_str(f"{game_string}: numbering sequences")
    merged = merge_parts(parts, game)
    del parts
    return layout(merged, game)
