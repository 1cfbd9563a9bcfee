"""Sequence log-probabilities of completions under a causal LM, and frozen-policy caches.

* :func:`encode` builds right-padded ``prompt + completion (+ EOS)`` rows with a completion mask.
* :func:`completion_logps` sums the log-probabilities of completion tokens only (prompt and
  padding masked, EOS kept); the log-softmax runs in (at least) float32 even when the model runs
  in bf16.
* :func:`concatenated_logps` scores chosen and rejected completions in one forward pass.
* :class:`WeightSnapshot` stores a frozen policy (pi_t, a reference, a magnet) as a copy of the
  *trainable* weights only (LoRA adapters, or every weight for full fine-tuning) on the host, and
  swaps it into the one resident model to score it, so only the trained model sits in device
  memory. :class:`LogProbCache` memoises frozen policies' log-probs of sampled responses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch

from ..data.prompts import prompt_token_ids

__all__ = ["encode", "completion_logps", "concatenated_logps", "WeightSnapshot",
           "LogProbCache"]


def _check_prompts(prompts, completions=None, allow_ids: bool = False) -> None:
    if isinstance(prompts, str) or not isinstance(prompts, Sequence):
        raise ValueError("prompts must be a list of strings.")
    if len(prompts) == 0:
        raise ValueError("prompts is empty; pass at least one prompt.")
    for i, p in enumerate(prompts):
        if allow_ids and isinstance(p, (list, tuple)) and p and all(
                isinstance(t, int) for t in p):
            continue
        if not isinstance(p, str) or not p.strip():
            raise ValueError(f"prompt {i} is empty or not a string: {p!r}.")
    if completions is not None and len(completions) != len(prompts):
        raise ValueError(f"batch size mismatch: {len(prompts)} prompts but {len(completions)} "
                         "completions.")


def _token_ids(tokenizer, text_or_ids, add_special_tokens: bool) -> list[int]:
    if isinstance(text_or_ids, str):
        return list(tokenizer(text_or_ids, add_special_tokens=add_special_tokens)["input_ids"])
    return [int(t) for t in text_or_ids]


def encode(tokenizer, prompts: Sequence[str], completions: Sequence, add_eos: bool = True,
           max_length: int | None = None, device=None) -> dict:
    """Right-padded ``prompt + completion`` rows.

    ``prompts[i]`` is a string or a list of token ids; strings are tokenised by
    :func:`llm_adapter.data.prompts.prompt_token_ids` (special tokens exactly once: a chat-templated
    :class:`~llm_adapter.data.prompts.Prompt` without added specials, plain text with them).
    ``completions[i]`` is a string (tokenised without special tokens) or a list of token ids
    (e.g. straight from ``generate``). ``add_eos`` appends ``tokenizer.eos_token_id`` unless the
    completion already ends with it. Returns ``input_ids, attention_mask, completion_mask``, all
    ``[B, T]`` (``completion_mask`` is 1 exactly on completion tokens incl. EOS). Completions
    are truncated from the right to fit ``max_length``.
    """
    _check_prompts(prompts, completions, allow_ids=True)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pad is None:
        raise ValueError("the tokenizer has neither a pad nor an EOS token.")
    rows, masks = [], []
    for p, c in zip(prompts, completions):
        p_ids = prompt_token_ids(tokenizer, p)
        c_ids = _token_ids(tokenizer, c, add_special_tokens=False)
        if add_eos and tokenizer.eos_token_id is not None and (
                not c_ids or c_ids[-1] != tokenizer.eos_token_id):
            c_ids = c_ids + [tokenizer.eos_token_id]
        ids = p_ids + c_ids
        if max_length is not None:
            ids = ids[:max_length]
        rows.append(ids)
        masks.append([0] * len(p_ids) + [1] * (len(ids) - len(p_ids)))
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    completion = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (r, m) in enumerate(zip(rows, masks)):
        input_ids[i, :len(r)] = torch.tensor(r)
        attention[i, :len(r)] = 1
        completion[i, :len(m)] = torch.tensor(m)
    out = {"input_ids": input_ids, "attention_mask": attention, "completion_mask": completion}
    return {k: v.to(device) for k, v in out.items()} if device is not None else out


def completion_logps(model, input_ids, attention_mask, completion_mask, per_token: bool = False):
    """Summed log-probs of completion tokens, ``[B]`` (or per-token ``([B, T-1], mask)``).

    Token ``t`` is scored by the logits at ``t-1``; prompt and padding positions contribute
    exactly 0 (they are removed with ``where``, so a non-finite logit there cannot leak). The
    log-softmax is taken in float32 for bf16 / fp16 models (float64 models stay float64).
    """
    if input_ids.shape != attention_mask.shape or input_ids.shape != completion_mask.shape:
        raise ValueError("input_ids, attention_mask and completion_mask must have one shape; got "
                         f"{tuple(input_ids.shape)}, {tuple(attention_mask.shape)}, "
                         f"{tuple(completion_mask.shape)}.")
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1]
    if logits.dtype not in (torch.float32, torch.float64):  # bf16 / fp16: upcast
        logits = logits.float()
    targets = input_ids[:, 1:]
    tok = logits.gather(-1, targets[..., None]).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    mask = (completion_mask[:, 1:] > 0) & (attention_mask[:, 1:] > 0)
    tok = torch.where(mask, tok, torch.zeros_like(tok))
    if per_token:
        return tok, mask
    return tok.sum(-1)


def concatenated_logps(model, tokenizer, prompts, chosen, rejected, device=None, **kw):
    """Log-probs of ``chosen`` and ``rejected`` completions (``[B]`` each) in one forward pass
    over the ``2B`` concatenated rows."""
    _check_prompts(prompts, chosen)
    if len(rejected) != len(chosen):
        raise ValueError(f"batch size mismatch: {len(chosen)} chosen vs {len(rejected)} "
                         "rejected.")
    batch = encode(tokenizer, list(prompts) * 2, list(chosen) + list(rejected), device=device,
                   **kw)
    logps = completion_logps(model, **batch)
    b = len(prompts)
    return logps[:b], logps[b:]


def _local(p: torch.Tensor) -> torch.Tensor:
    """This process's shard of a parameter (``DTensor.to_local()`` under FSDP2), else ``p``."""
    return p.to_local() if hasattr(p, "to_local") else p


class WeightSnapshot:
    """A frozen copy of a model's trainable weights, kept on ``storage`` (host by default).

    For a PEFT LoRA model only the adapter weights are copied; for full fine-tuning all weights.
    Under FSDP2 each process keeps (and swaps) its own shard of every parameter.
    ``with snapshot.swapped_in(model): ...`` temporarily loads the frozen weights into the
    resident model (e.g. to score the reference policy) and restores the live weights after.
    """

    def __init__(self, model: torch.nn.Module, storage="cpu"):
        self.tensors = {n: _local(p).detach().to(storage, copy=True)
                        for n, p in model.named_parameters() if p.requires_grad}
        if not self.tensors:
            raise ValueError("the model has no trainable parameters to snapshot.")

    def state_dict(self) -> dict:
        return dict(self.tensors)

    @classmethod
    def from_state_dict(cls, tensors: dict) -> WeightSnapshot:
        self = cls.__new__(cls)
        self.tensors = {k: v.detach().clone() for k, v in tensors.items()}
        return self

    @contextlib.contextmanager
    def swapped_in(self, model: torch.nn.Module):
        params = dict(model.named_parameters())
        missing = [n for n in self.tensors if n not in params]
        if missing:
            raise ValueError(f"snapshot does not match the model: missing {missing[:3]}...")
        live = {}
        with torch.no_grad():
            for n, t in self.tensors.items():
                p = _local(params[n])
                live[n] = p.detach().to("cpu", copy=True)
                p.copy_(t.to(p.device, p.dtype))
        try:
            yield model
        finally:
            with torch.no_grad():
                for n, t in live.items():
                    p = _local(params[n])
                    p.copy_(t.to(p.device, p.dtype))


class LogProbCache:
    """Memoised log-probs of frozen policies: ``(policy, prompt, completion ids) -> float``.

    ``get(policy, prompts, completions, compute)`` returns a ``[B]`` float32 tensor, calling
    ``compute(prompts_missing, completions_missing) -> [M]`` only for the uncached rows.
    ``clear(policy)`` drops a policy's entries (e.g. when the magnet is reset).
    """

    def __init__(self):
        self._store: dict = {}

    def __len__(self) -> int:
        return len(self._store)

    def clear(self, policy: str | None = None) -> None:
        if policy is None:
            self._store.clear()
        else:
            self._store = {k: v for k, v in self._store.items() if k[0] != policy}

    def get(self, policy: str, prompts, completions, compute) -> torch.Tensor:
        _check_prompts(prompts, completions)
        keys = [(policy, p, c if isinstance(c, str) else tuple(int(t) for t in c))
                for p, c in zip(prompts, completions)]
        todo = [i for i, k in enumerate(keys) if k not in self._store]
        if todo:
            values = compute([prompts[i] for i in todo], [completions[i] for i in todo])
            for i, v in zip(todo, values.detach().float().cpu().tolist()):
                self._store[keys[i]] = v
        return torch.tensor([self._store[k] for k in keys], dtype=torch.float32)
