"""The population meta-game: its Nash, and each checkpoint's exploitability within it.

Given ``n`` policies and their win-rate matrix ``P[i, j] = P(pi_i > pi_j)`` (``P + P^T = 1``,
``P[i, i] = 1/2``), the meta-game is the symmetric two-player zero-sum game whose strategies are
mixtures ``x`` over the policies and whose payoff is ``x^T (P - 1/2) y`` (the preference game of
:func:`gametheory.games.preference_game`; the payoff matrix ``P - 1/2`` is antisymmetric).

* **Nash**: the maximin mixture of ``P - 1/2`` from :func:`gametheory.lp.solve_zero_sum`
  (scipy HiGHS; no JAX is imported). The game is symmetric, so its value is 0.
* **Exploitability within the population** of a mixture ``x``:
  ``max_j (P x)[j] - 1/2``, the best win rate of any member against ``x`` minus 1/2. It is
  NashConv / 2 of the symmetric profile ``(x, x)`` (OpenSpiel's convention, as in
  :meth:`gametheory.games.PreferenceGame.exploitability`), never negative (``x`` ties with
  itself), 0 exactly at a Nash of the population, and a *lower bound* on the policy's
  exploitability over all policies (the population holds only some of them). A pure checkpoint
  ``i`` has ``max_j P[j, i] - 1/2``; a run's *uniform average* is the mixture that draws one of
  its checkpoints uniformly per prompt.
* **Duality gap** of a profile ``(x, y)``: ``max_i ((P - 1/2) y)_i - min_j (x^T (P - 1/2))_j``;
  for the symmetric profile ``(x, x)`` it is NashConv = 2 x the exploitability. The report
  gives it for the population's Nash: 0 on the estimated matrix (up to the LP's tolerance), and
  its confidence interval says how far from a Nash of the *true* matrix the estimated one may be.

Uncertainty: ``P`` is the mean over prompts of per-prompt estimates ``P_b`` (each averaged over
the sample pairs of prompt ``b``), so the standard error of an entry is the standard deviation
of ``P_b[i, j]`` over prompts / sqrt(prompts). Exploitabilities (a maximum of entries) and the
duality gap get a **percentile bootstrap over prompts** (``bootstrap`` resamples of the prompts
with replacement, from a fixed ``seed``): their ``se`` is the bootstrap standard deviation and
``ci`` the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. The maximum of
noisy entries is biased upwards by up to a few standard errors when several members nearly tie;
the intervals do not correct that bias. With one prompt the prompt-level errors are undefined
(``nan``), unless the members are exact distributions (then every error is 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Estimate", "RunSummary", "PopulationReport", "analyse", "exploitability_within",
           "population_nash", "check_win_rates"]


def check_win_rates(p, name: str = "win-rate matrix") -> np.ndarray:
    """``p`` as a float64 ``[n, n]`` (or ``[..., n, n]``) array with values in [0, 1] and
    ``P + P^T = 1``; a ``ValueError`` saying what is wrong otherwise."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2] or arr.shape[-1] == 0:
        raise ValueError(f"the {name} must be square [n, n]; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"the {name} has NaN or inf entries.")
    if np.any(arr < -1e-12) or np.any(arr > 1 + 1e-12):
        raise ValueError(f"the {name} must lie in [0, 1] (win probabilities).")
    if not np.allclose(arr + np.swapaxes(arr, -1, -2), 1.0, atol=1e-9):
        raise ValueError(f"the {name} must satisfy P + P^T = 1 (P[j, i] = 1 - P[i, j], 1/2 on "
                         "the diagonal).")
    return arr


def exploitability_within(p, x) -> np.ndarray:
    """Exploitability within the population of the mixture(s) ``x``: ``max_j (P x)[j] - 1/2``
    (NashConv / 2 of the symmetric profile ``(x, x)`` in the meta-game ``P - 1/2``).

    ``p``: ``[..., n, n]`` win rates; ``x``: ``[n]`` or ``[m, n]`` mixtures (rows on the
    simplex). Returns ``[...]`` or ``[..., m]``."""
    p = np.asarray(p, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1] != p.shape[-1]:
        raise ValueError(f"mixture over {x.shape[-1]} members for a population of "
                         f"{p.shape[-1]}.")
    if np.any(x < -1e-12) or not np.allclose(x.sum(-1), 1.0, atol=1e-9):
        raise ValueError("a mixture must be non-negative and sum to 1.")
    if x.ndim == 1:
        return (p @ x).max(-1) - 0.5
    return np.einsum("...ij,mj->...mi", p, x).max(-1) - 0.5


def population_nash(p) -> np.ndarray:
    """A Nash mixture ``[n]`` of the population meta-game ``P - 1/2`` (the maximin strategy of
    :func:`gametheory.lp.solve_zero_sum`, scipy HiGHS). Not unique in general: the LP's
    vertex."""
    from gametheory.lp import solve_zero_sum  # numpy + scipy only: no JAX at import

    p = check_win_rates(p)
    return solve_zero_sum(p - 0.5).row


@dataclass(frozen=True)
class Estimate:
    """A number with its standard error and confidence interval (``nan`` when undefined)."""

    value: float
    se: float
    ci: tuple[float, float]

    def to_dict(self) -> dict:
        return {"value": _num(self.value), "se": _num(self.se), "ci": [_num(c) for c in self.ci]}


@dataclass(frozen=True)
class RunSummary:
    """One run's checkpoints in the population: their indices in step order, the last one's and
    the uniform average's exploitability within the population, and the curves of the games'
    demo: at each checkpoint, the last iterate (that checkpoint) and the average iterate (the
    uniform mixture of the run's checkpoints up to it)."""

    name: str
    members: list[int]
    steps: list
    last: Estimate
    average: Estimate
    curve_last: list[Estimate]
    curve_average: list[Estimate]

    def to_dict(self, names) -> dict:
        return {"checkpoints": [names[i] for i in self.members], "steps": self.steps,
                "last": {"checkpoint": names[self.members[-1]], **self.last.to_dict()},
                "average": self.average.to_dict(),
                "curve_last": [e.to_dict() for e in self.curve_last],
                "curve_average": [e.to_dict() for e in self.curve_average]}


@dataclass
class PopulationReport:
    """What :func:`analyse` finds; :meth:`to_dict` is the ``population.json`` content.

    ``win_rates [n, n]`` with ``win_rate_se``; ``nash [n]`` (the population's Nash mixture);
    ``exploitability``: one :class:`Estimate` per member (pure); ``nash_exploitability`` and
    ``duality_gap`` of the Nash (NashConv = 2 x exploitability); ``runs``: :class:`RunSummary`
    per run (last vs uniform average)."""

    names: list[str]
    runs_of: list
    steps: list
    win_rates: np.ndarray
    win_rate_se: np.ndarray
    num_prompts: int
    nash: np.ndarray
    exploitability: list[Estimate]
    nash_exploitability: Estimate
    duality_gap: Estimate
    runs: list[RunSummary]
    confidence: float
    bootstrap: int
    exact: bool
    extra: dict = field(default_factory=dict)

    def member(self, name: str) -> int:
        """Index of the member called ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"no member {name!r}; members: {self.names}.") from None

    def run(self, name: str) -> RunSummary:
        """The :class:`RunSummary` of run ``name``."""
        for r in self.runs:
            if r.name == name:
                return r
        raise ValueError(f"no run {name!r}; runs: {[r.name for r in self.runs]}.")

    def to_dict(self) -> dict:
        return {
            "convention": "exploitability within the population of a mixture x = max_j (P x)_j "
                          "- 1/2 = NashConv/2 of (x, x) in the meta-game P - 1/2; duality gap "
                          "= NashConv = 2 x exploitability",
            "members": [{"name": n, "run": r, "step": s, "nash_weight": float(w),
                         "exploitability": e.to_dict()}
                        for n, r, s, w, e in zip(self.names, self.runs_of, self.steps, self.nash,
                                                 self.exploitability)],
            "win_rates": self.win_rates.tolist(),
            "win_rate_se": [[_num(v) for v in row] for row in self.win_rate_se],
            "num_prompts": self.num_prompts,
            "exact": self.exact,
            "nash": {"weights": self.nash.tolist(),
                     "exploitability": self.nash_exploitability.to_dict(),
                     "duality_gap": self.duality_gap.to_dict()},
            "runs": {r.name: r.to_dict(self.names) for r in self.runs},
            "uncertainty": (f"entries: standard error over prompts; exploitabilities and the "
                            f"duality gap: percentile bootstrap over prompts ({self.bootstrap} "
                            f"resamples), {self.confidence:.0%} intervals"),
            **self.extra,
        }


def _num(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _order(steps: Sequence, members: list[int]) -> list[int]:
    """Members of a run in step order (insertion order where steps are missing or tied)."""
    if all(steps[i] is not None for i in members):
        return sorted(members, key=lambda i: (steps[i], members.index(i)))
    return list(members)


def analyse(per_prompt, names: Sequence[str], runs: Sequence | None = None,
            steps: Sequence | None = None, bootstrap: int = 1000, confidence: float = 0.95,
            seed: int = 0, exact: bool = False) -> PopulationReport:
    """The population meta-game from per-prompt win-rate estimates.

    ``per_prompt``: ``[prompts, n, n]`` per-prompt win rates (each antisymmetric about 1/2);
    ``names``: the ``n`` members; ``runs``: each member's run name (None: one run ``"run"``);
    ``steps``: each member's training step (orders a run's checkpoints; None: insertion order);
    ``bootstrap``: resamples of the prompts for the intervals (0: no intervals); ``exact``: the
    per-prompt entries are exact expectations (exact distributions), so one prompt still gives
    errors of 0.
    """
    pp = check_win_rates(per_prompt, "per-prompt win-rate array")
    if pp.ndim != 3:
        raise ValueError(f"per_prompt must be [prompts, n, n]; got shape {pp.shape}.")
    b, n, _ = pp.shape
    names = list(names)
    if len(names) != n or len(set(names)) != n:
        raise ValueError(f"names must be {n} distinct strings; got {names}.")
    runs = ["run" if r is None else str(r) for r in (runs or [None] * n)]
    steps = list(steps) if steps is not None else [None] * n
    if len(runs) != n or len(steps) != n:
        raise ValueError("runs and steps need one entry per member.")
    if not (isinstance(bootstrap, int) and bootstrap >= 0):
        raise ValueError(f"bootstrap must be a non-negative integer; got {bootstrap!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}.")
    p = pp.mean(0)
    undefined = b < 2 and not exact
    se = (np.full((n, n), np.nan) if undefined else
          np.zeros((n, n)) if b < 2 else pp.std(0, ddof=1) / math.sqrt(b))
    np.fill_diagonal(se, 0.0)
    nash = population_nash(p)

    # mixtures whose exploitability is reported: each member, the Nash, then per run the
    # average iterate at each of its checkpoints (the last iterates are members)
    run_names = list(dict.fromkeys(runs))
    ordered = {r: _order(steps, [i for i in range(n) if runs[i] == r]) for r in run_names}
    mixtures = [np.eye(n)[i] for i in range(n)] + [nash]
    for r in run_names:
        for t in range(1, len(ordered[r]) + 1):
            x = np.zeros(n)
            x[ordered[r][:t]] = 1.0 / t
            mixtures.append(x)
    mixtures = np.stack(mixtures)
    values = exploitability_within(p, mixtures)
    lo_q, hi_q = (1 - confidence) / 2, (1 + confidence) / 2
    if undefined or bootstrap == 0:
        nan = np.full(len(mixtures), np.nan)
        stats = (nan, nan, nan)
    elif b < 2:  # exact, one prompt: nothing is random
        stats = (np.zeros(len(mixtures)), values, values)
    else:
        rng = np.random.default_rng(seed)
        flat = pp.reshape(b, n * n)
        reps = []
        for start in range(0, bootstrap, 256):  # bounded memory: 256 resampled matrices
            counts = rng.multinomial(b, np.full(b, 1.0 / b), size=min(256, bootstrap - start))
            pb = (counts @ flat / b).reshape(-1, n, n)
            reps.append(exploitability_within(pb, mixtures))
        reps = np.concatenate(reps)  # [bootstrap, mixtures]
        stats = (reps.std(0, ddof=1), np.quantile(reps, lo_q, axis=0),
                 np.quantile(reps, hi_q, axis=0))
    est = [Estimate(float(v), float(s), (float(lo), float(hi)))
           for v, s, lo, hi in zip(values, *stats)]
    pure, nash_e, averages = est[:n], est[n], est[n + 1:]
    gap = Estimate(2 * nash_e.value, 2 * nash_e.se, (2 * nash_e.ci[0], 2 * nash_e.ci[1]))
    summaries, k = [], 0
    for r in run_names:
        members = ordered[r]
        curve_avg = averages[k:k + len(members)]
        k += len(members)
        summaries.append(RunSummary(r, members, [steps[i] for i in members], pure[members[-1]],
                                    curve_avg[-1], [pure[i] for i in members], curve_avg))
    return PopulationReport(names, runs, steps, p, se, b, nash, pure, nash_e, gap, summaries,
                            confidence, bootstrap, bool(exact))
