"""Frozen policies without per-step weight traffic (llm_adapter.scoring.frozen).

Each frozen policy is checked against today's WeightSnapshot taken at the same moment (the
log-probs must agree to 1e-6 after the live weights moved, and differ from the live model's),
and the copies a scoring call makes are counted with a TorchDispatchMode.
"""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from llm_adapter import models
from llm_adapter.scoring import frozen
from llm_adapter.scoring.frozen import AdapterDisabled, AdapterSnapshot, FrozenCopy, frozen_logps
from llm_adapter.scoring.logprobs import WeightSnapshot, completion_logps, encode

peft = pytest.importorskip("peft")

PROMPTS = ["Say hi:", "Count to three:", "A colour?"]
COMPLETIONS = [" hi there", " 1 2 3", " blue, or red"]


def _lora(tokenizer, init=True, seed=0):
    cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                          init_lora_weights=init)
    base = models.tiny_causal_lm(tokenizer, seed=seed, dtype=torch.float64)
    return peft.get_peft_model(base, cfg).eval()


def _full(tokenizer, seed=0):
    return models.tiny_causal_lm(tokenizer, seed=seed, dtype=torch.float64)


def _batch(tokenizer):
    return encode(tokenizer, PROMPTS, COMPLETIONS)


def _train(model, batch, steps=3, lr=0.05):
    """A few AdamW steps that raise the completions' log-probs (moves every trainable weight)."""
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    for _ in range(steps):
        loss = -completion_logps(model, **batch).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


@torch.no_grad()
def _live(model, batch):
    return completion_logps(model, **batch)


@torch.no_grad()
def _snapshot_logps(snapshot, model, batch):
    with snapshot.swapped_in(model):
        return completion_logps(model, **batch)


def _weights(model):
    return {n: (p.detach().clone(), p.requires_grad) for n, p in model.named_parameters()}


def _assert_same_weights(model, before):
    after = dict(model.named_parameters())
    assert set(after) == set(before)
    for n, (w, flag) in before.items():
        assert torch.equal(after[n].detach(), w), n  # bitwise
        assert after[n].requires_grad == flag, n


# --------------------------------------------------------------------------- agreement
CASES = {
    # name: (model builder, expected class)
    "lora_default_init": (lambda tok: _lora(tok), AdapterDisabled),
    "lora_random_init": (lambda tok: _lora(tok, init=False), AdapterSnapshot),  # B != 0
    "full_finetuning": (_full, FrozenCopy),
}


def _lora_trainable_head(tok):
    model = _lora(tok)  # B = 0, but a base weight is trained too: disable_adapter would not undo it
    model.base_model.model.lm_head.weight.requires_grad_(True)
    return model


CASES["lora_default_init_plus_trained_base_weight"] = (_lora_trainable_head, AdapterSnapshot)


@pytest.mark.parametrize("case", list(CASES))
def test_frozen_policy_matches_weight_snapshot(tokenizer, case):
    build, expected = CASES[case]
    model = build(tokenizer)
    batch = _batch(tokenizer)
    policy = frozen.frozen_policy(model)
    assert type(policy) is expected
    assert isinstance(policy, frozen.FrozenPolicy)
    reference = WeightSnapshot(model)  # today's frozen policy, taken at the same moment
    at_init = _live(model, batch)

    _train(model, batch)
    live = _live(model, batch)
    before = _weights(model)
    got = frozen_logps(policy, model, batch)
    want = _snapshot_logps(reference, model, batch)

    assert got.dtype == torch.float64
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    torch.testing.assert_close(got, at_init, rtol=0, atol=1e-6)
    assert (got - live).abs().max() > 1e-2  # the live model moved: the check is not vacuous
    _assert_same_weights(model, before)  # scoring left the live model exactly as it was
    torch.testing.assert_close(_live(model, batch), live, rtol=0, atol=0)

    tok, mask = frozen_logps(policy, model, batch, per_token=True)
    torch.testing.assert_close(tok.sum(-1), got, rtol=0, atol=1e-12)
    assert mask.shape == tok.shape


@pytest.mark.parametrize("kind", ["adapter_snapshot", "frozen_copy"])
def test_update_resnapshots_in_place(tokenizer, kind):
    model = _lora(tokenizer, init=False) if kind == "adapter_snapshot" else _full(tokenizer)
    batch = _batch(tokenizer)
    policy = frozen.frozen_policy(model, kind=kind)
    buffers = (policy.tensors if kind == "adapter_snapshot"
               else dict(policy.module.named_parameters()))
    ptrs = {n: t.data_ptr() for n, t in buffers.items()}
    old = frozen_logps(policy, model, batch)

    _train(model, batch)
    policy.update(model)  # magnet reset
    reference = WeightSnapshot(model)
    reset = _live(model, batch)
    assert (reset - old).abs().max() > 1e-2
    _train(model, batch, steps=2)

    got = frozen_logps(policy, model, batch)
    torch.testing.assert_close(got, _snapshot_logps(reference, model, batch), rtol=0, atol=1e-6)
    torch.testing.assert_close(got, reset, rtol=0, atol=1e-6)
    assert (got - _live(model, batch)).abs().max() > 1e-2
    buffers = (policy.tensors if kind == "adapter_snapshot"
               else dict(policy.module.named_parameters()))
    assert {n: t.data_ptr() for n, t in buffers.items()} == ptrs  # no reallocation


def test_frozen_copy_is_frozen_and_offload_on_cpu_matches(tokenizer):
    model = _full(tokenizer)
    batch = _batch(tokenizer)
    policy, offloaded = FrozenCopy(model), FrozenCopy(model, offload=True)
    assert not any(p.requires_grad for p in policy.module.parameters())
    assert not policy.module.training
    assert all(p.requires_grad for p in model.parameters())
    assert not any(a.data_ptr() == b.data_ptr()
                   for a, b in zip(model.parameters(), policy.module.parameters()))
    _train(model, batch)
    got = frozen_logps(policy, model, batch)
    torch.testing.assert_close(frozen_logps(offloaded, model, batch), got, rtol=0, atol=0)
    # the module a mixture sampler calls (position ids, no cache) gives the same logits
    with policy.scoring(model) as m:
        pos = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        a = m(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
              position_ids=pos, use_cache=False).logits
    with offloaded.scoring(model) as m:
        b = m(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
              position_ids=pos, use_cache=False).logits
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_adapter_snapshot_restores_live_weights_on_error(tokenizer):
    model = _lora(tokenizer, init=False)
    batch = _batch(tokenizer)
    policy = AdapterSnapshot(model)
    _train(model, batch)
    before = _weights(model)
    with pytest.raises(KeyError), policy.scoring(model):
        raise KeyError("boom")
    _assert_same_weights(model, before)
    with policy.scoring(model), pytest.raises(RuntimeError, match="re-entrant"):
        with policy.scoring(model):
            pass
    _assert_same_weights(model, before)


def test_adapter_disabled_restores_requires_grad_flags(tokenizer):
    model = _lora(tokenizer)
    frozen_name = next(n for n, p in model.named_parameters() if "lora_A" in n)
    model.get_parameter(frozen_name).requires_grad_(False)  # PEFT would turn it back on
    before = _weights(model)
    policy = AdapterDisabled(model)
    frozen_logps(policy, model, _batch(tokenizer))
    _assert_same_weights(model, before)


# --------------------------------------------------------------------------- copy counting
class _CopyCounter(TorchDispatchMode):
    """Records the numel of every ``copy_`` / ``_to_copy`` / ``clone`` dispatched."""

    OPS = {torch.ops.aten.copy_, torch.ops.aten._to_copy, torch.ops.aten.clone}

    def __init__(self):
        super().__init__()
        self.numels: list[int] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket in self.OPS:
            self.numels.append(max(a.numel() for a in args if isinstance(a, torch.Tensor)))
        return func(*args, **(kwargs or {}))


def _base_numels(model):
    return {p.numel() for n, p in model.named_parameters() if "lora_" not in n}


def _adapter_numels(model):
    return {p.numel() for n, p in model.named_parameters() if "lora_" in n}


def _copies(run):
    with _CopyCounter() as counter:
        run()
    return counter.numels


def test_scoring_copies_no_base_weights(tokenizer):
    batch = _batch(tokenizer)
    lora, lora_r, full = _lora(tokenizer), _lora(tokenizer, init=False), _full(tokenizer)
    base = _base_numels(full)
    assert base == _base_numels(lora) and not base & _adapter_numels(lora)
    policies = {"disabled": (AdapterDisabled(lora), lora), "snapshot": (AdapterSnapshot(lora_r),
                lora_r), "copy": (FrozenCopy(full), full)}
    for _, model in policies.values():
        _train(model, batch, steps=1)
    for name, (policy, model) in policies.items():
        frozen_logps(policy, model, batch)  # first call allocates AdapterSnapshot's scratch
        copies = _copies(lambda: frozen_logps(policy, model, batch))  # noqa: B023
        assert not [c for c in copies if c in base], (name, copies)
        # the forward itself copies activations (dtype casts, masks): those of a live forward
        forward = _copies(lambda: _live(model, batch))  # noqa: B023
        assert not [c for c in forward if c in base]  # batch sized so that none look like weights
        extra = list(copies)
        for c in forward:
            extra.remove(c)
        if name == "snapshot":  # live -> scratch, frozen -> live, scratch -> live: adapter-sized
            assert set(extra) <= _adapter_numels(lora_r), extra
            assert len(extra) == 3 * len(policy.tensors)
        else:  # no copy at all beyond the forward's own
            assert extra == [], (name, extra)

    # today's WeightSnapshot under full fine-tuning copies every weight (proves the counter works)
    snapshot = WeightSnapshot(full)
    copies = _copies(lambda: _snapshot_logps(snapshot, full, batch))
    assert base <= set(copies)
    assert sum(c in base for c in copies) >= 3 * len(list(full.parameters()))


# --------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("kind", ["adapter_snapshot", "frozen_copy"])
def test_state_dict_round_trip(tokenizer, kind, tmp_path):
    from safetensors.torch import load_file, save_file

    model = _lora(tokenizer, init=False) if kind == "adapter_snapshot" else _full(tokenizer)
    batch = _batch(tokenizer)
    saved = frozen.frozen_policy(model, kind=kind)
    state = saved.state_dict()
    assert set(state) == set(WeightSnapshot(model).tensors)  # the checkpoint's names
    assert all(t.device.type == "cpu" for t in state.values())
    save_file(state, str(tmp_path / "reference.safetensors"))
    want = frozen_logps(saved, model, batch)

    _train(model, batch)
    restored = frozen.frozen_policy(model, kind=kind)  # taken later: a different policy
    assert (frozen_logps(restored, model, batch) - want).abs().max() > 1e-2
    restored.load_state_dict(load_file(str(tmp_path / "reference.safetensors")))
    torch.testing.assert_close(frozen_logps(restored, model, batch), want, rtol=0, atol=1e-12)

    saved.update(model)  # the state_dict taken earlier is a copy: later updates do not touch it
    torch.testing.assert_close(frozen_logps(restored, model, batch), want, rtol=0, atol=1e-12)
    restored.load_state_dict(state)
    torch.testing.assert_close(frozen_logps(restored, model, batch), want, rtol=0, atol=1e-12)

    with pytest.raises(ValueError, match="does not match"):
        restored.load_state_dict({"nope": torch.zeros(1)})
    name = next(iter(state))
    with pytest.raises(ValueError, match="shape"):
        restored.load_state_dict({**state, name: torch.zeros(1, dtype=torch.float64)})


def test_adapter_disabled_state_dict_is_empty(tokenizer):
    model = _lora(tokenizer)
    batch = _batch(tokenizer)
    policy = AdapterDisabled(model)
    assert policy.state_dict() == {}
    want = frozen_logps(policy, model, batch)
    _train(model, batch)
    policy = AdapterDisabled(model)
    policy.load_state_dict({})
    torch.testing.assert_close(frozen_logps(policy, model, batch), want, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="AdapterSnapshot"):
        policy.load_state_dict(AdapterSnapshot(model).state_dict())


# --------------------------------------------------------------------------- choice and errors
def test_auto_choice(tokenizer):
    lora = _lora(tokenizer)
    assert type(frozen.frozen_policy(lora)) is AdapterDisabled
    assert type(frozen.frozen_policy(lora, at_init=False)) is AdapterSnapshot
    assert type(frozen.frozen_policy(_lora(tokenizer, init=False))) is AdapterSnapshot
    # PEFT's "gaussian" init draws A from a Gaussian but still starts B at zero
    assert type(frozen.frozen_policy(_lora(tokenizer, init="gaussian"))) is AdapterDisabled
    full = _full(tokenizer)
    assert type(frozen.frozen_policy(full)) is FrozenCopy
    assert frozen.frozen_policy(full, offload=True).offload
    assert type(frozen.frozen_policy(full, kind="adapter_snapshot")) is AdapterSnapshot
    _train(lora, _batch(tokenizer), steps=1)  # B is no longer zero
    assert type(frozen.frozen_policy(lora)) is AdapterSnapshot


def test_errors(tokenizer):
    full = _full(tokenizer)
    with pytest.raises(ValueError, match="unknown frozen-policy kind 'magic'"):
        frozen.frozen_policy(full, kind="magic")
    with pytest.raises(ValueError, match="PEFT"):
        AdapterDisabled(full)
    with pytest.raises(ValueError, match="PEFT"):
        frozen.frozen_policy(full, kind="adapter_disabled")
    full.requires_grad_(False)
    lora = _lora(tokenizer)
    lora.requires_grad_(False)
    for model in (full, lora):
        for make in (AdapterSnapshot, FrozenCopy, frozen.frozen_policy):
            with pytest.raises(ValueError, match="no trainable parameters"):
                make(model)

    class _FakeDTensor(torch.nn.Parameter):  # what FSDP2 / DeepSpeed parameters look like
        def to_local(self):
            return self

    sharded = torch.nn.Linear(2, 2)
    sharded.weight = _FakeDTensor(torch.zeros(2, 2))
    with pytest.raises(NotImplementedError, match="FSDP"):
        FrozenCopy(sharded)

    other = _lora(tokenizer, init=False)
    policy = AdapterSnapshot(_full(tokenizer))
    with pytest.raises(ValueError, match="does not match the model"), policy.scoring(other):
        pass
