"""Where a population member's responses come from: a model sampled with fixed seeds, a
checkpoint folder, or an enumerable toy LM's exact distribution.

* :func:`sample_responses`: ``k`` responses per prompt from a causal LM with
  :func:`llm_adapter.sampling.generate`; response ``j`` of a prompt uses the seed
  ``row_seed(seed, tag, crc32(prompt text), j, salt)``, independent of batching. Members of a
  population get different ``salt`` s (from their names): were two policies sampled with the
  same noise, close policies would draw identical responses, and a pair judged on coupled
  samples is not a pair of independent draws, so the win rate would be pulled towards 1/2.
* :func:`load_checkpoint`: ``(model, tokenizer)`` from a checkpoint folder the trainer wrote: a
  full model folder (``config.json`` + weights) or a PEFT adapter folder
  (``adapter_config.json``) on a base model (a folder, or an in-memory module that is copied).
* :func:`toy_responses`: the responses of :class:`~llm_adapter.toy.ToyLM` (token-id lists, index
  order) and :func:`toy_samples`: ``k`` samples per prompt from a toy distribution; a toy policy
  enters a population either exactly (``Population.add_distribution(name, toy_responses(),
  probs)``) or by its samples.
"""

from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import torch

from ..data.prompts import prepare_prompts, prompt_token_ids
from ..sampling.sampler import generate, row_seed

__all__ = ["sample_responses", "load_checkpoint", "checkpoint_source", "toy_responses",
           "toy_samples", "name_salt", "SAMPLE_TAG"]

#: Stream tag of evaluation samples in :func:`row_seed` (training uses generations >= 0 and
#: ``evaluate`` -1 / -2).
SAMPLE_TAG = -3


def _prompt_seed(prompt) -> int:
    return zlib.crc32(str(prompt).encode()) + (1 << 40)


def name_salt(name: str) -> int:
    """The sampling salt of a population member called ``name``."""
    return zlib.crc32(name.encode())


@torch.no_grad()
def sample_responses(model, tokenizer, prompts, k: int = 4, seed: int = 0,
                     max_new_tokens: int = 64, temperature: float = 1.0,
                     max_prompt_length: int | None = None, batch_size: int = 8,
                     sample=None, salt: int = 0) -> list[list[list[int]]]:
    """``[len(prompts)][k]`` token-id responses of ``model`` (cut after EOS).

    ``prompts``: strings, conversations or prepared prompts (chat-templated with ``tokenizer``
    when it has a template: :func:`~llm_adapter.data.prompts.prepare_prompts`). Prompts go in
    batches of ``batch_size``. ``sample``: instead of ``generate`` on ``model``, a callable
    ``sample(prompts, k, seeds)`` (e.g. ``SelfPlayTrainer.sample``) that gets the prepared
    prompts and one seed per response, prompt-major. ``salt``: an integer that makes this
    policy's noise independent of other policies' (see the module docstring).
    """
    if not (isinstance(k, int) and k >= 1):
        raise ValueError(f"k (samples per prompt) must be a positive integer; got {k!r}.")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    prepared = prepare_prompts(prompts, tokenizer)
    out = []
    for s in range(0, len(prepared), batch_size):
        group = prepared[s:s + batch_size]
        seeds = [row_seed(seed, SAMPLE_TAG, _prompt_seed(p), j, salt) for p in group
                 for j in range(k)]
        if sample is not None:
            out += sample(group, k, seeds)
            continue
        model.eval()
        ids = [prompt_token_ids(tokenizer, p, max_prompt_length) for p in group]
        out += generate(model, tokenizer, ids, k, seeds, max_new_tokens, temperature)
    return out


def _is_adapter(path: Path) -> bool:
    return (path / "adapter_config.json").is_file()


def checkpoint_source(path, base=None) -> str:
    """A string naming the weights of checkpoint ``path`` (its resolved path and the sizes and
    modification times of its weight files, and the base model of an adapter): the key under
    which a population caches the checkpoint's samples."""
    if not Path(path).exists():  # a hub id: its name
        return json.dumps({"path": str(path), "files": [], "base": None})
    path = Path(path).resolve()
    files = sorted(f for f in path.iterdir() if f.suffix in (".safetensors", ".bin", ".gguf")
                   or f.name.endswith(".json")) if path.is_dir() else [path]
    stamp = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    if base is None or isinstance(base, (str, Path)):
        base_key = None if base is None else (str(Path(base).resolve()) if Path(base).exists()
                                              else str(base))
    else:  # a module: its source folder if transformers recorded one
        base_key = getattr(base, "name_or_path", "") or f"module:{id(base)}"
    return json.dumps({"path": str(path), "files": stamp, "base": base_key})


def load_checkpoint(path, base=None, dtype=None, device=None):
    """``(model, tokenizer)`` of a checkpoint folder, in eval mode.

    A full model folder (``config.json``), a ``.gguf`` file or a hub id loads with
    :func:`llm_adapter.models.load_model`. A PEFT adapter folder (``adapter_config.json``) loads
    on ``base``: a model folder / hub id (default: the adapter's ``base_model_name_or_path``) or
    an in-memory base module, which is deep-copied so that the adapters of several checkpoints
    do not stack. The tokenizer is the checkpoint's own if it saved one, else the base's.
    """
    from .. import models

    path = Path(path)
    if not (path.is_dir() and _is_adapter(path)):  # load_model says what is missing
        model, tokenizer = models.load_model(path, dtype=dtype, device=device)
        return model.eval(), tokenizer
    import peft

    tokenizer = None
    if base is None:
        base = json.loads((path / "adapter_config.json").read_text()).get(
            "base_model_name_or_path")
        if not base:
            raise ValueError(f"{path} is a LoRA adapter whose adapter_config.json names no base "
                             "model; give the base model (a folder) explicitly.")
    if isinstance(base, torch.nn.Module):
        base_model = copy.deepcopy(base)
    else:
        base_model, tokenizer = models.load_model(base, dtype=dtype, device=device)
    if (path / "tokenizer_config.json").is_file():
        tokenizer = models.load_tokenizer(path)
    if tokenizer is None:
        raise ValueError(f"{path} holds no tokenizer and the base model is a module; save the "
                         "tokenizer with the adapter.")
    model = peft.PeftModel.from_pretrained(base_model, str(path))
    if device is not None:
        model.to(device)
    return model.eval(), tokenizer


def toy_responses(vocab_size: int = 3, length: int = 2) -> list[list[int]]:
    """Every response of the toy LM (:class:`~llm_adapter.toy.ToyLM`) as token-id lists, in
    index order (``index = sum_l token_l * vocab_size^(length-1-l)``)."""
    from ..toy import ToyLM

    return ToyLM(vocab_size, length).responses().tolist()


def toy_samples(log_probs, num_prompts: int, k: int, seed: int = 0, vocab_size: int = 3,
                length: int = 2) -> list[list[list[int]]]:
    """``[num_prompts][k]`` samples (token-id lists) of the toy distribution ``exp(log_probs)``,
    from a ``torch.Generator`` seeded with ``seed``."""
    from ..toy import ToyLM

    model = ToyLM(vocab_size, length).set_log_probs(torch.as_tensor(log_probs,
                                                                    dtype=torch.float64))
    gen = torch.Generator().manual_seed(seed)
    tokens = model.sample(num_prompts * k, generator=gen).reshape(num_prompts, k, length)
    return tokens.tolist()


def _as_lists(responses: Sequence) -> list[list]:
    """Responses as JSON-ready nested lists (token-id lists, strings or integers)."""
    out = []
    for group in responses:
        row = []
        for r in group:
            if isinstance(r, (str, int)):  # text, or a response class (MatrixOracle)
                row.append(r)
            elif isinstance(r, torch.Tensor):
                row.append([int(t) for t in r.tolist()])
            else:
                row.append([int(t) for t in r])
        out.append(row)
    return out
