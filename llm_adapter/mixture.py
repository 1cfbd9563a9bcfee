"""Sampling from Nash-MD's geometric mixture with one resident model.

Nash-MD (Munos et al. 2024, Sec. 7) samples responses from the token-level geometric mixture
``pi_mix(. | prefix) ∝ pi_t(. | prefix)^(1-beta) * pi_ref(. | prefix)^beta`` with
``beta = eta * tau``. :class:`GeometricMixtureProcessor` is a ``transformers`` logits processor:
``generate`` runs the current policy as usual and, at each new token, the processor scores the
same prefix under the reference weights (a :class:`~llm_adapter.logprobs.WeightSnapshot`
swapped into the resident model) and returns the log-probabilities of the mixture, from which
``generate`` then samples. The mixing uses :func:`gametheory.rules.geometric_mixture`, the
function the JAX Nash-MD solver uses.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from gametheory import rules

__all__ = ["GeometricMixtureProcessor"]


class GeometricMixtureProcessor(LogitsProcessor):
    """Turn the current policy's next-token logits into those of the geometric mixture.

    ``prompt_mask``: ``[R, P]`` attention mask of the (left-padded) prompts, one row per
    generated sequence (``num_return_sequences`` rows per prompt); generated tokens are always
    attended. ``beta`` in [0, 1].
    """

    def __init__(self, model, reference, beta: float, prompt_mask: torch.Tensor):
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"the mixture weight beta = eta * tau must lie in [0, 1]; got {beta}.")
        self.model, self.reference, self.beta = model, reference, float(beta)
        self.prompt_mask = prompt_mask

    @torch.no_grad()
    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor):
        if self.beta == 0.0:
            return torch.log_softmax(scores.float(), dim=-1)
        generated = input_ids.shape[1] - self.prompt_mask.shape[1]
        mask = torch.cat([self.prompt_mask,
                          self.prompt_mask.new_ones(input_ids.shape[0], generated)], dim=1)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        with self.reference.swapped_in(self.model):
            ref_logits = self.model(input_ids=input_ids, attention_mask=mask,
                                    position_ids=positions, use_cache=False).logits[:, -1, :]
        current = torch.log_softmax(scores.float(), dim=-1)
        reference = torch.log_softmax(ref_logits.float(), dim=-1)
        return rules.geometric_mixture(current, reference, self.beta).to(scores.dtype)
