"""Normal-form speed: vmapped MPO / COMAL against scipy's HiGHS LP, side by side in one run.

Workloads (targets from the project plan):

* batch: ``--batch`` (1024) random ``--size`` x ``--size`` (50 x 50) zero-sum games
  (:func:`gametheory.games.random_zero_sum`, uniform [-1, 1] entries, ``seed=i``), solved by
  one :func:`gametheory.solve_batch_until` call per method to NashConv ``--tol`` (1e-6), vmapped
  over ``--slots`` games at a time (continuous batching; ``--slots 0`` vmaps the whole batch in
  lockstep), against HiGHS solving them one by one. Target: >= 10x HiGHS throughput.
  A diagnosis follows: the spread of steps to the tolerance, its rank correlation with the
  smallest equilibrium probability and the smallest payoff gap of an unplayed action (from the
  LP solution), and how many steps per game the target would allow at the measured cost.
* big: one ``--big`` x ``--big`` (1000 x 1000) random game with :func:`gametheory.solve_until`,
  against HiGHS interior point. Target: under 1 s.

NashConv = 2 * exploitability for two-player zero-sum games (OpenSpiel's convention); the
driver stops on exploitability <= tol / 2. Wall times of single jitted calls are reported
excluding compilation (ahead-of-time ``lower().compile()`` timed separately) and including it;
continuous batching compiles inside its host loop, so its wall time includes compilation. Game
values of the last iterates are compared with the LP values. HiGHS solves one LP per game and
reads the column player's strategy from its duals (:func:`gametheory.lp.solve_zero_sum`).

    .venv/bin/python benchmarks/matrix_speed.py            # full run (minutes)
    .venv/bin/python benchmarks/matrix_speed.py --quick    # 64 games, 300 x 300, short caps
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
from scipy.stats import spearmanr

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from gametheory.driver import solve_batch_until, solve_until  # noqa: E402
from gametheory.games import random_zero_sum, stack_games  # noqa: E402
from gametheory.lp import solve_zero_sum  # noqa: E402
from gametheory.solvers import comal, mpo  # noqa: E402

# MPO is MMD (Sokota et al. 2023, eq. (5)) whose magnet resets every K steps; COMAL (Liu et al.
# 2024, Alg. 1) is the prox-point loop with an INPO inner solver. Both take each step in
# mirror-prox form (extragradient=True / inner="extragradient"): with the plain step a sweep of
# lr in [0.02, 8], temp in [0.01, 1], K in [2, 3000] left NashConv ~1e-3 after 20000 steps on
# random 50x50 games. MPO and COMAL-INPO are the same iteration for equal parameters, so COMAL
# runs with a different (tau, K) pair.
SETTINGS = {
    "MPO": dict(lr=2.0, temp=0.001, reset_every=200, extragradient=True),
    "COMAL": dict(lr=2.0, tau=0.003, inner_steps=100, inner="extragradient"),
}
METHODS = {"MPO": lambda: mpo(**SETTINGS["MPO"]), "COMAL": lambda: comal(**SETTINGS["COMAL"])}


def _games(n: int, size: int, dtype):
    game = stack_games([random_zero_sum(size, size, seed=i) for i in range(n)])
    return jax.tree.map(lambda v: v.astype(dtype), game)


def _highs(matrices, method: str):
    """Solve each game with HiGHS; return (seconds, LP solutions)."""
    solutions = []
    start = time.perf_counter()
    for a in matrices:
        solutions.append(solve_zero_sum(a, method=method))
    return time.perf_counter() - start, solutions


def _timed(fn, *args):
    """(compile seconds, run seconds, result) of ``jax.jit(fn)(*args)``."""
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.block_until_ready(compiled(*args))
    return compile_s, time.perf_counter() - start, out


def _value(game, policies):
    x, y = policies
    return np.asarray(jnp.einsum("...i,...ij,...j->...", x, game.payoffs, y))


def _row(method, games, compile_s, run_s, ref_s, converged, nash_conv, steps, value_err):
    rate = games / run_s
    return dict(method=method, games=games, run=run_s, total=run_s + compile_s, rate=rate,
                ratio=ref_s / run_s, conv=converged, nc=nash_conv, steps=steps, verr=value_err)


def _print_table(title, rows, target):
    print(f"\n{title}")
    head = (f"{'method':<14}{'games':>6}{'wall s':>9}{'+compile':>10}{'games/s':>10}"
            f"{'vs HiGHS':>10}{'conv':>7}{'max NashConv':>14}{'steps(max)':>12}{'|dv| max':>11}")
    print(head)
    print("-" * len(head))
    for r in rows:
        steps = "-" if r["steps"] is None else f"{r['steps']:d}"
        conv = "-" if r["conv"] is None else f"{r['conv']:.2f}"
        nc = "-" if r["nc"] is None else f"{r['nc']:.2e}"
        verr = "-" if r["verr"] is None else f"{r['verr']:.1e}"
        print(f"{r['method']:<14}{r['games']:>6}{r['run']:>9.2f}{r['total']:>10.2f}"
              f"{r['rate']:>10.2f}{r['ratio']:>9.2f}x{conv:>7}{nc:>14}{steps:>12}{verr:>11}")
    if any(r["conv"] is not None and r["conv"] < 1 for r in rows):
        print("note: a method with conv < 1.00 stopped at its step cap, so its games/s and ratio "
              "are not times to the target NashConv (they are upper bounds on its speed).")
    print(f"target: {target}")


def _equilibrium_conditioning(matrix, solution, support_tol=1e-9):
    """Smallest probability in the LP equilibrium's support and smallest payoff gap of an action
    outside it (either player); 1.0 stands in when every action is played."""
    a, x, y = matrix, solution.row, solution.col
    probs = np.concatenate([x[x > support_tol], y[y > support_tol]])
    gaps = np.concatenate([(solution.value - a @ y)[x <= support_tol],
                           (x @ a - solution.value)[y <= support_tol]])
    return probs.min(), gaps.min() if gaps.size else 1.0


def _diagnose(name, steps, converged, work, run_s, ref_s, conditioning, target_ratio=10.0):
    """Why a method is slower than the target: step spread, its correlates, the step budget."""
    smallest_prob, smallest_gap = conditioning
    per_step = run_s / work
    budget = ref_s / target_ratio / len(steps) / per_step
    p10, p50, p90 = np.percentile(steps, [10, 50, 90])
    print(f"{name}: steps to the tolerance p10 {p10:.0f}, median {p50:.0f}, p90 {p90:.0f}, "
          f"max {steps.max()} ({converged.mean():.0%} converged; unconverged games count at "
          f"the cap)")
    if np.ptp(steps) > 0:
        print(f"  Spearman rank correlation of steps with the smallest equilibrium probability "
              f"{spearmanr(steps, smallest_prob).statistic:+.2f}, with the smallest gap of an "
              f"unplayed action {spearmanr(steps, smallest_gap).statistic:+.2f}")
    print(f"  cost {per_step * 1e6:.2f} us per game-step; {target_ratio:g}x HiGHS allows "
          f"{budget:.0f} steps per game on average")


def batch_benchmark(args, dtype):
    game = _games(args.batch, args.size, dtype)
    matrices = [np.asarray(a, np.float64) for a in game.payoffs]
    ref_s, solutions = _highs(matrices, args.highs_batch)
    ref_values = np.asarray([sol.value for sol in solutions])
    conditioning = np.asarray([_equilibrium_conditioning(a, sol)
                               for a, sol in zip(matrices, solutions)]).T
    rows = [_row(f"HiGHS({args.highs_batch.removeprefix('highs-') or 'auto'})",
                 args.batch, 0.0, ref_s, ref_s, None, None, None, None)]
    diagnoses = []
    for name in args.methods:
        solver = METHODS[name]()

        def run(g, solver=solver):
            return solve_batch_until(g, solver, tol=args.tol / 2, max_steps=args.max_steps,
                                     check_every=args.check_every, slots=args.slots or None)

        if args.slots:
            start = time.perf_counter()
            res = jax.block_until_ready(run(game))
            compile_s, run_s = 0.0, time.perf_counter() - start
        else:
            compile_s, run_s, res = _timed(run, game)
        nash_conv = 2 * np.asarray(res.exploitability, np.float64)
        steps = np.asarray(res.steps)
        verr = np.abs(_value(game, res.last) - ref_values).max()
        rows.append(_row(name, args.batch, compile_s, run_s, ref_s,
                         float(np.mean(nash_conv <= args.tol)), float(nash_conv.max()),
                         int(steps.max()), float(verr)))
        work = steps.sum() if args.slots else steps.max() * len(steps)
        diagnoses.append((name, steps, nash_conv <= args.tol, work, run_s))
    mode = f"{args.slots} slots" if args.slots else "lockstep vmap"
    _print_table(f"Batch: {args.batch} random {args.size}x{args.size} zero-sum games to NashConv "
                 f"{args.tol:g} ({jnp.dtype(dtype).name}, {mode}, cap {args.max_steps} steps, "
                 f"check every {args.check_every})", rows, ">= 10x HiGHS throughput")
    print()
    for diagnosis in diagnoses:
        _diagnose(*diagnosis, ref_s, conditioning)


def big_benchmark(args, dtype):
    game = random_zero_sum(args.big, args.big, seed=0)
    game = jax.tree.map(lambda v: v.astype(dtype), game)
    ref_s, (solution,) = _highs([np.asarray(game.payoffs, np.float64)], args.highs_big)
    ref_values = [solution.value]
    rows = [_row(f"HiGHS({args.highs_big.removeprefix('highs-')})", 1, 0.0, ref_s, ref_s,
                 None, None, None, None)]
    for name in args.methods:
        solver = METHODS[name]()

        def run(g, solver=solver):
            return solve_until(g, solver, tol=args.tol / 2, max_steps=args.big_max_steps,
                               check_every=args.check_every)

        compile_s, run_s, res = _timed(run, game)
        nash_conv = 2 * float(res.exploitability)
        verr = abs(float(_value(game, res.last)) - ref_values[0])
        rows.append(_row(name, 1, compile_s, run_s, ref_s, float(nash_conv <= args.tol),
                         nash_conv, int(res.steps), verr))
    _print_table(f"Big: one {args.big}x{args.big} random zero-sum game to NashConv {args.tol:g} "
                 f"(cap {args.big_max_steps} steps)", rows, "under 1 s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="64 games, a 300x300 big game and short step caps")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--tol", type=float, default=1e-6, help="target NashConv")
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--big-max-steps", type=int, default=5_000)
    parser.add_argument("--check-every", type=int, default=100)
    parser.add_argument("--slots", type=int, default=256,
                        help="games vmapped at a time (continuous batching); 0: whole batch")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--methods", nargs="+", choices=tuple(METHODS), default=tuple(METHODS))
    parser.add_argument("--highs-batch", default="highs", help="linprog method for the batch")
    parser.add_argument("--highs-big", default="highs-ipm", help="linprog method for the big game")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.big = min(args.batch, 64), min(args.big, 300)
        args.max_steps, args.big_max_steps = min(args.max_steps, 5000), min(args.big_max_steps,
                                                                              2000)
    dtype = jnp.float64 if args.dtype == "float64" else jnp.float32
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; {args.dtype}; "
          f"settings: {SETTINGS}")
    batch_benchmark(args, dtype)
    if not args.skip_big:
        big_benchmark(args, dtype)


if __name__ == "__main__":
    main()
