"""Plots: the concavification picture and online regret traces (matplotlib)."""

from __future__ import annotations

import numpy as np

from .concavification import concavify, sender_value_at_belief

__all__ = ["plot_concavification", "plot_regret"]


def _axes(ax):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(5, 3.5))


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
                    xytext=(6, -14), fontsize=8)
    ax.set_xlabel(f"belief $\\mu$ = P({state_names[1]})")
    ax.set_ylabel("sender's expected utility")
    ax.legend(fontsize=8, loc="best")
    return fig


def plot_regret(traces: dict, ax=None, title: str | None = None):
    """Cumulative regret of online learners against ``t``, with a ``sqrt(t log t)`` guide.

    ``traces``: ``{label: (rounds, regret)}`` (1-based rounds). The guide is scaled to the
    largest final regret. Returns the figure.
    """
    fig, ax = _axes(ax)
    final = 0.0
    for i, (label, (rounds, regret)) in enumerate(traces.items()):
        rounds, regret = np.asarray(rounds), np.asarray(regret)
        ax.plot(rounds, regret, color=f"C{i}", lw=1.5, label=label)
        final = max(final, float(regret[-1]))
        horizon = int(rounds[-1])
    if traces and final > 0 and horizon > 1:
        t = np.linspace(2, horizon, 400)
        guide = np.sqrt(t * np.log(t))
        ax.plot(t, guide * final / guide[-1], color="grey", lw=0.8, ls="--",
                label=r"$\propto\sqrt{t\log t}$")
    ax.set_xlabel("round t")
    ax.set_ylabel("cumulative regret (expected utility)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig
