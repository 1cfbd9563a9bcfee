"""Run logging: ``report_to`` trackers (offline) and the plot written at the end of a run.

``report_to="tensorboard"`` uses accelerate's TensorBoard tracker (event files under
``output_dir/<run name>``); ``report_to="csv"`` uses :class:`CSVTracker`, an accelerate
``GeneralTracker`` that appends one row per logged step to ``output_dir/metrics.csv``. Both write
only on the main process (``accelerator.log``). :func:`plot_history` draws the run with
matplotlib.
"""

from __future__ import annotations

import csv
from pathlib import Path

from accelerate.tracking import GeneralTracker

__all__ = ["CSVTracker", "make_trackers", "plot_history", "PLOTTED"]


class CSVTracker(GeneralTracker):
    """Append ``{step, metric: value}`` rows to ``<logging_dir>/metrics.csv`` (header from the
    first row; later new keys are ignored with the header fixed)."""

    name = "csv"
    requires_logging_directory = True
    main_process_only = True

    def __init__(self, run_name: str, logging_dir):
        super().__init__()
        self.run_name = run_name
        self.path = Path(logging_dir) / "metrics.csv"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fields: list[str] | None = None
        if self.path.exists():  # a resumed run appends under the existing header
            with self.path.open() as f:
                self._fields = next(csv.reader(f), None)

    @property
    def tracker(self):
        return self.path

    def store_init_configuration(self, values: dict) -> None:
        pass

    def log(self, values: dict, step: int | None = None, **kwargs) -> None:
        row = {"step": step, **values}
        new = self._fields is None
        if new:
            self._fields = list(row)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def finish(self) -> None:
        pass


def make_trackers(targets, output_dir) -> list:
    """``log_with`` for ``Accelerator``: ``"tensorboard"`` and/or a :class:`CSVTracker`."""
    out = []
    for t in targets:
        if t == "csv":
            out.append(CSVTracker("selfplay", output_dir))
        elif t == "tensorboard":
            out.append("tensorboard")
        else:
            raise ValueError(f"unknown report_to target {t!r}; use 'none', 'tensorboard' or "
                             "'csv'.")
    return out


#: (metric keys, panel title) of the run plot.
PLOTTED = (
    (("loss",), "loss (rule regression, mean over micro-batches)"),
    (("win_rate_vs_initial",), "win rate of pi_t's samples vs the initial policy"),
    (("kl_to_ref", "kl_step"), "KL per response (k3 estimates, never negative)"),
    (("tokens_per_second",), "generated tokens / s (iteration wall clock)"),
)
_LEGEND = {"kl_to_ref": "KL(pi_t || pi_ref)", "kl_step": "KL(pi_t || pi_t+1)"}


def plot_history(history: list[dict], path, title: str = "self-play run") -> Path:
    """Write a 2x2 figure of ``history`` (one dict per logged step) to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not history:
        raise ValueError("nothing to plot: the history is empty.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    steps = [h["step"] for h in history]
    fig, axes = plt.subplots(2, 2, figsize=(9, 6))
    for ax, (keys, label) in zip(axes.flat, PLOTTED):
        for key in keys:
            ys = [h.get(key, float("nan")) for h in history]
            ax.plot(steps, ys, marker="o", ms=3, label=_LEGEND.get(key, key))
        if label.startswith("win rate"):
            ax.axhline(0.5, color="grey", lw=0.8, ls="--")
            finite = [y for y in ys if y == y]
            ax.set_ylim(min(finite + [0.45]) - 0.01, max(finite + [0.55]) + 0.01)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("self-play iteration")
        if len(steps) <= 12:
            ax.set_xticks(steps)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(keys) > 1:
            ax.legend(fontsize=8)
    resets = [h["step"] for h in history if h.get("reference_updated")]
    for ax in axes.flat:
        for s in resets:
            ax.axvline(s, color="C3", lw=0.6, ls=":")
    fig.suptitle(title + ("   (dotted red: reference / magnet reset)" if resets else ""),
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
