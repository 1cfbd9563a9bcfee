"""``judge=`` (oracle, pairwise judge, TRL-style judge, reward model) and prompt datasets."""

import json
from importlib import resources

import pytest
import torch

from llm_adapter import (
    MatrixOracle,
    PairwiseJudge,
    RewardModelOracle,
    as_oracle,
    prepare_prompts,
    prompt_dataset,
)


def _longer_is_better(prompts, a, b):
    return [1.0 if len(x) > len(y) else 0.0 if len(x) < len(y) else 0.5 for x, y in zip(a, b)]


def test_pairwise_judge_decodes_and_is_antisymmetric(tokenizer):
    judge = as_oracle(PairwiseJudge(_longer_is_better), tokenizer)
    a = [tokenizer("abc", add_special_tokens=False)["input_ids"], "x"]
    b = ["de", "yz"]
    p = judge(["q", "q"], a, b)
    assert p.tolist() == [1.0, 0.0]  # "abc" beats "de"; "x" loses to "yz"
    torch.testing.assert_close(p + judge(["q", "q"], b, a), torch.ones(2, dtype=torch.float64))


def test_position_biased_judge_is_symmetrised():
    def first_wins_70(prompts, a, b):  # prefers whatever is shown first
        return [0.7] * len(a)

    p = PairwiseJudge(first_wins_70)(["q"], ["a"], ["b"])
    assert p.tolist() == [0.5]  # (0.7 + 1 - 0.7) / 2


def test_trl_style_judge_object_is_wrapped(tokenizer):
    class IndexJudge:  # TRL's BasePairwiseJudge interface: index of the better completion
        def judge(self, prompts, completions, shuffle_order=True):
            return [0 if len(c[0]) >= len(c[1]) else 1 for c in completions]

    p = as_oracle(IndexJudge(), tokenizer)(["q"], ["long answer"], ["short"])
    assert p.tolist() == [1.0]


def test_reward_model_gives_bradley_terry_preferences(tokenizer):
    from transformers import LlamaConfig, LlamaForSequenceClassification

    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                      num_labels=1, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    rm = LlamaForSequenceClassification(cfg).eval()
    oracle = as_oracle(rm, tokenizer)
    assert isinstance(oracle, RewardModelOracle)
    prompts, a, b = ["hi ", "hi "], ["there", "you"], ["you all", "there"]
    with torch.no_grad():  # the reward of one unpadded text, scored directly by the model
        def r(text):
            return float(rm(**tokenizer(text, return_tensors="pt")).logits[0, 0])
        expected = [torch.sigmoid(torch.tensor(r("hi " + x) - r("hi " + y))).item()
                    for x, y in zip(a, b)]
    torch.testing.assert_close(oracle(prompts, a, b), torch.tensor(expected, dtype=torch.float64),
                               atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="num_labels == 1"):
        RewardModelOracle(torch.nn.Linear(2, 2), tokenizer)


def test_bad_judges_raise(tokenizer):
    with pytest.raises(ValueError, match="judge is required"):
        as_oracle(None)
    with pytest.raises(ValueError, match="cannot use a int as a judge"):
        as_oracle(3)
    with pytest.raises(ValueError, match="one verdict per pair"):
        PairwiseJudge(lambda p, a, b: [0.5])(["q", "q"], ["a", "b"], ["c", "d"])
    with pytest.raises(ValueError, match="Probabilities, not scores"):
        PairwiseJudge(lambda p, a, b: [3.0])(["q"], ["a"], ["b"])
    assert as_oracle(MatrixOracle([[0.5]]), tokenizer) is not None


def test_shipped_prompts_are_an_offline_dataset():
    ds = prompt_dataset()
    shipped = json.loads(resources.files("llm_adapter").joinpath("data/prompts.json")
                         .read_text())["prompts"]
    assert ds.column_names == ["prompt"] and ds["prompt"] == shipped and len(ds) == 20
    assert prompt_dataset(3)["prompt"] == shipped[:3]
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 20\]"):
        prompt_dataset(0)


def test_prompts_are_chat_templated_when_the_tokenizer_has_a_template(tokenizer):
    from datasets import Dataset

    assert prepare_prompts(Dataset.from_dict({"prompt": ["hi"]}), tokenizer) == ["hi"]
    templated = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer,
                                    pad_token="<pad>", eos_token="</s>")
    templated.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}"
                               "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}")
    ds = Dataset.from_dict({"prompt": ["hi", "yo"]})
    assert prepare_prompts(ds, templated) == ["<user>hi<assistant>", "<user>yo<assistant>"]
    assert prepare_prompts(["hi"], templated, system="be brief") == [
        "<system>be brief<user>hi<assistant>"]
    conversation = [[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                     {"role": "user", "content": "c"}]]
    assert prepare_prompts(conversation, templated) == ["<user>a<assistant>b<user>c<assistant>"]
    with pytest.raises(ValueError, match="has no chat template"):
        prepare_prompts(conversation, tokenizer)
    with pytest.raises(ValueError, match="needs a 'prompt' column"):
        prepare_prompts(Dataset.from_dict({"text": ["hi"]}), tokenizer)
    with pytest.raises(ValueError, match="prompt 1 is empty"):
        prepare_prompts(["ok", " "], tokenizer)
