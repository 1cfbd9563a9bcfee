"""Reproducible sampling: every response's randomness is its own, whatever the batch it sits in.

Data-parallel runs must sample the same responses as a one-process run over the same global
batch, and a resumed run the same as an uninterrupted one. ``generate``'s own sampler draws from
the global RNG in batch order, so the draws of one row would depend on which rows share its
batch. :class:`SeededSampler` is a ``transformers`` logits processor that instead draws row
``i``'s token at generated position ``t`` by inverse-CDF sampling with a *counter-based*
uniform: ``u = hash(seed_i, t)`` (splitmix64, computed with ``int64`` tensor ops on the scores'
device), and the token is the first ``v`` with ``F_i(v) > u`` where ``F_i`` is the cumulative
sum of ``softmax(scores_i / T)`` (float32 probabilities, float64 sums). No per-token host work
(no copy to the host, no Python loop over rows) is needed, and a row's draw depends only on its
seed (from :func:`row_seed`: run seed, generation, prompt index), its position and its logits.
One uniform per row and token costs a softmax and a cumulative sum over the vocabulary, several
times less than Gumbel-max noise for every vocabulary entry (measured on 2 CPU cores, 64 rows x
49152 entries: 32 vs 273 ms per token). The processor returns scores that are ``-inf`` except 0
at the drawn token, so greedy decoding emits exactly that token. Sampling is pure ancestral
sampling at ``temperature`` (no top-k / top-p), as the rules assume.

:func:`generate` left-pads prompt token ids into one batch and runs ``model.generate`` with the
sampler; :func:`pad_prompts` gives the same padded batch (e.g. for the prompt mask of
:class:`~llm_adapter.sampling.mixture.GeometricMixtureProcessor`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

__all__ = ["SeededSampler", "row_seed", "generate", "pad_prompts", "row_uniforms"]

_MOD = (1 << 61) - 1  # a Mersenne prime: seeds stay in int64 range
_U64 = (1 << 64) - 1

# splitmix64 constants (Steele, Lea & Flood 2014), as unsigned 64-bit integers.
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


def row_seed(*parts: int) -> int:
    """A deterministic 61-bit seed from integers (polynomial hash modulo ``2^61 - 1``)."""
    h = 1469598103934665603 % _MOD
    for p in parts:
        h = (h * 1_000_003 + int(p) + 0x9E3779B97F4A7C15) % _MOD
    return h


# ---------------------------------------------------------------------------- counter-based noise
def _signed(x: int) -> int:
    """The int64 with the same 64 bits as the unsigned integer ``x mod 2^64``."""
    x &= _U64
    return x - (1 << 64) if x >> 63 else x


def _mix64_int(z: int) -> int:
    """splitmix64's output function on Python integers (unsigned 64-bit semantics)."""
    z &= _U64
    z = ((z ^ (z >> 30)) * _MIX1) & _U64
    z = ((z ^ (z >> 27)) * _MIX2) & _U64
    return z ^ (z >> 31)


def _srl(z: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 bits (torch's ``>>`` is arithmetic: mask the sign fill)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def _mix64(z: torch.Tensor) -> torch.Tensor:
    """:func:`_mix64_int` on an int64 tensor: the bits equal the unsigned computation because
    int64 multiplication wraps modulo ``2^64`` (two's complement) on CPU and CUDA."""
    z = (z ^ _srl(z, 30)) * _signed(_MIX1)
    z = (z ^ _srl(z, 27)) * _signed(_MIX2)
    return z ^ _srl(z, 31)


def _seed_keys(seeds) -> list[int]:
    """Per-row stream keys ``mix64(seed + golden)`` (int64 bit patterns), computed on the host
    once at construction."""
    return [_signed(_mix64_int(int(s) + _GOLDEN)) for s in seeds]


def _uniforms(keys: torch.Tensor, position: int) -> torch.Tensor:
    """``[R]`` float64 uniforms on [0, 1) from row keys and the generated position: the top 53
    bits of ``mix64(key ^ mix64((t + 1) * MIX2))``. ``position`` is a host integer (from
    shapes only), so nothing is read back from the device."""
    step = _signed(_mix64_int((int(position) + 1) * _MIX2))
    bits = _mix64(keys ^ step)
    return _srl(bits, 11).to(torch.float64) * 2.0**-53


def row_uniforms(seeds, position: int, device=None) -> torch.Tensor:
    """The ``[len(seeds)]`` uniforms :class:`SeededSampler` uses at generated position
    ``position`` (0 for the first new token)."""
    return _uniforms(torch.tensor(_seed_keys(seeds), dtype=torch.int64, device=device), position)


class SeededSampler(LogitsProcessor):
    """Sample row ``i``'s next token from ``softmax(scores_i / temperature)`` with a uniform keyed
    by ``seeds[i]`` and the generated position; return scores that are 0 at the drawn token and
    ``-inf`` elsewhere (use with greedy decoding).

    Inverse CDF: with ``u`` uniform on [0, 1) and ``F`` the cumulative probabilities, the first
    ``v`` with ``F(v) > u F(V)`` is distributed as ``softmax(l / T)`` (``F(V)`` normalises the
    float rounding of the sum). Tokens masked to ``-inf`` by earlier processors have probability
    0 and are never drawn. Everything runs on the scores' device.

    ``seeds``: one integer per generated row (e.g. :func:`row_seed` values, ``< 2^61``).
    ``prompt_width``: the (padded) prompt length, so that ``t = input_ids.shape[1] -
    prompt_width``; if ``None`` it is taken from the first call of each generation (a call whose
    ``input_ids`` is not longer than the previous call's starts a new generation).
    """

    def __init__(self, seeds, temperature: float = 1.0, prompt_width: int | None = None):
        if not temperature > 0:
            raise ValueError(f"temperature must be positive; got {temperature}.")
        self._keys_host = _seed_keys(seeds)
        self.temperature = float(temperature)
        self.fixed_prompt_width = prompt_width
        self.prompt_width = prompt_width
        self._keys: torch.Tensor | None = None  # on the scores' device after the first call
        self._last_len: int | None = None

    @property
    def num_rows(self) -> int:
        return len(self._keys_host)

    def _device_keys(self, device) -> torch.Tensor:
        if self._keys is None or self._keys.device != device:
            self._keys = torch.tensor(self._keys_host, dtype=torch.int64, device=device)
        return self._keys

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        rows, length = input_ids.shape  # shapes are host metadata: no device sync
        if scores.shape[0] != self.num_rows:
            raise ValueError(f"SeededSampler got {scores.shape[0]} rows of scores but "
                             f"{self.num_rows} seeds; pass one seed per generated row.")
        if self._last_len is not None and length <= self._last_len:  # a new generation
            self.prompt_width = self.fixed_prompt_width
        if self.prompt_width is None:
            self.prompt_width = length
        self._last_len = length
        position = length - self.prompt_width
        if position < 0:
            raise ValueError(f"input_ids has {length} columns, fewer than the prompt width "
                             f"{self.prompt_width}.")
        u = _uniforms(self._device_keys(scores.device), position)
        dtype = torch.promote_types(scores.dtype, torch.float32)
        probs = torch.softmax(scores.to(dtype) / self.temperature, dim=-1)
        cdf = probs.cumsum(-1, dtype=torch.float64)
        tok = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True)
        tok = tok.clamp_(max=scores.shape[-1] - 1)
        return torch.full_like(scores, float("-inf")).scatter_(1, tok, 0.0)


# ---------------------------------------------------------------------------- generation
def _prompt_token_ids(tokenizer, prompt_ids) -> list[list[int]]:
    out = []
    for i, p in enumerate(prompt_ids):
        ids = (tokenizer(p, add_special_tokens=True)["input_ids"] if isinstance(p, str)
               else [int(t) for t in p])
        if not ids:
            raise ValueError(f"prompt {i} has no tokens.")
        out.append(ids)
    return out


def pad_prompts(tokenizer, prompt_ids) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-pad prompts into ``(input_ids, attention_mask)`` ``[len(prompt_ids), width]`` CPU
    tensors with ``tokenizer.pad_token_id`` (EOS if there is none). ``prompt_ids``: token-id
    lists, used as given (no special tokens added), or strings (tokenised with
    ``add_special_tokens=True``)."""
    ids = _prompt_token_ids(tokenizer, prompt_ids)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pad is None:
        raise ValueError("the tokenizer has neither a pad nor an EOS token to pad prompts with.")
    width = max((len(p) for p in ids), default=0)
    input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in ids], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in ids], dtype=torch.long)
    return input_ids.reshape(len(ids), width), mask.reshape(len(ids), width)


@torch.no_grad()
def generate(model, tokenizer, prompt_ids: Sequence, k: int, seeds, max_new_tokens: int,
             temperature: float = 1.0, processors=()) -> list[list[list[int]]]:
    """``k`` sampled responses per prompt, as ``[len(prompt_ids)][k]`` token-id lists cut after
    the first EOS.

    ``prompt_ids``: a sequence of prompts as token-id lists, already tokenised with exactly the
    special tokens wanted (the primary form); a plain string is also accepted and tokenised with
    ``tokenizer(text, add_special_tokens=True)``. Prompts are left-padded into one batch
    (:func:`pad_prompts`) with an attention mask, and each is repeated ``k`` times, prompt-major.
    ``seeds``: ``len(prompt_ids) * k`` integers, prompt-major (row ``i * k + j`` is response ``j``
    of prompt ``i``); a response depends only on its seed, its prompt and the model. Decoding
    runs on the model's device; the only device-to-host copy is of the finished token block.
    ``processors`` run before the sampler (e.g. Nash-MD's geometric mixture); they see
    ``len(prompt_ids) * k`` rows, prompt-major.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}.")
    seeds = list(seeds)
    if len(seeds) != len(prompt_ids) * k:
        raise ValueError(f"generate needs len(prompt_ids) * k = {len(prompt_ids) * k} seeds "
                         f"(prompt-major); got {len(seeds)}.")
    device = next(model.parameters()).device
    ids, mask = pad_prompts(tokenizer, prompt_ids)
    ids = ids.to(device).repeat_interleave(k, dim=0)
    mask = mask.to(device).repeat_interleave(k, dim=0)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    gen_cfg = GenerationConfig(do_sample=False, num_beams=1, max_new_tokens=max_new_tokens,
                               pad_token_id=pad, eos_token_id=tokenizer.eos_token_id)
    sampler = SeededSampler(seeds, temperature, prompt_width=ids.shape[1])
    procs = LogitsProcessorList([*processors, sampler])
    out = model.generate(input_ids=ids, attention_mask=mask, generation_config=gen_cfg,
                         logits_processor=procs)
    gen = out[:, ids.shape[1]:].tolist()
    eos = tokenizer.eos_token_id
    responses = []
    for row in gen:
        if eos in row:
            row = row[: row.index(eos) + 1]
        responses.append(row)
    return [responses[i * k:(i + 1) * k] for i in range(len(prompt_ids))]
