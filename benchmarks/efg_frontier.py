"""Extensive-form frontier: our last-iterate solvers against the newest anchors, side by side.

    python benchmarks/efg_frontier.py                       # the whole suite, 10k iterations
    python benchmarks/efg_frontier.py --quick               # Kuhn, Leduc, liar's dice 1x4; 1k
    python benchmarks/efg_frontier.py --games leduc_poker --solvers mpo rtcfr_plus

For every game of the suite (Kuhn, Leduc, suit-isomorphic Leduc, liar's dice 1x4 and 1x6,
goofspiel 4 and 5 with imperfect information, dark hex 2x2) and every solver -- ours (``mmd``,
``mpo``, ``comal``, ``cfr_plus``) and the anchors registered beside them (``rtcfr_plus``,
``pcfr_plus``, ``dcfr``, ``reg_cfr``), each at its registry defaults -- the run records the
exact exploitability (NashConv / 2) of the last and of the average iterate every few
iterations, and times one iteration in a fused ``lax.scan`` (compile excluded). OpenSpiel's C++
``CFRPlusSolver`` runs within a time budget per game, and OpenSpiel's Python ``MMDDilatedEnt``
a few iterations where it runs.

The report gives the exploitability at 100 / 1k / 10k iterations, the seconds to reach 1e-3 and
1e-4 (iterations x seconds per iteration; evaluation excluded), two plots with one panel per
game (exploitability against iterations and against seconds: solid = last iterate, dashed =
average), and the targets: on liar's dice 1x6 CFR+ >= 100x OpenSpiel C++ per iteration and MPO
<= 1.5x CFR+ per iteration; MPO's last iterate <= 1e-4 at 10k on liar's dice 1x6 and goofspiel
5 and <= 1e-5 on Leduc; MPO / COMAL at or below RTCFR+'s last iterate at equal iterations and
equal seconds. Writes ``reports/efg_frontier/report.md``, ``report.json`` and the two PNGs.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pyspiel  # noqa: E402

from gametheory.driver import solve  # noqa: E402
from gametheory.efg import EFG_SOLVERS, sequence_form_game, tabular_policy_to_plans  # noqa: E402
from gametheory.efg.sequence_form import load_openspiel_game  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from efg_speed import _time_per_iteration  # noqa: E402  (fused lax loop, compile excluded)

SUITE = {
    "kuhn": "kuhn_poker",
    "leduc": "leduc_poker",
    "leduc_iso": "leduc_poker(suit_isomorphism=True)",
    "liars_dice_1x4": "liars_dice(numdice=1,dice_sides=4)",
    "liars_dice_1x6": "liars_dice(numdice=1,dice_sides=6)",
    "goofspiel_4": "goofspiel(num_cards=4,imp_info=True,points_order=descending)",
    "goofspiel_5": "goofspiel(num_cards=5,imp_info=True,points_order=descending)",
    "dark_hex_2x2": "dark_hex(num_rows=2,num_cols=2)",
}
QUICK = ("kuhn", "leduc", "liars_dice_1x4")
OURS = ("mmd", "mpo", "comal", "cfr_plus")
ANCHORS = ("rtcfr_plus", "pcfr_plus", "dcfr", "reg_cfr")
#: Solvers whose output is the average iterate (the others are last-iterate methods).
AVERAGING = {"cfr", "cfr_plus", "pcfr_plus", "dcfr"}
CHECKPOINTS = (100, 1000, 10000)
TARGETS = (1e-3, 1e-4)
OPENSPIEL_CFR = "OpenSpiel C++ CFR+"
OPENSPIEL_MMD = "OpenSpiel MMD"


def run_ours(game, name: str, steps: int) -> dict:
    solver = EFG_SOLVERS[name]()
    per_it = _time_per_iteration(game, solver, steps=200)
    result = solve(game, solver, steps, record_every=max(steps // 500, 1))
    it = np.concatenate([[0], np.asarray(result.steps)])
    expl0 = float(game.exploitability(game.uniform_policies()))
    last = np.concatenate([[expl0], np.asarray(result.exploitability_last)])
    avg = np.concatenate([[expl0], np.asarray(result.exploitability_avg)])
    return {"steps": it.tolist(), "last": last.tolist(), "average": avg.tolist(),
            "seconds_per_iteration": per_it, "output": "average" if name in AVERAGING else "last"}


def _log_points(steps: int, n: int = 40) -> list[int]:
    pts = np.unique(np.round(np.logspace(0, math.log10(steps), n)).astype(int))
    return sorted(set(pts.tolist()) | {c for c in CHECKPOINTS if c <= steps})


def run_openspiel_cfr(os_game, steps: int, budget_s: float) -> dict:
    """C++ CFR+ up to ``steps`` iterations or ``budget_s`` seconds (evaluations not timed)."""
    solver = pyspiel.CFRPlusSolver(os_game)
    it, last, avg, spent, done = [0], [], [], 0.0, 0
    uniform = pyspiel.exploitability(os_game, solver.current_policy())
    last.append(uniform)
    avg.append(uniform)
    for target in _log_points(steps):
        start = time.perf_counter()
        while done < target:
            solver.evaluate_and_update_policy()
            done += 1
        spent += time.perf_counter() - start
        it.append(done)
        last.append(pyspiel.exploitability(os_game, solver.current_policy()))
        avg.append(pyspiel.exploitability(os_game, solver.average_policy()))
        if spent > budget_s:
            break
    return {"steps": it, "last": last, "average": avg,
            "seconds_per_iteration": spent / max(done, 1), "output": "average",
            "stopped_early": done < steps}


def run_openspiel_mmd(os_game, game, steps: int, budget_s: float) -> dict | None:
    """OpenSpiel's Python dilated-entropy MMD (``alpha = 0.05``, its default) within a budget."""
    try:
        from open_spiel.python.algorithms import mmd_dilated
    except ImportError:
        return None
    mmd = mmd_dilated.MMDDilatedEnt(os_game, alpha=0.05)
    it, last, spent, done = [0], [], 0.0, 0
    last.append(float(game.exploitability(tabular_policy_to_plans(game, mmd.get_policies()))))
    for target in _log_points(steps, 30):
        start = time.perf_counter()
        while done < target:
            mmd.update_sequences()
            done += 1
        spent += time.perf_counter() - start
        it.append(done)
        last.append(float(game.exploitability(tabular_policy_to_plans(game,
                                                                      mmd.get_policies()))))
        if spent > budget_s:
            break
    return {"steps": it, "last": last, "average": None,
            "seconds_per_iteration": spent / max(done, 1), "output": "last",
            "stopped_early": done < steps}


def _at(run, key, step):
    steps = np.asarray(run["steps"])
    values = run[key]
    if values is None or step > steps[-1]:
        return None
    return float(np.asarray(values)[np.searchsorted(steps, step)])


def _seconds_to(run, target):
    key = "average" if run["output"] == "average" else "last"
    values = np.asarray(run[key])
    hit = np.flatnonzero(values <= target)
    return None if hit.size == 0 else float(run["steps"][hit[0]] * run["seconds_per_iteration"])


def _fmt(v):
    return "-" if v is None or not np.isfinite(v) else f"{v:.1e}"


def _table(runs: dict) -> list[str]:
    head = ("| solver | iterate | ms / iteration | "
            + " | ".join(f"at {c}" for c in CHECKPOINTS)
            + " | " + " | ".join(f"s to {t:g}" for t in TARGETS) + " |")
    lines = [head, "|" + "---|" * (3 + len(CHECKPOINTS) + len(TARGETS))]
    for name, run in runs.items():
        key = "average" if run["output"] == "average" else "last"
        cells = [_fmt(_at(run, key, c)) for c in CHECKPOINTS]
        if run["output"] == "average":  # the last iterate too, for comparison
            cells = [f"{a} (last {_fmt(_at(run, 'last', c))})" for a, c in
                     zip(cells, CHECKPOINTS)]
        secs = [_seconds_to(run, t) for t in TARGETS]
        lines.append(f"| {name} | {key} | {run['seconds_per_iteration'] * 1e3:.3f} | "
                     + " | ".join(cells) + " | "
                     + " | ".join("-" if s is None else f"{s:.3g}" for s in secs) + " |")
    return lines


def _known(value):
    """A recorded exploitability, or infinity where none was recorded (0 is a value)."""
    return np.inf if value is None else value


#: Exploitabilities at or below this are float64 round-off of an exact equilibrium (Kuhn, liar's
#: dice 1x4 and dark hex 2x2 end at 0 to 5e-16 depending on the summation order); two such
#: values count as equal when ours are compared with RTCFR+'s.
ROUNDOFF = 1e-12


def _at_or_below(ours, theirs, roundoff=0.0):
    return ours <= theirs or (ours <= roundoff and theirs <= roundoff)


def _targets(results: dict, steps: int) -> list[str]:
    lines = []

    def ratio_line(label, num, den, target, higher):
        if num is None or den is None:
            return
        ok = (num / den >= target) if higher else (num / den <= target)
        lines.append(f"- {label}: {num / den:.2f} (target {'>=' if higher else '<='} "
                     f"{target:g}: {'met' if ok else '**not met**'})")

    ld = results.get("liars_dice_1x6", {})
    cpp, cfr, mpo = ld.get(OPENSPIEL_CFR), ld.get("cfr_plus"), ld.get("mpo")
    if cpp and cfr:
        ratio_line("liar's dice 1x6: OpenSpiel C++ CFR+ / our CFR+ seconds per iteration",
                   cpp["seconds_per_iteration"], cfr["seconds_per_iteration"], 100, True)
    if mpo and cfr:
        ratio_line("liar's dice 1x6: MPO / CFR+ seconds per iteration",
                   mpo["seconds_per_iteration"], cfr["seconds_per_iteration"], 1.5, False)
    for game, bound in (("liars_dice_1x6", 1e-4), ("goofspiel_5", 1e-4), ("leduc", 1e-5)):
        run = results.get(game, {}).get("mpo")
        value = run and _at(run, "last", steps)
        if value is not None and steps >= 10000:
            lines.append(f"- {game}: MPO last iterate at {steps} = {value:.1e} (target <= "
                         f"{bound:g}: {'met' if value <= bound else '**not met**'})")
    for ours in ("mpo", "comal"):
        wins_it = wins_s = strict_it = strict_s = n = 0
        for runs in results.values():
            if ours not in runs or "rtcfr_plus" not in runs:
                continue
            n += 1
            a, b = runs[ours], runs["rtcfr_plus"]
            theirs = _known(_at(b, "last", steps))
            at_steps = _known(_at(a, "last", steps))
            # equal wall time: RTCFR+'s seconds for `steps` iterations, spent by ours
            budget = steps * b["seconds_per_iteration"]
            ours_steps = min(int(budget / a["seconds_per_iteration"]), a["steps"][-1])
            at_seconds = _known(_at(a, "last", ours_steps))
            wins_it += _at_or_below(at_steps, theirs, ROUNDOFF)
            wins_s += _at_or_below(at_seconds, theirs, ROUNDOFF)
            strict_it += _at_or_below(at_steps, theirs)
            strict_s += _at_or_below(at_seconds, theirs)
        if n:
            lines.append(f"- {ours} last iterate at or below RTCFR+'s: {wins_it} of {n} games "
                         f"at {steps} iterations, {wins_s} of {n} at equal seconds (target: "
                         f"most games; both below {ROUNDOFF:g} count as equal, round-off; "
                         f"compared strictly: {strict_it} and {strict_s})")
    return lines


def _plot(results: dict, out: pathlib.Path, x: str) -> pathlib.Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = list(results)
    cols = min(4, len(games))
    rows = math.ceil(len(games) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(4.2 * cols, 9.0), 3.4 * rows + 1.0),
                             squeeze=False)
    order = list(OURS + ANCHORS) + [OPENSPIEL_CFR, OPENSPIEL_MMD]
    names = sorted({n for runs in results.values() for n in runs},
                   key=lambda n: order.index(n) if n in order else len(order))
    colors = {n: f"C{i % 10}" for i, n in enumerate(names)}
    for ax, game in zip(axes.flat, games):
        for name in names:
            run = results[game].get(name)
            if run is None:
                continue
            steps = np.asarray(run["steps"], float)
            xs = steps * run["seconds_per_iteration"] if x == "seconds" else steps
            keep = xs > 0
            key = "average" if run["output"] == "average" else "last"
            ax.plot(xs[keep], np.maximum(np.asarray(run[key])[keep], 1e-17),
                    "-" if key == "last" else "--", color=colors[name], lw=1.2, label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        lows = [min(v for v in run[k] if v > 0) for run in results[game].values()
                for k in ("average" if run["output"] == "average" else "last",)
                if max(run[k]) > 0]
        ax.set_ylim(bottom=max(1e-13, min(lows, default=1e-13) / 3))
        ax.set_title(game, fontsize=10)
        ax.set_xlabel("iteration" if x == "iterations" else "seconds (evaluation excluded)")
        ax.set_ylabel("exploitability")
        ax.grid(alpha=0.3, which="both", lw=0.4)
    for ax in axes.flat[len(games):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=8)
    fig.suptitle(f"exploitability against {x}: the iterate each method reports\n"
                 "solid: last iterate (last-iterate methods); dashed: average (CFR+, PCFR+, "
                 "DCFR); the tables give the last iterate of these too", fontsize=9)
    fig.tight_layout(rect=(0, 0.8 / (3.4 * rows + 1.0), 1, 1))
    path = out / f"efg_frontier_{x}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", nargs="+", choices=list(SUITE), help="default: the whole suite")
    ap.add_argument("--solvers", nargs="+", help="default: ours and every registered anchor")
    ap.add_argument("--steps", type=int, help="iterations (default 10000; --quick: 1000)")
    ap.add_argument("--quick", action="store_true", help=f"games {', '.join(QUICK)}, 1k steps")
    ap.add_argument("--cpp-budget", type=float, default=60.0,
                    help="seconds of OpenSpiel C++ CFR+ per game")
    ap.add_argument("--mmd-budget", type=float, default=10.0,
                    help="seconds of OpenSpiel's Python MMD per game (0: skip)")
    ap.add_argument("--out", default="reports/efg_frontier")
    ap.add_argument("--from-json", metavar="REPORT_JSON",
                    help="redraw the report and plots of an earlier run's report.json (no runs)")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    if args.from_json:
        saved = json.loads(pathlib.Path(args.from_json).read_text())
        out.mkdir(parents=True, exist_ok=True)
        return _write_report(out, saved["results"], saved["sizes"], saved["steps"],
                             saved.get("header", ""), [])
    games = args.games or (list(QUICK) if args.quick else list(SUITE))
    steps = args.steps or (1000 if args.quick else 10000)
    wanted = args.solvers or [n for n in OURS + ANCHORS if n in EFG_SOLVERS]
    unknown = [n for n in wanted if n not in EFG_SOLVERS]
    if unknown:
        ap.error(f"unknown solver(s) {', '.join(unknown)}; registered: {', '.join(EFG_SOLVERS)}")
    missing = [n for n in ANCHORS if n not in EFG_SOLVERS]
    out.mkdir(parents=True, exist_ok=True)
    results, sizes, t0 = {}, {}, time.perf_counter()
    for key in games:
        start = time.perf_counter()
        game = sequence_form_game(SUITE[key])
        build = time.perf_counter() - start
        os_game = load_openspiel_game(SUITE[key])  # turn-based if simultaneous (goofspiel)
        sizes[key] = {"infosets": list(game.num_infosets), "sequences": list(game.num_sequences),
                      "nnz": game.nnz, "build_seconds": build}
        print(f"=== {key}: {game.num_infosets} infosets, {game.num_sequences} sequences, "
              f"built in {build:.1f} s", flush=True)
        runs = {}
        for name in wanted:
            runs[name] = run_ours(game, name, steps)
            r = runs[name]
            print(f"  {name:<12} {r['seconds_per_iteration'] * 1e3:8.3f} ms/it, last "
                  f"{_fmt(r['last'][-1])}, average {_fmt(r['average'][-1])}", flush=True)
        runs[OPENSPIEL_CFR] = run_openspiel_cfr(os_game, steps, args.cpp_budget)
        r = runs[OPENSPIEL_CFR]
        print(f"  {OPENSPIEL_CFR}: {r['seconds_per_iteration'] * 1e3:.3f} ms/it, "
              f"{r['steps'][-1]} iterations, average {_fmt(r['average'][-1])}", flush=True)
        if args.mmd_budget > 0:
            r = run_openspiel_mmd(os_game, game, steps, args.mmd_budget)
            if r is not None:
                runs[OPENSPIEL_MMD] = r
                print(f"  {OPENSPIEL_MMD}: {r['seconds_per_iteration'] * 1e3:.3f} ms/it, "
                      f"{r['steps'][-1]} iterations, last {_fmt(r['last'][-1])}", flush=True)
        results[key] = runs
    total = time.perf_counter() - t0
    header = (f"jax {jax.__version__} on {jax.devices()[0].platform}, float64; wall time "
              f"{total:.0f} s. Every solver at its registry defaults; exploitability = "
              "NashConv / 2, exact. Seconds = iterations x seconds per iteration (fused "
              "`lax.scan`, compile and evaluation excluded). OpenSpiel C++ CFR+ runs within "
              f"{args.cpp_budget:g} s per game, OpenSpiel's Python MMD (alpha 0.05) within "
              f"{args.mmd_budget:g} s.")
    (out / "report.json").write_text(json.dumps({"steps": steps, "sizes": sizes,
                                                 "header": header, "results": results},
                                                indent=1))
    return _write_report(out, results, sizes, steps, header, missing)


def _write_report(out, results, sizes, steps, header, missing) -> dict:
    lines = [f"# Extensive-form frontier ({steps} iterations)", "", header, ""]
    if missing:
        lines += [f"Anchors not registered in this build: {', '.join(missing)}.", ""]
    for key, runs in results.items():
        s = sizes[key]
        lines += [f"## {key}: `{SUITE[key]}`", "",
                  f"{s['infosets']} infosets, {s['sequences']} sequences, {s['nnz']} payoff "
                  f"non-zeros, built in {s['build_seconds']:.1f} s.", ""] + _table(runs) + [""]
    lines += ["## Targets", ""] + (_targets(results, steps) or ["(no target applies)"]) + [""]
    for x in ("iterations", "seconds"):
        path = _plot(results, out, x)
        lines += [f"![exploitability against {x}]({path.name})", ""]
    (out / "report.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {out / 'report.md'}")
    return results


if __name__ == "__main__":
    main()
