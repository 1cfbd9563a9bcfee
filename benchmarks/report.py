"""Shared pieces of the demo report: the precision floor, table cells, small-multiple plots and
a reading of each curve computed from the data.

Used by ``last_iterate.py`` (normal-form suite) and ``efg_demo.py`` (Kuhn and Leduc poker).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: Exploitabilities below this are float64 round-off for payoffs of order 1 (NashConv sums a
#: few products of numbers <= 1, each exact to ~1e-16): tables print "< 1e-15", plots draw them
#: on the dotted floor line.
FLOOR = 1e-15
#: A last iterate this close to an equilibrium counts as converged in the readings.
CONVERGED = 1e-6
#: A change by this factor counts as a rise or a fall (smaller wiggles are noise).
SWING = 2.0
#: Over the second half of a run, at least CYCLES rises and falls by this factor each make a
#: curve "oscillate".
CYCLE_SWING, CYCLES = 1.5, 3


def cell(value: float) -> str:
    """A table cell: two significant digits, ``< 1e-15`` below the floor, ``0`` if exact."""
    if value == 0:
        return "0"
    return f"< {FLOOR:.0e}" if not value >= FLOOR else f"{value:.1e}"


@dataclass
class Reading:
    """What a curve does, computed from its records (see :func:`read_curve`)."""

    kind: str  # one of _ORDER
    text: str  # e.g. "falls to 2.5e-03 at iteration 2400, then rises to 1.1e-02"


def _swings(values: np.ndarray, factor: float) -> tuple[int, int]:
    """Numbers of rises and falls by at least ``factor`` (a zigzag filter on log values)."""
    logs = np.log10(np.maximum(values, FLOOR))
    step = math.log10(factor)
    rises = falls = 0
    high = low = logs[0]
    direction = 0  # +1 while rising, -1 while falling, 0 before the first swing
    for x in logs[1:]:
        if direction <= 0 and x >= low + step:
            rises, direction, high = rises + 1, 1, x
        elif direction >= 0 and x <= high - step:
            falls, direction, low = falls + 1, -1, x
        else:
            high, low = (max(high, x), min(low, x)) if direction == 0 else (
                (max(high, x), low) if direction > 0 else (high, min(low, x)))
    return rises, falls


def read_curve(steps, values) -> Reading:
    """Classify an exploitability curve recorded at ``steps``.

    * ``converges``: ends at or below :data:`CONVERGED`;
    * ``oscillates``: over the second half it rises and falls by :data:`CYCLE_SWING` at least
      :data:`CYCLES` times each (cycling dynamics);
    * ``rises``: fell to a minimum at least :data:`SWING` times below its start, then ended at
      least :data:`SWING` times above that minimum;
    * ``moves away``: never fell that far and ends at least :data:`SWING` times above its
      start (e.g. MWU spiralling out to the boundary);
    * ``falling``: ended at most half its mid-run value;
    * ``stalls``: fell from its start but flat over the second half;
    * ``flat``: never went below half its start.
    """
    steps = np.asarray(steps)
    values = np.maximum(np.asarray(values, float), 0.0)
    final, start = values[-1], values[0]
    best = int(np.argmin(values))
    mid = len(values) // 2
    if final <= CONVERGED:
        first = int(np.argmax(values <= CONVERGED))
        return Reading("converges", f"reaches {cell(final)} (first below {CONVERGED:.0e} at "
                                    f"iteration {steps[first]})")
    rises, falls = _swings(values[mid:], CYCLE_SWING)
    if rises >= CYCLES and falls >= CYCLES:
        half = values[mid:]
        return Reading("oscillates", f"oscillates between {cell(half.min())} and "
                                     f"{cell(half.max())}")
    if values[best] <= start / SWING and final >= SWING * values[best]:
        return Reading("rises", f"falls to {cell(values[best])} at iteration {steps[best]}, "
                                f"then rises to {cell(final)}")
    if final >= SWING * start:
        return Reading("moves away", f"goes from {cell(start)} at iteration 0 to "
                                     f"{cell(final)}")
    if final <= values[mid] / SWING:
        return Reading("falling", f"still falling: {cell(values[mid])} at iteration "
                                  f"{steps[mid]}, {cell(final)} at the end")
    if final <= start / SWING:
        return Reading("stalls", f"stalls near {cell(final)}")
    return Reading("flat", f"stays near {cell(final)} (started at {cell(start)})")


_ORDER = ("converges", "falling", "stalls", "rises", "oscillates", "moves away", "flat")
_HEADINGS = {
    "converges": "converge",
    "falling": "are still falling",
    "stalls": "stall",
    "rises": "rise again after a minimum",
    "oscillates": "oscillate",
    "moves away": "end worse than they started",
    "flat": "do not improve",
}


_PANEL = {"moves away": "worsens", "rises": "rises again"}


def reading_paragraph(title: str, rows: dict) -> str:
    """One paragraph on a game: which last iterates converge, fall, stall, rise again or
    cycle, and the best average. ``rows``: ``{solver: (steps, last, avg)}``."""
    readings = {name: read_curve(at, last) for name, (at, last, _) in rows.items()}
    parts = []
    for kind in _ORDER:
        names = [n for n, r in readings.items() if r.kind == kind]
        if names:
            details = "; ".join(f"{n} {readings[n].text}" for n in names)
            parts.append(f"**{_HEADINGS[kind]}**: {details}")
    final_last = {n: float(v[1][-1]) for n, v in rows.items()}
    final_avg = {n: float(v[2][-1]) for n, v in rows.items()}
    best_last = min(final_last, key=final_last.get)
    best_avg = min(final_avg, key=final_avg.get)
    return (f"*Reading ({title}, computed from the records).* Last iterates that "
            + ". Last iterates that ".join(parts)
            + f". Lowest final last iterate: {best_last} ({cell(final_last[best_last])}); "
              f"lowest final average: {best_avg} ({cell(final_avg[best_avg])}).")


def bottom_panels(axes, count: int) -> list:
    """The lowest drawn panel of each column of an ``[nrows, ncols]`` grid whose first
    ``count`` panels (row by row) are drawn."""
    nrows, ncols = axes.shape
    out = []
    for col in range(min(ncols, count)):
        row = max(r for r in range(nrows) if r * ncols + col < count)
        out.append(axes[row, col])
    return out


def small_multiples(title: str, rows: dict, path, ylabel: str, colors: dict, ncols: int = 4,
                    dpi: int = 80) -> None:
    """Save :func:`small_multiples_figure` to ``path``."""
    fig = small_multiples_figure(title, rows, ylabel, colors, ncols)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def small_multiples_figure(title: str, rows: dict, ylabel: str, colors: dict, ncols: int = 4,
                           panel=(3.0, 2.1)):
    """One log-scale panel per solver (last iterate solid, average dashed, shared axes), so no
    curve hides another; values below :data:`FLOOR` sit on the dotted floor line.
    ``rows``: ``{solver: (steps, last, avg)}``."""
    names = list(rows)
    nrows = math.ceil(len(names) / ncols)
    height = panel[1] * nrows + 0.6
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, height),
                             sharex=True, sharey=True, squeeze=False)
    # Fixed margins (tight_layout would render the figure twice).
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.45 / height + 0.02,
                        top=1 - 0.55 / height, wspace=0.08, hspace=0.3)
    top = max(max(np.max(v[1]), np.max(v[2])) for v in rows.values())
    # Shared y range down to the lowest value drawn (or the floor): curves that stay high are
    # not squeezed against the top of a 1e-15..1 axis.
    bottom = max(min(min(np.min(v[1]), np.min(v[2])) for v in rows.values()), FLOOR)
    for ax, name in zip(axes.flat, names):
        at, last, avg = rows[name]
        reading = read_curve(at, last)
        ax.plot(at, np.maximum(last, FLOOR), color=colors[name], lw=1.4, label="last")
        ax.plot(at, np.maximum(avg, FLOOR), color=colors[name], lw=1.2, ls="--", alpha=0.8,
                label="average")
        if bottom <= FLOOR:
            ax.axhline(FLOOR, color="0.6", lw=0.7, ls=":")
        ax.set_yscale("log")
        ax.set_ylim(bottom / 5, max(top, FLOOR) * 5)
        ax.set_title(f"{name}: last {_PANEL.get(reading.kind, reading.kind)}", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=7)
    # The lowest panel of every column carries the x tick labels and the axis label, also when
    # the last row is not full (sharex hides them on all but the grid's last row).
    for ax in bottom_panels(axes, len(names)):
        ax.tick_params(labelbottom=True)
        ax.set_xlabel("iteration", fontsize=8)
    axes.flat[0].legend(fontsize=7, loc="lower left")
    floor_note = (f"; values below {FLOOR:.0e} drawn on the dotted line"
                  if bottom <= FLOOR else "")
    fig.suptitle(f"{title}: last iterate (solid) and average iterate (dashed){floor_note}",
                 fontsize=10)
    return fig
