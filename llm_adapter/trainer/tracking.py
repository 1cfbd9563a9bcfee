"""Run logging: ``report_to`` trackers and the plot written at the end of a run.

``report_to="tensorboard"`` uses accelerate's TensorBoard tracker (event files under
``output_dir/<run name>``); ``report_to="csv"`` uses :class:`CSVTracker`, an accelerate
``GeneralTracker`` that appends one row per logged step to ``output_dir/metrics.csv``. Both write
only on the main process (``accelerator.log``). ``report_to="wandb"`` / ``"mlflow"`` hand the
string to accelerate's own ``WandBTracker`` / ``MLflowTracker`` (these packages are optional;
:func:`make_trackers` raises a clear error when one is missing, where accelerate would silently
skip it). wandb logs online by default (it needs ``wandb login``, or ``WANDB_MODE=offline``); its
project is the run name passed to ``init_trackers``. mlflow follows ``MLFLOW_TRACKING_URI`` /
``MLFLOW_EXPERIMENT_NAME`` (otherwise mlflow's default local store in the working directory).
:func:`plot_history` draws the run with matplotlib.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

from accelerate.tracking import GeneralTracker

__all__ = ["CSVTracker", "make_trackers", "plot_history", "PLOTTED", "TRACKERS"]

#: The ``report_to`` values :func:`make_trackers` understands.
TRACKERS = ("none", "tensorboard", "csv", "wandb", "mlflow")
#: ``report_to`` values handed to accelerate's integrations, and the package each needs.
_EXTERNAL = {"wandb": "wandb", "mlflow": "mlflow"}


def _installed(package: str) -> bool:
    """Whether ``package`` can be imported (checked without importing it)."""
    return importlib.util.find_spec(package) is not None


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
    """``log_with`` for ``Accelerator`` from ``report_to`` values (:data:`TRACKERS`):
    ``"tensorboard"``, ``"wandb"`` and ``"mlflow"`` pass through as accelerate's tracker names,
    ``"csv"`` becomes a :class:`CSVTracker` on ``output_dir``, ``"none"`` is skipped.

    Raises ``ValueError`` for an unknown value, or for ``"wandb"`` / ``"mlflow"`` when that
    package is not installed (accelerate would drop the tracker without a word).
    """
    if isinstance(targets, str):
        targets = [targets]
    out = []
    for t in targets:
        if t == "none":
            continue
        if t == "csv":
            out.append(CSVTracker("selfplay", output_dir))
        elif t == "tensorboard":
            out.append("tensorboard")
        elif t in _EXTERNAL:
            if not _installed(_EXTERNAL[t]):
                raise ValueError(f"report_to={t!r} needs the {_EXTERNAL[t]} package: pip install "
                                 f"{_EXTERNAL[t]}")
            out.append(t)
        else:
            raise ValueError(f"unknown report_to target {t!r}; use one of "
                             f"{', '.join(repr(x) for x in TRACKERS)}.")
    return out


#: (metric keys, panel title) of the run plot.
PLOTTED = (
    (("loss",), "loss (rule regression, mean over micro-batches)"),
    (("eval_win_rate_vs_initial",), "eval: win rate vs the initial policy (± 1 s.e.)"),
    (("kl_to_ref", "kl_step", "eval_kl_to_initial"), "KL per response (k3 estimates, >= 0)"),
    (("generate_seconds", "judge_seconds", "score_seconds", "train_seconds"),
     "seconds per iteration, by phase"),
)
_LEGEND = {"kl_to_ref": "KL(pi_t || pi_ref)", "kl_step": "KL(pi_t || pi_t+1)",
           "eval_kl_to_initial": "eval: KL(pi || pi_0)", "generate_seconds": "generate",
           "judge_seconds": "judge", "score_seconds": "score", "train_seconds": "train"}


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
            pts = [(x, h[key]) for x, h in zip(steps, history) if key in h]
            if not pts:
                continue
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", ms=3, label=_LEGEND.get(key, key))
            if key == "eval_win_rate_vs_initial":
                se = [h.get("eval_win_rate_se", 0.0) for h in history if key in h]
                se = [0.0 if v != v else v for v in se]  # one eval prompt: no s.e.
                ax.fill_between(xs, [y - e for y, e in zip(ys, se)],
                                [y + e for y, e in zip(ys, se)], alpha=0.2)
        if label.startswith("eval: win rate"):
            ax.axhline(0.5, color="grey", lw=0.8, ls="--")
            if not any(keys[0] in h for h in history):
                ax.text(0.5, 0.5, "no evaluation (set eval_steps and eval prompts)",
                        ha="center", va="center", transform=ax.transAxes, fontsize=8,
                        color="grey")
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("self-play iteration")
        if len(steps) <= 12:
            ax.set_xticks(steps)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(keys) > 1 and ax.get_legend_handles_labels()[0]:
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
