"""Sampling from Nash-MD's geometric mixture, with a KV cache for the reference policy.

Nash-MD (Munos et al. 2024, Sec. 7) samples responses from the token-level geometric mixture
``pi_mix(. | prefix) ∝ pi_t(. | prefix)^(1-beta) * pi_ref(. | prefix)^beta`` with
``beta = eta * tau``, i.e. ``log pi_mix = log_softmax((1 - beta) log pi_t + beta log pi_ref)``.
:class:`GeometricMixtureProcessor` is a ``transformers`` logits processor: ``generate`` runs the
current policy as usual (with its own KV cache) and, at each new token, the processor scores the
same prefix under the reference policy and returns the log-probabilities of the mixture, from
which ``generate`` then samples.

The reference forward keeps its own ``transformers.DynamicCache``: the first call of a
generation runs the whole (left-padded) prompt, later calls feed only the new token(s), with the
attention mask extended by ones and ``position_ids = clamp(cumsum(mask) - 1, 0)`` (the positions
a left-padded row would have without padding), so each step costs one token's forward instead of
the whole prefix's. The reference may be a separate module, or the resident module under a
context manager: ``lambda: snapshot.swapped_in(model)`` swaps the frozen weights of a
:class:`~llm_adapter.scoring.logprobs.WeightSnapshot` in (and the live ones back after) around each
reference forward; ``model.disable_adapter`` scores a PEFT model's base model. The mixing uses
:func:`gametheory.rules.geometric_mixture`, the function the JAX Nash-MD solver uses.
"""

from __future__ import annotations

import contextlib
import inspect

import torch
from transformers import DynamicCache, LogitsProcessor

from gametheory import rules

__all__ = ["GeometricMixtureProcessor"]


def _forward_keywords(model) -> tuple[str, str | None]:
    """(name of the cache keyword, name of the logits-to-keep keyword or ``None``) of the
    model's ``forward``: ``cache`` / ``logits_to_keep`` in recent ``transformers``,
    ``past_key_values`` / ``num_logits_to_keep`` in older ones. PEFT wrappers are unwrapped."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        params = inspect.signature(base.forward).parameters
    except (TypeError, ValueError):
        params = {}
    cache_kw = "cache" if "cache" in params else "past_key_values"
    keep_kw = next((n for n in ("logits_to_keep", "num_logits_to_keep") if n in params), None)
    return cache_kw, keep_kw


def _new_cache(model):
    config = getattr(model, "config", None)
    try:
        return DynamicCache(config=config)
    except TypeError:  # older transformers: DynamicCache() takes no config
        return DynamicCache()


class GeometricMixtureProcessor(LogitsProcessor):
    """Turn the current policy's next-token logits into the log-probabilities of the geometric
    mixture ``pi^(1-beta) pi_ref^beta`` (normalised).

    ``reference_model``: the module whose forward gives the reference's logits. ``beta`` in
    [0, 1] (``beta = eta * tau``); ``beta == 0`` returns the current log-softmax without a
    reference forward. ``prompt_mask``: ``[R, P]`` attention mask of the left-padded prompts,
    one row per generated sequence (``k`` rows per prompt, prompt-major, as
    :func:`~llm_adapter.sampling.sampler.generate` lays them out;
    :func:`~llm_adapter.sampling.sampler.pad_prompts` builds it); generated tokens are always
    attended. ``context``: optional zero-argument
    callable returning a context manager entered around each reference forward.
    ``use_cache=False`` recomputes the whole prefix at every token (quadratic; for models without
    cache support and for checking).

    The cache is reset when a new generation starts (``input_ids`` only as long as the prompt,
    not longer than what is cached, or a different number of rows), so one processor may serve
    several ``generate`` calls on the same prompts; :meth:`reset` frees it. Output is float32
    (float64 for float64 scores).

    The old signature ``(model, reference_snapshot, beta, prompt_mask)`` (a
    :class:`~llm_adapter.scoring.logprobs.WeightSnapshot` as second argument) still works: it means
    ``reference_model=model, context=lambda: reference_snapshot.swapped_in(model)``.
    """

    def __init__(self, reference_model, beta, prompt_mask=None, context=None, *,
                 use_cache: bool = True):
        if hasattr(beta, "swapped_in"):  # legacy (model, snapshot, beta, prompt_mask)
            snapshot, beta, prompt_mask = beta, prompt_mask, context
            context = lambda: snapshot.swapped_in(reference_model)
        if prompt_mask is None:
            raise TypeError("GeometricMixtureProcessor needs the prompts' attention mask.")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"the mixture weight beta = eta * tau must lie in [0, 1]; got {beta}.")
        if prompt_mask.dim() != 2:
            raise ValueError("prompt_mask must be [rows, prompt width]; got shape "
                             f"{tuple(prompt_mask.shape)}.")
        self.reference_model, self.beta = reference_model, float(beta)
        self.prompt_mask = prompt_mask
        self.context = context if context is not None else contextlib.nullcontext
        self.use_cache = bool(use_cache)
        self._cache_kw, self._keep_kw = _forward_keywords(reference_model)
        self._mask: torch.Tensor | None = None  # prompt_mask on the scores' device, int64
        self._cache = None
        self._cached_len = 0

    def reset(self) -> None:
        """Drop the reference's KV cache (the next call runs the whole prefix)."""
        self._cache, self._cached_len = None, 0

    @torch.no_grad()
    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor):
        dtype = torch.promote_types(scores.dtype, torch.float32)
        current = torch.log_softmax(scores.to(dtype), dim=-1)
        if self.beta == 0.0:
            return current
        rows, length = input_ids.shape  # host metadata: no device sync
        width = self.prompt_mask.shape[1]
        if rows != self.prompt_mask.shape[0] or length < width:
            raise ValueError(f"input_ids {tuple(input_ids.shape)} does not extend the prompt "
                             f"mask {tuple(self.prompt_mask.shape)}.")
        if self._mask is None or self._mask.device != input_ids.device:
            self._mask = self.prompt_mask.to(device=input_ids.device, dtype=torch.long)
        mask = torch.cat([self._mask, self._mask.new_ones(rows, length - width)], dim=1)
        kwargs = {"attention_mask": mask, "use_cache": self.use_cache}
        start = 0
        if self.use_cache:
            if self._cache is None or length == width or length <= self._cached_len:
                self.reset()
                self._cache = _new_cache(self.reference_model)
            start = self._cached_len
            kwargs[self._cache_kw] = self._cache
        kwargs["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0)[:, start:]
        if self._keep_kw is not None:
            kwargs[self._keep_kw] = 1  # only the last position's logits are needed
        with self.context():
            logits = self.reference_model(input_ids=input_ids[:, start:], **kwargs).logits
        if self.use_cache:
            self._cached_len = length
        reference = torch.log_softmax(logits[:, -1, :].to(dtype), dim=-1)
        return rules.geometric_mixture(current, reference, self.beta)
