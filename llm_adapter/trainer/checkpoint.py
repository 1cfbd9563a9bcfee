"""Checkpoint folders that Hugging Face loaders read directly, plus the trainer state to resume.

A checkpoint folder ``output_dir/checkpoint-<step>/`` holds

* the model as ``save_pretrained`` writes it: a PEFT adapter (``adapter_config.json``,
  ``adapter_model.safetensors``; load with ``peft.PeftModel.from_pretrained(base, folder)``) or a
  full model (``config.json``, ``model.safetensors``; load with
  ``AutoModelForCausalLM.from_pretrained(folder)``), and the tokenizer;
* ``reference.safetensors`` and ``initial.safetensors``: the frozen reference / magnet and the
  initial policy (trainable weights only);
* ``optimizer.pt`` (and ``scaler.pt`` under fp16) and ``selfplay_state.pt``: iteration, history,
  cached initial-policy samples, the config and the RNG states. Everything is read back with
  ``torch.load(weights_only=True)``.

Resuming from a folder on one process reproduces the uninterrupted run bit for bit
(``tests/llm_adapter/test_llm_checkpoint.py``).

:func:`rotate_checkpoints` implements ``save_total_limit`` (delete the oldest
``checkpoint-<step>`` folders), and :func:`save_merged_model` exports a LoRA run as one plain
transformers model folder (adapter merged into a copy of the base weights).
"""

from __future__ import annotations

import copy
import numbers
import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch

from ..models import is_peft_model

__all__ = ["is_peft_model", "save_model", "load_model_weights", "save_state", "load_state",
           "latest_checkpoint", "rotate_checkpoints", "sorted_checkpoints", "save_merged_model",
           "STATE_FILE"]

STATE_FILE = "selfplay_state.pt"


def save_model(model, tokenizer, path, state_dict=None, is_main_process: bool = True) -> Path:
    """``save_pretrained`` the (unwrapped) ``model`` and its ``tokenizer`` into ``path``.

    ``state_dict``: the full state dict when the model is sharded (FSDP / DeepSpeed ZeRO-3,
    from ``accelerator.get_state_dict``); None otherwise.
    """
    path = Path(path)
    if is_main_process:
        path.mkdir(parents=True, exist_ok=True)
        kw = {} if state_dict is None else {"state_dict": state_dict}
        model.save_pretrained(str(path), safe_serialization=True, **kw)
        if tokenizer is not None:
            tokenizer.save_pretrained(str(path))
    return path


def load_model_weights(model, path) -> None:
    """Load the weights written by :func:`save_model` back into ``model`` in place."""
    from safetensors.torch import load_file

    path = Path(path)
    if is_peft_model(model):
        from peft import set_peft_model_state_dict

        file = path / "adapter_model.safetensors"
        if not file.exists():
            raise ValueError(f"{path} holds no adapter_model.safetensors; it was not written for a "
                             "PEFT model.")
        result = set_peft_model_state_dict(model, load_file(str(file)))
        bad = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k]
        if bad:
            raise ValueError(f"adapter weights do not match the model: {bad[:3]}...")
        return
    files = sorted(path.glob("model*.safetensors"))
    if not files:
        raise ValueError(f"{path} holds no model*.safetensors; it was not written by save_model.")
    state = {}
    for f in files:
        state.update(load_file(str(f)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    lost = sorted(trainable & set(missing))
    tied = {k for k in lost if "lm_head" in k and getattr(model.config, "tie_word_embeddings",
                                                          False)}
    if set(lost) - tied or unexpected:
        raise ValueError(f"checkpoint does not match the model: missing {lost[:3]}, unexpected "
                         f"{list(unexpected)[:3]}.")


def _rng_state() -> dict:
    np_state = np.random.get_state()  # noqa: NPY002 (the global RNG user code may use)
    return {"python": random.getstate(), "torch": torch.get_rng_state(),
            "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)),
                      *np_state[2:])}


def _set_rng_state(state: dict) -> None:
    random.setstate(_as_tuple(state["python"]))
    torch.set_rng_state(state["torch"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))  # noqa: NPY002


def _as_tuple(x):
    return tuple(_as_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x


def save_state(path, state: dict, optimizer, reference, initial, scaler=None) -> None:
    """Write the trainer state next to the model (main process only)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    # frozen policies (llm_adapter.scoring.frozen): their state_dict is what restores them
    # (empty for a disabled adapter: the base model is part of the model folder)
    # (None: the run keeps no frozen policy)
    for name, frozen in (("reference", reference), ("initial", initial)):
        tensors = frozen.state_dict() if frozen is not None else {}
        save_file({n: t.contiguous() for n, t in tensors.items()},
                  str(path / f"{name}.safetensors"))
    torch.save(optimizer.state_dict(), path / "optimizer.pt")
    if scaler is not None:
        torch.save(scaler.state_dict(), path / "scaler.pt")
    torch.save({**state, "rng": _rng_state()}, path / STATE_FILE)


def load_state(path) -> dict:
    """Read what :func:`save_state` wrote: ``{"state", "optimizer", "reference", "initial",
    "scaler"}``; restores the RNG states as a side effect."""
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / STATE_FILE).exists():
        raise ValueError(f"{path} is not a self-play checkpoint (no {STATE_FILE}).")
    state = torch.load(path / STATE_FILE, weights_only=True, map_location="cpu")
    _set_rng_state(state.pop("rng"))
    scaler = path / "scaler.pt"
    return {"state": state,
            "optimizer": torch.load(path / "optimizer.pt", weights_only=True, map_location="cpu"),
            "reference": load_file(str(path / "reference.safetensors")),
            "initial": load_file(str(path / "initial.safetensors")),
            "scaler": torch.load(scaler, weights_only=True) if scaler.exists() else None}


def latest_checkpoint(output_dir) -> Path | None:
    """The ``checkpoint-<step>`` folder with the largest step under ``output_dir`` (or None)."""
    best, best_step = None, -1
    for p in Path(output_dir).glob("checkpoint-*"):
        m = re.fullmatch(r"checkpoint-(\d+)", p.name)
        if m and (p / STATE_FILE).exists() and int(m.group(1)) > best_step:
            best, best_step = p, int(m.group(1))
    return best


def sorted_checkpoints(output_dir) -> list[Path]:
    """The ``checkpoint-<step>`` folders directly under ``output_dir`` (names matching
    ``checkpoint-\\d+`` exactly), oldest (smallest step) first; ``[]`` if there are none."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return []
    found = []
    for p in output_dir.iterdir():
        m = re.fullmatch(r"checkpoint-(\d+)", p.name)
        if m and p.is_dir():
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found, key=lambda t: t[0])]


def rotate_checkpoints(output_dir, save_total_limit: int | None, keep=None) -> list[Path]:
    """Delete the oldest ``checkpoint-<step>`` folders of ``output_dir`` so that at most
    ``save_total_limit`` remain; returns the deleted folders, oldest first.

    Age is the step number in the name (not the file time); other files and folders are never
    touched. ``save_total_limit`` None or 0 keeps every checkpoint (as ``transformers``'
    ``save_total_limit``); a negative or non-integer limit raises ``ValueError``. ``keep``: a
    folder that is never deleted (e.g. the best checkpoint); it counts toward the limit. The
    newest checkpoint is never deleted either (a run resumes from it), so with ``keep`` set to an
    older folder and a limit of 1, two folders remain. Call on the main process only.
    """
    if save_total_limit is None:
        return []
    if isinstance(save_total_limit, bool) or not isinstance(save_total_limit,
                                                            numbers.Integral):
        raise ValueError(f"save_total_limit must be a whole number or None; got "
                         f"{save_total_limit!r}.")
    if save_total_limit < 0:
        raise ValueError(f"save_total_limit must be >= 0 (0 or None keeps every checkpoint); got "
                         f"{save_total_limit}.")
    if save_total_limit == 0:
        return []
    folders = sorted_checkpoints(output_dir)
    protected = {folders[-1].resolve()} if folders else set()
    if keep is not None:
        protected.add(Path(keep).resolve())
    excess = len(folders) - save_total_limit
    deleted = []
    for p in folders:
        if excess <= 0:
            break
        if p.resolve() in protected:
            continue
        shutil.rmtree(p)
        deleted.append(p)
        excess -= 1
    return deleted


def save_merged_model(model, tokenizer, path, is_main_process: bool = True) -> Path:
    """Save ``model`` as one plain transformers model folder that
    ``AutoModelForCausalLM.from_pretrained(path)`` loads without peft.

    For a ``peft.PeftModel`` (LoRA...), the adapter is merged into a *deep copy* of the model
    (``merge_and_unload``) and the copy is saved; the live model keeps its unmerged adapter and
    stays trainable. The copy costs one extra model in memory on the model's device for the
    time of the call. Any other model is saved as it is. ``model`` must be unwrapped
    (``accelerator.unwrap_model``) and not sharded (FSDP / ZeRO-3 shards cannot be deep-copied:
    gather the full weights first). The tokenizer (if not None) is saved next to it.
    """
    path = Path(path)
    if not is_main_process:
        return path
    if not hasattr(model, "save_pretrained"):
        raise ValueError(f"{type(model).__name__} has no save_pretrained: pass a transformers or "
                         "peft model, unwrapped (accelerator.unwrap_model(model)), not the DDP / "
                         "FSDP wrapper.")
    path.mkdir(parents=True, exist_ok=True)
    if is_peft_model(model):
        merged = copy.deepcopy(model).merge_and_unload()
        merged.save_pretrained(str(path), safe_serialization=True)
        del merged
    else:
        model.save_pretrained(str(path), safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(str(path))
    return path
