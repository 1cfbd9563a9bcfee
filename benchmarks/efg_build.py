"""Sequence-form build speed: the original per-node walk against the fast build, side by side.

    python benchmarks/efg_build.py [--game liars_dice(numdice=1,dice_sides=6)]
                                   [--large liars_dice(numdice=1,dice_sides=9)] [--workers N]

1. ``--game`` built by ``sequence_form_game(method="walk")`` (the original walk,
   :func:`gametheory.efg.sequence_form._walk`) and by the default fast build
   (:mod:`gametheory.efg.build`) with ``--workers`` processes and with one, interleaved, median
   of ``--reps``; the walk phase alone (``_walk`` + ``_layout`` against ``build_arrays``) too,
   in wall and CPU seconds (this process and the workers: on a shared machine the CPU seconds
   are the steadier figure). The arrays are checked equal. Then the game loaded from the
   on-disk cache (``cache_dir``, written by one build first; the default ``"auto"`` cache
   does the same for games this large).
2. ``--large`` built once (no history limit; liar's dice 1x9 by default: 42.5M histories,
   1.18M infosets per player): histories, infosets, sequences, non-zeros, seconds, peak
   memory (``resource.getrusage``: this process and the worker processes).
3. Milliseconds per CFR+ iteration (``EFG_SOLVERS["cfr_plus"]()`` in a fused jitted loop,
   compile excluded, as ``efg_speed.py`` and ``efg_frontier.py`` time it) on both games, next
   to OpenSpiel's C++ ``pyspiel.CFRPlusSolver`` (``evaluate_and_update_policy``).
"""

from __future__ import annotations

import argparse
import pathlib
import resource
import statistics
import sys
import tempfile
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pyspiel  # noqa: E402

from gametheory.efg import EFG_SOLVERS, sequence_form_game  # noqa: E402
from gametheory.efg.build import build_arrays, default_workers  # noqa: E402
from gametheory.efg.sequence_form import (  # noqa: E402
    _from_arrays,
    _layout,
    _walk,
    load_openspiel_game,
)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from efg_speed import _time_per_iteration  # noqa: E402  (fused lax loop, compile excluded)


def _cpu():
    """CPU seconds of this process and its finished worker processes."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _timed(f, cpu=None):
    """``(wall seconds, f())``; appends the CPU seconds to ``cpu`` if given."""
    start, start_cpu = time.perf_counter(), _cpu()
    out = f()
    if cpu is not None:
        cpu.append(_cpu() - start_cpu)
    return time.perf_counter() - start, out


def _peak_gb():
    scale = 2**30 if sys.platform == "darwin" else 2**20  # ru_maxrss: bytes on macOS, else kB
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale
    return own, kids


def compare_build(name, workers, reps):
    os_game = load_openspiel_game(name)
    sequence_form_game("kuhn_poker")  # JAX start-up outside the timings
    labels = ["walk", f"fast, {workers} workers", "fast, 1 worker"]
    if workers == 1:
        labels = labels[::2]
    full, phase, cpu = ({k: [] for k in labels} for _ in range(3))
    full["cached"] = []
    ref = None
    for _ in range(reps):
        t, g = _timed(lambda: sequence_form_game(name, method="walk"))
        full["walk"].append(t)
        t, ref = _timed(lambda: _layout(_walk(os_game, 10**9)), cpu["walk"])
        phase["walk"].append(t)
        for label, w in zip(labels[1:], (workers, 1)[-(len(labels) - 1):]):
            t, _ = _timed(lambda w=w: sequence_form_game(name, cache_dir=None, workers=w))
            full[label].append(t)
            t, arrays = _timed(lambda w=w: build_arrays(os_game, 10**9, w), cpu[label])
            phase[label].append(t)
            assert all(np.array_equal(ref[k], arrays[k]) for k in ref), "arrays differ"
    with tempfile.TemporaryDirectory() as folder:  # the on-disk cache: written once, loaded
        sequence_form_game(name, cache_dir=folder)
        for _ in range(reps):
            t, cached = _timed(lambda: sequence_form_game(name, cache_dir=folder))
            full["cached"].append(t)
    assert cached.info == g.info, "cached game differs"
    print(f"{name}: {g.num_infosets} infosets, {g.num_sequences} sequences, nnz {g.nnz}")
    print(f"{'build':<20} {'sequence_form_game s':>22} {'walk phase s':>16} "
          f"{'walk phase CPU s':>18}   (median of {reps})")
    base = [statistics.median(d["walk"]) for d in (full, phase, cpu)]
    for label in labels + ["cached"]:
        cells = [f"{label:<20}"]
        for b, d in zip(base, (full, phase, cpu)):
            if d.get(label):
                m = statistics.median(d[label])
                cells.append(f"{m:10.3f} ({b / m:4.1f}x)")
        print(" ".join(cells))
    print("cached: sequence_form_game's on-disk cache (the default for games of this size, "
          "gametheory.efg.cache), loaded after one build")
    return g


class _HistoryCount:
    """Stands in for the build's tqdm counter: counts the histories walked."""

    n = 0

    def update(self, k):
        self.n += k

    def set_description_str(self, _):
        pass


def build_large(name, workers):
    """``(game, histories)``: ``sequence_form_game``'s build without its history limit."""
    os_game = load_openspiel_game(name)
    count = _HistoryCount()
    arrays = build_arrays(os_game, 10**10, workers, count)
    return _from_arrays(arrays, str(os_game), name), count.n


def ms_per_cfr_plus_iteration(game, steps):
    """A fused jitted loop of ``steps`` CFR+ updates, compile excluded (efg_speed's timer)."""
    return 1e3 * _time_per_iteration(game, EFG_SOLVERS["cfr_plus"](), steps)


def ms_per_openspiel_cfr_plus_iteration(game_string, budget_s):
    solver = pyspiel.CFRPlusSolver(pyspiel.load_game(game_string))
    solver.evaluate_and_update_policy()  # first iteration builds the tables
    n, start = 0, time.perf_counter()
    while n < 3 or (time.perf_counter() - start < budget_s and n < 200):
        solver.evaluate_and_update_policy()
        n += 1
    return 1e3 * (time.perf_counter() - start) / n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", default="liars_dice(numdice=1,dice_sides=6)")
    parser.add_argument("--large", default="liars_dice(numdice=1,dice_sides=9)")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="workers of the fast build (default: the build's own default, the "
                        "idle cores when at least 4 are idle, else 1)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cfr-steps", type=int, nargs=2, default=[500, 10],
                        metavar=("GAME", "LARGE"),
                        help="CFR+ iterations timed on --game and on --large")
    parser.add_argument("--openspiel-budget", type=float, default=20.0,
                        help="seconds of OpenSpiel CFR+ iterations per game")
    args = parser.parse_args(argv)

    small = compare_build(args.game, args.workers, args.reps)

    cpu = []
    seconds, (large, histories) = _timed(lambda: build_large(args.large, args.workers), cpu)
    own, kids = _peak_gb()
    print(f"\n{args.large}: {histories} histories built in {seconds:.1f} s ({cpu[0]:.1f} CPU s) "
          f"with {args.workers} workers; peak memory {own:.2f} GB (workers {kids:.2f} GB each "
          "at most)")
    print(f"  infosets {large.num_infosets}, sequences {large.num_sequences}, nnz {large.nnz}")

    print("\nms per CFR+ iteration (a fused loop of --cfr-steps updates, compile excluded) vs "
          "OpenSpiel C++ CFRPlusSolver")
    for g, steps in zip((small, large), args.cfr_steps):
        ours = ms_per_cfr_plus_iteration(g, steps)
        theirs = ms_per_openspiel_cfr_plus_iteration(g.info.game_string, args.openspiel_budget)
        print(f"  {g.info.game_string:<40} ours {ours:9.2f}   OpenSpiel C++ {theirs:9.2f}")


if __name__ == "__main__":
    main()
