"""Extensive-form demo: last- vs average-iterate exploitability on Kuhn and Leduc poker.

    python benchmarks/efg_demo.py [--out reports/efg] [--figures DIR]

Solves Kuhn and Leduc poker with every extensive-form solver of the registry (``EFG_SOLVERS``:
MMD with dilated entropy, MPO, COMAL, annealed MMD, optimistic mirror descent, CFR, CFR+,
predictive CFR+, discounted CFR, RTCFR+ and Reg-CFR),
each with its registry defaults (``gametheory solvers``), through
:func:`gametheory.driver.solve`; saves one
small-multiples PNG per game (one panel per solver, records from iteration 0) and returns /
prints Markdown: each plot with a reading computed from the data and a table of final values.
Exploitability is NashConv / 2 (``pyspiel.exploitability``'s convention).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import report  # noqa: E402  (selects the Agg backend)
from matplotlib import pyplot as plt  # noqa: E402

from gametheory.driver import solve  # noqa: E402
from gametheory.efg import EFG_SOLVERS, sequence_form_game  # noqa: E402

GAMES = {"kuhn_poker": 2000, "leduc_poker": 4000}  # game -> iterations
SOLVERS = tuple(EFG_SOLVERS)  # every extensive-form solver, each with its registry defaults
_TAB20 = plt.get_cmap("tab20").colors
COLORS = dict(zip(SOLVERS, _TAB20[::2] + _TAB20[1::2]))  # <= 20 solvers


def _settings(name: str) -> str:
    from gametheory.commands.output import format_value
    from gametheory.solvers import solver_parameters

    params = solver_parameters(EFG_SOLVERS[name])
    return f"{name}({', '.join(f'{k}={format_value(v)}' for k, v in params.items())})"


def run(report_dir: pathlib.Path, progress: bool = True,
        figures: pathlib.Path | None = None, drawn: dict | None = None) -> list[str]:
    """Run the demo, write ``efg_<game>.png`` into ``report_dir`` (and small copies into
    ``figures``, if given); return Markdown lines. ``drawn``, if given, receives
    ``{file name in figures: {"game": ..., "solvers": [...]}}`` for the figures manifest."""
    report_dir = pathlib.Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "## Extensive-form games: last vs average iterate",
        "",
        "Exploitability = NashConv / 2 (as `pyspiel.exploitability`), exact, from the uniform "
        "profile (iteration 0). Registry defaults: "
        + "; ".join(_settings(n) for n in SOLVERS) + ". MMD's fixed dilated-entropy magnet "
        "makes its last iterate converge to a regularised equilibrium (QRE), not to a Nash "
        "equilibrium.",
        "",
    ]
    table = ["| game | solver | iterations | last iterate | average iterate | seconds |",
             "|---|---|---|---|---|---|"]
    exploitability = jax.jit(lambda g, p: g.exploitability(p))
    for game_name, steps in GAMES.items():
        game = sequence_form_game(game_name)
        e0 = float(exploitability(game, game.uniform_policies()))
        curves = {}
        for name in SOLVERS:
            solver = EFG_SOLVERS[name]()
            start = time.perf_counter()
            result = solve(game, solver, steps, record_every=max(steps // 50, 1),
                           progress=progress)
            last = np.concatenate([[e0], np.asarray(result.exploitability_last)])
            avg = np.concatenate([[e0], np.asarray(result.exploitability_avg)])
            at = np.concatenate([[0], np.asarray(result.steps)])
            seconds = time.perf_counter() - start
            curves[name] = (at, last, avg)
            table.append(f"| {game_name} | {name} | {steps} | {report.cell(last[-1])} | "
                         f"{report.cell(avg[-1])} | {seconds:.1f} |")
        file_name = f"efg_{game_name}.png"
        report.small_multiples(game_name, curves, report_dir / file_name,
                               "exploitability\n(NashConv / 2)", COLORS, ncols=4)
        if figures is not None:
            report.small_multiples(game_name, curves, pathlib.Path(figures) / file_name,
                                   "exploitability\n(NashConv / 2)", COLORS, ncols=4, dpi=70)
            if drawn is not None:
                drawn[file_name] = {"game": game_name, "solvers": list(curves)}
        lines += [f"### {game_name}", "", f"![{game_name}]({file_name})", "",
                  report.reading_paragraph(game_name, curves), ""]
    return lines + table + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("reports/efg"))
    parser.add_argument("--figures", type=pathlib.Path, default=None,
                        help="also write the README's small figures into this folder")
    args = parser.parse_args()
    print("\n".join(run(args.out, figures=args.figures)))


if __name__ == "__main__":
    main()
