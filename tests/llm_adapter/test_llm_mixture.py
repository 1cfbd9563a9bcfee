"""Nash-MD's geometric-mixture sampling: the processor's next-token distribution and its cache."""

import copy

import pytest
import torch

from llm_adapter import SelfPlayConfig, WeightSnapshot, models
from llm_adapter.sampling.mixture import GeometricMixtureProcessor
from llm_adapter.sampling.sampler import generate, pad_prompts, row_seed

TEXTS = ["hello there what is up", "tell me", "a b c d e f g h i j k"]


def _next_token_logprobs(model, ids):
    with torch.no_grad():
        return torch.log_softmax(model(input_ids=ids).logits[:, -1, :].float(), dim=-1)


def _perturb(model, scale=0.05, seed=1):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


@pytest.fixture()
def policies(tokenizer):
    """(current model, independent copy holding the reference weights, reference snapshot)."""
    model = models.tiny_causal_lm(tokenizer, hidden=32, layers=2, seed=0)
    reference_copy = copy.deepcopy(model)
    snapshot = WeightSnapshot(model)
    _perturb(model)  # move the current policy away from the reference
    return model, reference_copy, snapshot


@pytest.fixture(scope="module")
def policies64():
    """float64 (current, reference) pair: padding and caching change logits by ~1e-15 only."""
    tok = models.tiny_tokenizer()
    reference = models.tiny_causal_lm(tok, hidden=32, layers=2, seed=0, dtype=torch.float64)
    return _perturb(copy.deepcopy(reference), scale=0.3), reference


@pytest.fixture(scope="module")
def prompt_ids():
    tok = models.tiny_tokenizer()
    return [tok(t)["input_ids"] for t in TEXTS]


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
def test_processor_returns_the_normalised_geometric_mixture(tokenizer, policies, beta):
    model, reference_copy, snapshot = policies
    ids = tokenizer(["tell me"], return_tensors="pt")["input_ids"]
    current = _next_token_logprobs(model, ids)
    reference = _next_token_logprobs(reference_copy, ids)
    proc = GeometricMixtureProcessor(model, beta, torch.ones_like(ids),
                                     context=lambda: snapshot.swapped_in(model))
    legacy = GeometricMixtureProcessor(model, snapshot, beta, torch.ones_like(ids))
    with torch.no_grad():
        scores = model(input_ids=ids).logits[:, -1, :]
    out = proc(ids, scores)
    # pi_mix ∝ pi^(1-beta) ref^beta (Munos et al. 2024, Sec. 7), computed independently here.
    expected = torch.log_softmax((1 - beta) * current + beta * reference, dim=-1)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(legacy(ids, scores), expected, atol=1e-5, rtol=0)
    # a separate reference module, no context, gives the same
    separate = GeometricMixtureProcessor(reference_copy, beta, torch.ones_like(ids))
    torch.testing.assert_close(separate(ids, scores), expected, atol=1e-5, rtol=0)
    # The resident model's weights are restored after scoring the reference.
    torch.testing.assert_close(_next_token_logprobs(model, ids), current)


def test_left_padding_does_not_change_the_mixture(tokenizer, policies):
    model, _, snapshot = policies
    ids, mask = pad_prompts(tokenizer, ["hello there what is up", "tell me"])
    alone = tokenizer(["tell me"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        padded_scores = model(input_ids=ids, attention_mask=mask).logits[:, -1, :]
        alone_scores = model(input_ids=alone).logits[:, -1, :]
    ctx = lambda: snapshot.swapped_in(model)
    padded = GeometricMixtureProcessor(model, 0.5, mask, ctx)(ids, padded_scores)
    single = GeometricMixtureProcessor(model, 0.5, torch.ones_like(alone), ctx)(
        alone, alone_scores)
    torch.testing.assert_close(padded[1:], single, atol=1e-4, rtol=0)


class _FullPrefixMixture:
    """Test-local reference: re-runs the whole prefix under the reference at every token."""

    def __init__(self, reference, beta, prompt_mask):
        self.reference, self.beta, self.prompt_mask = reference, beta, prompt_mask

    @torch.no_grad()
    def __call__(self, input_ids, scores):
        new = input_ids.shape[1] - self.prompt_mask.shape[1]
        mask = torch.cat([self.prompt_mask, self.prompt_mask.new_ones(len(input_ids), new)], 1)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = self.reference(input_ids=input_ids, attention_mask=mask,
                                position_ids=positions, use_cache=False).logits[:, -1, :]
        current = torch.log_softmax(scores.double(), -1)
        ref = torch.log_softmax(logits.double(), -1)
        return torch.log_softmax((1 - self.beta) * current + self.beta * ref, -1)


class _Tee:
    """Runs the cached processor and the full-prefix one on the same prefixes; records both."""

    def __init__(self, cached, full):
        self.cached, self.full, self.pairs = cached, full, []

    def __call__(self, input_ids, scores):
        out = self.cached(input_ids, scores)
        self.pairs.append((out, self.full(input_ids, scores)))
        return out


def _setup(tok, prompt_ids, k):
    _, mask = pad_prompts(tok, prompt_ids)
    seeds = [row_seed(3, i, j) for i in range(len(prompt_ids)) for j in range(k)]
    return mask.repeat_interleave(k, 0), seeds


@pytest.mark.parametrize("beta", [0.25, 0.5])
def test_cached_mixture_samples_the_same_tokens_as_full_prefix_recompute(
        policies64, prompt_ids, beta):
    current, reference = policies64
    tok = models.tiny_tokenizer()
    k, n_new = 2, 10
    mask, seeds = _setup(tok, prompt_ids, k)
    full = generate(current, tok, prompt_ids, k, seeds, n_new,
                    processors=[_FullPrefixMixture(reference, beta, mask)])
    cached = GeometricMixtureProcessor(reference, beta, mask)
    assert generate(current, tok, prompt_ids, k, seeds, n_new, processors=[cached]) == full
    # the same processor object serves a second generation (its cache is reset)
    assert generate(current, tok, prompt_ids, k, seeds, n_new, processors=[cached]) == full
    uncached = GeometricMixtureProcessor(reference, beta, mask, use_cache=False)
    assert generate(current, tok, prompt_ids, k, seeds, n_new, processors=[uncached]) == full
    # the mixture does matter here: plain sampling of the current policy differs
    assert generate(current, tok, prompt_ids, k, seeds, n_new) != full


def test_cached_mixture_matches_full_prefix_at_every_step_and_feeds_one_token(
        policies64, prompt_ids):
    current, reference = policies64
    tok = models.tiny_tokenizer()
    k, n_new = 2, 8
    mask, seeds = _setup(tok, prompt_ids, k)
    fed = []
    hook = reference.register_forward_pre_hook(
        lambda mod, args, kwargs: fed.append(kwargs["input_ids"].shape[1]), with_kwargs=True)
    try:
        tee = _Tee(GeometricMixtureProcessor(reference, 0.5, mask),
                   lambda ids, scores: None)
        generate(current, tok, prompt_ids, k, seeds, n_new, processors=[tee])
    finally:
        hook.remove()
    width = mask.shape[1]
    assert fed == [width] + [1] * (n_new - 1)  # the prompt once, then one token per step
    full = _FullPrefixMixture(reference, 0.5, mask)
    tee = _Tee(GeometricMixtureProcessor(reference, 0.5, mask), full)
    generate(current, tok, prompt_ids, k, seeds, n_new, processors=[tee])
    assert len(tee.pairs) == n_new
    for got, want in tee.pairs:  # generate hands processors float32 scores
        torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=0)


def test_zero_beta_runs_no_reference_forward(policies64, prompt_ids):
    current, reference = policies64
    tok = models.tiny_tokenizer()
    mask, seeds = _setup(tok, prompt_ids, 1)
    fed = []
    hook = reference.register_forward_pre_hook(lambda *a: fed.append(1))
    try:
        out = generate(current, tok, prompt_ids, 1, seeds, 5,
                       processors=[GeometricMixtureProcessor(reference, 0.0, mask)])
    finally:
        hook.remove()
    assert fed == [] and out == generate(current, tok, prompt_ids, 1, seeds, 5)


def test_bad_mixture_weights_raise(tokenizer, policies):
    model, _, snapshot = policies
    with pytest.raises(ValueError, match="beta = eta \\* tau"):
        GeometricMixtureProcessor(model, 1.5, torch.ones(1, 2))
    with pytest.raises(ValueError, match="beta = eta \\* tau"):
        GeometricMixtureProcessor(model, snapshot, 1.5, torch.ones(1, 2))
    with pytest.raises(ValueError, match="does not extend the prompt mask"):
        GeometricMixtureProcessor(model, 0.5, torch.ones(2, 3))(
            torch.zeros(3, 3, dtype=torch.long), torch.zeros(3, len(tokenizer)))
    with pytest.raises(ValueError, match="eta \\* temp must be <= 1"):
        SelfPlayConfig(algorithm="nash_md", eta=20.0, temp=0.1)
