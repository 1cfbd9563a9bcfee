"""Plots: the concavification picture and online regret traces (matplotlib)."""

from __future__ import annotations

import numpy as np

from .concavification import concavify, sender_value_at_belief

__all__ = ["plot_concavification", "plot_regret"]


def _axes(ax, ncols: int = 1):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(5 * ncols, 3.6))


def plot_concavification(problem_or_utilities, prior1: float | None = None, ax=None,
                         state_names=("state 0", "state 1")):
    """Draw ``v_hat`` (sender's value at each belief) and its concave envelope.

    ``problem_or_utilities`` as in :func:`~gametheory.persuasion.concavify`; ``prior1`` marks the
    prior ``P(state 1)`` (default: the problem's prior, if a problem is given) and the optimal
    split of it into posteriors. Returns the figure.
    """
    fig, ax = _axes(ax)
    cav = concavify(problem_or_utilities)
    if prior1 is None and hasattr(problem_or_utilities, "prior"):
        prior1 = float(problem_or_utilities.prior[1])
        state_names = problem_or_utilities.states
    mu = np.linspace(0.0, 1.0, 2001)
    ax.plot(mu, sender_value_at_belief(problem_or_utilities, mu), color="C0", lw=1.5,
            label=r"$\hat v(\mu)$: receiver best-responds")
    ax.plot(cav.hull_beliefs, cav.hull_values, color="C3", lw=1.2, ls="--",
            label=r"concave envelope $V(\mu)$")
    ax.plot(cav.breakpoints, cav.values, "o", color="C0", ms=4)
    if prior1 is not None:
        i = int(np.clip(np.searchsorted(cav.hull_beliefs, prior1), 1, len(cav.hull_beliefs) - 1))
        lo, hi = cav.hull_beliefs[i - 1], cav.hull_beliefs[i]
        ax.axvline(prior1, color="grey", lw=0.8, ls=":")
        ax.plot([lo, hi], [cav.hull_values[i - 1], cav.hull_values[i]], "s", color="C3", ms=5,
                label="optimal posteriors")
        ax.annotate(f"prior {prior1:g}: V = {float(cav.value(prior1)):.4g}",
                    (prior1, float(cav.value(prior1))), textcoords="offset points",
                    xytext=(-8, 8), ha="right", fontsize=8)
    ax.set_xlabel(f"belief $\\mu$ = P({state_names[1]})")
    ax.set_ylabel("sender's expected utility")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_regret(traces: dict, axes=None, title: str | None = None):
    """Cumulative regret (left) and average regret ``R_t / t`` on log-log axes (right).

    ``traces``: ``{label: (rounds, regret)}`` (1-based rounds). A dashed ``sqrt(log t / t)``
    guide, anchored at the first trace's final value, shows the ``O(sqrt(T log T))`` rate on the
    right. ``axes``: two matplotlib axes to draw on (default: a new figure). Returns the figure.
    """
    if axes is None:
        fig, axes = _axes(None, ncols=2)
    else:
        fig = axes[0].figure
    left, right = axes
    anchor = None
    for i, (label, (rounds, regret)) in enumerate(traces.items()):
        rounds, regret = np.asarray(rounds, dtype=float), np.asarray(regret, dtype=float)
        left.plot(rounds, regret, color=f"C{i}", lw=1.5, label=label)
        keep = rounds >= 1
        right.loglog(rounds[keep], np.maximum(regret[keep] / rounds[keep], 1e-12), color=f"C{i}",
                     lw=1.5, label=label)
        if anchor is None and rounds[-1] > 2 and regret[-1] > 0:
            anchor = (rounds[-1], regret[-1] / rounds[-1])
    if anchor is not None:
        t = np.geomspace(2, anchor[0], 200)
        guide = np.sqrt(np.log(t) / t)
        right.loglog(t, guide * anchor[1] / guide[-1], color="grey", lw=0.8, ls="--",
                     label=r"$\propto\sqrt{\log t / t}$")
    left.set_xlabel("round t")
    left.set_ylabel("cumulative regret")
    right.set_xlabel("round t")
    right.set_ylabel("average regret  R_t / t")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
