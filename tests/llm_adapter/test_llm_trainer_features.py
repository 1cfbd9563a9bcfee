"""Trainer building blocks: callbacks, LR schedules, checkpoint rotation, merged LoRA export,
tracker selection, hub ids from the local cache, gradient checkpointing. Nothing is downloaded."""

import copy
import importlib.util
import math
import socket
import types

import pytest
import torch

from llm_adapter import models
from llm_adapter.scoring.logprobs import completion_logps, encode
from llm_adapter.trainer import callbacks, checkpoint, schedules, tracking

PROMPTS = ["hello there", "what is up", "tell me", "why not"]
COMPLETIONS = ["a reply", "no", "sure thing", "x"]


def _logps(model, tokenizer):
    with torch.no_grad():
        return completion_logps(model, **encode(tokenizer, PROMPTS, COMPLETIONS))


# ---------------------------------------------------------------------------- callbacks
class _Recorder(callbacks.TrainerCallback):
    calls: list = []

    def on_train_begin(self, trainer):
        self.calls.append(("begin", type(self).__name__))

    def on_step_end(self, trainer, metrics):
        self.calls.append(("step", type(self).__name__, metrics["step"]))
        if metrics["step"] >= 2:
            trainer.should_stop = True

    def on_save(self, trainer, path):
        self.calls.append(("save", type(self).__name__, path))


class _Second(_Recorder):
    pass


def test_callback_handler_dispatches_in_order_and_callbacks_can_stop():
    _Recorder.calls = []
    handler = callbacks.CallbackHandler([_Recorder(), _Second])  # a class is instantiated
    assert [type(c) for c in handler] == [_Recorder, _Second]
    trainer = types.SimpleNamespace(should_stop=False)
    handler.call("on_train_begin", trainer)
    handler.call("on_step_end", trainer, {"step": 1})
    assert trainer.should_stop is False
    handler.call("on_step_end", trainer, {"step": 2})
    assert trainer.should_stop is True
    handler.call("on_save", trainer, "out/checkpoint-2")
    handler.call("on_evaluate", trainer, {"win": 0.5})  # base hooks are no-ops
    handler.call("on_train_end", trainer)
    assert _Recorder.calls == [
        ("begin", "_Recorder"), ("begin", "_Second"),
        ("step", "_Recorder", 1), ("step", "_Second", 1),
        ("step", "_Recorder", 2), ("step", "_Second", 2),
        ("save", "_Recorder", "out/checkpoint-2"), ("save", "_Second", "out/checkpoint-2")]
    handler.remove_callback(_Second)
    assert len(handler) == 1
    cb = handler.add_callback(_Second)
    assert isinstance(cb, _Second) and len(handler) == 2


def test_callback_handler_rejects_what_is_not_a_callback():
    with pytest.raises(ValueError, match="'not a callback'.*not a TrainerCallback"):
        callbacks.CallbackHandler([callbacks.TrainerCallback(), "not a callback"])
    with pytest.raises(ValueError, match="dict is a class that does not subclass"):
        callbacks.CallbackHandler([dict])
    with pytest.raises(ValueError, match="unknown callback event 'on_step'"):
        callbacks.CallbackHandler().call("on_step", object())
    assert len(callbacks.CallbackHandler(None)) == 0


# ---------------------------------------------------------------------------- LR schedules
def _lrs(name, total, steps, base_lr=0.1, **kw):
    """Learning rate after ``s`` scheduler steps, for each ``s`` in ``steps``."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    sched = schedules.make_scheduler(opt, name, total, **kw)
    out, done = {}, 0
    for s in sorted(steps):
        while done < s:
            opt.step()
            sched.step()
            done += 1
        out[s] = sched.get_last_lr()[0]
    return [out[s] for s in steps]


def test_linear_schedule_matches_transformers_formula_by_hand():
    # transformers get_linear_schedule_with_warmup: s / W for s < W, else (N - s) / (N - W);
    # W = 2, N = 10: step 0 -> 0, 1 -> 1/2, 2 -> 1, 5 -> 5/8, 10 -> 0
    got = _lrs("linear", 10, [0, 1, 2, 5, 10], warmup_steps=2)
    assert got == pytest.approx([0.0, 0.05, 0.1, 0.1 * 5 / 8, 0.0], abs=1e-12)


def test_cosine_warmup_ratio_is_ceil_of_ratio_times_steps():
    # warmup_ratio 0.15 of 10 steps -> ceil(1.5) = 2 warmup steps; then transformers'
    # get_cosine_schedule_with_warmup: 0.5 * (1 + cos(pi * (s - W) / (N - W)))
    assert schedules.resolve_warmup_steps(10, 0, 0.15) == 2
    got = _lrs("cosine", 10, [1, 2, 4, 6, 10], warmup_ratio=0.15)
    want = [0.05, 0.1, 0.1 * 0.5 * (1 + math.cos(math.pi / 4)), 0.05, 0.0]
    assert got == pytest.approx(want, abs=1e-12)


def test_warmup_steps_win_over_ratio_and_constant_schedules():
    assert schedules.resolve_warmup_steps(10, 3, 0.5) == 3
    # constant_with_warmup, W = 3 (ratio ignored): 0, 1/3, 2/3, 1, 1
    got = _lrs("constant_with_warmup", 10, [0, 1, 2, 3, 9], warmup_steps=3, warmup_ratio=0.5)
    assert got == pytest.approx([0.0, 0.1 / 3, 0.2 / 3, 0.1, 0.1], abs=1e-12)
    assert _lrs("constant", 5, [0, 3, 5]) == pytest.approx([0.1] * 3, abs=1e-12)


def test_every_listed_scheduler_builds_and_is_a_transformers_type():
    from transformers import SchedulerType

    names = set(schedules.SCHEDULER_TYPES)
    assert {"constant", "constant_with_warmup", "linear", "cosine"} <= names
    for name in schedules.SCHEDULER_TYPES:
        SchedulerType(name)
        kw = {} if name == "constant" else {"warmup_steps": 1}
        lrs = _lrs(name, 4, [0, 1, 4], **kw)
        assert all(math.isfinite(v) and 0 <= v <= 0.1 + 1e-12 for v in lrs), name


@pytest.mark.parametrize("name, kw, match", [
    ("linearr", {}, "unknown lr_scheduler_type 'linearr'.*constant_with_warmup"),
    ("reduce_lr_on_plateau", {}, "unknown lr_scheduler_type"),
    ("linear", {"warmup_steps": -1}, "warmup_steps must be >= 0"),
    ("linear", {"warmup_steps": 0.5}, "whole number.*warmup_ratio"),
    ("linear", {"warmup_ratio": 1.5}, r"warmup_ratio must be a number in \[0, 1\]"),
    ("linear", {"warmup_ratio": -0.1}, r"warmup_ratio must be a number in \[0, 1\]"),
    ("linear", {"warmup_steps": 11}, "exceeds num_training_steps=10"),
    ("constant", {"warmup_ratio": 0.2}, "use 'constant_with_warmup'"),
])
def test_scheduler_errors_name_the_problem(name, kw, match):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=match):
        schedules.make_scheduler(opt, name, 10, **kw)
    with pytest.raises(ValueError, match="num_training_steps must be a positive integer"):
        schedules.make_scheduler(opt, "linear", 0)


# ---------------------------------------------------------------------------- save_total_limit
def _make_dirs(root, names):
    for n in names:
        (root / n).mkdir()
        (root / n / "selfplay_state.pt").write_text("x")


def _names(root):
    return sorted(p.name for p in root.iterdir())


def test_rotate_checkpoints_deletes_oldest_by_step_number(tmp_path):
    _make_dirs(tmp_path, ["checkpoint-1", "checkpoint-2", "checkpoint-10", "checkpoint-3",
                          "checkpoint-best", "checkpoint-5.tmp", "runs"])
    (tmp_path / "checkpoint-7").write_text("a file, not a checkpoint folder")
    deleted = checkpoint.rotate_checkpoints(tmp_path, 2)
    assert [p.name for p in deleted] == ["checkpoint-1", "checkpoint-2"]
    # by step (10 > 3), not by name ("checkpoint-10" < "checkpoint-3"); others untouched
    assert _names(tmp_path) == ["checkpoint-10", "checkpoint-3", "checkpoint-5.tmp", "checkpoint-7",
                                "checkpoint-best", "runs"]
    assert checkpoint.rotate_checkpoints(tmp_path, 2) == []


def test_rotate_checkpoints_keeps_the_best_and_the_newest(tmp_path):
    _make_dirs(tmp_path, [f"checkpoint-{s}" for s in (1, 2, 3, 4)])
    checkpoint.rotate_checkpoints(tmp_path, 2, keep=tmp_path / "checkpoint-1")
    assert _names(tmp_path) == ["checkpoint-1", "checkpoint-4"]
    _make_dirs(tmp_path, ["checkpoint-5"])
    checkpoint.rotate_checkpoints(tmp_path, 1, keep=str(tmp_path / "checkpoint-1"))
    assert _names(tmp_path) == ["checkpoint-1", "checkpoint-5"]  # newest kept for resuming
    checkpoint.rotate_checkpoints(tmp_path, 1)
    assert _names(tmp_path) == ["checkpoint-5"]


def test_rotate_checkpoints_limits_none_zero_and_bad(tmp_path):
    _make_dirs(tmp_path, [f"checkpoint-{s}" for s in (1, 2, 3)])
    assert checkpoint.rotate_checkpoints(tmp_path, None) == []
    assert checkpoint.rotate_checkpoints(tmp_path, 0) == []
    assert len(_names(tmp_path)) == 3
    with pytest.raises(ValueError, match="save_total_limit must be >= 0.*-1"):
        checkpoint.rotate_checkpoints(tmp_path, -1)
    with pytest.raises(ValueError, match="whole number"):
        checkpoint.rotate_checkpoints(tmp_path, 1.5)
    assert checkpoint.rotate_checkpoints(tmp_path / "missing", 1) == []


# ---------------------------------------------------------------------------- merged LoRA export
def _lora_model(peft, base, targets):
    """LoRA with gaussian A (``init_lora_weights="gaussian"``) and a random, non-zero B (peft
    starts B at zero), so that the adapter changes the model."""
    lora = peft.LoraConfig(r=4, lora_alpha=8, target_modules=targets,
                           init_lora_weights="gaussian")
    model = peft.get_peft_model(base, lora)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


def test_merged_lora_export_reloads_without_peft_and_keeps_the_live_adapter(tokenizer, tmp_path):
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    model = _lora_model(peft, models.tiny_causal_lm(tokenizer, seed=0),
                        ["q_proj", "v_proj", "down_proj"])
    want = _logps(model, tokenizer)
    base = _logps(models.tiny_causal_lm(tokenizer, seed=0), tokenizer)
    assert (want - base).abs().max() > 1e-2
    lora_before = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}

    out = checkpoint.save_merged_model(model, tokenizer, tmp_path / "merged")
    assert (out / "config.json").exists() and not (out / "adapter_config.json").exists()
    loaded = AutoModelForCausalLM.from_pretrained(out, local_files_only=True).eval()
    assert not checkpoint.is_peft_model(loaded)
    assert not any("lora" in n for n, _ in loaded.named_parameters())
    torch.testing.assert_close(_logps(loaded, tokenizer), want, atol=1e-5, rtol=0)

    # the live model still is a PeftModel with its (unmerged, trainable) adapter
    assert isinstance(model, peft.PeftModel)
    live = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert live.keys() == lora_before.keys()
    assert all(p.requires_grad for p in live.values())
    for n, p in live.items():
        torch.testing.assert_close(p, lora_before[n], atol=0, rtol=0)
    assert not any(getattr(m, "merged", False) for m in model.modules())
    torch.testing.assert_close(_logps(model, tokenizer), want, atol=0, rtol=0)
    again, reloaded_tok = models.load_model(out)  # the project's loader reads it too
    assert reloaded_tok("hi there")["input_ids"] == tokenizer("hi there")["input_ids"]
    torch.testing.assert_close(_logps(again.eval(), reloaded_tok), want, atol=1e-5, rtol=0)


def test_merged_export_of_a_plain_model_saves_it_as_is(tokenizer, tmp_path):
    from transformers import AutoModelForCausalLM

    model = models.tiny_causal_lm(tokenizer, seed=4)
    checkpoint.save_merged_model(model, None, tmp_path / "m")
    assert not (tmp_path / "m" / "tokenizer_config.json").exists()
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "m", local_files_only=True).eval()
    torch.testing.assert_close(_logps(loaded, tokenizer), _logps(model, tokenizer),
                               atol=0, rtol=0)
    assert checkpoint.save_merged_model(model, None, tmp_path / "n", is_main_process=False)
    assert not (tmp_path / "n").exists()
    with pytest.raises(ValueError, match="unwrap"):
        checkpoint.save_merged_model(torch.nn.Linear(2, 2), None, tmp_path / "o")


# ---------------------------------------------------------------------------- trackers
@pytest.mark.parametrize("target", ["wandb", "mlflow"])
def test_external_trackers_need_their_package(target, tmp_path):
    assert tracking.TRACKERS == ("none", "tensorboard", "csv", "wandb", "mlflow")
    if importlib.util.find_spec(target) is None:
        with pytest.raises(ValueError, match=rf"report_to='{target}' needs the {target} "
                                             rf"package: pip install {target}"):
            tracking.make_trackers([target], tmp_path)
    else:
        assert tracking.make_trackers([target], tmp_path) == [target]


def test_trackers_pass_through_to_accelerate_when_installed(tmp_path, monkeypatch):
    from accelerate.utils import LoggerType

    monkeypatch.setattr(tracking, "_installed", lambda package: True)
    out = tracking.make_trackers(["none", "tensorboard", "wandb", "mlflow", "csv"], tmp_path)
    assert out[:3] == ["tensorboard", "wandb", "mlflow"]
    assert isinstance(out[3], tracking.CSVTracker)
    assert {LoggerType(t) for t in out[:3]} == {LoggerType.TENSORBOARD, LoggerType.WANDB,
                                                LoggerType.MLFLOW}
    with pytest.raises(ValueError, match="unknown report_to target 'comet_ml'.*'mlflow'"):
        tracking.make_trackers(["comet_ml"], tmp_path)


# ---------------------------------------------------------------------------- hub ids
def _fake_cache(root, tokenizer, repo="org/tiny", commit="0123456789abcdef" * 2 + "01234567"):
    """The layout huggingface_hub writes: models--org--tiny/{refs/main, snapshots/<hash>/...}."""
    folder = root / ("models--" + repo.replace("/", "--"))
    snap = folder / "snapshots" / commit
    model = models.tiny_causal_lm(tokenizer, seed=7)
    model.save_pretrained(snap)
    tokenizer.save_pretrained(snap)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    return model


def test_hub_id_loads_from_the_local_cache(tokenizer, tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    saved = _fake_cache(cache, tokenizer)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.chdir(tmp_path)  # "org/tiny" is not a folder here
    assert models.hub_cache_dir() == cache
    lookups = []  # no network: not even a DNS lookup (hub telemetry, probes for adapters)

    def no_network(*args, **kwargs):
        lookups.append(args[:2])
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    model, tok = models.load_model("org/tiny")
    assert lookups == []
    ids = torch.tensor([tokenizer("hello there")["input_ids"]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, saved(ids).logits, atol=0, rtol=0)
    assert tok("why not")["input_ids"] == tokenizer("why not")["input_ids"]
    assert tok.pad_token_id == tokenizer.pad_token_id
    # an explicit cache_dir wins over the environment
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    assert models.load_tokenizer("org/tiny", cache_dir=cache)("x")["input_ids"] == (
        tokenizer("x")["input_ids"])
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert models.hub_cache_dir() == tmp_path / "home" / "hub"


def test_missing_hub_id_says_where_it_looked_and_how_to_fix(tokenizer, tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    _fake_cache(cache, tokenizer)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        models.load_model("org/other", cache_dir=cache)
    msg = str(err.value)
    assert "org/other" in msg and str(cache) in msg
    assert "huggingface-cli download org/other" in msg and "local model folder" in msg
    # a cache entry without refs/main (from_pretrained cannot resolve it) gets the same advice
    (cache / "models--org--tiny" / "refs" / "main").unlink()
    with pytest.raises(FileNotFoundError, match="huggingface-cli download org/tiny"):
        models.load_tokenizer("org/tiny", cache_dir=cache)
    with pytest.raises(FileNotFoundError, match="neither a model directory"):
        models.load_model("./no/such/folder", cache_dir=cache)


# ---------------------------------------------------------------------------- checkpointing
def _grads(model, tokenizer):
    """Gradients of the summed completion log-probs, and how often layer 0's attention ran."""
    model.train()  # transformers only checkpoints in training mode
    runs = []
    hook = model.get_submodule(_attn_path(model)).register_forward_hook(
        lambda *a: runs.append(1))
    model.zero_grad(set_to_none=True)
    (-completion_logps(model, **encode(tokenizer, PROMPTS, COMPLETIONS)).sum()).backward()
    hook.remove()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}, len(runs)


def _attn_path(model):
    return next(n for n, _ in model.named_modules() if n.endswith("layers.0.self_attn"))


def _is_checkpointing(model) -> bool:
    base = model.get_base_model() if checkpoint.is_peft_model(model) else model
    return (base.is_activation_checkpointing if hasattr(base, "is_activation_checkpointing")
            else base.is_gradient_checkpointing)


def test_gradient_checkpointing_gives_the_same_gradients(tokenizer):
    plain = models.tiny_causal_lm(tokenizer, seed=1, dtype=torch.float64)
    ckpt = copy.deepcopy(plain)
    assert models.enable_gradient_checkpointing(ckpt) is ckpt
    assert _is_checkpointing(ckpt) and not _is_checkpointing(plain)
    assert ckpt.config.use_cache is False
    want, runs_plain = _grads(plain, tokenizer)
    got, runs_ckpt = _grads(ckpt, tokenizer)
    assert (runs_plain, runs_ckpt) == (1, 2)  # the layer was recomputed in the backward pass
    assert want.keys() == got.keys() and len(want) > 0
    for n in want:
        torch.testing.assert_close(got[n], want[n], atol=1e-6, rtol=0, msg=n)


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradient_checkpointing_of_a_peft_model(tokenizer, use_reentrant):
    peft = pytest.importorskip("peft")
    plain = _lora_model(peft, models.tiny_causal_lm(tokenizer, seed=2, dtype=torch.float64),
                        ["q_proj", "v_proj"])
    ckpt = copy.deepcopy(plain)
    models.enable_gradient_checkpointing(ckpt, use_reentrant=use_reentrant)
    assert isinstance(ckpt, peft.PeftModel) and _is_checkpointing(ckpt)
    want, _ = _grads(plain, tokenizer)
    got, runs = _grads(ckpt, tokenizer)
    assert runs == 2
    assert len(want) == 8 and all("lora_" in n for n in want)  # 2 layers x 2 modules x A, B
    for n in want:
        assert got[n].abs().max() > 0, n
        torch.testing.assert_close(got[n], want[n], atol=1e-6, rtol=0, msg=n)
