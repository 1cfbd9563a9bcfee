"""The demo report (benchmarks/): honest cells, readings computed from the curves, one panel
per solver, records from iteration 0, no duplicate games."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import last_iterate  # noqa: E402
import report  # noqa: E402

from gametheory import games  # noqa: E402


def test_cells_are_floored_at_the_stated_precision():
    assert report.cell(1.0e-225) == "< 1e-15"  # float64 round-off, printed as 1.0e-225 before
    assert report.cell(-3e-17) == "< 1e-15"
    assert report.cell(0.0) == "0"
    assert report.cell(2.46e-3) == "2.5e-03"


def _leduc_like():
    # The shape of MPO's Leduc curve in the earlier report: down to ~2.5e-3 at iteration 2400,
    # up to ~1.05e-2 at 4000.
    steps = np.arange(0, 4001, 80)
    down = np.geomspace(2.4, 2.5e-3, int(np.sum(steps <= 2400)))
    up = np.geomspace(2.5e-3, 1.05e-2, len(steps) - len(down) + 1)[1:]
    return steps, np.concatenate([down, up])


def test_readings_name_what_each_curve_does():
    steps, values = _leduc_like()
    rise = report.read_curve(steps, values)
    assert rise.kind == "rises"
    assert "2.5e-03 at iteration 2400" in rise.text and "1.1e-02" in rise.text
    t = np.arange(0, 10001, 100)
    cycle = 0.03 + 0.27 * (1 + np.sin(t / 150)) / 2  # swings between 0.03 and 0.3
    assert report.read_curve(t, cycle).kind == "oscillates"
    assert report.read_curve(t, 0.5 * np.exp(-t / 300)).kind == "converges"
    assert report.read_curve(t, 0.4 + 0.6 * t / t[-1]).kind == "moves away"
    assert report.read_curve(t, 0.1 + 0.5 * np.exp(-t / 300)).kind == "stalls"
    assert report.read_curve(t, 1e-2 * np.exp(-t / 4000)).kind == "falling"
    paragraph = report.reading_paragraph("leduc", {
        "mpo": (steps, values, values), "cfr_plus": (steps, np.full(len(steps), 4.1e-3),
                                                     np.full(len(steps), 2e-5))})
    assert "**rise again after a minimum**: mpo falls to 2.5e-03 at iteration 2400" in paragraph
    assert "Lowest final last iterate: cfr_plus (4.1e-03)" in paragraph


def test_each_solver_gets_its_own_panel():
    t = np.arange(0, 101, 10)
    rows = {name: (t, np.exp(-t / (i + 1)), np.exp(-t / 50)) for i, name in
            enumerate(last_iterate.SOLVERS)}
    fig = report.small_multiples_figure("g", rows, "exploitability", last_iterate.COLORS)
    panels = [ax for ax in fig.axes if ax.lines]
    assert len(panels) == len(last_iterate.SOLVERS)
    assert [ax.get_title().split(":")[0] for ax in panels] == list(last_iterate.SOLVERS)


def test_suite_has_no_duplicate_games():
    cases = last_iterate.suite()
    labels = [label for label, _ in cases]
    assert "rps" in labels and "spinning_top:rps" not in labels  # the same matrix as rps
    singles = [g for _, g in cases if not isinstance(g, list)]
    for i, a in enumerate(singles):
        for b in singles[i + 1:]:
            assert not last_iterate._same_game(a, b)


def test_records_start_at_iteration_zero():
    at, last, avg, _ = last_iterate._run_one(games.rock_paper_scissors(), "mwu", 20)
    start = last_iterate._start(games.rock_paper_scissors())
    assert at[0] == 0 and at[-1] == 20
    assert last[0] == avg[0] == pytest.approx(
        float(games.rock_paper_scissors().exploitability(start)), abs=1e-15)


def test_the_suite_runs_every_solver_that_accepts_a_game(monkeypatch):
    # `make demo` stopped on Shapley's general-sum game when pdhg (zero-sum only) was added.
    zero_sum_only = ("pdhg", "tableau")
    shapley = games.shapley_game()
    for name in zero_sum_only:
        assert not last_iterate._applies(name, shapley)
        assert last_iterate._applies(name, games.rock_paper_scissors())
    monkeypatch.setattr(last_iterate, "suite", lambda include_tops=True: [("shapley", shapley)])
    results, plays = last_iterate.run_suite(10)
    ran = [n for n in last_iterate.SOLVERS if n not in zero_sum_only]
    assert list(results["shapley"]) == ran and list(plays) == ran
    table = last_iterate.markdown_table(results)
    for name in zero_sum_only:
        assert table[2].split(" | ")[1 + last_iterate.SOLVERS.index(name)] == "n/a"
    section = "\n".join(last_iterate.shapley_section(results, plays, 10))
    assert "| pdhg |" not in section and "| tableau |" not in section and "| mwu |" in section


@pytest.mark.parametrize("count", [13, 7, 4, 3])
def test_the_lowest_panel_of_every_column_has_x_tick_labels(count):
    # 13 solvers in 4 columns: the last row holds one panel, and sharex used to leave the x tick
    # labels on that panel only.
    t = np.arange(0, 1001, 100)
    names = list(last_iterate.SOLVERS)[:count]
    rows = {name: (t, np.exp(-t / 300), np.exp(-t / 500)) for name in names}
    fig = report.small_multiples_figure("g", rows, "exploitability", last_iterate.COLORS)
    fig.canvas.draw()
    axes = np.asarray(fig.axes).reshape(-1, 4)
    for col in range(min(4, count)):
        lowest = max(r for r in range(axes.shape[0]) if r * 4 + col < count)
        for row in range(lowest + 1):
            ax = axes[row, col]
            labelled = [lab for lab in ax.get_xticklabels() if lab.get_visible() and lab.get_text()]
            assert bool(labelled) == (row == lowest), (count, row, col)
        assert axes[lowest, col].get_xlabel() == "iteration"
