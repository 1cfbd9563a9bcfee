"""The trainer with what real models bring: a BOS-adding tokenizer whose chat template also
writes BOS, a reward model with its own tokenizer, template and no pad token; judges that cost
K rows per prompt; rollouts from outside the trainer; SPPO's loss and schedule as published."""

import pytest
import torch
from tokenizers import Tokenizer, processors
from transformers import LlamaConfig, LlamaForSequenceClassification, PreTrainedTokenizerFast

from llm_adapter import (
    MatrixOracle,
    PairwiseJudge,
    SelfPlayConfig,
    SelfPlayTrainer,
    losses,
    models,
)
from llm_adapter.data.rollouts import load_rollouts, save_rollouts
from llm_adapter.judges.adapters import RewardModelOracle

BOS = 2  # "<s>" in models.tiny_tokenizer
# A Llama / Mistral style template: it writes BOS itself, and the tokenizer adds one too.
POLICY_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}"
                   "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}")
# The reward model's own, different template.
RM_TEMPLATE = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
PROMPTS = ["hello there", "what is up", "tell me", "why not"]


def _bos_tokenizer(template=None, pad=True):
    """The tiny character tokenizer with a post-processor that prepends BOS (like Llama's)."""
    backend = Tokenizer.from_str(models.tiny_tokenizer().backend_tokenizer.to_str())
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", BOS)])
    kw = {"pad_token": "<pad>"} if pad else {}
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<s>",
                                  eos_token="</s>", **kw)
    tok.chat_template = template
    return tok


def _reward_model(tokenizer, seed=1):
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                      num_labels=1, pad_token_id=None)
    torch.manual_seed(seed)
    return LlamaForSequenceClassification(cfg).eval()


def _rows_seen(module):
    """Record every ``input_ids`` batch ``module``'s forward receives."""
    seen = []

    def hook(_, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None:
            seen.append((ids.detach().clone(), kwargs.get("attention_mask")))

    module.register_forward_pre_hook(hook, with_kwargs=True)
    return seen


def _config(tmp_path, **kw):
    base = dict(output_dir=str(tmp_path / "run"), algorithm="mpo", eta=1.0, temp=0.1,
                ref_update_steps=None, num_generations=3, per_device_batch_size=4,
                learning_rate=1e-2, max_new_tokens=5, seed=1, max_steps=1)
    base.update(kw)
    return SelfPlayConfig(**base)


def test_every_row_has_one_bos_and_the_reward_model_reads_its_own_template(tmp_path):
    policy_tok = _bos_tokenizer(POLICY_TEMPLATE)
    rm_tok = _bos_tokenizer(RM_TEMPLATE, pad=False)  # no pad token, as many reward models
    rm = _reward_model(rm_tok)
    model = models.tiny_causal_lm(policy_tok, seed=0)
    policy_rows, rm_rows = _rows_seen(model), _rows_seen(rm)
    tr = SelfPlayTrainer(model, policy_tok, rm, _config(tmp_path), train_dataset=PROMPTS,
                         reward_tokenizer=rm_tok)
    tr.train(progress=False)

    prefills = [(ids, mask) for ids, mask in policy_rows if ids.shape[1] > 1]
    assert prefills  # generation prefill and the scoring / training forwards
    for ids, mask in prefills:
        for row, m in zip(ids, mask if mask is not None else torch.ones_like(ids)):
            attended = row[m.bool()].tolist()
            # one BOS at the start: the template's; the tokenizer's own is not added again
            assert attended[0] == BOS and attended[1] != BOS, attended[:4]

    # the reward model read [user] prompt / [assistant] response in its own template, with no
    # policy template text and no BOS of the policy's
    texts = [rm_tok.decode(r[r != rm.config.pad_token_id].tolist()) for ids, _ in rm_rows
             for r in ids]
    assert texts and all(t.startswith("[user] ") and "\n[assistant] " in t for t in texts)
    assert not any("<assistant>" in t or "<s>" in t for t in texts)
    assert {t.split("\n")[0][len("[user] "):] for t in texts} == set(PROMPTS)


def test_reward_model_without_pad_token_scores_batches_like_single_texts():
    rm_tok = _bos_tokenizer(RM_TEMPLATE, pad=False)
    rm = _reward_model(rm_tok)
    oracle = RewardModelOracle(rm, rm_tok, models.tiny_tokenizer(), batch_size=8)
    prompts = ["hi", "a longer question here", "q"]
    responses = ["yes", "no way at all", "maybe so"]
    batched = oracle.score(prompts, responses)
    with torch.no_grad():  # each conversation alone: no padding involved
        alone = [float(rm(input_ids=torch.tensor([oracle.token_ids(p, r)])).logits[0, 0])
                 for p, r in zip(prompts, responses)]
    torch.testing.assert_close(batched, torch.tensor(alone, dtype=torch.float64), atol=1e-6,
                               rtol=0)


def test_a_reward_model_scores_k_rows_per_prompt_per_iteration(tmp_path):
    tok = models.tiny_tokenizer()
    rm = _reward_model(tok)
    rows = _rows_seen(rm)
    k, n = 4, len(PROMPTS)
    tr = SelfPlayTrainer(models.tiny_causal_lm(tok, seed=0), tok, rm,
                         _config(tmp_path, num_generations=k, max_steps=2),
                         train_dataset=PROMPTS, reward_tokenizer=tok)
    tr.train(progress=False)
    # K rows per prompt and iteration (the old all-pairs path scored K (K - 1) = 12 per prompt)
    assert sum(ids.shape[0] for ids, _ in rows) == 2 * n * k


def test_a_pairwise_judge_gets_all_pairs_of_a_batch_in_one_call(tmp_path):
    calls = []

    def longer(prompts, a, b):
        calls.append(len(prompts))
        return [0.5 + 0.5 * ((len(x) > len(y)) - (len(x) < len(y))) for x, y in zip(a, b)]

    tok = models.tiny_tokenizer()
    tr = SelfPlayTrainer(models.tiny_causal_lm(tok, seed=0), tok, PairwiseJudge(longer),
                         _config(tmp_path, num_generations=3), train_dataset=PROMPTS)
    tr.train(progress=False)
    # one call: 4 prompts x 3 unordered pairs, both presentation orders
    assert calls == [len(PROMPTS) * 3 * 2]


@pytest.mark.parametrize("judge, algorithm", [("reward_model", "comal"), ("pairwise", "comal"),
                                              ("pairwise", "nash_md")])  # nash_md: the mixture
def test_rollout_then_train_equals_online_training(tmp_path, judge, algorithm):
    tok = _bos_tokenizer(POLICY_TEMPLATE)

    def make(seed_offset=0):
        model = models.tiny_causal_lm(tok, seed=0, dtype=torch.float64)
        if judge == "reward_model":
            rm = _reward_model(tok).double()
            return model, rm
        return model, PairwiseJudge(lambda p, a, b: [float(len(x) > len(y)) + 0.5 * (
            len(x) == len(y)) for x, y in zip(a, b)])

    cfg = _config(tmp_path, algorithm=algorithm, ref_update_steps=1)
    model, j = make()
    online = SelfPlayTrainer(model, tok, j, cfg, train_dataset=PROMPTS, reward_tokenizer=tok)
    online.train(progress=False)

    model, j = make()
    writer = SelfPlayTrainer(model, tok, j, cfg, train_dataset=PROMPTS, reward_tokenizer=tok)
    path = save_rollouts(writer.generate_rollouts(), tmp_path / "rollouts.jsonl")
    data = load_rollouts(path)
    assert data.column_names[:2] == ["prompt", "completions"]
    assert ("scores" in data.column_names) == (judge == "reward_model")

    model, j = make()
    offline = SelfPlayTrainer(model, tok, j, cfg, train_dataset=data, reward_tokenizer=tok)
    offline.train(progress=False)
    moved = False
    for (n, a), (_, b) in zip(online.unwrapped.named_parameters(),
                              offline.unwrapped.named_parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=n)
    init = models.tiny_causal_lm(tok, seed=0, dtype=torch.float64)
    moved = any(not torch.allclose(a, b) for a, b in zip(init.parameters(),
                                                         online.unwrapped.parameters()))
    assert moved
    assert offline.history[0]["loss"] == pytest.approx(online.history[0]["loss"], rel=1e-9)
    assert offline.history[0]["generate_seconds"] == 0.0


def test_bad_rollouts_are_refused(tmp_path):
    from datasets import Dataset

    tok = models.tiny_tokenizer()
    cfg = _config(tmp_path, num_generations=2)

    def build(rows):
        return SelfPlayTrainer(models.tiny_causal_lm(tok), tok, PairwiseJudge(
            lambda p, a, b: [0.5] * len(p)), cfg, train_dataset=Dataset.from_list(rows))

    with pytest.raises(ValueError, match="row 1 has 1 completions; every row needs 2"):
        build([{"prompt": "a", "completions": ["x", "y"]}, {"prompt": "b", "completions": ["x"]}])
    with pytest.raises(ValueError, match="logps must be 2 finite numbers"):
        build([{"prompt": "a", "completions": ["x", "y"], "logps": [0.0, float("nan")]}])
    with pytest.raises(ValueError, match="not a pointwise scorer"):
        build([{"prompt": "a", "completions": ["x", "y"], "scores": [0.0, 1.0]}])


def test_sppo_is_the_papers_pointwise_loss():
    # Wu et al. 2024 (SPPO), eq. (3.6): (log(pi(y)/pi_t(y)) - eta (P_hat(y > pi_t) - 1/2))^2,
    # averaged over the samples. Hand-computed with eta = 2:
    #   y1: log-ratio -1.0 - (-1.5) = 0.5, target 2 (0.75 - 0.5) = 0.5  -> residual 0
    #   y2: log-ratio -2.0 - (-1.0) = -1.0, target 2 (0.25 - 0.5) = -0.5 -> residual -0.5
    #   y3: log-ratio -0.5 - (-1.0) = 0.5, target 2 (0.5 - 0.5) = 0     -> residual 0.5
    # mean of squares = (0 + 0.25 + 0.25) / 3 = 1/6
    logps = torch.tensor([-1.0, -2.0, -0.5])
    old = torch.tensor([-1.5, -1.0, -1.0])
    win = torch.tensor([0.75, 0.25, 0.5])
    assert float(losses.sppo_loss(logps, old, win, 2.0)) == pytest.approx(1 / 6)
    assert SelfPlayConfig(algorithm="sppo").steps_per_generation == "epoch"
    with pytest.raises(ValueError, match="renamed.*sppo_pairwise"):
        SelfPlayConfig(algorithm="sppo_pointwise")


def test_sppo_trains_the_pointwise_loss_on_one_generation_per_epoch(tmp_path):
    tok = models.tiny_tokenizer()
    # COMAL 3x3 preferences (Liu et al. 2024, Sec. 4) over classes = first token id mod 3: few
    # ties, so the first iteration moves the model
    judge = MatrixOracle([[0.5, 0.1, 0.8], [0.9, 0.5, 0.1], [0.2, 0.9, 0.5]],
                         classify=lambda ids: ids[0] % 3)
    cfg = _config(tmp_path, algorithm="sppo", eta=2.0, per_device_batch_size=2, max_steps=4,
                  steps_per_generation=None)  # None: the paper's schedule, "epoch"
    tr = SelfPlayTrainer(models.tiny_causal_lm(tok, seed=0), tok, judge, cfg,
                         train_dataset=PROMPTS)
    assert tr.steps_per_generation() == 2  # 4 prompts, 2 per iteration
    generated = []
    original = tr.sample
    tr.sample = lambda *a, **kw: generated.append(tr.step_count) or original(*a, **kw)
    checked = []
    original_loss = tr._loss

    initial = models.tiny_causal_lm(tok, seed=0)  # pi_0, scored independently

    def loss(r):  # the trainer's loss against eq. (3.6) computed here from its inputs
        with torch.no_grad():
            pi0 = tr._logps(initial, r["prompt_ids"], r["completions"], per_token=True)[0]
            logps = tr._logps(tr.model, r["prompt_ids"], r["completions"])
        value = original_loss(r)
        expected = ((logps - r["old"].flatten() - 2.0 * (r["win"].flatten() - 0.5)) ** 2).mean()
        assert float(value.detach()) == pytest.approx(float(expected), rel=1e-6)
        # log pi_t is the generating policy's: pi_0 at iterations 0 and 1, even though the
        # model has moved by iteration 1
        if tr.step_count < 2:
            torch.testing.assert_close(r["old"].flatten(), pi0.sum(-1), atol=1e-5, rtol=0)
            checked.append((tr.step_count, not torch.allclose(logps, pi0.sum(-1))))
        return value

    tr._loss = loss
    tr.train(progress=False)
    # pi_t is frozen for a whole pass over the prompts: one generation at iterations 0 and 2
    assert generated == [0, 0, 2, 2]
    assert checked == [(0, False), (1, True)]


def test_evaluation_runs_at_eval_steps_against_the_initial_policy(tmp_path):
    tok = models.tiny_tokenizer()
    rm = _reward_model(tok)
    tr = SelfPlayTrainer(models.tiny_causal_lm(tok, seed=0), tok, rm,
                         _config(tmp_path, max_steps=4, eval_steps=2, initial_samples=2),
                         train_dataset=PROMPTS, eval_dataset=["how are you", "say hi"],
                         reward_tokenizer=tok)
    tr.train(progress=False)
    evaluated = [h["step"] for h in tr.history if "eval_win_rate_vs_initial" in h]
    assert evaluated == [2, 4]
    for h in tr.history[1::2]:
        assert 0.0 <= h["eval_win_rate_vs_initial"] <= 1.0 and h["eval_kl_to_initial"] >= 0.0
    # at the initial policy itself the evaluation is exact: KL 0, and its samples are the
    # initial policy's own, so the win rate is 1/2 only in expectation; the KL is exactly 0
    fresh = SelfPlayTrainer(models.tiny_causal_lm(tok, seed=0), tok, rm, _config(tmp_path),
                            reward_tokenizer=tok)
    assert fresh.evaluate(["how are you", "say hi"])["eval_kl_to_initial"] == 0.0
    with pytest.raises(ValueError, match="eval_steps is set but there is no eval_dataset"):
        SelfPlayTrainer(models.tiny_causal_lm(tok, seed=0), tok, rm,
                        _config(tmp_path, eval_steps=1), train_dataset=PROMPTS,
                        reward_tokenizer=tok).train(progress=False)
