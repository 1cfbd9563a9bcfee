"""Masked completion log-probs, one-pass chosen/rejected scoring, snapshots and the cache."""

import subprocess
import sys

import pytest
import torch

from llm_adapter.scoring import logprobs


def _reference_logp(model, tokenizer, prompt, completion):
    """Unbatched, unpadded reference: sum of log_softmax over the completion tokens + EOS."""
    p = tokenizer(prompt)["input_ids"]
    c = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = torch.tensor([p + c])
    with torch.no_grad():
        lp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
    return sum(float(lp[len(p) + i - 1, t]) for i, t in enumerate(c))


def test_import_does_not_import_jax():
    code = "import llm_adapter, sys; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_batched_padded_logps_equal_unbatched_reference(tiny_model, tokenizer):
    prompts = ["hi", "a longer prompt here", "q"]
    completions = ["yes", "no", "a much longer completion"]
    batch = logprobs.encode(tokenizer, prompts, completions)
    with torch.no_grad():
        got = logprobs.completion_logps(tiny_model, **batch)
    want = [_reference_logp(tiny_model, tokenizer, p, c) for p, c in zip(prompts, completions)]
    torch.testing.assert_close(got.double(), torch.tensor(want, dtype=torch.float64),
                               atol=1e-4, rtol=0)
    # EOS is kept: it is the last completion token of every row
    last = batch["attention_mask"].sum(-1) - 1
    assert torch.all(batch["input_ids"][torch.arange(3), last] == tokenizer.eos_token_id)
    assert torch.all(batch["completion_mask"][torch.arange(3), last] == 1)


def test_prompt_and_padding_positions_never_contribute(tiny_model, tokenizer):
    prompts, completions = ["hello", "a much longer prompt"], ["ab", "c"]
    batch = logprobs.encode(tokenizer, prompts, completions)
    with torch.no_grad():
        clean = logprobs.completion_logps(tiny_model, **batch)

    class Poisoned(torch.nn.Module):
        """Writes NaN into the logits at every position that scores a prompt or padding token."""

        def __init__(self, inner, keep):
            super().__init__()
            self.inner, self.keep = inner, keep

        def forward(self, **kw):
            out = self.inner(**kw)
            bad = torch.ones_like(self.keep, dtype=torch.bool)
            bad[:, :-1] = ~self.keep[:, 1:]
            out.logits = torch.where(bad[..., None], torch.nan, out.logits)
            return out

    keep = (batch["completion_mask"] > 0) & (batch["attention_mask"] > 0)
    with torch.no_grad():
        poisoned = logprobs.completion_logps(Poisoned(tiny_model, keep), **batch)
    torch.testing.assert_close(poisoned, clean, atol=0, rtol=0)
    tok, mask = logprobs.completion_logps(tiny_model, **batch, per_token=True)
    assert torch.all(tok[~mask] == 0)
    # the mask is exactly the completion tokens (2 chars + EOS, 1 char + EOS)
    assert mask.sum(-1).tolist() == [3, 2]


def test_concatenated_equals_separate(tiny_model, tokenizer):
    prompts = ["x", "yz"]
    chosen, rejected = ["good", "fine"], ["bad", "worse answer"]
    with torch.no_grad():
        c, r = logprobs.concatenated_logps(tiny_model, tokenizer, prompts, chosen, rejected)
        c2 = logprobs.completion_logps(tiny_model, **logprobs.encode(tokenizer, prompts, chosen))
        r2 = logprobs.completion_logps(tiny_model,
                                       **logprobs.encode(tokenizer, prompts, rejected))
    torch.testing.assert_close(c, c2, atol=1e-5, rtol=0)
    torch.testing.assert_close(r, r2, atol=1e-5, rtol=0)


def test_bf16_and_fp32_sequence_logps_agree(tokenizer):
    from llm_adapter.models import tiny_causal_lm

    fp32 = tiny_causal_lm(tokenizer, seed=3)
    bf16 = tiny_causal_lm(tokenizer, seed=3, dtype=torch.bfloat16)
    prompts = ["what is two plus two", "name a colour"]
    completions = ["four, I think", "blue"]
    batch = logprobs.encode(tokenizer, prompts, completions)
    with torch.no_grad():
        a = logprobs.completion_logps(fp32, **batch)
        b = logprobs.completion_logps(bf16, **batch)
        logits = bf16(input_ids=batch["input_ids"]).logits[:, :-1]
        naive_tok = torch.log_softmax(logits, dim=-1).gather(  # log-softmax in bf16
            -1, batch["input_ids"][:, 1:, None]).squeeze(-1)
        mask = batch["completion_mask"][:, 1:] > 0
        naive = torch.where(mask, naive_tok, torch.zeros_like(naive_tok)).float().sum(-1)
    n_tokens = mask.sum(-1).float()
    # Tolerance: bf16 keeps 8 significant bits (unit roundoff 2^-9 ~ 2e-3). The weights and
    # activations are rounded once per layer, so each token's logit moves by O(1e-2) relative
    # error at most in a 2-layer model with O(1) logits; summed over n tokens: 0.02 n nats.
    # The float32 log-softmax adds no further rounding (log p ~ -4.6 for a 101-token vocab
    # would otherwise lose ~2^-8 * 4.6 ~ 0.02 nats per token to bf16 output rounding).
    assert torch.all((a - b).abs() <= 0.02 * n_tokens)
    assert float((a - b).abs().max()) < float((a - naive).abs().max())


def test_weight_snapshot_swaps_and_restores(tiny_model, tokenizer):
    snap = logprobs.WeightSnapshot(tiny_model)
    batch = logprobs.encode(tokenizer, ["p"], ["c"])
    with torch.no_grad():
        before = logprobs.completion_logps(tiny_model, **batch)
        for p in tiny_model.parameters():
            p.add_(0.1)
        moved = logprobs.completion_logps(tiny_model, **batch)
        with snap.swapped_in(tiny_model):
            frozen = logprobs.completion_logps(tiny_model, **batch)
        after = logprobs.completion_logps(tiny_model, **batch)
    assert not torch.allclose(before, moved)
    torch.testing.assert_close(frozen, before, atol=0, rtol=0)
    torch.testing.assert_close(after, moved, atol=0, rtol=0)


def test_cache_computes_only_missing_rows():
    cache, calls = logprobs.LogProbCache(), []

    def compute(p, c):
        calls.append(len(p))
        return torch.tensor([float(len(x)) for x in c])

    assert cache.get("ref", ["a", "b"], [[1], [1, 2]], compute).tolist() == [1.0, 2.0]
    assert cache.get("ref", ["a", "c"], [[1], [1, 2, 3]], compute).tolist() == [1.0, 3.0]
    assert calls == [2, 1]
    cache.clear("ref")
    assert len(cache) == 0


@pytest.mark.parametrize("prompts, completions, match", [
    ([], [], "empty"),
    (["ok", ""], ["a", "b"], "prompt 1 is empty"),
    (["ok", "fine"], ["a"], "batch size mismatch"),
    ("not a list", ["a"], "list of strings"),
])
def test_bad_inputs_raise(tokenizer, prompts, completions, match):
    with pytest.raises(ValueError, match=match):
        logprobs.encode(tokenizer, prompts, completions)


def test_concatenated_rejects_mismatched_pairs(tiny_model, tokenizer):
    with pytest.raises(ValueError, match="batch size mismatch"):
        logprobs.concatenated_logps(tiny_model, tokenizer, ["a", "b"], ["x", "y"], ["z"])
