"""Persuasion against a receiver of unknown type, and its online version (full feedback).

The receiver's utility depends on a type ``k`` from a known finite set (``receiver_utilities
[K, S, A]``); the prior over states is known, the type is not. A public scheme cannot recommend
one action to every type, so a signal is a *profile* ``sigma = (a_1, ..., a_K)`` of
recommendations, one per type, and obedience is required of each type for its own component
(the revelation principle with a privately informed receiver; Castiglioni, Celli, Marchesi and
Gatti 2020, "Online Bayesian persuasion"). Against a distribution ``w`` over types the
sender's optimum is one LP over ``S x A^K`` variables, :func:`type_optimal_scheme`; its
feasible set does not depend on ``w``, only its objective does.

Online (Castiglioni et al. 2020, full feedback): in each round an adversary picks the type, the
sender commits to a scheme first and observes the type afterwards. Two learners:

* :func:`hedge_over_schemes`: Hedge (:func:`gametheory.rules.mwu` on log-weights) over a finite
  set of schemes, the LP optima for type distributions on a grid of the type simplex (vertices of
  the common feasible polytope). With the anytime step ``eta_t = sqrt(8 ln N / t)`` its expected
  regret against the best candidate is at most ``range * (sqrt(2 t ln N) + sqrt(ln N / 8))``
  for every ``t`` and every type sequence (Cesa-Bianchi and Lugosi 2006, Thm. 2.3).
* :func:`follow_the_leader`: the LP on the empirical type distribution of the rounds so far.
  Against i.i.d. types its scheme converges to the LP scheme of the true type distribution; an
  adaptive adversary can make it switch every round.

Regret is measured against the best fixed scheme in hindsight, which is exactly the LP on the
empirical type distribution of the whole sequence (computed at the recorded rounds).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from tqdm.auto import tqdm

from .. import rules
from .problem import PersuasionProblem, _check_prior, _finite_matrix, _names, evaluate_scheme

__all__ = [
    "TypedPersuasionProblem",
    "TypeSchemeSolution",
    "OnlineTypesResult",
    "type_optimal_scheme",
    "scheme_values_by_type",
    "scheme_grid",
    "hedge_over_schemes",
    "follow_the_leader",
]

_MAX_SIGNALS = 4096


@dataclasses.dataclass(frozen=True)
class TypedPersuasionProblem:
    """Known prior ``[S]``, sender utility ``[S, A]``, receiver utilities ``[K, S, A]``.

    Validated like :class:`~gametheory.persuasion.PersuasionProblem`; ``A ** K`` (the number of
    recommendation profiles) may be at most 4096.
    """

    prior: np.ndarray
    sender_utility: np.ndarray
    receiver_utilities: np.ndarray
    states: tuple[str, ...] | None = None
    actions: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None

    def __post_init__(self):
        prior = _check_prior(self.prior)
        su = _finite_matrix(self.sender_utility, "sender_utility", None)
        if su.shape[0] != prior.size:
            raise ValueError(f"shape mismatch: the prior has {prior.size} states but "
                             f"sender_utility has {su.shape[0]} rows.")
        ru = np.asarray(self.receiver_utilities, dtype=np.float64)
        if ru.ndim != 3 or ru.shape[1:] != su.shape:
            raise ValueError(f"receiver_utilities must be [types, states={su.shape[0]}, "
                             f"actions={su.shape[1]}]; got shape {ru.shape}.")
        for k in range(ru.shape[0]):
            _finite_matrix(ru[k], f"receiver_utilities[{k}]", su.shape)
        if su.shape[1] ** ru.shape[0] > _MAX_SIGNALS:
            raise ValueError(f"{su.shape[1]} actions and {ru.shape[0]} types give "
                             f"{su.shape[1] ** ru.shape[0]} recommendation profiles (> "
                             f"{_MAX_SIGNALS}); use fewer types or actions.")
        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("prior", prior)
        set_("sender_utility", su)
        set_("receiver_utilities", ru)
        set_("states", _names(self.states, prior.size, "state", "s"))
        set_("actions", _names(self.actions, su.shape[1], "action", "a"))
        set_("types", _names(self.types, ru.shape[0], "type", "k"))

    @property
    def num_types(self) -> int:
        return self.receiver_utilities.shape[0]

    def for_type(self, k: int) -> PersuasionProblem:
        """The single-receiver problem of type ``k``."""
        return PersuasionProblem(self.prior, self.sender_utility, self.receiver_utilities[k],
                                 self.states, self.actions)

    def profiles(self) -> np.ndarray:
        """``[A ** K, K]`` recommendation profiles, the signals of a type-aware direct scheme."""
        a = self.sender_utility.shape[1]
        return np.array(list(itertools.product(range(a), repeat=self.num_types)), dtype=np.int64)


class TypeSchemeSolution(NamedTuple):
    scheme: np.ndarray  # [S, A**K] pi(profile | state); column j recommends profiles[j]
    profiles: np.ndarray  # [A**K, K]
    value: float  # sum_k w_k (sender's utility against type k)


def _check_weights(weights, k: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"type weights must be {k} finite non-negative numbers with a positive "
                         f"sum; got {weights!r}.")
    return w / w.sum()


def type_optimal_scheme(problem: TypedPersuasionProblem, type_weights) -> TypeSchemeSolution:
    """Sender-optimal public scheme against types distributed as ``type_weights`` (one LP).

    Variables ``pi[s, sigma]``; maximise ``sum_s prior[s] sum_sigma pi[s, sigma] sum_k w_k
    u[s, sigma_k]`` subject to, for every type ``k``, profile ``sigma`` and action ``a'``,
    ``sum_s prior[s] pi[s, sigma] (v_k[s, sigma_k] - v_k[s, a']) >= 0``.
    """
    w = _check_weights(type_weights, problem.num_types)
    prior, u, v = problem.prior, problem.sender_utility, problem.receiver_utilities
    profiles = problem.profiles()
    s, a = u.shape
    n = len(profiles)
    gain = np.einsum("k,sjk->sj", w, u[:, profiles])  # [S, n]
    c = -(prior[:, None] * gain).ravel()  # variables pi[s, j], s-major
    rows, cols, vals, r = [], [], [], 0
    for k in range(problem.num_types):
        rec = v[k][:, profiles[:, k]]  # [S, n]: v_k[s, sigma_k]
        for dev in range(a):
            for j in np.flatnonzero(profiles[:, k] != dev):
                # -sum_s prior[s] pi[s, j] (v_k[s, sigma_k] - v_k[s, dev]) <= 0
                rows.append(np.full(s, r))
                cols.append(np.arange(s) * n + j)
                vals.append(-prior * (rec[:, j] - v[k][:, dev]))
                r += 1
    a_ub = sparse.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                            shape=(r, s * n))
    a_eq = sparse.kron(sparse.eye_array(s), np.ones((1, n)), format="csr")
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(r), A_eq=a_eq, b_eq=np.ones(s), bounds=(0.0, 1.0),
                  method="highs")
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the typed persuasion LP: {res.message}")
    pi = np.clip(res.x.reshape(s, n), 0.0, None)
    pi /= pi.sum(axis=1, keepdims=True)
    return TypeSchemeSolution(pi, profiles, float(-res.fun))


def scheme_values_by_type(problem: TypedPersuasionProblem, scheme) -> np.ndarray:
    """``[K]`` sender's utility of ``scheme`` ``[S, signals]`` against each type, every type
    best-responding to each signal's posterior (ties in the sender's favour)."""
    return np.array([evaluate_scheme(problem.for_type(k), scheme).sender_value
                     for k in range(problem.num_types)])


def _simplex_grid(k: int, resolution: int) -> np.ndarray:
    pts = [c for c in itertools.product(range(resolution + 1), repeat=k) if sum(c) == resolution]
    return np.array(pts, dtype=np.float64) / resolution


def scheme_grid(problem: TypedPersuasionProblem, resolution: int = 10) -> list[np.ndarray]:
    """Distinct LP-optimal schemes for the type distributions on a grid of the type simplex
    (coordinates multiples of ``1 / resolution``): the candidate set of
    :func:`hedge_over_schemes`. Each is a vertex of the LP's common feasible polytope."""
    if not isinstance(resolution, int | np.integer) or resolution < 1:
        raise ValueError(f"resolution must be an integer >= 1; got {resolution!r}.")
    out: list[np.ndarray] = []
    for w in _simplex_grid(problem.num_types, resolution):
        pi = type_optimal_scheme(problem, w).scheme
        if not any(x.shape == pi.shape and np.allclose(x, pi, atol=1e-9) for x in out):
            out.append(pi)
    return out


class OnlineTypesResult(NamedTuple):
    """Trace of an online learner against a sequence of receiver types."""

    values: np.ndarray  # [T] sender's expected utility in each round
    types: np.ndarray  # [T] the adversary's types
    rounds: np.ndarray  # [R] recorded rounds (1-based)
    regret: np.ndarray  # [R] regret against the best fixed scheme in hindsight (LP)
    best_in_hindsight: np.ndarray  # [R] the LP value of the empirical type distribution
    scheme: np.ndarray  # [S, signals] the learner's last scheme (Hedge: its weighted mixture)
    extra: dict  # learner-specific traces


def _adversary(adversary, horizon: int, k: int, rng):
    """``None`` for the adaptive adversary, else the whole type sequence."""
    if isinstance(adversary, str):
        if adversary == "adaptive":
            return None
        if adversary == "cycle":
            return np.arange(horizon) % k
        raise ValueError(f"unknown adversary {adversary!r}; use 'adaptive', 'cycle', a type "
                         "distribution or a sequence of type indices.")
    arr = np.asarray(adversary)
    if arr.ndim == 1 and arr.size == k and np.issubdtype(arr.dtype, np.floating):
        return rng.choice(k, size=horizon, p=_check_weights(arr, k))
    if arr.shape != (horizon,) or not np.issubdtype(arr.dtype, np.integer) or (
            arr.min() < 0 or arr.max() >= k):
        raise ValueError(f"a type sequence must hold {horizon} integers in [0, {k}); got shape "
                         f"{arr.shape}.")
    return arr


def _record_rounds(horizon: int, points: int = 60) -> np.ndarray:
    return np.unique(np.geomspace(1, horizon, points).round().astype(np.int64))


def _hindsight(problem, types, rounds):
    counts = np.cumsum(np.eye(problem.num_types)[types], axis=0)
    best = np.array([type_optimal_scheme(problem, counts[t - 1]).value for t in rounds])
    return best


def _check_horizon(horizon):
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1; got {horizon!r}.")


def hedge_over_schemes(problem: TypedPersuasionProblem, horizon: int, adversary="adaptive",
                       seed: int = 0, resolution: int = 10, candidates=None,
                       progress: bool = False) -> OnlineTypesResult:
    """Hedge over ``candidates`` (default :func:`scheme_grid`) with full feedback.

    ``adversary``: ``"adaptive"`` (each round the type that minimises the learner's expected
    utility given its current weights), ``"cycle"`` (types 0, 1, ..., K-1, 0, ...), a type
    distribution ``[K]`` (i.i.d. draws with ``seed``) or an explicit sequence of type indices.
    Gains are the candidates' expected utilities against the revealed type (the prior is known),
    rescaled to losses in ``[0, 1]``; weights ``w_t ∝ exp(-eta_t L_{t-1})`` with ``eta_t =
    sqrt(8 ln N / t)``. ``extra`` holds ``candidate_regret [T]`` (against the best candidate),
    ``bound [T]`` (the Cesa-Bianchi-Lugosi bound on it), ``weights [N]`` and ``gains [N, K]``.
    """
    _check_horizon(horizon)
    rng = np.random.default_rng(seed)
    k = problem.num_types
    sequence = _adversary(adversary, horizon, k, rng)
    cands = scheme_grid(problem, resolution) if candidates is None else list(candidates)
    if not cands:
        raise ValueError("candidates is empty; pass at least one scheme.")
    gains = np.array([scheme_values_by_type(problem, pi) for pi in cands])  # [N, K]
    n = len(gains)
    top, span = gains.max(), max(float(np.ptp(gains)), 1e-12)
    losses = (top - gains) / span  # [N, K] in [0, 1]
    cum_loss = np.zeros(n)
    cum_gain = np.zeros(n)
    values = np.empty(horizon)
    types = np.empty(horizon, dtype=np.int64)
    cand_regret = np.empty(horizon)
    uniform = np.full(n, -np.log(n))
    for t in tqdm(range(1, horizon + 1), disable=not progress, desc="hedge"):
        eta = np.sqrt(8 * np.log(n) / t) if n > 1 else 0.0
        w = np.exp(rules.mwu(uniform, -cum_loss, eta))  # w_t ∝ exp(-eta_t L_{t-1})
        expected = w @ gains  # [K]
        kt = int(np.argmin(expected)) if sequence is None else int(sequence[t - 1])
        values[t - 1], types[t - 1] = expected[kt], kt
        cum_loss += losses[:, kt]
        cum_gain += gains[:, kt]
        cand_regret[t - 1] = cum_gain.max() - values[:t].sum()
    rounds = _record_rounds(horizon)
    best = _hindsight(problem, types, rounds)
    cum_values = np.cumsum(values)
    t_all = np.arange(1, horizon + 1)
    bound = span * (np.sqrt(2 * t_all * np.log(n)) + np.sqrt(np.log(n) / 8))
    mixture = np.concatenate([wi * pi for wi, pi in zip(w, cands)], axis=1)
    return OnlineTypesResult(
        values=values, types=types, rounds=rounds,
        regret=rounds * best - cum_values[rounds - 1], best_in_hindsight=best, scheme=mixture,
        extra={"candidate_regret": cand_regret, "bound": bound, "weights": w, "gains": gains,
               "candidates": cands},
    )


def follow_the_leader(problem: TypedPersuasionProblem, horizon: int, adversary="adaptive",
                      seed: int = 0, resolve_growth: float = 1.05,
                      progress: bool = False) -> OnlineTypesResult:
    """Play the LP on the empirical type distribution of the rounds so far (uniform at first).

    The LP is re-solved when the number of rounds has grown by ``resolve_growth`` (every round
    while that is less than one); ``adversary`` as in :func:`hedge_over_schemes` (the adaptive
    one picks the type that minimises the current scheme's utility). ``extra`` holds
    ``solves``.
    """
    _check_horizon(horizon)
    if not resolve_growth > 1:
        raise ValueError(f"resolve_growth must be > 1; got {resolve_growth!r}.")
    rng = np.random.default_rng(seed)
    k = problem.num_types
    sequence = _adversary(adversary, horizon, k, rng)
    counts = np.zeros(k)
    values = np.empty(horizon)
    types = np.empty(horizon, dtype=np.int64)
    solved_at, solves, scheme, by_type = -1, 0, None, None
    for t in tqdm(range(1, horizon + 1), disable=not progress, desc="follow the leader"):
        n = t - 1
        if scheme is None or n >= resolve_growth * solved_at:
            scheme = type_optimal_scheme(problem, counts if n else np.ones(k)).scheme
            by_type = scheme_values_by_type(problem, scheme)
            solved_at, solves = n, solves + 1
        kt = int(np.argmin(by_type)) if sequence is None else int(sequence[t - 1])
        values[t - 1], types[t - 1] = by_type[kt], kt
        counts[kt] += 1
    rounds = _record_rounds(horizon)
    best = _hindsight(problem, types, rounds)
    return OnlineTypesResult(
        values=values, types=types, rounds=rounds,
        regret=rounds * best - np.cumsum(values)[rounds - 1], best_in_hindsight=best,
        scheme=scheme, extra={"solves": solves},
    )
