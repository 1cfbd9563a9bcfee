"""Extensive-form speed benchmark: our sequence-form solvers against OpenSpiel, side by side.

    python benchmarks/efg_speed.py [--steps 10000] [--games kuhn_poker leduc_poker]

For each game: per-iteration time and exploitability (NashConv / 2, exact) at 10 / 100 / 1k /
10k iterations of our MMD, MPO, COMAL (alternating defaults, mirror-prox and plain steps) and
CFR+ (fused ``lax.scan`` through ``gametheory.driver.solve``), OpenSpiel's C++
``CFRPlusSolver``, OpenSpiel's Python ``MMDDilatedEnt`` (a few iterations: it is slow) and
OpenSpiel's JAX CFR where it imports; the time of one exact exploitability evaluation against
``pyspiel.exploitability``; the wall time to reach exploitability 1e-3. Ends with the ratios to
the targets of the project.
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pyspiel  # noqa: E402

from gametheory.driver import solve  # noqa: E402
from gametheory.efg import (  # noqa: E402
    EFG_SOLVERS,
    behavioural_to_plans,
    random_behavioural,
    sequence_form_game,
    tabular_policy_to_plans,
    to_pyspiel_policy,
)

CHECKPOINTS = (10, 100, 1000, 10000)
# label -> (solver, parameters). "mpo" / "comal": the registry defaults (scale-free: lr=3.0
# and temp/tau=0.003 relative to the game's payoff scale, alternating steps with an adaptive
# step that shrinks where the step condition fails, adaptive dilated weights, adaptive magnet
# resets), chosen on Leduc, Kuhn, liar's dice and goofspiel and checked on unseen games
# (tests/efg/test_efg_defaults.py). "mpo mirror prox" takes the same steps in mirror-prox form
# (the default before: two gradients per iteration). "mpo Leduc-tuned" is an older default,
# tuned on Leduc alone in absolute units (lr=1.5, temp=0.01, reset every 200, reach weighting);
# it diverges on games of another payoff scale. The plain simultaneous-step rows are kept for
# comparison.
OURS = {
    "mmd": ("mmd", dict(lr=0.2, temp=0.02, weighting="reach")),
    "mpo": ("mpo", {}),
    "mpo mirror prox": ("mpo", dict(alternating=0)),
    "comal": ("comal", {}),
    "mpo Leduc-tuned": ("mpo", dict(lr=1.5, temp=0.01, reset_every=200, weighting="reach",
                                    scale=1.0, alternating=0)),
    "mpo plain": ("mpo", dict(lr=0.5, temp=0.05, reset_every=100, alternating=0,
                              extragradient=0)),
    "comal plain": ("comal", dict(lr=0.5, tau=0.05, inner_steps=100, alternating=0,
                                  extragradient=0)),
    "cfr_plus": ("cfr_plus", {}),
}
TARGET = 1e-3


def _fmt(v):
    return "-" if v is None or not np.isfinite(v) else f"{v:.2e}"


def _row(name, ms, last, avg, t_target):
    cells = [f"{name:<24}", f"{ms:9.3f}"]
    cells += [f"{_fmt(l):>9}/{_fmt(a):<9}" for l, a in zip(last, avg)]
    cells.append("-" if t_target is None else f"{t_target:8.2f}s")
    print(" ".join(cells))


def _time_per_iteration(game, solver, steps=1000, repeats=3):
    """Seconds per update in a fused jitted loop (compile excluded): the fastest of
    ``repeats`` runs of the loop (one run on a shared 2-core machine varies by up to 1.5x)."""
    state = solver.init(game)
    run = jax.jit(lambda s: jax.lax.fori_loop(0, steps, lambda i, s: solver.update(game, s), s))
    jax.block_until_ready(run(state))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run(state))
        best = min(best, time.perf_counter() - start)
    return best / steps


def _first_below(steps, values, target):
    idx = np.flatnonzero(np.asarray(values) <= target)
    return None if idx.size == 0 else int(np.asarray(steps)[idx[0]])


def ours(game, label, steps):
    name, params = OURS[label]
    solver = EFG_SOLVERS[name](**params)
    per_it = _time_per_iteration(game, solver)
    result = solve(game, solver, steps, record_every=10)
    it = np.asarray(result.steps)
    last, avg = np.asarray(result.exploitability_last), np.asarray(result.exploitability_avg)
    pick = lambda v: [float(v[it == c][0]) if np.any(it == c) else None for c in CHECKPOINTS]
    hits = [h for h in (_first_below(it, last, TARGET), _first_below(it, avg, TARGET)) if h]
    t_target = min(hits) * per_it if hits else None
    _row(f"ours {label}", per_it * 1e3, pick(last), pick(avg), t_target)
    return per_it, pick(last), t_target


def cpp_cfr_plus(os_game, steps, budget_s):
    solver = pyspiel.CFRPlusSolver(os_game)
    last, avg, spent, t_target, done = [], [], 0.0, None, 0
    for c in CHECKPOINTS:
        if c > steps or spent > budget_s:
            break
        start = time.perf_counter()
        while done < c:
            solver.evaluate_and_update_policy()
            done += 1
            # Check the target every 10 iterations (evaluation time excluded).
            if t_target is None and done % 10 == 0:
                spent += time.perf_counter() - start
                if pyspiel.exploitability(os_game, solver.average_policy()) <= TARGET:
                    t_target = spent
                start = time.perf_counter()
        spent += time.perf_counter() - start
        last.append(pyspiel.exploitability(os_game, solver.current_policy()))
        avg.append(pyspiel.exploitability(os_game, solver.average_policy()))
    per_it = spent / max(done, 1)
    pad = [None] * (len(CHECKPOINTS) - len(last))
    _row("pyspiel C++ CFR+", per_it * 1e3, last + pad, avg + pad, t_target)
    if t_target is None and done < 10000:
        print(f"  (C++ CFR+ stopped after {done} iterations, {spent:.1f}s budget)")
    return per_it, t_target


def python_mmd(os_game, game, iterations):
    from open_spiel.python.algorithms import mmd_dilated

    mmd = mmd_dilated.MMDDilatedEnt(os_game, alpha=0.02)
    start = time.perf_counter()
    for _ in range(iterations):
        mmd.update_sequences()
    per_it = (time.perf_counter() - start) / iterations
    plans = tabular_policy_to_plans(game, mmd.get_policies())
    expl = float(game.exploitability(plans))
    print(f"{'OpenSpiel Python MMD':<24} {per_it * 1e3:9.3f}  exploitability {expl:.2e} after "
          f"{iterations} iterations (alpha=0.02)")
    return per_it


def jax_cfr(os_game):
    try:
        from open_spiel.python.jax.cfr import jax_cfr as module
    except ImportError as err:
        print(f"{'OpenSpiel JAX CFR':<24} not available ({err})")
        return None
    solver = module.JaxCFR(os_game)
    solver.multiple_steps(5)
    start = time.perf_counter()
    solver.multiple_steps(100)
    per_it = (time.perf_counter() - start) / 100
    print(f"{'OpenSpiel JAX CFR+':<24} {per_it * 1e3:9.3f}")
    return per_it


def evaluation_times(game, os_game):
    plans = behavioural_to_plans(game, random_behavioural(jax.random.PRNGKey(0), game))
    f = jax.jit(game.exploitability)
    jax.block_until_ready(f(plans))
    n = 200
    start = time.perf_counter()
    for _ in range(n):
        jax.block_until_ready(f(plans))
    ours_s = (time.perf_counter() - start) / n
    policy = to_pyspiel_policy(game, plans)
    reps = 3
    start = time.perf_counter()
    for _ in range(reps):
        pyspiel.exploitability(os_game, policy)
    theirs_s = (time.perf_counter() - start) / reps
    print(f"one exact exploitability evaluation: ours {ours_s * 1e3:.3f} ms, "
          f"pyspiel {theirs_s * 1e3:.3f} ms (x{theirs_s / ours_s:.0f})")
    return ours_s, theirs_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--games", nargs="+", default=["kuhn_poker", "leduc_poker"])
    parser.add_argument("--cpp-budget", type=float, default=120.0,
                        help="seconds of C++ CFR+ per game")
    parser.add_argument("--mmd-python-iterations", type=int, default=10)
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, float64; "
          f"cells: last/average exploitability at iterations {CHECKPOINTS}; "
          f"last column: wall time to exploitability {TARGET:g}")
    summary = {}
    for name in args.games:
        game = sequence_form_game(name)
        os_game = pyspiel.load_game(game.info.game_string)
        print(f"\n=== {name}: {game.num_sequences} sequences, {game.nnz} payoff non-zeros ===")
        print(f"{'solver':<24} {'ms/iter':>9} " + " ".join(f"{c:^19}" for c in CHECKPOINTS)
              + "  to 1e-3")
        res = {n: ours(game, n, args.steps) for n in OURS}
        cpp_per_it, cpp_t = cpp_cfr_plus(os_game, args.steps, args.cpp_budget)
        python_mmd(os_game, game, args.mmd_python_iterations)
        jax_cfr(os_game)
        eval_ours, eval_theirs = evaluation_times(game, os_game)
        summary[name] = dict(res=res, cpp_per_it=cpp_per_it, cpp_t=cpp_t, eval=eval_ours,
                             eval_pyspiel=eval_theirs)

    if "leduc_poker" in summary:
        s = summary["leduc_poker"]
        print("\n=== targets (Leduc) ===")
        fastest = min(v[0] for v in s["res"].values())
        print(f"per-iteration time: fastest of ours {fastest * 1e3:.3f} ms "
              f"(target <= 0.3 ms: ratio {fastest * 1e3 / 0.3:.2f}); "
              + ", ".join(f"{k} {v[0] * 1e3:.3f} ms" for k, v in s["res"].items()))
        best_last = min((v[1][-1] for k, v in s["res"].items() if k in ("mpo", "comal")
                         and v[1][-1] is not None), default=None)
        if best_last is not None:
            print(f"last iterate at {CHECKPOINTS[-1]} (best of MPO/COMAL): {best_last:.2e} "
                  f"(target <= 1e-4: ratio {best_last / 1e-4:.2f})")
        print(f"one evaluation: {s['eval'] * 1e3:.3f} ms (target <= 1 ms: ratio "
              f"{s['eval'] * 1e3:.2f}); pyspiel/ours = {s['eval_pyspiel'] / s['eval']:.0f}")
        ours_t = [v[2] for v in s["res"].values() if v[2] is not None]
        if ours_t and s["cpp_t"]:
            print(f"time to 1e-3: ours {min(ours_t):.2f}s vs C++ CFR+ {s['cpp_t']:.2f}s "
                  f"(target <= 1/10: ratio {min(ours_t) / s['cpp_t']:.3f})")
        else:
            print(f"time to 1e-3: ours {ours_t}, C++ CFR+ {s['cpp_t']}")
        ours_cfr = s["res"]["cfr_plus"][0]
        print(f"C++ CFR+ per iteration {s['cpp_per_it'] * 1e3:.2f} ms; ours CFR+ "
              f"{ours_cfr * 1e3:.3f} ms (x{s['cpp_per_it'] / ours_cfr:.0f})")


if __name__ == "__main__":
    main()
