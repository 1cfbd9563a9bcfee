"""Checkpoints reload with the Hugging Face loaders, and resuming equals not stopping."""

import pytest
import torch

from llm_adapter import MatrixOracle, SelfPlayConfig, SelfPlayTrainer, TrainerCallback, models
from llm_adapter.scoring.logprobs import completion_logps, encode

PROMPTS = ["hello there", "what is up", "tell me", "why not"]
# COMAL 3x3 preferences (Liu et al. 2024, Sec. 4) over classes = first token id mod 3
PREFS = [[0.5, 0.1, 0.8], [0.9, 0.5, 0.1], [0.2, 0.9, 0.5]]


def _oracle():
    return MatrixOracle(PREFS, classify=lambda ids: ids[0] % 3)


def _trainer(tokenizer, tmp_path, model=None, eval_dataset=None, **kw):
    base = dict(output_dir=str(tmp_path), algorithm="mpo", eta=1.0, temp=0.1,
                ref_update_steps=2, num_generations=3, per_device_batch_size=2,
                learning_rate=1e-2, max_new_tokens=6, seed=3, max_steps=3)
    base.update(kw)
    model = model if model is not None else models.tiny_causal_lm(tokenizer, seed=0)
    return SelfPlayTrainer(model, tokenizer, _oracle(), SelfPlayConfig(**base),
                           train_dataset=PROMPTS, eval_dataset=eval_dataset)


def _lora(tokenizer, seed=0):
    """LoRA on the seed-0 base model (a resumed run loads the same base); ``seed`` draws the
    adapter's initial A factors."""
    peft = pytest.importorskip("peft")
    base = models.tiny_causal_lm(tokenizer, seed=0)
    torch.manual_seed(seed)
    return peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8,
                                                     target_modules=["q_proj", "v_proj"]))


def _logps(model, tokenizer):
    batch = encode(tokenizer, PROMPTS, ["a reply", "no", "sure thing", "x"])
    with torch.no_grad():
        return completion_logps(model, **batch)


def test_full_checkpoint_loads_with_auto_model_from_pretrained(tokenizer, tmp_path):
    from transformers import AutoModelForCausalLM

    tr = _trainer(tokenizer, tmp_path, max_steps=1, save_steps=1)
    tr.train(progress=False)
    folder = tmp_path / "checkpoint-1"
    loaded = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True).eval()
    fresh = models.tiny_causal_lm(tokenizer, seed=0)
    assert not torch.allclose(_logps(fresh, tokenizer), _logps(tr.unwrapped, tokenizer))
    torch.testing.assert_close(_logps(loaded, tokenizer), _logps(tr.unwrapped, tokenizer),
                               atol=1e-6, rtol=0)


def test_lora_checkpoint_loads_with_peft_model_from_pretrained(tokenizer, tmp_path):
    peft = pytest.importorskip("peft")
    lora = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                           init_lora_weights="gaussian")
    model = peft.get_peft_model(models.tiny_causal_lm(tokenizer, seed=0), lora)
    tr = _trainer(tokenizer, tmp_path, model=model, max_steps=1, save_steps=1,
                  learning_rate=5e-2)
    tr.train(progress=False)
    folder = tmp_path / "checkpoint-1"
    assert (folder / "adapter_config.json").exists()
    assert (folder / "adapter_model.safetensors").exists()
    loaded = peft.PeftModel.from_pretrained(models.tiny_causal_lm(tokenizer, seed=0),
                                            folder).eval()
    torch.testing.assert_close(_logps(loaded, tokenizer), _logps(tr.unwrapped, tokenizer),
                               atol=1e-6, rtol=0)


# frozen policies: full fine-tuning with one copy (pi_0's becomes the magnet), with two (eval
# prompts keep pi_0), and LoRA (pi_0 = adapter disabled, the magnet an adapter snapshot)
@pytest.mark.parametrize("setting", ["full", "full_with_eval", "lora"])
def test_resume_on_one_process_equals_the_uninterrupted_run(tokenizer, tmp_path, setting):
    schedule = dict(lr_scheduler_type="cosine", warmup_steps=1)
    if setting == "full_with_eval":
        schedule.update(eval_dataset=["say hi"], eval_steps=3)
    elif setting == "lora":
        schedule.update(learning_rate=5e-2)

    def model(seed=0):
        return (_lora(tokenizer, seed) if setting == "lora"
                else models.tiny_causal_lm(tokenizer, seed=seed))

    full = _trainer(tokenizer, tmp_path / "full", model=model(), **schedule)
    full.train(progress=False)

    class StopAt2(TrainerCallback):  # a run cut short (same settings, so the same schedule)
        def on_step_end(self, trainer, metrics):
            trainer.should_stop = metrics["step"] == 2

    first = _trainer(tokenizer, tmp_path / "cut", model=model(), save_steps=2, **schedule)
    first.callbacks.add_callback(StopAt2)
    first.train(progress=False)
    assert first.step_count == 2
    # a new process would start from a fresh model: resume restores weights, optimiser, the
    # LR schedule, reference / magnet (reset at iteration 2), RNG and the data position
    resumed = _trainer(tokenizer, tmp_path / "cut", model=model(seed=5), **schedule)
    resumed.train(resume_from_checkpoint=True, progress=False)
    assert resumed.step_count == 3 and resumed.ref_version == 1

    for (n, a), (_, b) in zip(full.unwrapped.named_parameters(),
                              resumed.unwrapped.named_parameters()):
        torch.testing.assert_close(a, b, atol=0, rtol=0, msg=n)
    assert _untimed(full.history) == _untimed(resumed.history)
    _same_kl_steps(full.history, resumed.history)


def _untimed(history):
    """The history without timings and without ``kl_step``, a diagnostic computed on logged
    iterations, among them the last of each ``train`` call (so where a run was cut); where both
    runs have it, it must agree."""
    return [{k: v for k, v in h.items()
             if not k.endswith(("seconds", "per_second")) and k != "kl_step"} for h in history]


def _same_kl_steps(a, b):
    for x, y in zip(a, b):
        if "kl_step" in x and "kl_step" in y:
            assert x["kl_step"] == y["kl_step"], x["step"]


def test_resume_inside_a_generation_equals_the_uninterrupted_run(tokenizer, tmp_path):
    # SPPO's schedule: 2 iterations train on one generation of pi_t; the checkpoint after the
    # first keeps the generated half not trained on yet, so resuming there changes nothing
    kw = dict(algorithm="sppo", eta=1.0, steps_per_generation=2, max_steps=4,
              per_device_batch_size=1)
    full = _trainer(tokenizer, tmp_path / "full", **kw)
    # SPPO's loss has no reference and there are no eval prompts: no frozen copy is held
    assert full.initial is None and full.reference is None
    full.train(progress=False)
    first = _trainer(tokenizer, tmp_path / "cut", **{**kw, "max_steps": 3}, save_steps=3)
    first.train(progress=False)
    resumed = _trainer(tokenizer, tmp_path / "cut", model=models.tiny_causal_lm(tokenizer, seed=5),
                       **kw)
    resumed.train(resume_from_checkpoint=True, progress=False)
    for (n, a), (_, b) in zip(full.unwrapped.named_parameters(),
                              resumed.unwrapped.named_parameters()):
        torch.testing.assert_close(a, b, atol=0, rtol=0, msg=n)
    assert _untimed(full.history) == _untimed(resumed.history)
    _same_kl_steps(full.history, resumed.history)


def test_checkpoint_with_other_settings_is_refused(tokenizer, tmp_path):
    tr = _trainer(tokenizer, tmp_path, max_steps=1, save_steps=1)
    tr.train(progress=False)
    other = _trainer(tokenizer, tmp_path, eta=2.0)
    with pytest.raises(ValueError, match="different SelfPlayConfig .eta differ"):
        other.train(resume_from_checkpoint=tmp_path / "checkpoint-1", progress=False)
    with pytest.raises(ValueError, match="not a self-play checkpoint"):
        other.load_checkpoint(tmp_path)
