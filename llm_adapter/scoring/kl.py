"""KL estimates that cannot be negative: what the trainer logs.

A raw Monte-Carlo estimate ``mean(log p(y) - log q(y))`` over samples ``y ~ p`` is unbiased for
``KL(p || q)`` but can be negative on a finite sample. Logged instead:

* :func:`k3_kl`: Schulman's (2020) "k3" estimator summed over the tokens of each sampled
  sequence, ``sum_t (r_t - 1 - log r_t)`` with ``r_t = q(y_t | y_<t) / p(y_t | y_<t)``. Each term is
  ``>= 0`` (``x - 1 >= log x``), and its expectation under ``y_t ~ p(. | y_<t)`` is the token KL,
  so the sum is an unbiased estimate of the sequence ``KL(p || q)`` (chain rule of KL).
* :func:`token_kl`: the exact token-level ``sum_t KL(p(. | y_<t) || q(. | y_<t))`` on the prefixes
  of the sampled sequences, from full next-token logits.
"""

from __future__ import annotations

import torch

__all__ = ["k3_kl", "token_kl"]


def _check(logp: torch.Tensor, logq: torch.Tensor, mask: torch.Tensor | None) -> None:
    if logp.shape != logq.shape:
        raise ValueError(f"logp and logq must have one shape; got {tuple(logp.shape)} and "
                         f"{tuple(logq.shape)}.")
    if mask is not None and mask.shape != logp.shape[:mask.ndim]:
        raise ValueError(f"mask must be [B, T] = {tuple(logp.shape[:2])}; got {tuple(mask.shape)}.")


def k3_kl(logp: torch.Tensor, logq: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sequence k3 estimate of ``KL(p || q)`` from tokens sampled from ``p``.

    ``logp, logq: [B, T]`` log-probabilities of the sampled tokens under ``p`` and ``q``;
    ``mask: [B, T]`` (1 on completion tokens) or None. Returns ``[B]``, every entry ``>= 0``:
    each token term ``expm1(d) - d`` with ``d = logq - logp`` is ``>= 0`` mathematically and is
    clamped at 0 against rounding. Non-finite inputs raise a ``ValueError``.
    """
    _check(logp, logq, mask)
    d = (logq - logp).double()
    if mask is not None:
        d = torch.where(mask.bool(), d, torch.zeros_like(d))
    if not torch.all(torch.isfinite(d)):
        raise ValueError("k3_kl got non-finite log-probabilities on masked-in tokens.")
    per_token = (torch.expm1(d) - d).clamp_min(0.0)
    return per_token.sum(-1).to(logp.dtype)


def token_kl(logits_p: torch.Tensor, logits_q: torch.Tensor,
             mask: torch.Tensor | None = None) -> torch.Tensor:
    """Exact ``sum_t KL(p(. | prefix_t) || q(. | prefix_t))`` per sequence.

    ``logits_p, logits_q: [B, T, V]`` next-token logits of the two policies on the same
    prefixes; ``mask: [B, T]`` or None. Returns ``[B]``, ``>= 0`` (clamped against rounding).
    """
    _check(logits_p, logits_q, mask)
    lp = torch.log_softmax(logits_p.double(), dim=-1)
    lq = torch.log_softmax(logits_q.double(), dim=-1)
    # Written out rather than F.kl_div(lq, lp, log_target=True), which is NaN wherever p has a
    # -inf log-probability (a masked token): 0 * (-inf - lq). Here such tokens add 0.
    terms = torch.where(torch.isfinite(lp), lp.exp() * (lp - lq), torch.zeros_like(lp))
    per_token = terms.sum(-1).clamp_min(0.0)
    if mask is not None:
        per_token = per_token * mask.to(per_token.dtype)
    return per_token.sum(-1).to(logits_p.dtype)
