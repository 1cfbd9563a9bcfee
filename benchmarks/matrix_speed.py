"""Normal-form speed: our PDHG, MPO, COMAL and simplex method (defaults) against LP solvers.

Workloads (targets from the project plan):

* batch: ``--batch`` (1024) random ``--size`` x ``--size`` (50 x 50) zero-sum games
  (:func:`gametheory.games.random_zero_sum`, uniform [-1, 1] entries, ``seed=i``) to NashConv
  ``--tol`` (1e-6). Ours: one :func:`gametheory.solve_batch_until` call per method (continuous
  batching, ``--slots`` games at a time, each solver with its registry defaults: scale-free
  steps, adaptive restarts, certified polish; ``tableau`` pivots to the exact equilibrium).
  Anchors on the LP form of the same games, one by one: scipy HiGHS dual simplex and interior
  point, HiGHS's first-order PDLP (``highspy``), and MPAX's restarted Halpern PDHG (a JAX PDLP)
  vmapped over the whole batch when it installs.
  Targets: >= 10x HiGHS throughput (stretch 20x); MPO median <= 2000 steps.
* big: one ``--big`` x ``--big`` (1000 x 1000) random game with :func:`gametheory.solve_until`
  against HiGHS interior point. Target: under 1 s to NashConv 1e-6.

Every returned profile is **certified** in float64 NumPy from scratch:
``NashConv = max_i (A y)_i - min_j (A^T x)_j``; a method's "certified" share counts games at or
below ``--tol``. Wall times exclude compilation: for the batch, a warm-up pass compiles every
slot width the run may shrink to (:func:`gametheory.driver.slot_widths`) first; for the big
game the compile time is printed beside the row, and a first untimed run takes the one-time
set-up (PDHG on an H100: 0.34 s for the first run, 0.23 s warm). Our batch rows report the
median of ``--repeats`` (3) timed calls, fewer where they add up to 5 s; a call of 0.2 s varies
by +-20% on a shared 2-core machine, and the note gives the first call's rate. Convergence is
checked every 100 steps for the first-order methods (checks run the polish at most every
:func:`gametheory.solvers.polish.polish_period` steps) and every 50 pivots for ``tableau``
(a game needs about 45); ``--check-every`` sets one interval for all.
NashConv = 2 x exploitability (OpenSpiel's convention); the driver stops on exploitability
``<= tol / 2``.

    .venv/bin/python benchmarks/matrix_speed.py            # full run (a few minutes)
    .venv/bin/python benchmarks/matrix_speed.py --quick    # 128 games, 300 x 300, short caps
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from gametheory.driver import (  # noqa: E402
    auto_slots,
    slot_widths,
    solve_batch_until,
    solve_until,
)
from gametheory.games import random_zero_sum, stack_games  # noqa: E402
from gametheory.lp import solve_zero_sum  # noqa: E402
from gametheory.solvers import make_solver, solver_parameters  # noqa: E402

METHODS = ("pdhg", "mpo", "comal", "tableau")
#: Steps between convergence checks on the batch, where not 100 (``--check-every`` overrides).
CHECK_EVERY = {"tableau": 50}
#: A method's batch is timed ``--repeats`` times (the median is reported), but not again once
#: its timed calls add up to this many seconds (long runs vary little).
REPEAT_SECONDS = 5.0


def _nash_conv(matrix, x, y) -> float:
    """Float64 certificate from scratch."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float((matrix @ y).max() - (x @ matrix).min())


def _simplex(p):
    p = np.clip(np.asarray(p, np.float64), 0.0, None)
    return p / p.sum() if p.sum() > 0 else np.full(p.shape, 1.0 / p.size)


# --------------------------------------------------------------------------------------------
# Anchors
# --------------------------------------------------------------------------------------------


def highs_linprog(matrices, method):
    """scipy HiGHS (``linprog``), one game at a time; returns (seconds, [(x, y)])."""
    out = []
    start = time.perf_counter()
    for a in matrices:
        sol = solve_zero_sum(a, method=method)
        out.append((sol.row, sol.col))
    return time.perf_counter() - start, out


def _lp_form(a):
    """``max v`` s.t. ``A^T x >= v 1``, ``sum x = 1``, ``x >= 0`` as (cost, rows, bounds)."""
    m, n = a.shape
    cost = np.zeros(m + 1)
    cost[-1] = -1.0
    inequality = np.hstack([a.T, -np.ones((n, 1))])  # A^T x - v >= 0
    equality = np.hstack([np.ones((1, m)), np.zeros((1, 1))])
    return cost, inequality, equality


def highs_pdlp(matrices, tol):
    """HiGHS's first-order PDLP through ``highspy``, one game at a time (None if absent)."""
    try:
        import highspy
    except ImportError as err:
        return None, f"highspy not installed ({err}); pip install highspy"
    out = []
    start = time.perf_counter()
    for a in matrices:
        m, n = a.shape
        cost, ineq, eq = _lp_form(a)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("solver", "pdlp")
        for option in ("primal_feasibility_tolerance", "dual_feasibility_tolerance",
                       "pdlp_d_gap_tol"):
            h.setOptionValue(option, tol / 10)
        inf = highspy.kHighsInf
        lower = np.r_[np.zeros(m), -inf]
        upper = np.r_[np.full(m, inf), inf]
        rows = np.vstack([ineq, eq])
        row_lower = np.r_[np.zeros(n), 1.0]
        row_upper = np.r_[np.full(n, inf), 1.0]
        h.addVars(m + 1, lower, upper)
        h.changeColsCost(m + 1, np.arange(m + 1, dtype=np.int32), cost)
        for r, lo, hi in zip(rows, row_lower, row_upper):
            idx = np.flatnonzero(r).astype(np.int32)
            h.addRow(lo, hi, len(idx), idx, r[idx])
        h.run()
        sol = h.getSolution()
        x = _simplex(np.asarray(sol.col_value)[:m])
        y = _simplex(np.asarray(sol.row_dual)[:n])
        out.append((x, y))
    return time.perf_counter() - start, out


def mpax_batch(matrices, tol):
    """MPAX's r2HPDHG (JAX PDLP) vmapped over the batch (None if it does not import)."""
    try:
        from mpax import create_lp, r2HPDHG
    except Exception as err:  # noqa: BLE001 - an optional anchor; report why it is missing
        return None, f"mpax not available ({type(err).__name__}: {err}); pip install mpax"
    m, n = matrices[0].shape
    a_eq = jnp.asarray(np.hstack([np.ones((1, m)), np.zeros((1, 1))]))
    lower = jnp.asarray(np.r_[np.zeros(m), -np.inf])
    upper = jnp.asarray(np.full(m + 1, np.inf))
    cost = jnp.asarray(np.r_[np.zeros(m), -1.0])
    solver = r2HPDHG(eps_abs=tol / 10, eps_rel=tol / 10, verbose=False)

    def one(a):
        g = jnp.concatenate([a.T, -jnp.ones((n, 1))], axis=1)
        lp = create_lp(cost, a_eq, jnp.ones(1), g, jnp.zeros(n), lower, upper)
        result = solver.optimize(lp)
        return result.primal_solution[:m], result.dual_solution[1:]

    run = jax.jit(jax.vmap(one))
    batch = jnp.asarray(np.stack(matrices))
    start = time.perf_counter()
    try:
        xs, ys = jax.block_until_ready(run(batch))
    except Exception as err:  # noqa: BLE001
        return None, f"mpax failed ({type(err).__name__}: {str(err)[:120]})"
    seconds = time.perf_counter() - start
    return seconds, [(_simplex(x), _simplex(y)) for x, y in zip(np.asarray(xs), np.asarray(ys))]


# --------------------------------------------------------------------------------------------
# Ours
# --------------------------------------------------------------------------------------------


def _check_every(name, args) -> int:
    if args.check_every is not None:
        return args.check_every
    return CHECK_EVERY.get(name, 100)


def ours_batch(game, name, args):
    """``solve_batch_until`` with the registry defaults; returns (seconds, profiles, steps,
    note)."""
    solver = make_solver(name)
    slots = auto_slots(game) if args.slots == "auto" else args.slots
    check_every = _check_every(name, args)
    for width in slot_widths(game, slots):  # compile every width the run may shrink to
        solve_batch_until(jax.tree.map(lambda v: v[:width], game), solver, tol=args.tol / 2,
                          max_steps=args.max_steps, check_every=check_every, slots=width)
    times = []  # timed calls: up to --repeats, fewer once they add up to REPEAT_SECONDS
    while len(times) < args.repeats and sum(times) < REPEAT_SECONDS:
        start = time.perf_counter()
        res = solve_batch_until(game, solver, tol=args.tol / 2, max_steps=args.max_steps,
                                check_every=check_every, slots=slots)
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    profiles = list(zip(np.asarray(res.last[0]), np.asarray(res.last[1])))
    pivots = getattr(res.state, "pivots", None)  # tableau: pivots taken, below the steps run
    note = f"check every {check_every}"
    if len(times) > 1:
        note += (f", median of {len(times)} calls (first {len(res.steps) / times[0]:.0f} "
                 "games/s)")
    if pivots is not None:
        note += ", pivots " + "/".join(f"{v:.0f}" for v in np.percentile(pivots, [10, 50, 90]))
        note += f"/{int(np.max(pivots))}"
    return seconds, profiles, np.asarray(res.steps), note


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _row(label, matrices, seconds, profiles, reference, tol, steps=None, note=""):
    """``reference``: the anchor's seconds for the same number of games (ratios are of rates)."""
    if seconds is None:
        return dict(label=label, note=profiles)
    certs = np.asarray([_nash_conv(a, x, y) for a, (x, y) in zip(matrices, profiles)])
    return dict(label=label, games=len(matrices), seconds=seconds,
                rate=len(matrices) / seconds, ratio=reference / seconds,
                certified=float(np.mean(certs <= tol)), worst=float(certs.max()), steps=steps,
                note=note)


def _print(title, rows, target):
    print(f"\n{title}")
    head = (f"{'method':<26}{'games':>6}{'wall s':>9}{'games/s':>10}{'vs HiGHS':>10}"
            f"{'certified':>10}{'max NashConv':>14}  steps p10/p50/p90/max")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "games" not in r:
            print(f"{r['label']:<26} {r['note']}")
            continue
        steps = ""
        if r["steps"] is not None:
            p = np.percentile(r["steps"], [10, 50, 90])
            steps = f"{p[0]:.0f}/{p[1]:.0f}/{p[2]:.0f}/{r['steps'].max()}"
        print(f"{r['label']:<26}{r['games']:>6}{r['seconds']:>9.3f}{r['rate']:>10.1f}"
              f"{r['ratio']:>9.2f}x{r['certified']:>10.0%}{r['worst']:>14.2e}  {steps}"
              f"{'  ' + r['note'] if r['note'] else ''}")
    print(f"target: {target}")


def batch_benchmark(args):
    games = [random_zero_sum(args.size, args.size, seed=i) for i in range(args.batch)]
    matrices = [np.asarray(g.payoffs, np.float64) for g in games]
    stacked = stack_games(games)
    # HiGHS runs on the first --lp-games games (default all); ratios compare rates (games/s).
    lp = matrices[: args.lp_games or len(matrices)]
    lp_note = f"first {len(lp)} games" if len(lp) < len(matrices) else ""
    lp_s, ref = highs_linprog(lp, "highs-ds")
    ref_s = lp_s * len(matrices) / len(lp)  # dual simplex seconds for the whole batch
    rows = [_row("HiGHS dual simplex", lp, lp_s, ref, lp_s, args.tol, note=lp_note)]
    ipm_s, ipm = highs_linprog(lp, "highs-ipm")
    rows.append(_row("HiGHS interior point", lp, ipm_s, ipm, lp_s, args.tol, note=lp_note))
    # The first-order LP anchors are slow on CPU: they run on the first --anchor-games games.
    few = matrices[: args.anchor_games]
    few_ref = ref_s * len(few) / len(matrices)
    if few:
        pdlp_s, pdlp = highs_pdlp(few, args.tol)
        rows.append(_row("HiGHS PDLP (highspy)", few, pdlp_s, pdlp, few_ref, args.tol,
                         note=f"first {len(few)} games" if pdlp_s is not None else ""))
        mpax_s, mpax = mpax_batch(few, args.tol)
        rows.append(_row("MPAX r2HPDHG (vmap)", few, mpax_s, mpax, few_ref, args.tol,
                         note=f"first {len(few)} games, incl. compilation"
                         if mpax_s is not None else ""))
    summary = {}
    for name in args.methods:
        seconds, profiles, steps, note = ours_batch(stacked, name, args)
        rows.append(_row(f"ours {name} (defaults)", matrices, seconds, profiles, ref_s,
                         args.tol, steps, note=note))
        summary[name] = rows[-1]
    slots = auto_slots(stacked) if args.slots == "auto" else args.slots
    _print(f"Batch: {args.batch} random {args.size}x{args.size} zero-sum games to NashConv "
           f"{args.tol:g} (slots {slots}, cap "
           f"{args.max_steps} steps; ours after a warm-up compile)", rows,
           ">= 10x HiGHS dual simplex throughput (stretch 20x); MPO median <= 2000 steps")
    return summary


def big_benchmark(args):
    game = random_zero_sum(args.big, args.big, seed=0)
    matrix = np.asarray(game.payoffs, np.float64)
    ref_s, ref = highs_linprog([matrix], "highs-ipm")
    rows = [_row("HiGHS interior point", [matrix], ref_s, ref, ref_s, args.tol)]
    for name in args.methods:
        solver = make_solver(name)
        run = jax.jit(lambda g, solver=solver: solve_until(
            g, solver, tol=args.tol / 2, max_steps=args.big_max_steps,
            check_every=args.big_check_every))
        start = time.perf_counter()
        compiled = run.lower(game).compile()
        compile_s = time.perf_counter() - start
        jax.block_until_ready(compiled(game))  # untimed: one-time set-up on the device
        start = time.perf_counter()
        res = jax.block_until_ready(compiled(game))
        seconds = time.perf_counter() - start
        note = f"+{compile_s:.1f} s compile"
        if getattr(res.state, "pivots", None) is not None:
            note += f", {int(res.state.pivots)} pivots"
        rows.append(_row(f"ours {name} (defaults)", [matrix], seconds,
                         [(res.last[0], res.last[1])], ref_s, args.tol,
                         np.asarray([int(res.steps)]), note=note))
    _print(f"Big: one {args.big}x{args.big} random zero-sum game to NashConv {args.tol:g} "
           f"(cap {args.big_max_steps} steps, check every {args.big_check_every})", rows,
           "under 1 s to NashConv 1e-6 on 2 cores")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="128 games, a 300x300 big game and short step caps")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--big", type=int, default=1000)
    parser.add_argument("--tol", type=float, default=1e-6, help="target NashConv")
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--big-max-steps", type=int, default=20_000)
    parser.add_argument("--check-every", type=int, default=None,
                        help="steps between convergence checks on the batch (default: 100, "
                             "and 50 pivots for tableau)")
    parser.add_argument("--anchor-games", type=int, default=64,
                        help="games for the (slow) HiGHS PDLP and MPAX anchors (0: skip them)")
    parser.add_argument("--lp-games", type=int, default=0,
                        help="games for the HiGHS simplex and interior-point anchors "
                             "(0: all; ratios compare rates)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed calls of each of our batch runs; the median is reported "
                             f"(no further calls once they add up to {REPEAT_SECONDS:g} s)")
    parser.add_argument("--big-check-every", type=int, default=50)
    parser.add_argument("--slots", default="auto",
                        help="games vmapped at a time (continuous batching); 'auto': sized "
                             "to the CPU cache")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=METHODS)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1; got {args.repeats}.")
    if args.slots != "auto":
        args.slots = int(args.slots)
    if args.quick:
        args.batch, args.big = min(args.batch, 128), min(args.big, 300)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; float64; defaults: "
          + "; ".join(f"{m} {solver_parameters(make_solver_factory(m))}" for m in args.methods))
    batch_benchmark(args)
    if not args.skip_big:
        big_benchmark(args)


def make_solver_factory(name):
    from gametheory.solvers import NORMAL_FORM_SOLVERS

    return NORMAL_FORM_SOLVERS[name]


if __name__ == "__main__":
    main()
