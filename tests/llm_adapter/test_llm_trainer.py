"""Self-play trainer on a tiny random Llama: every algorithm, LoRA, the MPO magnet schedule,
logging (trackers, plot) and bad input."""

import csv

import pytest
import torch

from llm_adapter import MatrixOracle, SelfPlayConfig, SelfPlayTrainer, models
from llm_adapter.scoring import frozen
from llm_adapter.scoring.logprobs import completion_logps, encode

PROMPTS = ["hello there", "what is up", "tell me"]
# COMAL 3x3 preferences (Liu et al. 2024, Sec. 4) over classes = first token id mod 3
PREFS = [[0.5, 0.1, 0.8], [0.9, 0.5, 0.1], [0.2, 0.9, 0.5]]


def _oracle():
    return MatrixOracle(PREFS, classify=lambda ids: ids[0] % 3)


def _config(tmp_path, **kw):
    base = dict(output_dir=str(tmp_path / "run"), algorithm="mpo", eta=1.0, temp=0.1,
                ref_update_steps=1, num_generations=3, per_device_batch_size=3,
                learning_rate=1e-2, max_new_tokens=6, seed=1, max_steps=1)
    base.update(kw)
    return SelfPlayConfig(**base)


def _params(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("algorithm",
                         ["sppo", "sppo_pairwise", "mpo", "mpo_token", "comal", "nash_md"])
def test_one_iteration_logs_metrics_and_moves_the_policy(tokenizer, tmp_path, algorithm):
    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(),
                         _config(tmp_path, algorithm=algorithm))
    before = _params(tr.model)
    m = tr.step(PROMPTS)
    for key in ("loss", "kl_step", "tokens_per_second", "seconds", "generate_seconds",
                "judge_seconds", "score_seconds", "train_seconds"):
        assert key in m and m[key] == m[key]  # present and not NaN
    # the phases are the iteration (measured separately, so they add up to it)
    assert m["seconds"] == pytest.approx(sum(m[f"{p}_seconds"] for p in
                                             ("generate", "judge", "score", "train")))
    if algorithm.startswith("sppo"):  # no reference in the rule: its forward is skipped
        assert "kl_to_ref" not in m
    elif algorithm != "nash_md":  # pi_0 is the reference at the first iteration: KL = 0 exactly
        assert m["kl_to_ref"] == 0.0
    assert m["kl_step"] > 0.0 and m["tokens_per_second"] > 0
    after = _params(tr.model)
    assert any(not torch.equal(before[n], after[n]) for n in before)


def test_default_mpo_run_resets_its_magnet_every_10_iterations(tokenizer, tmp_path):
    # The default SelfPlayConfig is MPO with the magnet reset every 10 iterations
    # (PAPER_SETTINGS["mpo"]); the rule parameters are left at their defaults here.
    cfg = SelfPlayConfig(output_dir=str(tmp_path / "run"), max_steps=11, per_device_batch_size=1,
                         max_new_tokens=3, learning_rate=1e-2, initial_samples=0)
    assert (cfg.algorithm, cfg.ref_update_steps) == ("mpo", 10)
    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(), cfg,
                         train_dataset=PROMPTS[:1])
    initial = tr.initial.state_dict()
    tr.args.max_steps = 9
    tr.train(progress=False)
    assert tr.reference is tr.initial and tr.ref_version == 0  # no reset before iteration 10
    tr.args.max_steps = 10
    tr.train(progress=False)
    at_10 = _params(tr.unwrapped)
    tr.args.max_steps = 11
    tr.train(progress=False)
    assert [h["reference_updated"] for h in tr.history] == [False] * 9 + [True, False]
    assert tr.ref_version == 1
    # full fine-tuning without eval prompts holds one frozen copy: pi_0's became the magnet
    assert tr.initial is None
    with pytest.raises(ValueError, match="pass eval_dataset= when building the trainer"):
        tr.evaluate(PROMPTS[:1])
    for n, t in tr.reference.state_dict().items():  # the magnet is the policy of iteration 10
        torch.testing.assert_close(t, at_10[n], atol=0, rtol=0)
    assert any(not torch.equal(initial[n], t) for n, t in tr.reference.state_dict().items())
    assert all(h["kl_to_ref"] >= 0 for h in tr.history)
    # kl_step costs a forward: computed on logged iterations (every 10) and each run's last
    assert [h["step"] for h in tr.history if "kl_step" in h] == [9, 10, 11]
    assert all(h["kl_step"] >= 0 for h in tr.history if "kl_step" in h)


def test_kl_step_forward_runs_on_logged_iterations_only(tokenizer, tmp_path):
    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(),
                         _config(tmp_path, max_steps=3, logging_steps=2, report_to="csv"),
                         train_dataset=PROMPTS[:3])
    forwards = []
    tr.unwrapped.register_forward_hook(lambda m, a, o: forwards.append(torch.is_grad_enabled()))
    tr.train(progress=False)
    assert ["kl_step" in h for h in tr.history] == [False, True, True]
    # per iteration: the training forward (grad) and, on logged ones, the kl_step forward; the
    # decode steps run without grad too, so count the grad-free forwards after each training one
    per_step, current = [], None
    for grad in forwards:
        if grad:
            current = [0]
            per_step.append(current)
        elif current is not None:
            current[0] += 1
    no_grad_after_train = [c[0] for c in per_step]
    # after iteration 1's update: generation of iteration 2 only; after 2's: kl_step + generation
    # of 3; after 3's: kl_step
    gen = no_grad_after_train[0]
    assert no_grad_after_train == [gen, gen + 1, 1]
    logged = (tmp_path / "run").rglob("*.csv")
    text = "".join(p.read_text() for p in logged)
    assert "kl_step" in text


def test_lora_training_changes_only_adapter_weights(tokenizer, tmp_path):
    peft = pytest.importorskip("peft")
    base = models.tiny_causal_lm(tokenizer, seed=0)
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8,
                                                      target_modules=["q_proj", "v_proj"],
                                                      init_lora_weights="gaussian"))
    before = _params(model)
    tr = SelfPlayTrainer(model, tokenizer, _oracle(),
                         _config(tmp_path, learning_rate=5e-2, max_steps=2),
                         train_dataset=PROMPTS)
    # LoRA starts with B = 0: the initial policy is the base model with the adapter disabled
    assert isinstance(tr.initial, frozen.AdapterDisabled)
    tr.train(progress=False)
    after = _params(model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed and all("lora_" in n for n in changed)


def test_trackers_and_plot_are_written_by_the_run(tokenizer, tmp_path):
    cfg = _config(tmp_path, max_steps=2, report_to=["csv", "tensorboard"], logging_steps=1)
    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(), cfg,
                         train_dataset=PROMPTS)
    tr.train(progress=False)
    out = tmp_path / "run"
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(r["step"]) for r in rows] == [1, 2]
    assert float(rows[1]["loss"]) == pytest.approx(tr.history[1]["loss"])
    assert list((out / "selfplay").glob("events.out.tfevents.*"))
    assert (out / "selfplay_run.png").stat().st_size > 10_000
    assert (out / "history.json").exists()


def test_bad_inputs_raise(tokenizer, tmp_path):
    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer), tokenizer, _oracle(),
                         _config(tmp_path))
    with pytest.raises(ValueError, match="empty"):
        tr.step([])
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        tr.step(["fine", "  "])
    with pytest.raises(ValueError, match="no prompts: pass train_dataset"):
        tr.train()
    with pytest.raises(ValueError, match="args must be a SelfPlayConfig"):
        SelfPlayTrainer(models.tiny_causal_lm(tokenizer), tokenizer, _oracle(), {"eta": 1})

    def out_of_range(prompts, a, b):
        return torch.full((len(prompts),), -0.5)

    bad = SelfPlayTrainer(models.tiny_causal_lm(tokenizer), tokenizer, out_of_range,
                          _config(tmp_path))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bad.step(PROMPTS)


def test_bf16_mixed_precision_from_the_config(tokenizer, tmp_path):
    tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0), tokenizer, _oracle(),
                         _config(tmp_path, mixed_precision="bf16", ref_update_steps=None))
    assert tr.accelerator.mixed_precision == "bf16"
    before = _params(tr.model)
    m = tr.step(PROMPTS)
    assert m["loss"] == m["loss"] and m["kl_step"] >= 0
    # autocast computes in bf16; the trained (master) weights stay float32
    assert all(p.dtype == torch.float32 for p in tr.model.parameters())
    assert any(not torch.equal(before[n], p) for n, p in tr.model.named_parameters())
    # the frozen initial policy (a resident copy) is the untrained model under the same
    # autocast, not the live weights
    ids, comps = [tr._prompt_ids("hello")] * 2, [[5, 6, 7], [8, 9]]
    frozen_tok, _ = tr._token_logps(ids, comps, tr.initial)
    live_tok, _ = tr._token_logps(ids, comps)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        fresh_tok, _ = completion_logps(models.tiny_causal_lm(tokenizer, seed=0),
                                        **encode(tokenizer, ids, comps, add_eos=False),
                                        per_token=True)
    torch.testing.assert_close(frozen_tok, fresh_tok, atol=1e-6, rtol=0)
    assert not torch.allclose(frozen_tok, live_tok, atol=1e-3)


def test_skipped_forwards_give_the_update_of_explicit_ones(tokenizer, tmp_path):
    # log pi_t from the first training forward and the just-reset magnet's log-probs from the
    # same forward must equal their own forward passes (the frozen policy's and the live one's)
    def run(explicit):
        cfg = _config(tmp_path / str(explicit), ref_update_steps=1, max_steps=2)
        tr = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, seed=0, dtype=torch.float64),
                             tokenizer, _oracle(), cfg, train_dataset=PROMPTS)
        if explicit:
            original = tr._make_rollout

            def make(items, generation, defer_old=False):
                tr._reference_is_current = False  # score the magnet with its frozen policy
                return original(items, generation, defer_old=False)

            tr._make_rollout = make
        tr.train(progress=False)
        return tr

    skipped, explicit = run(False), run(True)
    assert [h["kl_to_ref"] for h in skipped.history] == pytest.approx(
        [h["kl_to_ref"] for h in explicit.history], abs=1e-12)
    for (n, a), (_, b) in zip(skipped.unwrapped.named_parameters(),
                              explicit.unwrapped.named_parameters()):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=0, msg=n)
