"""The trainer's TRL-style options on a tiny model, through the trainer and the config / CLI:
LR schedule and warmup, save_total_limit, callbacks (and stopping early), merged LoRA export,
gradient checkpointing, peft_config=."""

import json

import pytest
import torch

from llm_adapter import (
    MatrixOracle,
    SelfPlayConfig,
    SelfPlayTrainer,
    TrainerCallback,
    cli,
    models,
)
from llm_adapter.scoring.logprobs import completion_logps, encode
from llm_adapter.trainer import checkpoint

PROMPTS = ["hello there", "what is up", "tell me", "why not"]
# COMAL 3x3 preferences (Liu et al. 2024, Sec. 4) over classes = first token id mod 3
PREFS = [[0.5, 0.1, 0.8], [0.9, 0.5, 0.1], [0.2, 0.9, 0.5]]


def _oracle():
    return MatrixOracle(PREFS, classify=lambda ids: ids[0] % 3)


def _config(tmp_path, **kw):
    base = dict(output_dir=str(tmp_path / "run"), algorithm="mpo", eta=1.0, temp=0.1,
                ref_update_steps=2, num_generations=3, per_device_batch_size=2,
                learning_rate=1e-2, max_new_tokens=4, seed=1, max_steps=4)
    base.update(kw)
    return SelfPlayConfig(**base)


def _trainer(tokenizer, tmp_path, model=None, **kw):
    model = model if model is not None else models.tiny_causal_lm(tokenizer, seed=0)
    return SelfPlayTrainer(model, tokenizer, _oracle(), _config(tmp_path, **kw),
                           train_dataset=PROMPTS)


def test_linear_warmup_schedule_from_the_cli(tmp_path, capsys):
    assert cli.main(["train", "--model", "tiny", "--num_prompts", "4", "--max_steps", "4",
                     "--per_device_batch_size", "2", "--num_generations", "2",
                     "--max_new_tokens", "3", "--learning_rate", "0.01",
                     "--lr_scheduler_type", "linear", "--warmup_steps", "2",
                     "--output_dir", str(tmp_path)]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    # transformers' get_linear_schedule_with_warmup with W = 2 warmup steps over N = 4:
    # multiplier s / W for s < W, (N - s) / (N - W) after; logged after s = 1..4 steps
    assert [h["learning_rate"] for h in history] == pytest.approx(
        [0.01 * 0.5, 0.01 * 1.0, 0.01 * 0.5, 0.0])


def test_save_total_limit_keeps_the_newest_checkpoints(tokenizer, tmp_path):
    tr = _trainer(tokenizer, tmp_path, save_steps=1, save_total_limit=2)
    tr.train(progress=False)
    assert [p.name for p in checkpoint.sorted_checkpoints(tmp_path / "run")] == [
        "checkpoint-3", "checkpoint-4"]


def test_callbacks_are_called_and_can_stop_the_run(tokenizer, tmp_path):
    calls = []

    class Recorder(TrainerCallback):
        def on_train_begin(self, trainer):
            calls.append("begin")

        def on_step_end(self, trainer, metrics):
            calls.append(("step", metrics["step"]))
            trainer.should_stop = metrics["step"] >= 3

        def on_evaluate(self, trainer, metrics):
            calls.append(("eval", round(metrics["eval_win_rate_vs_initial"], 6) >= 0))

        def on_save(self, trainer, path):
            calls.append(("save", path.name))

        def on_train_end(self, trainer):
            calls.append("end")

    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(),
                         _config(tmp_path, save_steps=2, eval_steps=2), train_dataset=PROMPTS,
                         eval_dataset=["say hi"], callbacks=[Recorder])
    tr.train(progress=False)
    assert calls == ["begin", ("step", 1), ("step", 2), ("eval", True), ("save", "checkpoint-2"),
                     ("step", 3), "end"]
    assert tr.step_count == 3  # stopped before max_steps = 4


def test_merged_lora_export_reloads_with_auto_model(tokenizer, tmp_path):
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    lora = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(),
                         _config(tmp_path, max_steps=2, learning_rate=5e-2, save_merged=True),
                         train_dataset=PROMPTS, peft_config=lora)
    assert checkpoint.is_peft_model(tr.unwrapped)
    tr.train(progress=False)
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "merged",
                                                  local_files_only=True).eval()
    batch = encode(tokenizer, PROMPTS, ["a reply", "no", "sure thing", "x"])
    with torch.no_grad():
        got = completion_logps(merged, **batch)
        want = completion_logps(tr.unwrapped, **batch)
        base = completion_logps(models.tiny_causal_lm(tokenizer, seed=0), **batch)
    assert not torch.allclose(want, base, atol=1e-4)  # the adapter was trained
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_gradient_checkpointing_trains_the_same_weights(tokenizer, tmp_path):
    def run(flag, sub):
        model = models.tiny_causal_lm(tokenizer, seed=0, dtype=torch.float64)
        tr = _trainer(tokenizer, tmp_path / sub, model=model, gradient_checkpointing=flag,
                      max_steps=2)
        tr.train(progress=False)
        return tr

    plain, checkpointed = run(False, "plain"), run(True, "ckpt")
    assert checkpointed.unwrapped.is_activation_checkpointing
    for (n, a), (_, b) in zip(plain.unwrapped.named_parameters(),
                              checkpointed.unwrapped.named_parameters()):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=0, msg=n)
