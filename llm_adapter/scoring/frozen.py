"""Frozen policies (the initial policy pi_0, a reference, a magnet, pi_t) with one resident model
and no per-step host <-> device traffic.

Self-play scores every batch under one or two frozen policies.
:class:`~llm_adapter.scoring.logprobs.WeightSnapshot` keeps a frozen policy as a *host* copy of
the trainable weights and swaps it into the resident model for each scoring forward: for full
fine-tuning of a 7B model that is tens of GB of host <-> device copies per step. This module gives
the cheapest correct alternative for each setting:

* :class:`AdapterDisabled` - a PEFT model whose frozen policy is the base model (the adapter had
  no effect when the policy was taken, e.g. LoRA's default init with ``B = 0``): score inside
  ``model.disable_adapter()``. No copies and no extra memory at all.
* :class:`AdapterSnapshot` - a PEFT model (or any model with few trainable weights) whose frozen
  adapter is not zero: a copy of the trainable weights kept on their own device, swapped in and
  out with on-device ``copy_`` (adapter-sized, no host transfer).
* :class:`FrozenCopy` - full fine-tuning: a second, frozen copy of the model resident on the
  device (costs one more set of weights in device memory, but no weight copies per step);
  ``offload=True`` keeps it on the host instead and moves it to the device for each scoring call.

All three satisfy :class:`FrozenPolicy`: ``with policy.scoring(model) as m: m(input_ids, ...)``
gives the frozen policy's logits, and ``state_dict`` / ``load_state_dict`` store it in a
checkpoint (the same tensor names as ``WeightSnapshot.tensors``: the trainable parameters of the
live model). :func:`frozen_policy` picks the right one; :func:`frozen_logps` scores a batch.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from ..models import is_peft_model
from .logprobs import _local, completion_logps

__all__ = ["FrozenPolicy", "AdapterDisabled", "AdapterSnapshot", "FrozenCopy", "frozen_policy",
           "frozen_logps", "KINDS"]

KINDS = ("auto", "adapter_disabled", "adapter_snapshot", "frozen_copy")

# PEFT parameter-name markers whose effect is removed by ``disable_adapter`` and which are zero-
# effect at init when one factor of each LoRA pair is exactly zero.
_LORA_PAIRS = (("lora_A", "lora_B"), ("lora_embedding_A", "lora_embedding_B"))
_MODULES_TO_SAVE = ".modules_to_save."


@runtime_checkable
class FrozenPolicy(Protocol):
    """A frozen policy that can be scored with the live model resident on the device."""

    def scoring(self, model: torch.nn.Module) -> AbstractContextManager[torch.nn.Module]:
        """Enter: a module whose ``forward(input_ids, attention_mask, position_ids=...,
        past_key_values=..., use_cache=...)`` gives the frozen policy's logits. ``model`` is the
        live (unwrapped) trained model; it is unchanged when the context exits."""
        ...

    def state_dict(self) -> dict[str, Tensor]:
        """What a checkpoint stores (host copies; may be empty for :class:`AdapterDisabled`)."""
        ...

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        """Restore from what :meth:`state_dict` returned."""
        ...


def _trainable(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError(f"the model ({type(model).__name__}) has no trainable parameters: a "
                         "frozen policy is taken of the weights being trained.")
    return params


def _device_of(model: torch.nn.Module) -> torch.device:
    p = next(iter(model.parameters()), None)
    if p is None:
        raise ValueError(f"the model ({type(model).__name__}) has no parameters.")
    return p.device


def _check_names(kind: str, expected, tensors: dict) -> None:
    expected, got = set(expected), set(tensors)
    if expected != got:
        missing, unexpected = sorted(expected - got), sorted(got - expected)
        raise ValueError(f"{kind} state does not match the model: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]} ({len(missing)} / {len(unexpected)}).")


def _copy_into(kind: str, dst: dict[str, Tensor], tensors: dict[str, Tensor]) -> None:
    """``dst[n].copy_(tensors[n])`` for every name (in place: no reallocation)."""
    _check_names(kind, dst, tensors)
    with torch.no_grad():
        for n, t in tensors.items():
            d = dst[n]
            if tuple(d.shape) != tuple(t.shape):
                raise ValueError(f"{kind}: {n} has shape {tuple(t.shape)}, expected "
                                 f"{tuple(d.shape)}.")
            d.copy_(t)


def _host_copies(tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    return {n: t.detach().to("cpu", copy=True) for n, t in tensors.items()}


# --------------------------------------------------------------------------- AdapterDisabled
class AdapterDisabled:
    """The base model of a PEFT model as the frozen policy: ``scoring`` enters
    ``model.disable_adapter()`` and yields the model. Nothing is copied and nothing is stored.

    This is the initial policy (or a fixed reference) exactly when the adapter had no effect when
    the policy was taken - LoRA's default init (``B = 0``) at the start of training. It cannot be
    updated; a magnet reset needs an :class:`AdapterSnapshot`. Every trainable parameter must be
    adapter weight (``disable_adapter`` does not undo training of a base weight), which
    :func:`frozen_policy` checks. The ``requires_grad`` flags, which PEFT toggles on entering and
    leaving ``disable_adapter``, are restored exactly on exit.
    """

    def __init__(self, model: torch.nn.Module):
        if not (is_peft_model(model) and hasattr(model, "disable_adapter")):
            raise ValueError(f"AdapterDisabled needs a PEFT model (with disable_adapter); got "
                             f"{type(model).__name__}. Use FrozenCopy for full fine-tuning.")

    @contextlib.contextmanager
    def scoring(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        if not hasattr(model, "disable_adapter"):
            raise ValueError(f"AdapterDisabled scores a PEFT model; got {type(model).__name__}.")
        flags = [(p, p.requires_grad) for p in model.parameters()]
        try:
            with model.disable_adapter():
                yield model
        finally:
            for p, flag in flags:
                if p.requires_grad != flag:
                    p.requires_grad_(flag)

    def state_dict(self) -> dict[str, Tensor]:
        return {}

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        if tensors:
            raise ValueError(f"AdapterDisabled stores no weights, but the checkpoint holds "
                             f"{len(tensors)} tensors (e.g. {next(iter(tensors))!r}); restore it "
                             "into an AdapterSnapshot instead.")


# --------------------------------------------------------------------------- AdapterSnapshot
class AdapterSnapshot:
    """A frozen copy of the trainable (adapter) weights, kept on the parameters' own device.

    ``scoring`` swaps the frozen weights into the live model with on-device ``copy_`` (the live
    values go to a preallocated scratch buffer and come back on exit), so a scoring call moves
    only adapter-sized tensors and never crosses the host <-> device boundary. ``storage`` puts
    the frozen copy elsewhere (e.g. ``"cpu"``; then each call does copy to the device, adapter-
    sized). :meth:`update` re-snapshots in place (magnet reset), without reallocating.

    Meant for models with few trainable weights (PEFT adapters); with full fine-tuning it would
    hold a second copy of every weight *and* copy them twice per call - use :class:`FrozenCopy`.
    Under FSDP2 each process keeps its own shard (``DTensor.to_local``), like ``WeightSnapshot``.
    The in-place swap bumps the parameters' autograd version counters: do not score between a
    forward of the live model and its backward.
    """

    def __init__(self, model: torch.nn.Module, storage=None):
        params = _trainable(model)
        self.storage = storage
        with torch.no_grad():
            self.tensors = {n: _local(p).detach().to(storage or _local(p).device, copy=True)
                            for n, p in params.items()}
        self._scratch: dict[str, Tensor] | None = None
        self._active = False

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Copy the live trainable weights into the snapshot (in place, no reallocation)."""
        _copy_into("AdapterSnapshot", self.tensors,
                   {n: _local(p).detach() for n, p in _trainable(model).items()})

    def _live(self, model: torch.nn.Module) -> dict[str, Tensor]:
        params = dict(model.named_parameters())
        missing = [n for n in self.tensors if n not in params]
        if missing:
            raise ValueError(f"AdapterSnapshot does not match the model: missing {missing[:3]} "
                             f"({len(missing)} of {len(self.tensors)}).")
        live = {n: _local(params[n]) for n in self.tensors}
        for n, p in live.items():
            if p.shape != self.tensors[n].shape:
                raise ValueError(f"AdapterSnapshot: {n} has shape {tuple(p.shape)} in the model "
                                 f"but {tuple(self.tensors[n].shape)} in the snapshot.")
        return live

    @contextlib.contextmanager
    def scoring(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        if self._active:
            raise RuntimeError("AdapterSnapshot.scoring is already active (not re-entrant).")
        live = self._live(model)
        if self._scratch is None:  # allocated once, on the parameters' devices
            self._scratch = {n: torch.empty_like(p) for n, p in live.items()}
        scratch = self._scratch
        self._active = True
        try:
            with torch.no_grad():
                for n, p in live.items():
                    scratch[n].copy_(p)
                    p.copy_(self.tensors[n])
            yield model
        finally:
            with torch.no_grad():
                for n, p in live.items():
                    p.copy_(scratch[n])
            self._active = False

    def state_dict(self) -> dict[str, Tensor]:
        return _host_copies(self.tensors)

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        _copy_into("AdapterSnapshot", self.tensors, tensors)


# --------------------------------------------------------------------------- FrozenCopy
def _reject_sharded(model: torch.nn.Module) -> None:
    # FSDP2 parameters are DTensors (to_local); DeepSpeed ZeRO-3 tags its partitions (ds_id)
    sharded = [n for n, p in model.named_parameters()
               if hasattr(p, "to_local") or hasattr(p, "ds_id")]
    if sharded:
        raise NotImplementedError(
            f"FrozenCopy does not support sharded parameters (FSDP DTensors or DeepSpeed ZeRO-3 "
            f"partitions, e.g. {sharded[0]!r}) yet; train a PEFT adapter, or use ZeRO-2.")


class FrozenCopy:
    """A second, frozen copy of the whole model, for full fine-tuning.

    The copy (``self.module``) has ``requires_grad=False`` and is in eval mode; ``scoring``
    yields it, so a scoring call copies no weights at all - the price is one more set of weights
    in device memory (e.g. 14 GB for a 7B bf16 model) instead of ``WeightSnapshot``'s ~2 x 14 GB
    of host <-> device copies per step. :meth:`update` copies the live trainable weights into the
    copy in place (``copy_``, on device), which happens only when the reference is reset.

    ``offload=True`` keeps the copy in host memory (pinned when the live model is on CUDA) and
    moves it to the live model's device for each scoring call (one host -> device transfer per
    call; on exit the device tensors are dropped and the host ones put back, no copy back): half
    ``WeightSnapshot``'s traffic, for when device memory cannot hold two models. On a CPU-only
    machine it is the same as ``offload=False``.

    The copy is made with ``copy.deepcopy`` (so forward wrappers such as accelerate's autocast
    are kept), the weights going straight to their target device. Not supported yet: models
    sharded by FSDP / DeepSpeed (parameters that are DTensors raise ``NotImplementedError``) and
    models dispatched over several devices with ``device_map``.
    """

    def __init__(self, model: torch.nn.Module, offload: bool = False):
        _reject_sharded(model)
        self.names = list(_trainable(model))
        self.offload = bool(offload)
        self.device = _device_of(model)
        target = torch.device("cpu") if self.offload else None
        pin = self.offload and self.device.type == "cuda"
        memo: dict = {}
        with torch.no_grad():
            for p in model.parameters():
                if type(p) is torch.nn.Parameter and id(p) not in memo:
                    memo[id(p)] = torch.nn.Parameter(_moved(p.detach(), target, pin),
                                                     requires_grad=False)
            for b in model.buffers():
                if type(b) is Tensor and id(b) not in memo:
                    memo[id(b)] = _moved(b, target, pin)
            self.module = copy.deepcopy(model, memo)
        self.module.requires_grad_(False)
        self.module.eval()
        self._check_names(self.names)

    def _params(self) -> dict[str, torch.nn.Parameter]:
        return dict(self.module.named_parameters())

    def _check_names(self, names) -> None:
        params = self._params()
        missing = [n for n in names if n not in params]
        if missing:
            raise ValueError(f"FrozenCopy does not match the model: missing {missing[:3]}.")

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Copy the live model's trainable weights into the frozen copy (in place)."""
        _reject_sharded(model)
        live = dict(model.named_parameters())
        mine = self._params()
        missing = [n for n in self.names if n not in live]
        if missing:
            raise ValueError(f"FrozenCopy.update: the model lacks {missing[:3]}.")
        _copy_into("FrozenCopy", {n: mine[n] for n in self.names},
                   {n: live[n].detach() for n in self.names})

    @contextlib.contextmanager
    def scoring(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        if not self.offload:
            yield self.module
            return
        device = _device_of(model)
        if device.type == "cpu":
            yield self.module
            return
        host_params, host_buffers, seen = [], [], set()
        try:
            with torch.no_grad():
                for m in self.module.modules():
                    for p in m._parameters.values():
                        if p is not None and id(p) not in seen:
                            seen.add(id(p))
                            host_params.append((p, p.data))
                            p.data = p.data.to(device, non_blocking=True)
                    for k, b in m._buffers.items():
                        if b is not None:
                            host_buffers.append((m, k, b))
                            m._buffers[k] = b.to(device, non_blocking=True)
            yield self.module
        finally:  # put the host tensors back: no device -> host copy
            for p, host in host_params:
                p.data = host
            for m, k, b in host_buffers:
                m._buffers[k] = b

    def state_dict(self) -> dict[str, Tensor]:
        params = self._params()
        return _host_copies({n: params[n] for n in self.names})

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        params = self._params()
        _copy_into("FrozenCopy", {n: params[n] for n in self.names}, tensors)


def _moved(t: Tensor, target, pin: bool) -> Tensor:
    out = t.to(target or t.device, copy=True)
    if pin:
        try:
            out = out.pin_memory()
        except RuntimeError:  # pragma: no cover - no pinnable memory
            pass
    return out


# --------------------------------------------------------------------------- factory, scoring
def _lora_pair(name: str) -> str | None:
    """``"<pair>|<module>|<adapter>"`` for a LoRA factor's parameter name, else None."""
    for a, b in _LORA_PAIRS:
        for marker in (a, b):
            head, sep, tail = name.partition(f".{marker}.")
            if sep:
                return f"{a}|{head}|{tail}"
    return None


def _adapter_is_zero_effect(model: torch.nn.Module) -> bool:
    """True when every trainable parameter is LoRA / ``modules_to_save`` weight (removed by
    ``disable_adapter``) and every LoRA pair has an exactly zero factor (``B = 0`` for linear
    layers' default init, ``A = 0`` for embeddings), i.e. the adapter changes nothing yet."""
    zero: dict[str, bool] = {}
    for n, p in model.named_parameters():
        if not p.requires_grad or _MODULES_TO_SAVE in n:  # modules_to_save: a copy, equal at init
            continue
        pair = _lora_pair(n)
        if pair is None:  # a trainable weight disable_adapter does not remove (DoRA, IA3, ...)
            return False
        zero[pair] = zero.get(pair, False) or not bool(torch.count_nonzero(_local(p).detach()))
    return bool(zero) and all(zero.values())


def frozen_policy(model: torch.nn.Module, kind: str = "auto", at_init: bool = True,
                  offload: bool = False) -> FrozenPolicy:
    """The cheapest frozen policy of ``model`` (the live, unwrapped model) as it is now.

    ``kind``: ``"auto"`` picks :class:`AdapterDisabled` for a PEFT model whose adapter has no
    effect yet (every LoRA pair has a zero factor, e.g. every ``lora_B`` is zero) when
    ``at_init`` (the policy is the initial one, or a reference that is never reset),
    :class:`AdapterSnapshot` for other PEFT models, :class:`FrozenCopy` (with ``offload``) for
    full fine-tuning. ``"adapter_disabled"``, ``"adapter_snapshot"`` and ``"frozen_copy"`` force
    one (``AdapterDisabled`` forced on a non-zero adapter gives the base model, not the current
    policy).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown frozen-policy kind {kind!r}; choose one of {', '.join(KINDS)}.")
    _trainable(model)
    if kind == "auto":
        if is_peft_model(model):
            zero = at_init and _adapter_is_zero_effect(model)
            kind = "adapter_disabled" if zero else "adapter_snapshot"
        else:
            kind = "frozen_copy"
    if kind == "adapter_disabled":
        return AdapterDisabled(model)
    if kind == "adapter_snapshot":
        return AdapterSnapshot(model)
    return FrozenCopy(model, offload=offload)


def frozen_logps(policy: FrozenPolicy, model: torch.nn.Module, batch: dict,
                 per_token: bool = False):
    """:func:`~llm_adapter.scoring.logprobs.completion_logps` of ``batch`` (the output of
    :func:`~llm_adapter.scoring.logprobs.encode`, on the model's device) under the frozen
    ``policy``, without gradients: ``[B]``, or ``([B, T-1], mask)`` with ``per_token``."""
    with torch.no_grad(), policy.scoring(model) as scorer:
        return completion_logps(scorer, batch["input_ids"], batch["attention_mask"],
                                batch["completion_mask"], per_token=per_token)
