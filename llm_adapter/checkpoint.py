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
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import torch

__all__ = ["is_peft_model", "save_model", "load_model_weights", "save_state", "load_state",
           "latest_checkpoint", "STATE_FILE"]

STATE_FILE = "selfplay_state.pt"


def is_peft_model(model) -> bool:
    """True for a ``peft.PeftModel`` (checked without importing peft if it is not loaded)."""
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover - peft is part of the llm extra
        return False
    return isinstance(model, PeftModel)


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
    save_file({n: t.contiguous() for n, t in reference.tensors.items()},
              str(path / "reference.safetensors"))
    save_file({n: t.contiguous() for n, t in initial.tensors.items()},
              str(path / "initial.safetensors"))
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
