"""Token- and sequence-level losses built on the closed-form rules of :mod:`gametheory.rules`.

Every loss is a standalone function with documented shapes. ``B`` is the number of prompts,
``K`` the number of responses per prompt, ``T`` the number of tokens.

Each game-theoretic rule maps the current log-policy ``log pi_t``, the payoff gradient
``q(y) = P(y > pi_t) - 1/2`` and (where used) a reference / magnet ``log rho`` to the next
log-policy ``log pi_{t+1}``. The *target log-ratio* of a response is
``log pi_{t+1}(y) - log pi_t(y)``; it is defined up to a per-prompt constant (the log-partition
``log Z``), so the rules are applied to the ``K``-vector of a prompt's sampled responses and the
*pairwise* losses regress the differences ``r_i - r_j`` of model log-ratios onto the differences
of targets, in which ``log Z`` cancels. On a model whose whole response space is enumerated
(``llm_adapter.toy``) and with weights ``pi_t(y)`` the minimiser is exactly the closed-form
``pi_{t+1}``.

The pointwise SPPO loss of Wu et al. (2024, eq. (3.6)) instead replaces ``log Z`` by
``eta / 2``; its minimiser over normalised policies is *not* the MWU step (the deviation is
measured in ``tests/llm_adapter/test_llm_exact_rules.py``).
"""

from __future__ import annotations

import math

import torch

from gametheory import rules

__all__ = [
    "win_rates_from_matrix",
    "sppo_targets",
    "mpo_targets",
    "inpo_targets",
    "comal_targets",
    "nash_md_targets",
    "pairwise_regression_loss",
    "sppo_loss",
    "sppo_pairwise_loss",
    "mpo_loss",
    "mpo_token_loss",
    "inpo_loss",
    "comal_loss",
    "nash_md_loss",
    "dpo_loss",
    "ipo_loss",
    "PAPER_PARAMETERS",
    "from_paper",
]


# ----------------------------------------------------------------------------- checks
def _check_same_shape(ndim: int | None = None, **tensors) -> torch.Size:
    shapes = {k: tuple(v.shape) for k, v in tensors.items() if v is not None}
    first = next(iter(shapes.values()))
    if any(s != first for s in shapes.values()):
        raise ValueError(f"shape mismatch: {shapes}; all must have the same shape.")
    if ndim is not None and len(first) != ndim:
        names = ", ".join(shapes)
        raise ValueError(f"{names} must be {ndim}-D; got shape {first}.")
    if len(first) == 0 or math.prod(first) == 0:
        raise ValueError(f"empty batch: shapes {shapes}.")
    return torch.Size(first)


def _check_win_rates(win_rates: torch.Tensor) -> None:
    if not torch.all(torch.isfinite(win_rates)):
        raise ValueError("win rates must be finite.")
    if torch.any(win_rates < 0) or torch.any(win_rates > 1):
        lo, hi = float(win_rates.min()), float(win_rates.max())
        raise ValueError(f"win rates must lie in [0, 1]; got values in [{lo:.4g}, {hi:.4g}].")


def _check_positive(**values) -> None:
    for name, v in values.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number; got {v!r}.")


# ----------------------------------------------------------------------------- win rates
def win_rates_from_matrix(prefs: torch.Tensor) -> torch.Tensor:
    """``P_hat(y_i > pi_t)`` as row means of the ``K x K`` matrix ``prefs[..., i, j] = P(y_i >
    y_j)``, *including* the self-term ``P(y_i > y_i) = 1/2`` (the diagonal is set to 1/2).

    Shapes: ``prefs: [..., K, K]`` -> ``[..., K]``. The self-term shrinks the estimate towards
    1/2 by the factor ``(K-1)/K``; a constant rescaling of ``q`` that the step size absorbs.
    """
    if prefs.ndim < 2 or prefs.shape[-1] != prefs.shape[-2] or prefs.shape[-1] == 0:
        raise ValueError(f"prefs must be [..., K, K] with K >= 1; got {tuple(prefs.shape)}.")
    _check_win_rates(prefs)
    k = prefs.shape[-1]
    eye = torch.eye(k, dtype=torch.bool, device=prefs.device)
    prefs = torch.where(eye, torch.full_like(prefs, 0.5), prefs)
    return prefs.mean(dim=-1)


# ----------------------------------------------------------------------------- rule targets
def sppo_targets(old_logps, win_rates, eta):
    """MWU / SPPO target log-ratios ``rules.mwu(log pi_t, P_hat - 1/2, eta) - log pi_t``.

    Shapes: ``old_logps, win_rates: [B, K]`` -> ``[B, K]`` (defined up to a per-row constant).
    """
    _check_same_shape(2, old_logps=old_logps, win_rates=win_rates)
    _check_win_rates(win_rates)
    return rules.mwu(old_logps, win_rates - 0.5, eta) - old_logps


def mpo_targets(old_logps, win_rates, magnet_logps, eta, alpha):
    """MPO / MMD target log-ratios (Wang et al. 2024): ``rules.mmd(log pi_t, q, eta, alpha,
    log rho) - log pi_t`` with the magnet ``rho`` = the reference policy (reset on a schedule).

    Shapes: ``old_logps, win_rates, magnet_logps: [B, K]`` -> ``[B, K]``.
    """
    _check_same_shape(2, old_logps=old_logps, win_rates=win_rates, magnet_logps=magnet_logps)
    _check_win_rates(win_rates)
    return rules.mmd(old_logps, win_rates - 0.5, eta, alpha, magnet_logps) - old_logps


def inpo_targets(old_logps, win_rates, ref_logps, eta, tau):
    """INPO target log-ratios (Zhang et al. 2024, eq. (6)): ``rules.inpo(log pi_t, q, eta, tau,
    log pi_ref) - log pi_t``. COMAL uses the same inner loss and advances ``pi_ref`` every ``R``
    iterations. Shapes as :func:`mpo_targets`."""
    _check_same_shape(2, old_logps=old_logps, win_rates=win_rates, ref_logps=ref_logps)
    _check_win_rates(win_rates)
    return rules.inpo(old_logps, win_rates - 0.5, eta, tau, ref_logps) - old_logps


comal_targets = inpo_targets


def nash_md_targets(old_logps, win_rates_mixture, ref_logps, eta, tau):
    """Nash-MD target log-ratios (Munos et al. 2024, Sec. 5): ``rules.nash_md(log pi_t, q_mix,
    eta, tau, log pi_ref) - log pi_t`` where ``win_rates_mixture`` are win rates against
    opponents sampled from the geometric mixture ``pi_t^(1-eta tau) pi_ref^(eta tau)``.
    Shapes as :func:`mpo_targets`."""
    _check_same_shape(2, old_logps=old_logps, win_rates=win_rates_mixture, ref_logps=ref_logps)
    _check_win_rates(win_rates_mixture)
    return rules.nash_md(old_logps, win_rates_mixture - 0.5, eta, tau, ref_logps) - old_logps


# ----------------------------------------------------------------------------- losses
def pairwise_regression_loss(logratios, targets, weights=None):
    """Log-partition-free regression of log-ratios onto targets over all response pairs.

    ``L = sum_b sum_{i,j} w_bi w_bj ((r_bi - r_bj) - (t_bi - t_bj))^2 / (2 B)`` with the weights
    normalised per prompt (``w = 1/K`` when ``weights`` is None). By the identity
    ``sum_ij w_i w_j (d_i - d_j)^2 = 2 Var_w(d)`` this is the mean over prompts of the
    ``w``-weighted variance of the residual ``d = r - t``, computed in ``O(K)``.

    Shapes: ``logratios, targets: [B, K]``; ``weights: [B, K]`` non-negative or None; returns a
    scalar. ``targets`` and ``weights`` are treated as constants.
    """
    _check_same_shape(2, logratios=logratios, targets=targets, weights=weights)
    if weights is None:
        weights = torch.full_like(logratios, 1.0 / logratios.shape[-1])
    else:
        if torch.any(weights < 0) or not torch.all(torch.isfinite(weights)):
            raise ValueError("weights must be finite and non-negative.")
        weights = weights.detach() / weights.detach().sum(-1, keepdim=True)
    d = logratios - targets.detach()
    mean = (weights * d).sum(-1, keepdim=True)
    return (weights * (d - mean) ** 2).sum(-1).mean()


def sppo_loss(logps, old_logps, win_rates, eta):
    """Pointwise SPPO loss (Wu et al. 2024, eq. (3.6)).

    ``mean_b (log pi(y_b) - log pi_t(y_b) - eta (P_hat_b - 1/2))^2``: the MWU target with the
    log-partition replaced by ``eta / 2``. Shapes: ``logps, old_logps, win_rates: [B]`` (or any
    common shape); returns a scalar.
    """
    _check_same_shape(None, logps=logps, old_logps=old_logps, win_rates=win_rates)
    _check_win_rates(win_rates)
    _check_positive(eta=eta)
    return ((logps - old_logps.detach() - eta * (win_rates - 0.5)) ** 2).mean()


def sppo_pairwise_loss(logps, old_logps, win_rates, eta, weights=None):
    """Pairwise (log-partition-free) SPPO / MWU loss; minimiser = ``rules.mwu`` step.

    Shapes: ``logps, old_logps, win_rates[, weights]: [B, K]``; returns a scalar.
    """
    _check_positive(eta=eta)
    targets = sppo_targets(old_logps.detach(), win_rates, eta)
    return pairwise_regression_loss(logps - old_logps.detach(), targets, weights)


def mpo_loss(logps, old_logps, win_rates, magnet_logps, eta, alpha, weights=None):
    """Sequence-level MPO regression loss; minimiser = ``rules.mmd`` step with magnet ``rho``.

    Shapes: ``logps, old_logps, win_rates, magnet_logps[, weights]: [B, K]``; scalar.
    """
    _check_positive(eta=eta, alpha=alpha)
    targets = mpo_targets(old_logps.detach(), win_rates, magnet_logps.detach(), eta, alpha)
    return pairwise_regression_loss(logps - old_logps.detach(), targets, weights)


def inpo_loss(logps, old_logps, win_rates, ref_logps, eta, tau, weights=None):
    """INPO loss (pairwise form); minimiser = ``rules.inpo`` step. COMAL's inner loss.

    Shapes: ``logps, old_logps, win_rates, ref_logps[, weights]: [B, K]``; scalar.
    """
    _check_positive(eta=eta, tau=tau)
    targets = inpo_targets(old_logps.detach(), win_rates, ref_logps.detach(), eta, tau)
    return pairwise_regression_loss(logps - old_logps.detach(), targets, weights)


comal_loss = inpo_loss


def nash_md_loss(logps, old_logps, win_rates_mixture, ref_logps, eta, tau, weights=None):
    """Nash-MD loss (pairwise form); minimiser = ``rules.nash_md`` step. Needs ``eta*tau <= 1``.

    Shapes: ``logps, old_logps, win_rates_mixture, ref_logps[, weights]: [B, K]``; scalar.
    """
    _check_positive(eta=eta, tau=tau)
    if eta * tau > 1:
        raise ValueError(f"Nash-MD needs eta * tau <= 1 (the mixture weight); got {eta * tau}.")
    targets = nash_md_targets(old_logps.detach(), win_rates_mixture, ref_logps.detach(), eta, tau)
    return pairwise_regression_loss(logps - old_logps.detach(), targets, weights)


def _k3(logp, logq):
    """Per-token k3 estimator of KL(p || q) from tokens sampled from p: ``e^(lq-lp) - 1 -
    (lq-lp)`` (Schulman 2020); non-negative, zero iff ``lp == lq``."""
    r = logq - logp
    return torch.exp(r) - 1 - r


def mpo_token_loss(token_logps, old_token_logps, magnet_token_logps, mask, win_rates, eta, alpha):
    """Token-level REINFORCE form of MPO with per-token KL to the magnet and to ``pi_t``.

    ``L = mean_b [ -(P_hat_b - 1/2) sum_t log pi(y_bt)
                   + alpha sum_t KL_t(pi || rho) + (1/eta) sum_t KL_t(pi || pi_t) ]``
    where ``KL_t`` is the k3 estimator on the sampled token. Its expected gradient at
    ``pi = pi_t`` is the policy gradient of the MMD objective ``<pi, q> - alpha KL(pi||rho) -
    (1/eta) KL(pi||pi_t)`` for on-policy samples.

    Shapes: ``token_logps, old_token_logps, magnet_token_logps, mask: [B, T]``;
    ``win_rates: [B]``; returns a scalar. ``mask`` is 1 on completion tokens (EOS included).
    """
    _check_same_shape(2, token_logps=token_logps, old_token_logps=old_token_logps,
                      magnet_token_logps=magnet_token_logps, mask=mask)
    if win_rates.shape != token_logps.shape[:1]:
        raise ValueError(f"win_rates must be [B] = {tuple(token_logps.shape[:1])}; got "
                         f"{tuple(win_rates.shape)}.")
    _check_win_rates(win_rates)
    _check_positive(eta=eta, alpha=alpha)
    mask = mask.to(token_logps.dtype)
    pg = -(win_rates - 0.5)[:, None] * token_logps
    kl_magnet = _k3(token_logps, magnet_token_logps.detach())
    kl_old = _k3(token_logps, old_token_logps.detach())
    per_token = pg + alpha * kl_magnet + kl_old / eta
    return (per_token * mask).sum(-1).mean()


def dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
    """DPO (Rafailov et al. 2023, eq. (7)): ``-log sigmoid(beta (r_c - r_r))`` with
    ``r = log pi - log pi_ref``. Shapes: all ``[B]``; scalar."""
    _check_same_shape(1, chosen_logps=chosen_logps, rejected_logps=rejected_logps,
                      ref_chosen_logps=ref_chosen_logps, ref_rejected_logps=ref_rejected_logps)
    _check_positive(beta=beta)
    margin = (chosen_logps - ref_chosen_logps.detach()) - (rejected_logps
                                                           - ref_rejected_logps.detach())
    return -torch.nn.functional.logsigmoid(beta * margin).mean()


def ipo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, tau):
    """IPO (Azar et al. 2023, eq. (17)): ``((r_c - r_r) - 1/(2 tau))^2``. Shapes: all ``[B]``."""
    _check_same_shape(1, chosen_logps=chosen_logps, rejected_logps=rejected_logps,
                      ref_chosen_logps=ref_chosen_logps, ref_rejected_logps=ref_rejected_logps)
    _check_positive(tau=tau)
    margin = (chosen_logps - ref_chosen_logps.detach()) - (rejected_logps
                                                           - ref_rejected_logps.detach())
    return ((margin - 1.0 / (2.0 * tau)) ** 2).mean()


# ----------------------------------------------------------------------------- parameters
#: How each paper's (or its code's) parameters map onto ``(eta, tau)`` of :mod:`gametheory.rules`.
PAPER_PARAMETERS = {
    "sppo": "SPPO code beta = 1/eta (loss (beta^-1 ... ) with P_hat - 1/2 scaled by 1/beta)",
    "comal": "COMAL code eta_c = 1/eta, r = eta * tau",
    "nash_md": "Nash-MD mixture_coef = eta * tau (weight of pi_ref in the geometric mixture)",
    "mpo": "MPO: eta = step size, alpha = temp (magnet strength), magnet reset every R steps",
}


def from_paper(algorithm: str, **params) -> dict:
    """Convert a paper's / its code's parameters to the ``eta``/``tau`` of the rules.

    * ``from_paper("sppo", beta=b)`` -> ``{"eta": 1/b}``
    * ``from_paper("comal", eta_c=e, r=r)`` -> ``{"eta": 1/e, "tau": r*e}``
    * ``from_paper("nash_md", mixture_coef=m, eta=e)`` -> ``{"eta": e, "tau": m/e}``
    * ``from_paper("mpo", eta=e, alpha=a)`` -> ``{"eta": e, "alpha": a}`` (same names)
    """
    def need(*names):
        missing = [n for n in names if n not in params]
        extra = [n for n in params if n not in names]
        if missing or extra:
            raise ValueError(f"{algorithm} takes parameters {names}; missing {missing}, "
                             f"unexpected {extra}.")
        _check_positive(**params)

    if algorithm == "sppo":
        need("beta")
        return {"eta": 1.0 / params["beta"]}
    if algorithm == "comal":
        need("eta_c", "r")
        return {"eta": 1.0 / params["eta_c"], "tau": params["r"] * params["eta_c"]}
    if algorithm == "nash_md":
        need("mixture_coef", "eta")
        if params["mixture_coef"] > 1:
            raise ValueError("mixture_coef must lie in (0, 1].")
        return {"eta": params["eta"], "tau": params["mixture_coef"] / params["eta"]}
    if algorithm == "mpo":
        need("eta", "alpha")
        return {"eta": params["eta"], "alpha": params["alpha"]}
    raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(PAPER_PARAMETERS)}.")
