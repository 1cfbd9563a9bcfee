"""Finite Bayesian persuasion problems (Kamenica and Gentzkow 2011) and how schemes score.

A sender observes a state ``s`` drawn from a common ``prior``, commits to a signaling scheme
``pi(signal | state)``, and a receiver who knows the scheme updates to the posterior of the
signal it sees and takes a best response. ``sender_utility[s, a]`` and
``receiver_utility[s, a]`` are the players' payoffs for action ``a`` in state ``s``.

Tie-breaking (used everywhere in this package): when the receiver is indifferent between several
actions at a posterior (within a tolerance of ``1e-9`` times the receiver's utility range), it
takes the one the *sender* prefers at that posterior. This is the sender-preferred equilibrium of
Kamenica and Gentzkow (2011), the one in which an optimal scheme exists, and it is what the
obedience LP assumes (weak inequalities: a receiver indifferent between the recommended action
and another one follows the recommendation).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "PersuasionProblem",
    "SchemeEvaluation",
    "problem_from_dict",
    "load_problem",
    "best_response",
    "evaluate_scheme",
    "no_information_value",
    "full_disclosure_value",
]

_TIE = 1e-9  # relative tolerance for receiver indifference
_KEYS = {"prior", "sender_utility", "receiver_utility", "states", "actions"}


def _finite_matrix(x, name: str, shape: tuple[int, int] | None) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric [states x actions] table; got {x!r}.") from None
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D table [states x actions]; got shape "
                         f"{arr.shape}.")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"shape mismatch: {name} has shape {arr.shape} but the prior has "
                         f"{shape[0]} states and the other utility table has {shape[1]} actions; "
                         "give one row per state and one column per action.")
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} has a non-finite entry (NaN or inf) at [state {bad[0]}, "
                         f"action {bad[1]}]; every utility must be a finite number.")
    return arr


def _check_prior(prior) -> np.ndarray:
    try:
        p = np.asarray(prior, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"prior must be a list of probabilities; got {prior!r}.") from None
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"prior must be a non-empty 1-D list of probabilities; got shape "
                         f"{p.shape}.")
    if not np.all(np.isfinite(p)):
        raise ValueError("prior has a non-finite entry (NaN or inf); give probabilities.")
    if np.any(p < 0):
        raise ValueError(f"prior has a negative entry ({p.min():g}); probabilities are >= 0.")
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"prior sums to {p.sum():.12g}, not 1; normalise it (divide by its "
                         "sum).")
    return p


def _names(names, n: int, what: str, default: str) -> tuple[str, ...]:
    if names is None:
        return tuple(f"{default}{i}" for i in range(n))
    if isinstance(names, str) or len(names) != n:
        raise ValueError(f"{what} names must be a list of {n} strings (one per {what}); got "
                         f"{names!r}.")
    names = tuple(str(x) for x in names)
    if len(set(names)) != n:
        raise ValueError(f"{what} names must be distinct; got {list(names)}.")
    return names


@dataclasses.dataclass(frozen=True)
class PersuasionProblem:
    """A validated finite persuasion problem.

    ``prior``: ``[S]`` probabilities; ``sender_utility``, ``receiver_utility``: ``[S, A]``;
    ``states``, ``actions``: names (default ``s0, s1, ...`` and ``a0, a1, ...``). The constructor
    raises ``ValueError`` for a prior that is not a probability vector, non-finite utilities or
    mismatched shapes.
    """

    prior: np.ndarray
    sender_utility: np.ndarray
    receiver_utility: np.ndarray
    states: tuple[str, ...] | None = None
    actions: tuple[str, ...] | None = None

    def __post_init__(self):
        prior = _check_prior(self.prior)
        su = _finite_matrix(self.sender_utility, "sender_utility", None)
        ru = _finite_matrix(self.receiver_utility, "receiver_utility", None)
        if su.shape[0] != prior.size:
            raise ValueError(f"shape mismatch: the prior has {prior.size} states but "
                             f"sender_utility has {su.shape[0]} rows; give one row per state.")
        ru = _finite_matrix(ru, "receiver_utility", su.shape)
        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("prior", prior)
        set_("sender_utility", su)
        set_("receiver_utility", ru)
        set_("states", _names(self.states, prior.size, "state", "s"))
        set_("actions", _names(self.actions, su.shape[1], "action", "a"))

    @property
    def num_states(self) -> int:
        return self.prior.size

    @property
    def num_actions(self) -> int:
        return self.sender_utility.shape[1]

    def with_prior(self, prior) -> PersuasionProblem:
        """The same utilities under another prior."""
        return dataclasses.replace(self, prior=prior)

    def to_dict(self) -> dict:
        """A JSON-ready dict (the file format of ``gametheory persuade``)."""
        return {"prior": self.prior.tolist(), "sender_utility": self.sender_utility.tolist(),
                "receiver_utility": self.receiver_utility.tolist(),
                "states": list(self.states), "actions": list(self.actions)}


def problem_from_dict(data) -> PersuasionProblem:
    """Build a problem from ``{"prior", "sender_utility", "receiver_utility"}`` (optional
    ``"states"``, ``"actions"`` names); unknown or missing keys raise ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError("a persuasion problem must be a JSON object with keys 'prior', "
                         "'sender_utility' and 'receiver_utility'.")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown}; allowed keys are {sorted(_KEYS)}.")
    missing = [k for k in ("prior", "sender_utility", "receiver_utility") if k not in data]
    if missing:
        raise ValueError(f"missing key(s) {missing}; a problem needs 'prior', 'sender_utility' "
                         "and 'receiver_utility'.")
    return PersuasionProblem(data["prior"], data["sender_utility"], data["receiver_utility"],
                             data.get("states"), data.get("actions"))


def load_problem(path) -> PersuasionProblem:
    """Read a problem from a JSON file (format of :func:`problem_from_dict`)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror or err}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}, column "
                         f"{err.colno}).") from None
    try:
        return problem_from_dict(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _tie_tolerance(receiver_utility: np.ndarray) -> float:
    spread = float(np.ptp(receiver_utility)) if receiver_utility.size else 0.0
    return _TIE * max(spread, 1.0)


def best_response(sender_utility, receiver_utility, belief) -> int:
    """Receiver's best action at ``belief`` ``[S]``, ties broken in the sender's favour.

    ``sender_utility``, ``receiver_utility``: ``[S, A]``. Among the actions whose expected
    receiver utility is within the tie tolerance of the best, returns the one with the highest
    expected sender utility (lowest index among exact sender ties).
    """
    belief = np.asarray(belief, dtype=np.float64)
    ev = belief @ receiver_utility
    candidates = np.flatnonzero(ev >= ev.max() - _tie_tolerance(receiver_utility))
    return int(candidates[np.argmax(belief @ sender_utility[:, candidates])])


class SchemeEvaluation(NamedTuple):
    """A scheme played against a best-responding receiver (sender-favourable ties)."""

    sender_value: float  # sender's expected utility
    receiver_value: float  # receiver's expected utility
    signal_probs: np.ndarray  # [K] probability of each signal
    posteriors: np.ndarray  # [K, S] posterior after each signal (the prior for unused signals)
    responses: np.ndarray  # [K] receiver's action after each signal


def evaluate_scheme(problem: PersuasionProblem, scheme) -> SchemeEvaluation:
    """Score ``scheme`` ``[S, K]`` (``scheme[s, k] = pi(signal k | state s)``, rows sum to 1).

    The receiver best-responds to the posterior of each signal (it need not follow any
    recommendation), ties in the sender's favour; signals are arbitrary labels, so this scores
    direct recommendation schemes, garblings, no information (one column of ones) and full
    disclosure (the identity) alike.
    """
    scheme = np.asarray(scheme, dtype=np.float64)
    if scheme.ndim != 2 or scheme.shape[0] != problem.num_states:
        raise ValueError(f"scheme must be [states={problem.num_states}, signals]; got shape "
                         f"{scheme.shape}.")
    if not np.all(np.isfinite(scheme)) or np.any(scheme < -1e-9):
        raise ValueError("scheme must hold finite probabilities >= 0.")
    if not np.allclose(scheme.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError(f"each scheme row pi(. | state) must sum to 1; row sums are "
                         f"{np.round(scheme.sum(axis=1), 6).tolist()}.")
    joint = problem.prior[:, None] * np.clip(scheme, 0.0, None)  # [S, K]
    probs = joint.sum(axis=0)
    posteriors = np.where(probs[:, None] > 0, joint.T / np.where(probs > 0, probs, 1.0)[:, None],
                          problem.prior[None, :])
    responses = np.array([best_response(problem.sender_utility, problem.receiver_utility, mu)
                          for mu in posteriors], dtype=np.int64)
    sender = float(np.sum(joint * problem.sender_utility[:, responses]))
    receiver = float(np.sum(joint * problem.receiver_utility[:, responses]))
    return SchemeEvaluation(sender, receiver, probs, posteriors, responses)


def no_information_value(problem: PersuasionProblem) -> float:
    """Sender's utility when nothing is revealed: the receiver acts on the prior."""
    return evaluate_scheme(problem, np.ones((problem.num_states, 1))).sender_value


def full_disclosure_value(problem: PersuasionProblem) -> float:
    """Sender's utility when the state is revealed: the receiver best-responds in each state."""
    return evaluate_scheme(problem, np.eye(problem.num_states)).sender_value
