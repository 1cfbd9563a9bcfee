"""Last- versus average-iterate convergence of every normal-form solver on a suite of games.

    python benchmarks/last_iterate.py [--steps 10000] [--out reports/last_iterate] [--no-efg]
                                      [--figures docs/figures]

Every solver runs with its registry defaults (``gametheory solvers``) from one seeded random
interior profile (the uniform profile is the equilibrium of RPS and Shapley's game and would
hide the dynamics). Writes to the output folder, per game, a small-multiples PNG (one panel per
solver: last iterate solid, average dashed, records from iteration 0) and, in ``README.md``,
each plot with a reading computed from the data (which last iterates converge, stall, rise again
or cycle) and a table of final values floored at 1e-15. The suite: RPS, biased RPS, the COMAL 3x3
preference game, Shapley's general-sum game (with the coarse-correlated equilibrium gap of each
solver's empirical play), 16 random 10x10 zero-sum games (median over the batch, one vmapped
call per solver) and the published spinning-top matrices not already in the suite.
Exploitability is NashConv / num_players (NashConv / 2 for two-player games, zero-sum or not).
The extensive-form section (Kuhn and Leduc poker, every extensive-form solver, ``efg_demo.py``)
runs alongside when OpenSpiel is installed. ``--figures DIR`` also writes the small PNGs the
project README shows and, beside them, ``manifest.json``: the command, the package version and
the solvers drawn in each figure (``tests/test_figures.py`` compares them with the registries).
"""

from __future__ import annotations

import argparse
import functools
import json
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402

from gametheory import __version__, correlated, games, solvers  # noqa: E402
from gametheory.driver import solve, solve_batch  # noqa: E402

SOLVERS = tuple(solvers.NORMAL_FORM_SOLVERS)
_TAB20 = plt.get_cmap("tab20").colors
COLORS = dict(zip(SOLVERS, _TAB20[::2] + ((0.3, 0.3, 0.3),) + _TAB20[1::2]))  # <= 21 solvers
#: Games shown in the project README (docs/figures), beside the extensive-form ones.
README_GAMES = ("rps", "shapley")


def suite(include_tops: bool = True) -> list[tuple[str, object]]:
    """(label, game or list of games) pairs; a list is run as one vmapped batch. A spinning
    top whose matrix equals a game already in the suite (``spinning_top:rps`` is RPS) is left
    out."""
    out = [
        ("rps", games.rock_paper_scissors()),
        ("biased_rps", games.biased_rps()),
        ("comal_3x3", games.comal_3x3()),
        ("shapley", games.shapley_game()),
        ("random_10x10 (median of 16)", [games.random_zero_sum(10, 10, seed=s)
                                         for s in range(16)]),
    ]
    if include_tops:
        for name in games.SPINNING_TOP_NAMES:
            top = games.spinning_top(name)
            if not any(_same_game(top, g) for _, g in out):
                out.append((f"spinning_top:{name}", top))
    return out


def _same_game(a, b) -> bool:
    if isinstance(b, list) or type(a) is not type(b) or a.payoffs.shape != b.payoffs.shape:
        return False
    return bool(np.array_equal(np.asarray(a.payoffs), np.asarray(b.payoffs)))


def _start(game, batch=None):
    """A seeded interior starting point, Dirichlet(1) per player. Drawn with NumPy: JAX would
    compile its Dirichlet sampler op by op for every game shape."""
    rng = np.random.default_rng(0)
    shape = () if batch is None else (batch,)
    return tuple(jnp.asarray(rng.dirichlet(np.ones(n), size=shape)) for n in game.num_actions)


@functools.cache
def _solver(name: str):
    """One solver object per name (registry defaults), so that games of one type and shape
    share a compilation (the driver's jit cache is keyed on the solver)."""
    return solvers.make_solver(name)


def _applies(name: str, game) -> bool:
    """Whether solver ``name`` accepts ``game`` (``pdhg`` and ``tableau`` solve two-player
    zero-sum games only; their ``init`` says so with a ValueError)."""
    try:
        _solver(name).init(game[0] if isinstance(game, list) else game)
    except ValueError:
        return False
    return True


@jax.jit
def _exploitability(game, policies):
    return game.exploitability(policies)


def _exploitability_at(games_or_game, start) -> float:
    """Exploitability of the start profile (the median over a batch): the record at
    iteration 0."""
    if isinstance(games_or_game, list):
        batch = games.stack_games(games_or_game)
        return float(np.median(np.asarray(jax.vmap(_exploitability)(batch, start))))
    return float(_exploitability(games_or_game, start))


def _run_one(game, name: str, steps: int):
    """``(steps, last, avg, seconds)`` with a first record at iteration 0."""
    solver = _solver(name)
    start = time.perf_counter()
    if isinstance(game, list):
        initial = _start(game[0], len(game))
        res = solve_batch(game, solver, steps, initial=initial)
        e0 = _exploitability_at(game, initial)
        last = np.median(np.asarray(res.exploitability_last), axis=0)
        avg = np.median(np.asarray(res.exploitability_avg), axis=0)
        at = np.asarray(res.steps)[0]
    else:
        initial = _start(game)
        res = solve(game, solver, steps, initial=initial)
        e0 = _exploitability_at(game, initial)
        last, avg = np.asarray(res.exploitability_last), np.asarray(res.exploitability_avg)
        at = np.asarray(res.steps)
    return (np.concatenate([[0], at]), np.concatenate([[e0], last]),
            np.concatenate([[e0], avg]), time.perf_counter() - start)


def _run_play(name: str, steps: int):
    """CCE and CE gaps of a solver's empirical play on Shapley's game."""
    game = games.shapley_game()
    play = correlated.empirical_play(game, _solver(name), steps, initial=_start(game))
    return np.asarray(play.steps), np.asarray(play.cce_gap), np.asarray(play.ce_gap)


def run_suite(steps: int, include_tops: bool = True, workers: int = 2):
    """Run every solver on every game, and every solver's empirical play on Shapley's game.

    Returns ``({game: {solver: (steps, last, avg, secs)}}, {solver: (steps, cce, ce)})``;
    a solver that does not accept a game (``pdhg`` on a general-sum game) has no entry.
    Most of the time is XLA compilation (one program per solver and game shape), which runs
    outside the GIL, so ``workers`` threads keep both cores busy.
    """
    cases = suite(include_tops)
    jobs = [(label, game, name) for label, game in cases for name in SOLVERS
            if _applies(name, game)]
    players = [name for name in SOLVERS if _applies(name, games.shapley_game())]
    results: dict[str, dict] = {label: {} for label, _ in cases}
    plays: dict[str, tuple] = {}
    # disable=None: a bar on a terminal only (no frames in `make demo > log 2>&1`), the rule of
    # the command line (gametheory.commands.options.progress_enabled).
    with ThreadPoolExecutor(max_workers=workers) as pool, tqdm(
            total=len(jobs) + len(players), desc="last-iterate suite", unit="run",
            disable=None) as bar:
        futures = {pool.submit(_run_one, game, name, steps): (label, name)
                   for label, game, name in jobs}
        futures.update({pool.submit(_run_play, name, steps): ("play", name)
                        for name in players})
        for future in as_completed(futures):
            label, name = futures[future]
            if label == "play":
                plays[name] = future.result()
            else:
                results[label][name] = future.result()
            bar.set_postfix_str(f"{label} / {name}")
            bar.update()
    ordered = {label: {n: rows[n] for n in SOLVERS if n in rows}
               for label, rows in results.items()}
    return ordered, {n: plays[n] for n in SOLVERS if n in plays}


def _file_name(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label.split(" ")[0]) + ".png"


def plot_game(label: str, rows: dict, path: Path, dpi: int = 80) -> None:
    """Small multiples: one panel per solver (see :func:`report.small_multiples`)."""
    curves = {n: (at, last, avg) for n, (at, last, avg, _) in rows.items()}
    report.small_multiples(label, curves, path, "exploitability\n(NashConv / 2)", COLORS,
                           dpi=dpi)


def markdown_table(results: dict) -> list[str]:
    lines = [
        "| game | " + " | ".join(SOLVERS) + " |",
        "|---|" + "---|" * len(SOLVERS),
    ]
    for label, rows in results.items():
        cells = [f"{report.cell(rows[n][1][-1])} / {report.cell(rows[n][2][-1])}"
                 if n in rows else "n/a" for n in SOLVERS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def shapley_section(results: dict, plays: dict, steps: int) -> list[str]:
    """Shapley's game: no last iterate reaches its Nash equilibrium, but no-regret play reaches
    a coarse-correlated equilibrium. Every number is read off the runs."""
    rows = results["shapley"]
    names = [n for n in SOLVERS if n in rows and n in plays]
    final_last = {n: float(rows[n][1][-1]) for n in names}
    nearest = min(final_last, key=final_last.get)
    cce = {n: float(plays[n][1][-1]) for n in names}
    ce = {n: float(plays[n][2][-1]) for n in names}
    reached = [n for n in names if cce[n] < 1e-2]
    nash_text = (
        f"no solver's last iterate reaches a Nash equilibrium: the closest ends at "
        f"exploitability {report.cell(final_last[nearest])} ({nearest})"
        if final_last[nearest] > 1e-3 else
        f"{nearest}'s last iterate reaches exploitability {report.cell(final_last[nearest])}")
    lines = [
        "### Shapley's game: correlated equilibria",
        "",
        "Shapley's game is general-sum; its only Nash equilibrium is uniform and the dynamics "
        f"circle around it. After {steps} iterations {nash_text}. The *empirical distribution "
        "of play* (the average of the joint distributions pi_1^t x pi_2^t, "
        "`gametheory.correlated.empirical_play`) is another matter: for a no-regret learner "
        "its coarse-correlated-equilibrium (CCE) gap is the sum of the players' average "
        "regrets. " + (
            f"It is below 1e-2 for {', '.join(reached)} (MWU: {report.cell(cce['mwu'])}), so "
            "their play reaches a CCE although no iterate approaches a Nash equilibrium. "
            if reached else "No solver's play gets below 1e-2. ")
        + f"It is not a correlated equilibrium: MWU's CE gap is {report.cell(ce['mwu'])}. "
        "Exact CE / CCE by LP: `gametheory.correlated.correlated_equilibrium`.",
        "",
        "| solver | last-iterate exploitability | CCE gap of play | CE gap of play |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {report.cell(final_last[n])} | {report.cell(cce[n])} | "
              f"{report.cell(ce[n])} |" for n in names]
    return lines + [""]


def _start_efg(out: Path, pool: ThreadPoolExecutor, figures: Path | None, drawn: dict):
    """Run the Kuhn / Leduc section on ``pool`` while the normal-form suite runs (XLA
    compilation releases the GIL, so both cores stay busy); None without OpenSpiel."""
    try:
        import efg_demo
    except ImportError as err:
        print(f"extensive-form section skipped: {err}")
        return None
    return pool.submit(efg_demo.run, out, progress=False, figures=figures, drawn=drawn)


#: The figures manifest, ``DIR/manifest.json`` beside the figures of ``--figures DIR``.
MANIFEST = "manifest.json"


def write_manifest(folder: Path, drawn: dict, argv: list[str], steps: int) -> Path:
    """``manifest.json``: the command that wrote the figures, the package version, the steps
    and, per figure, the game and the solvers drawn (one panel each)."""
    kinds = {"normal_form": set(), "extensive_form": set()}
    for name, entry in drawn.items():
        kinds["extensive_form" if name.startswith("efg_") else "normal_form"].update(
            entry["solvers"])
    manifest = {
        "command": " ".join(["python", "benchmarks/last_iterate.py", *argv]),
        "version": __version__,
        "steps": steps,
        "solvers": {kind: sorted(names) for kind, names in kinds.items()},
        "figures": dict(sorted(drawn.items())),
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--out", type=Path, default=Path("reports/last_iterate"))
    parser.add_argument("--no-tops", action="store_true", help="skip the spinning-top games")
    parser.add_argument("--no-efg", action="store_true", help="skip Kuhn and Leduc poker")
    parser.add_argument("--figures", type=Path, default=None,
                        help="also write the README's small figures and manifest.json into "
                             "this folder")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, dict] = {}  # figures written into --figures: game and solvers drawn
    if args.figures is not None:
        args.figures.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as efg_pool:
        efg = None if args.no_efg else _start_efg(args.out, efg_pool, args.figures, drawn)
        results, plays = run_suite(args.steps, include_tops=not args.no_tops)
        efg_lines = [] if efg is None else efg.result()  # re-raises a failure of the section
    lines = [
        "# Last- vs average-iterate exploitability",
        "",
        f"{args.steps} iterations per run from one seeded random interior profile (NumPy "
        "`default_rng(0)`, Dirichlet(1)), every solver with its registry defaults "
        "(`gametheory solvers`). Exploitability is NashConv / num_players (NashConv / 2 for "
        f"two-player games); values below {report.FLOOR:.0e} are float64 round-off and shown "
        f"as < {report.FLOOR:.0e}. Each plot has one panel per solver (last iterate solid, "
        "average dashed, from iteration 0) and a reading computed from the records: a last "
        f"iterate *converges* when it ends below {report.CONVERGED:.0e}, *oscillates* when it "
        f"rises and falls by a factor {report.CYCLE_SWING:g} at least {report.CYCLES} times "
        f"each over the second half, *rises again* when it ends {report.SWING:g}x above a "
        f"minimum {report.SWING:g}x below its start.",
        "",
    ]
    for label, rows in results.items():
        name = _file_name(label)
        plot_game(label, rows, args.out / name)
        if args.figures is not None and label in README_GAMES:
            plot_game(label, rows, args.figures / name, dpi=70)
            drawn[name] = {"game": label, "solvers": list(rows)}
        curves = {n: (at, last, avg) for n, (at, last, avg, _) in rows.items()}
        lines += [f"## {label}", "", f"![{label}]({name})", "",
                  report.reading_paragraph(label, curves), ""]
        if label == "shapley":
            lines += shapley_section(results, plays, args.steps)
    lines += ["## Final values", "",
              "Each cell: last-iterate / average-iterate exploitability at the end.", "",
              *markdown_table(results), ""]
    if efg_lines:
        lines += ["", *efg_lines, ""]
    (args.out / "README.md").write_text("\n".join(lines))
    if args.figures is not None:
        print(f"figures manifest: {write_manifest(args.figures, drawn, argv, args.steps)}")
    print("\n".join(markdown_table(results)))
    print(f"\nreport written to {args.out}/README.md in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
