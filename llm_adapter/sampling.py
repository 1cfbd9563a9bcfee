"""Reproducible sampling: every response's randomness is its own, whatever the batch it sits in.

Data-parallel runs must sample the same responses as a one-process run over the same global
batch, and a resumed run the same as an uninterrupted one. ``generate``'s sampler draws from the
global RNG in batch order, so the draws of one row depend on which rows share its batch.
:class:`SeededSampler` is a ``transformers`` logits processor that draws each row's next token by
inverse-CDF sampling from the row's own ``torch.Generator`` (seeded by :func:`row_seed` from the
run seed, the iteration and the prompt's position in the data stream) and returns scores that are
``-inf`` except at the drawn token, so greedy decoding emits exactly that token. Sampling is pure
ancestral sampling at ``temperature`` (no top-k / top-p), as the rules assume.
"""

from __future__ import annotations

import torch
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

__all__ = ["SeededSampler", "row_seed", "generate"]

_MOD = (1 << 61) - 1  # a Mersenne prime: seeds stay in int64 range


def row_seed(*parts: int) -> int:
    """A deterministic 61-bit seed from integers (polynomial hash modulo ``2^61 - 1``)."""
    h = 1469598103934665603 % _MOD
    for p in parts:
        h = (h * 1_000_003 + int(p) + 0x9E3779B97F4A7C15) % _MOD
    return h


class SeededSampler(LogitsProcessor):
    """Sample row ``i``'s next token from ``softmax(scores_i / temperature)`` with generator
    ``i``; output scores are 0 at the drawn token and ``-inf`` elsewhere (use with greedy
    decoding). ``seeds``: one integer per generated row."""

    def __init__(self, seeds, temperature: float = 1.0):
        if not temperature > 0:
            raise ValueError(f"temperature must be positive; got {temperature}.")
        self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.temperature = float(temperature)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if scores.shape[0] != len(self.generators):
            raise ValueError(f"{scores.shape[0]} rows but {len(self.generators)} seeds.")
        probs = torch.softmax(scores.double() / self.temperature, dim=-1).cpu()
        cdf = probs.cumsum(-1)
        u = torch.stack([torch.rand((), generator=g, dtype=torch.float64)
                         for g in self.generators])
        tok = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True)
        tok = tok.clamp(max=scores.shape[-1] - 1).to(scores.device)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, tok, 0.0)


@torch.no_grad()
def generate(model, tokenizer, prompts, k: int, seeds, max_new_tokens: int,
             temperature: float = 1.0, processors=()) -> list[list[list[int]]]:
    """``k`` sampled responses per prompt as token-id lists cut after the first EOS.

    ``seeds``: ``len(prompts) * k`` integers, prompt-major. ``processors`` run before the
    sampler (e.g. Nash-MD's geometric mixture); they see ``len(prompts) * k`` rows, prompt-major.
    Prompts are left-padded into one batch.
    """
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        device = next(model.parameters()).device
        enc = tokenizer(list(prompts), return_tensors="pt", padding=True).to(device)
    finally:
        tokenizer.padding_side = side
    gen_cfg = GenerationConfig(do_sample=False, num_beams=1, max_new_tokens=max_new_tokens,
                               pad_token_id=tokenizer.pad_token_id,
                               eos_token_id=tokenizer.eos_token_id)
    ids = enc["input_ids"].repeat_interleave(k, dim=0)
    mask = enc["attention_mask"].repeat_interleave(k, dim=0)
    procs = LogitsProcessorList([*processors, SeededSampler(seeds, temperature)])
    out = model.generate(input_ids=ids, attention_mask=mask, generation_config=gen_cfg,
                         logits_processor=procs)
    gen = out[:, ids.shape[1]:].cpu().tolist()
    responses = []
    for row in gen:
        if tokenizer.eos_token_id in row:
            row = row[: row.index(tokenizer.eos_token_id) + 1]
        responses.append(row)
    return [responses[i * k:(i + 1) * k] for i in range(len(prompts))]
