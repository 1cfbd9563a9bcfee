"""Files a run writes: output paths checked before any work, the curve as CSV, the plot."""

from __future__ import annotations

import csv
import os
from pathlib import Path

__all__ = ["check_output_path", "HistoryWriter", "plot_history", "FLOOR", "PLOT_SUFFIXES"]

#: Exploitabilities below this are float64 round-off for payoffs of order 1; plots and tables
#: show them at this floor ("< 1e-15").
FLOOR = 1e-15

PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def check_output_path(value: str | None, option: str, suffixes=None) -> Path | None:
    """Check that ``value`` can be written (its folder exists and is writable, it is not a
    folder, its suffix is one of ``suffixes``) before any solving; ``ValueError`` otherwise."""
    if value is None:
        return None
    path = Path(value)
    if path.is_dir():
        raise ValueError(f"{option} {value!r} is a folder; give a file name.")
    if suffixes and path.suffix.lower() not in suffixes:
        raise ValueError(f"{option} {value!r}: use a file name ending in {', '.join(suffixes)}.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{option} {value!r}: folder {str(folder)!r} does not exist; create it "
                         "first.")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} {value!r}: no permission to write there.")
    return path


class HistoryWriter:
    """The recorded curve as CSV, ``step,exploitability_last,exploitability_avg`` (with that
    header line), one row written and flushed per record."""

    COLUMNS = ("step", "exploitability_last", "exploitability_avg")

    def __init__(self, path: Path):
        self._file = open(path, "w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(self.COLUMNS)

    def write(self, row) -> None:
        self._writer.writerow([row[0], repr(float(row[1])), repr(float(row[2]))])
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def plot_history(path: Path, history: dict, title: str, ylabel: str) -> None:
    """Last- and average-iterate exploitability against iterations, log scale, floored at
    :data:`FLOOR`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    steps = np.asarray(history["step"])
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    lowest = np.inf
    for key, label, style in (("exploitability_last", "last iterate", "-"),
                              ("exploitability_avg", "average iterate", "--")):
        values = np.maximum(np.asarray(history[key], float), FLOOR)
        lowest = min(lowest, values.min())
        ax.plot(steps, values, style, label=label)
    ax.set_yscale("log")
    if lowest <= FLOOR:
        ax.axhline(FLOOR, color="0.6", lw=0.8, ls=":", label=f"values < {FLOOR:.0e}")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
