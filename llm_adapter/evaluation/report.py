"""The population report: ``population.json``, ``report.md`` and three figures.

* ``win_rates.png``: the heat map of ``P[i, j] = P(row > column)`` (red: the row wins);
* ``exploitability.png``: each checkpoint's exploitability within the population
  (``max_j P[j, i] - 1/2`` = NashConv / 2) with its bootstrap interval, and the weights of the
  population's Nash mixture;
* ``last_vs_average.png``: the games' demo picture for each run: exploitability within the
  population of the last iterate (the checkpoint at each step) and of the average iterate (the
  uniform mixture of the run's checkpoints so far), against the training step.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .metagame import Estimate, PopulationReport

__all__ = ["write_report", "plot_win_rates", "plot_exploitability", "plot_last_vs_average",
           "FIGURES"]

#: The figures :func:`write_report` draws.
FIGURES = ("win_rates.png", "exploitability.png", "last_vs_average.png")
_YLABEL = "exploitability within population\nmax_j P(j > π) − 1/2  (= NashConv/2)"
#: Exact exploitabilities below this are shown at this floor on log axes.
FLOOR = 1e-6


def _figure(**kw):
    """A figure outside pyplot (no backend is chosen or switched; ``savefig`` works)."""
    from matplotlib.figure import Figure

    return Figure(**kw)


def _short(name: str, width: int = 18) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


def plot_win_rates(report: PopulationReport, ax=None):
    """Heat map of the win-rate matrix (values printed when there are at most 16 members)."""
    n = len(report.names)
    if ax is None:
        size = min(2.0 + 0.45 * n, 12.0)
        ax = _figure(figsize=(size + 1.2, size)).subplots()
    # colours centred on 1/2, scaled to the largest deviation (at least 0.05)
    d = max(float(np.abs(report.win_rates - 0.5).max()), 0.05)
    im = ax.imshow(report.win_rates, cmap="RdBu_r", vmin=0.5 - d, vmax=0.5 + d)
    labels = [_short(x) for x in report.names]
    ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    if n <= 16:
        for i in range(n):
            for j in range(n):
                v = report.win_rates[i, j]
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if abs(v - 0.5) > 0.6 * d else "black")
    what = "exact" if report.exact else f"{report.num_prompts} prompts"
    ax.set_title(f"win rate P[i, j] = P(row i > column j), {what}", fontsize=9)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def _errors(estimates: list[Estimate], values) -> np.ndarray | None:
    lo = np.array([e.ci[0] for e in estimates])
    hi = np.array([e.ci[1] for e in estimates])
    if np.all(np.isnan(lo)) or np.allclose(lo, hi):
        return None
    return np.stack([np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)])


def plot_exploitability(report: PopulationReport, axes=None):
    """Bars of each member's exploitability within the population (with the bootstrap
    interval), coloured by run, above the population Nash's weights."""
    n = len(report.names)
    if axes is None:
        axes = _figure(figsize=(min(3 + 0.4 * n, 14), 5.2)).subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    runs = list(dict.fromkeys(report.runs_of))
    colours = {r: f"C{i % 10}" for i, r in enumerate(runs)}
    values = np.array([e.value for e in report.exploitability])
    x = np.arange(n)
    axes[0].bar(x, values, color=[colours[r] for r in report.runs_of],
                yerr=_errors(report.exploitability, values), capsize=2, ecolor="0.3")
    if len(runs) > 1:
        from matplotlib.patches import Patch

        axes[0].legend(handles=[Patch(color=colours[r], label=r) for r in runs], fontsize=7)
    axes[0].set_ylabel(_YLABEL, fontsize=8)
    gap = report.duality_gap
    ci = "" if math.isnan(gap.ci[1]) else f", {report.confidence:.0%} CI ≤ {gap.ci[1]:.3g}"
    axes[0].set_title(f"each checkpoint against the population; Nash duality gap "
                      f"{gap.value:.2g}{ci}", fontsize=9)
    axes[1].bar(x, report.nash, color="0.4")
    axes[1].set_ylabel("Nash weight", fontsize=8)
    axes[1].set_ylim(0, 1)
    axes[1].set_xticks(x, [_short(v) for v in report.names], rotation=60, ha="right",
                       fontsize=7)
    for ax in axes:
        ax.grid(True, axis="y", alpha=0.3)
    return axes


def plot_last_vs_average(report: PopulationReport, ax=None, log=None, runs=None):
    """Per run: exploitability within the population of the last iterate (each checkpoint, solid)
    and of the average iterate (uniform mixture of the checkpoints so far, dashed) against the
    step, with bootstrap bands. ``log``: log scale (default: when the judging is exact);
    ``runs``: the names of the runs to draw (default: all)."""
    if ax is None:
        ax = _figure(figsize=(6.4, 4.0)).subplots()
    log = report.exact if log is None else log
    floor = FLOOR if log else -np.inf
    drawn = [r for r in report.runs if runs is None or r.name in runs]
    for i, run in enumerate(drawn):
        xs = [s if s is not None else k for k, s in enumerate(run.steps)]
        for curve, style, what in ((run.curve_last, "-", "last iterate"),
                                   (run.curve_average, "--", "average iterate")):
            ys = np.maximum([e.value for e in curve], floor)
            ax.plot(xs, ys, style, color=f"C{i % 10}", marker="o", ms=3,
                    label=f"{run.name}: {what}")
            lo = np.array([e.ci[0] for e in curve])
            if not np.all(np.isnan(lo)) and not np.allclose(lo, [e.ci[1] for e in curve]):
                ax.fill_between(xs, np.maximum(lo, floor),
                                np.maximum([e.ci[1] for e in curve], floor),
                                color=f"C{i % 10}", alpha=0.12)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.set_xlabel("training step" if all(s is not None for r in drawn for s in r.steps)
                  else "checkpoint")
    ax.set_ylabel(_YLABEL, fontsize=8)
    ax.set_title("last vs average iterate within the population", fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    return ax


def _fmt(e: Estimate) -> str:
    if math.isnan(e.ci[0]):
        return f"{e.value:.3g}"
    if e.ci[0] == e.ci[1]:
        return f"{e.value:.3g} (exact)"
    return f"{e.value:.3g} [{e.ci[0]:.3g}, {e.ci[1]:.3g}]"


def _markdown(report: PopulationReport, title: str) -> str:
    conf = f"{report.confidence:.0%} bootstrap interval over prompts"
    lines = [f"# {title}", "",
             f"{len(report.names)} policies, "
             + ("exact distributions (exact judging)" if report.exact else
                f"{report.num_prompts} held-out prompts")
             + (f", judge `{report.extra['judge']}`" if "judge" in report.extra else "") + ".",
             "",
             "Exploitability within the population of a mixture `x`: `max_j (P x)_j - 1/2` "
             "(NashConv/2 of `(x, x)` in the meta-game `P - 1/2`; a lower bound on the "
             "exploitability over all policies). Duality gap = NashConv = 2 x exploitability. "
             f"Brackets: {conf}.", "",
             "## Last vs average iterate", "",
             "| run | checkpoints | last | last iterate | uniform average |",
             "|---|---|---|---|---|"]
    for run in report.runs:
        lines.append(f"| {run.name} | {len(run.members)} | {report.names[run.members[-1]]} | "
                     f"{_fmt(run.last)} | {_fmt(run.average)} |")
    gap = report.duality_gap
    spread = ("" if math.isnan(gap.ci[0]) or gap.ci[0] == gap.ci[1] else
              f"; evaluated on resamples of the prompts it lies in [{gap.ci[0]:.3g}, "
              f"{gap.ci[1]:.3g}] ({conf}): how far from an equilibrium of the true matrix the "
              "estimated one may be")
    lines += ["", "## Nash of the population", "",
              f"Duality gap of the Nash mixture: {gap.value:.3g} on the estimated matrix (the LP "
              f"solves it exactly){spread}.", "",
              "| member | run | step | exploitability | Nash weight |", "|---|---|---|---|---|"]
    for name, run, step, e, w in zip(report.names, report.runs_of, report.steps,
                                     report.exploitability, report.nash):
        lines.append(f"| {name} | {run} | {'' if step is None else step} | {_fmt(e)} | "
                     f"{w:.3f} |")
    lines += ["", "## Figures", ""] + [f"![{f[:-4]}]({f})" for f in FIGURES] + [""]
    return "\n".join(lines)


def write_report(report: PopulationReport, output_dir, title: str = "Population report") -> dict:
    """Write ``population.json``, ``report.md`` and the :data:`FIGURES` into ``output_dir``;
    returns ``{what: path}``."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "population.json", "markdown": out / "report.md"}
    paths["json"].write_text(json.dumps(report.to_dict(), indent=1))
    paths["markdown"].write_text(_markdown(report, title))
    for name, draw in zip(FIGURES, (plot_win_rates, plot_exploitability, plot_last_vs_average)):
        result = draw(report)
        fig = (result[0] if isinstance(result, np.ndarray) else result).figure
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        paths[name[:-4]] = out / name
    return paths
