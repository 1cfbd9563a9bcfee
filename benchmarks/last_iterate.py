"""Last- versus average-iterate convergence of every normal-form solver on a suite of games.

    python benchmarks/last_iterate.py [--steps 10000] [--out reports/last_iterate] [--no-efg]

Writes to the output folder one PNG per game (exploitability of the last and of the average
iterate against iterations, log scale) and ``README.md`` with a table of final values. The
suite: RPS, biased RPS, the COMAL 3x3 preference game, Shapley's game, 16 random 10x10
zero-sum games (median over the batch, solved in one vmapped call per solver) and the published
spinning-top matrices. Exploitability is NashConv / num_players (NashConv / 2 for two-player
zero-sum games, OpenSpiel's convention); for Shapley's general-sum game it is NashConv / 2 too.
The extensive-form section (Kuhn and Leduc poker) is appended when OpenSpiel is installed.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from gametheory import games, solvers  # noqa: E402
from gametheory.driver import solve, solve_batch  # noqa: E402

# Solver settings used in the demo (registry defaults unless listed).
SOLVER_PARAMS: dict[str, dict] = {
    "mwu": dict(lr=0.1),
    "omwu": dict(lr=0.1),
    "extragradient": dict(lr=0.1),
    "mmd": dict(lr=0.1, temp=0.1),
    # Mirror-prox magnetic steps with lr = 1 / max|A| (the safe step, see magnetic_step).
    "mpo": dict(lr=1.0, temp=0.001, reset_every=200, extragradient=True),
    "comal": dict(lr=1.0, tau=0.003, inner_steps=100, inner="extragradient"),
    "inpo": dict(),
    "nash_md": dict(),
    "rm_plus": dict(),
    "fictitious_play": dict(),
    "replicator": dict(dt=0.1),
}

COLORS = dict(zip(SOLVER_PARAMS, plt.get_cmap("tab20").colors[::2] + ((0.3, 0.3, 0.3),)))
# Several rules coincide on some games (MPO and COMAL-INPO with equal periods, MMD and INPO with
# a uniform start); distinct dash patterns keep overlapping curves visible.
STYLES = dict(zip(SOLVER_PARAMS, ["-", "--", ":", "-.", "-", "--", ":", "-.", "-", "--", ":"]))


def suite(include_tops: bool = True) -> list[tuple[str, object]]:
    """(label, game or list of games) pairs; a list is run as one vmapped batch."""
    out = [
        ("rps", games.rock_paper_scissors()),
        ("biased_rps", games.biased_rps()),
        ("comal_3x3", games.comal_3x3()),
        ("shapley", games.shapley_game()),
        ("random_10x10 (median of 16)", [games.random_zero_sum(10, 10, seed=s)
                                         for s in range(16)]),
    ]
    if include_tops:
        out += [(f"spinning_top:{n}", games.spinning_top(n)) for n in games.SPINNING_TOP_NAMES]
    return out


def _start(game, batch=None):
    """A seeded interior starting point, Dirichlet(1) per player (the uniform policy is already
    the NE of RPS and Shapley's game, which would hide the dynamics). Drawn with NumPy: JAX would
    compile its Dirichlet sampler op by op for every game shape."""
    rng = np.random.default_rng(0)
    shape = () if batch is None else (batch,)
    return tuple(jnp.asarray(rng.dirichlet(np.ones(n), size=shape)) for n in game.num_actions)


@functools.cache
def _solver(name: str):
    """One solver object per name, so that games of one type and shape share a compilation
    (the driver's jit cache is keyed on the solver)."""
    return solvers.make_solver(name, **SOLVER_PARAMS[name])


def _run_one(game, name: str, steps: int):
    solver = _solver(name)
    start = time.perf_counter()
    if isinstance(game, list):
        res = solve_batch(game, solver, steps, initial=_start(game[0], len(game)))
        last = np.median(np.asarray(res.exploitability_last), axis=0)
        avg = np.median(np.asarray(res.exploitability_avg), axis=0)
        at = np.asarray(res.steps)[0]
    else:
        res = solve(game, solver, steps, initial=_start(game))
        last, avg = np.asarray(res.exploitability_last), np.asarray(res.exploitability_avg)
        at = np.asarray(res.steps)
    return at, last, avg, time.perf_counter() - start


def run_suite(steps: int, include_tops: bool = True, workers: int = 2):
    """Run every solver on every game; returns {game: {solver: (steps, last, avg, secs)}}.

    Most of the time is XLA compilation (one program per solver and game shape), which runs
    outside the GIL, so ``workers`` threads keep both cores busy.
    """
    cases = suite(include_tops)
    jobs = [(label, game, name) for label, game in cases for name in SOLVER_PARAMS]
    results: dict[str, dict] = {label: {} for label, _ in cases}
    with ThreadPoolExecutor(max_workers=workers) as pool, tqdm(
            total=len(jobs), desc="last-iterate suite", unit="run") as bar:
        futures = {pool.submit(_run_one, game, name, steps): (label, name)
                   for label, game, name in jobs}
        for future in as_completed(futures):
            label, name = futures[future]
            results[label][name] = future.result()
            bar.set_postfix_str(f"{label} / {name}")
            bar.update()
    # Keep the solver order of SOLVER_PARAMS in every row.
    return {label: {n: rows[n] for n in SOLVER_PARAMS} for label, rows in results.items()}


def _file_name(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label.split(" ")[0]) + ".png"


def plot_game(label: str, rows: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    floor = 1e-16
    for name, (at, last, avg, _) in rows.items():
        style = dict(color=COLORS[name], linestyle=STYLES[name], label=name)
        axes[0].plot(at, np.maximum(last, floor), **style)
        axes[1].plot(at, np.maximum(avg, floor), **style)
    for ax, title in zip(axes, ("last iterate", "average iterate")):
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(f"{label}: {title}")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("exploitability (NashConv / 2)")
    axes[1].legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_table(results: dict) -> list[str]:
    names = list(SOLVER_PARAMS)
    lines = [
        "| game | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for label, rows in results.items():
        # max(., 0) hides float round-off (~1e-14) below zero.
        cells = [f"{max(rows[n][1][-1], 0):.1e} / {max(rows[n][2][-1], 0):.1e}" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _start_efg(out: Path, pool: ThreadPoolExecutor):
    """Run the Kuhn / Leduc section on ``pool`` while the normal-form suite runs (XLA
    compilation releases the GIL, so both cores stay busy); None without OpenSpiel."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import efg_demo
    except ImportError as err:
        print(f"extensive-form section skipped: {err}")
        return None
    return pool.submit(efg_demo.run, out, progress=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--out", type=Path, default=Path("reports/last_iterate"))
    parser.add_argument("--no-tops", action="store_true", help="skip the spinning-top games")
    parser.add_argument("--no-efg", action="store_true", help="skip Kuhn and Leduc poker")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as efg_pool:
        efg = None if args.no_efg else _start_efg(args.out, efg_pool)
        results = run_suite(args.steps, include_tops=not args.no_tops)
        efg_lines = [] if efg is None else efg.result()  # re-raises a failure of the section
    for label, rows in results.items():
        plot_game(label, rows, args.out / _file_name(label))
    lines = [
        "# Last- vs average-iterate exploitability",
        "",
        f"{args.steps} iterations per run from a seeded random interior policy. Each cell: "
        "last-iterate / average-iterate "
        "exploitability at the end (NashConv / num_players; NashConv / 2 for two-player "
        "games). Plots: one PNG per game in this folder.",
        "",
        "Solver settings: " + "; ".join(
            f"{n}({', '.join(f'{k}={v}' for k, v in p.items()) or 'defaults'})"
            for n, p in SOLVER_PARAMS.items()),
        "",
        *markdown_table(results),
        "",
    ]
    if efg_lines:
        lines += ["", *efg_lines, ""]
    (args.out / "README.md").write_text("\n".join(lines))
    print("\n".join(markdown_table(results)))
    print(f"\nreport written to {args.out}/README.md in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
