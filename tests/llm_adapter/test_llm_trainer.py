"""Self-play trainer on a tiny random Llama: checkpoint/resume, LoRA, metrics, bad input."""

import pytest
import torch

from llm_adapter import MatrixOracle, SelfPlayConfig, SelfPlayTrainer, models

PROMPTS = ["hello there", "what is up", "tell me"]
# COMAL 3x3 preferences (Liu et al. 2024, Sec. 4) over classes = first token id mod 3
PREFS = [[0.5, 0.1, 0.8], [0.9, 0.5, 0.1], [0.2, 0.9, 0.5]]


def _oracle():
    return MatrixOracle(PREFS, classify=lambda ids: ids[0] % 3)


def _config(**kw):
    base = dict(algorithm="mpo", eta=1.0, temp=0.1, ref_every=1, k=3, prompts_per_step=2,
                lr=1e-2, max_new_tokens=6, seed=1)
    base.update(kw)
    return SelfPlayConfig(**base)


def _trainer(tokenizer, **kw):
    return SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(),
                           _config(**kw))


def _params(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("algorithm",
                         ["sppo", "sppo_pointwise", "mpo", "mpo_token", "comal", "nash_md"])
def test_one_iteration_logs_metrics_and_moves_the_policy(tokenizer, algorithm):
    tr = _trainer(tokenizer, algorithm=algorithm)
    before = _params(tr.model)
    m = tr.step(PROMPTS)
    for key in ("loss", "win_rate_vs_initial", "kl_to_ref", "kl_step", "seconds"):
        assert key in m and m[key] == m[key]  # present and not NaN
    assert 0.0 <= m["win_rate_vs_initial"] <= 1.0
    assert m["kl_to_ref"] == 0.0  # pi_0 is the reference at the first iteration
    after = _params(tr.model)
    assert any(not torch.equal(before[n], after[n]) for n in before)


def test_checkpoint_resume_equals_uninterrupted_run(tokenizer, tmp_path):
    full = _trainer(tokenizer, ref_every=2)
    full.train(PROMPTS, 3, progress=False)

    first = _trainer(tokenizer, ref_every=2)
    first.train(PROMPTS, 2, checkpoint_dir=tmp_path / "ckpt", progress=False)
    resumed = _trainer(tokenizer, ref_every=2).load(tmp_path / "ckpt")
    assert resumed.iteration == 2
    resumed.train(PROMPTS, 1, progress=False)

    for (n, a), (_, b) in zip(full.model.named_parameters(), resumed.model.named_parameters()):
        torch.testing.assert_close(a, b, atol=0, rtol=0, msg=n)
    assert [h["loss"] for h in full.history] == [h["loss"] for h in resumed.history]


def test_lora_training_changes_only_adapter_weights(tokenizer):
    peft = pytest.importorskip("peft")
    base = models.tiny_causal_lm(tokenizer, seed=0)
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8,
                                                      target_modules=["q_proj", "v_proj"],
                                                      init_lora_weights="gaussian"))
    before = _params(model)
    tr = SelfPlayTrainer(model, tokenizer, _oracle(), _config(lr=5e-2))
    assert all("lora_" in n for n in tr.initial.tensors)
    tr.train(PROMPTS, 2, progress=False)
    after = _params(model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed and all("lora_" in n for n in changed)


def test_bad_inputs_raise(tokenizer):
    tr = _trainer(tokenizer)
    with pytest.raises(ValueError, match="empty"):
        tr.step([])
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        tr.step(["fine", "  "])
    with pytest.raises(ValueError, match="algorithm"):
        SelfPlayConfig(algorithm="ppo")
    with pytest.raises(ValueError, match="k must be >= 2"):
        SelfPlayConfig(k=1)

    def out_of_range(prompts, a, b):
        return torch.full((len(prompts),), -0.5)

    bad = SelfPlayTrainer(models.tiny_causal_lm(tokenizer), tokenizer, out_of_range, _config())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bad.step(PROMPTS)


def test_checkpoint_with_other_config_is_refused(tokenizer, tmp_path):
    tr = _trainer(tokenizer)
    tr.save(tmp_path)
    with pytest.raises(ValueError, match="different SelfPlayConfig"):
        _trainer(tokenizer, eta=2.0).load(tmp_path)
