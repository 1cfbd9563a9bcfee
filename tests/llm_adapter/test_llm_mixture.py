"""Nash-MD's geometric-mixture sampling: the processor's next-token distribution."""

import copy

import pytest
import torch

from llm_adapter import SelfPlayConfig, WeightSnapshot, models
from llm_adapter.mixture import GeometricMixtureProcessor


def _next_token_logprobs(model, ids):
    with torch.no_grad():
        return torch.log_softmax(model(input_ids=ids).logits[:, -1, :].float(), dim=-1)


@pytest.fixture()
def policies(tokenizer):
    """(current model, independent copy holding the reference weights, reference snapshot)."""
    model = models.tiny_causal_lm(tokenizer, hidden=32, layers=2, seed=0)
    reference_copy = copy.deepcopy(model)
    snapshot = WeightSnapshot(model)
    with torch.no_grad():  # move the current policy away from the reference
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model, reference_copy, snapshot


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
def test_processor_returns_the_normalised_geometric_mixture(tokenizer, policies, beta):
    model, reference_copy, snapshot = policies
    ids = tokenizer(["tell me"], return_tensors="pt")["input_ids"]
    current = _next_token_logprobs(model, ids)
    reference = _next_token_logprobs(reference_copy, ids)
    proc = GeometricMixtureProcessor(model, snapshot, beta, torch.ones_like(ids))
    with torch.no_grad():
        scores = model(input_ids=ids).logits[:, -1, :]
    out = proc(ids, scores)
    # pi_mix ∝ pi^(1-beta) ref^beta (Munos et al. 2024, Sec. 7), computed independently here.
    expected = torch.log_softmax((1 - beta) * current + beta * reference, dim=-1)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    # The resident model's weights are restored after scoring the reference.
    torch.testing.assert_close(_next_token_logprobs(model, ids), current)


def test_left_padding_does_not_change_the_mixture(tokenizer, policies):
    model, _, snapshot = policies
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        enc = tokenizer(["hello there what is up", "tell me"], return_tensors="pt", padding=True)
    finally:
        tokenizer.padding_side = side
    alone = tokenizer(["tell me"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        padded_scores = model(**enc).logits[:, -1, :]
        alone_scores = model(input_ids=alone).logits[:, -1, :]
    padded = GeometricMixtureProcessor(model, snapshot, 0.5, enc["attention_mask"])(
        enc["input_ids"], padded_scores)
    single = GeometricMixtureProcessor(model, snapshot, 0.5, torch.ones_like(alone))(
        alone, alone_scores)
    torch.testing.assert_close(padded[1:], single, atol=1e-4, rtol=0)


def test_bad_mixture_weights_raise(tokenizer, policies):
    model, _, snapshot = policies
    with pytest.raises(ValueError, match="beta = eta \\* tau"):
        GeometricMixtureProcessor(model, snapshot, 1.5, torch.ones(1, 2))
    with pytest.raises(ValueError, match="eta \\* temp must be <= 1"):
        SelfPlayConfig(algorithm="nash_md", eta=20.0, temp=0.1)
