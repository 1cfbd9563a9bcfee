"""Closed-form update rules on log-policies, written once for every array library.

Each rule maps a normalised log-policy ``logits`` (last axis = actions / responses) and the
payoff gradient ``q`` (``q[a]`` = expected payoff of action ``a`` against the opponents) to the
next normalised log-policy. The functions use only array-API arithmetic, so the *same function*
runs on ``jax.numpy`` arrays (the JAX core) and on ``torch`` tensors (``llm_adapter``).

Importing this module does not import JAX (nor torch): the array namespace is looked up from the
arguments at call time with ``array_api_compat``.

Step sizes ``lr``, temperatures and mixture weights may be Python floats or 0-d arrays of the
same library as ``logits``.

References
----------
* MWU / Hedge and the SPPO rule: Wu et al. 2024, "Self-Play Preference Optimization", eq. (3.4):
  ``pi_{t+1}(y) ∝ pi_t(y) exp(eta P(y > pi_t))``.
* MMD: Sokota et al. 2023, "A Unified Approach to RL, QREs and Two-Player Zero-Sum Games",
  eq. (5) with negative entropy: ``pi' ∝ [pi rho^(eta alpha) exp(eta q)]^(1/(1+eta alpha))``.
* INPO: Zhang et al. 2024, "Iterative Nash Policy Optimization", eq. (6): online mirror descent
  on the KL-regularised preference game, which has the same closed form as MMD with magnet
  ``pi_ref`` and temperature ``tau``.
* Nash-MD: Munos et al. 2024, "Nash Learning from Human Feedback", Sec. 5: a mirror step taken
  from the geometric mixture ``pi_t^(1-eta tau) pi_ref^(eta tau)``.
* Proximal point / COMAL: Liu et al. 2024, "COMAL: A Convergent Meta-Algorithm for Aligning
  LLMs with General Preferences", Alg. 1: ``pi_{k+1} = argmax <pi, q(pi_{k+1})> - tau KL(pi||pi_k)``
  whose optimality condition is ``pi_{k+1} ∝ pi_k exp(q(pi_{k+1}) / tau)``.
"""

from __future__ import annotations

from array_api_compat import array_namespace

__all__ = [
    "log_normalize",
    "logsumexp",
    "mwu",
    "optimistic_mwu",
    "mmd",
    "inpo",
    "geometric_mixture",
    "magnet_update",
    "nash_md",
    "prox_point_target",
    "regularized_payoff",
]


def logsumexp(x, axis: int = -1, keepdims: bool = True):
    """Numerically stable ``log(sum(exp(x)))`` over ``axis``; ``-inf`` entries are allowed."""
    xp = array_namespace(x)
    m = xp.max(x, axis=axis, keepdims=True)
    # A slice whose entries are all -inf would give nan from (-inf) - (-inf); shift by 0 there.
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out = m + xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else xp.squeeze(out, axis=axis)


def log_normalize(logits, axis: int = -1):
    """Shift ``logits`` so that ``exp(logits)`` sums to one over ``axis``."""
    return logits - logsumexp(logits, axis=axis)


def mwu(logits, q, lr):
    """Multiplicative weights / Hedge, the SPPO rule: ``log pi' = log pi + lr * q`` (normalised).

    Shapes: ``logits``, ``q``: ``[..., A]``; returns ``[..., A]``.
    """
    return log_normalize(logits + lr * q)


def optimistic_mwu(logits, q, q_prev, lr):
    """Optimistic MWU (Daskalakis & Panageas 2019, eq. (OMWU)): step on ``2 q_t - q_{t-1}``."""
    return log_normalize(logits + lr * (2 * q - q_prev))


def mmd(logits, q, lr, temp, magnet_logits):
    """Magnetic mirror descent step with negative entropy (Sokota et al. 2023, eq. (5)).

    ``log pi' = (log pi + lr*temp*log rho + lr*q) / (1 + lr*temp)`` then normalised, where
    ``rho = exp(magnet_logits)`` is the magnet and ``temp`` (alpha) the regularisation
    temperature. The fixed point is the QRE / KL-regularised equilibrium with magnet ``rho``.
    """
    return log_normalize((logits + lr * temp * magnet_logits + lr * q) / (1 + lr * temp))


def inpo(logits, q, lr, tau, ref_logits):
    """INPO step (Zhang et al. 2024, eq. (6)) on the game regularised by ``tau * KL(.||pi_ref)``.

    ``argmax_pi lr*(<pi, q> - tau KL(pi||pi_ref)) - KL(pi||pi_t)`` has the closed form
    ``log pi' ∝ (log pi_t + lr*tau*log pi_ref + lr*q) / (1 + lr*tau)``: the MMD step with
    magnet ``pi_ref`` and temperature ``tau``.
    """
    return mmd(logits, q, lr, tau, ref_logits)


def geometric_mixture(logits, other_logits, weight):
    """Normalised ``log(pi^(1-weight) * other^weight)``; ``weight`` in [0, 1]."""
    return log_normalize((1 - weight) * logits + weight * other_logits)


def magnet_update(magnet_logits, logits, magnet_lr):
    """Moving magnet (Sokota et al. 2023, Sec. 4.2): ``rho' ∝ rho^(1-magnet_lr) pi^magnet_lr``."""
    return geometric_mixture(magnet_logits, logits, magnet_lr)


def nash_md(logits, q_mixture, lr, tau, ref_logits):
    """Nash-MD step (Munos et al. 2024, Sec. 5).

    ``pi' ∝ pi_mix exp(lr * q_mixture)`` with ``pi_mix ∝ pi^(1-lr*tau) pi_ref^(lr*tau)``;
    ``q_mixture`` must be the payoff gradient against the *mixture* policy (the caller computes
    it from ``geometric_mixture(logits, ref_logits, lr * tau)``).
    """
    return log_normalize(geometric_mixture(logits, ref_logits, lr * tau) + lr * q_mixture)


def prox_point_target(ref_logits, q, tau):
    """Proximal-point target ``log pi ∝ log pi_ref + q / tau`` (COMAL, Liu et al. 2024, Alg. 1).

    With ``q`` the payoff gradient *at the target itself* this is the optimality condition of
    ``argmax_pi <pi, q(pi)> - tau KL(pi || pi_ref)``; evaluated at a fixed ``q`` it is the
    best response of the KL-regularised game.
    """
    return log_normalize(ref_logits + q / tau)


def regularized_payoff(logits, q, tau, ref_logits):
    """Payoff gradient of the game regularised by ``tau * KL(pi || pi_ref)``.

    ``q - tau (log pi - log pi_ref)``.

    Used by COMAL's inner MWU solver; a MWU step on it is a mirror step on the regularised game.
    """
    return q - tau * (logits - ref_logits)
