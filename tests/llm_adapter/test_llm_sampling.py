"""Seeded, batch-invariant sampling on the scores' device (llm_adapter.sampling.sampler)."""

import contextlib
import copy
import inspect
import random

import numpy as np
import pytest
import torch
from scipy import stats

from llm_adapter import models
from llm_adapter.sampling import sampler as sampling
from llm_adapter.sampling.mixture import GeometricMixtureProcessor
from llm_adapter.sampling.sampler import SeededSampler, generate, row_seed

TEXTS = ["hello there what is up", "tell me", "a b c d e f g h i j k"]


@pytest.fixture(scope="module")
def model64():
    # float64: different left padding changes the logits by ~1e-15 only, never the argmax
    return models.tiny_causal_lm(models.tiny_tokenizer(), hidden=32, layers=2, seed=0,
                                 dtype=torch.float64)


@pytest.fixture(scope="module")
def prompt_ids():
    tok = models.tiny_tokenizer()
    ids = [tok(t, add_special_tokens=True)["input_ids"] for t in TEXTS]
    assert len({len(p) for p in ids}) == 3  # three prompt lengths: three paddings
    return ids


def _seeds(prompt_index, k=2, run=7, step=3):
    return [row_seed(run, step, prompt_index, j) for j in range(k)]


# ---------------------------------------------------------------------------- the hash
def _splitmix64_reference(z):
    """splitmix64's output function, written from its definition on unsigned 64-bit ints."""
    m = (1 << 64) - 1
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def test_int64_mixer_matches_unsigned_splitmix64():
    rng = random.Random(0)
    values = [rng.getrandbits(64) for _ in range(2000)] + [0, 1, 1 << 63, (1 << 64) - 1]
    as_int64 = torch.tensor([v - (1 << 64) if v >> 63 else v for v in values], dtype=torch.int64)
    got = [v & ((1 << 64) - 1) for v in sampling._mix64(as_int64).tolist()]
    assert got == [_splitmix64_reference(v) for v in values]


def test_row_uniforms_are_uniform_and_keyed_by_seed_and_position():
    seeds = [row_seed(3, i) for i in range(20000)]
    u0, u1 = sampling.row_uniforms(seeds, 0), sampling.row_uniforms(seeds, 1)
    assert u0.dtype == torch.float64 and bool(((u0 >= 0) & (u0 < 1)).all())
    assert stats.kstest(u0.numpy(), "uniform").pvalue > 1e-3
    assert abs(stats.pearsonr(u0.numpy(), u1.numpy())[0]) < 0.03  # positions decorrelated
    assert torch.equal(sampling.row_uniforms(seeds[:5], 0), u0[:5])  # a row's own value


# ---------------------------------------------------------------------------- the distribution
LOGITS = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, float("-inf")])


def _draw(temperature, rows, positions, dtype=torch.float32, run=11):
    """Tokens drawn by one sampler for ``rows`` distinct seeds at generated positions
    ``0..positions-1``: ``[positions, rows]``."""
    sampler = SeededSampler([row_seed(run, i) for i in range(rows)], temperature, prompt_width=3)
    scores = LOGITS.to(dtype).expand(rows, -1).clone()
    out = []
    for t in range(positions):
        res = sampler(torch.zeros(rows, 3 + t, dtype=torch.long), scores)
        assert res.dtype == dtype and res.shape == scores.shape
        assert torch.all((res == 0).sum(-1) == 1) and torch.all(torch.isinf(res).sum(-1) == 5)
        out.append(res.argmax(-1))
    return torch.stack(out)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_token_frequencies_match_the_tempered_softmax(temperature):
    n = 20000
    tokens = _draw(temperature, n, 1)[0]
    counts = np.bincount(tokens.numpy(), minlength=6)
    assert counts[5] == 0  # a -inf logit is never drawn
    p = torch.softmax(LOGITS[:5].double() / temperature, -1).numpy()
    assert stats.chisquare(counts[:5], n * p).pvalue > 1e-3


def test_consecutive_positions_are_independent_draws():
    n = 20000
    tokens = _draw(1.0, n, 2).numpy()
    pair_counts = np.bincount(tokens[0] * 5 + tokens[1], minlength=25)
    p = torch.softmax(LOGITS[:5].double(), -1).numpy()
    expected = n * np.outer(p, p).ravel()
    assert expected.min() > 10
    assert stats.chisquare(pair_counts, expected).pvalue > 1e-3
    # and the position does change the draw: the same token in a row with frequency sum(p^2)
    assert abs((tokens[0] == tokens[1]).mean() - (p**2).sum()) < 0.02


def test_half_precision_scores_are_sampled_in_float32():
    # these logits are exact in bfloat16: upcasting must give exactly the float32 draws
    assert torch.equal(LOGITS.bfloat16().float(), LOGITS)
    tokens32 = _draw(0.7, 3000, 2, torch.float32)
    assert torch.equal(_draw(0.7, 3000, 2, torch.bfloat16), tokens32)
    assert torch.equal(_draw(0.7, 3000, 2, torch.float16), tokens32)


def test_a_rows_draws_depend_on_its_seed_not_its_row():
    seeds = [row_seed(5, i) for i in range(8)]
    scores = torch.randn(8, 50)
    ids = torch.zeros(8, 4, dtype=torch.long)
    full = SeededSampler(seeds, prompt_width=2)(ids, scores).argmax(-1)
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(0))
    permuted = SeededSampler([seeds[i] for i in perm], prompt_width=2)(ids, scores[perm])
    assert torch.equal(permuted.argmax(-1), full[perm])
    # the prompt width is recorded on the first call when not given
    assert torch.equal(SeededSampler(seeds)(ids[:, :2], scores).argmax(-1),
                       SeededSampler(seeds, prompt_width=4)(ids, scores).argmax(-1))


# ---------------------------------------------------------------------------- generate
def test_responses_do_not_depend_on_the_batch_split(model64, prompt_ids):
    tok = models.tiny_tokenizer()
    k, n_new = 2, 12

    def run(order):
        seeds = [s for i in order for s in _seeds(i, k)]
        out = generate(model64, tok, [prompt_ids[i] for i in order], k, seeds, n_new)
        return dict(zip(order, out))

    whole = run([0, 1, 2])
    flat = [r for i in range(3) for r in whole[i]]
    assert len({tuple(r) for r in flat}) == len(flat)  # the draws do differ between rows
    assert all(len(r) == n_new or r[-1] == tok.eos_token_id for r in flat)
    for split in ([[0], [1], [2]], [[2, 1, 0]], [[1, 2], [0]], [[2, 0], [1]]):
        parts = {}
        for order in split:
            parts.update(run(order))
        assert parts == whole, split


def test_resumed_runs_reproduce_and_seeds_matter(prompt_ids):
    tok = models.tiny_tokenizer()
    seeds = _seeds(0, 2) + _seeds(1, 2)
    # a fresh model object, as a resumed process would build
    first = generate(models.tiny_causal_lm(tok, seed=0), tok, prompt_ids[:2], 2, seeds, 10)
    again = generate(models.tiny_causal_lm(tok, seed=0), tok, prompt_ids[:2], 2, seeds, 10)
    assert first == again
    other = generate(models.tiny_causal_lm(tok, seed=0), tok, prompt_ids[:2], 2,
                     [s + 1 for s in seeds], 10)
    assert all(a != b for a, b in zip(sum(first, []), sum(other, [])))
    # strings are tokenised with add_special_tokens=True: the same prompts, the same samples
    texts = generate(models.tiny_causal_lm(tok, seed=0), tok, TEXTS[:2], 2, seeds, 10)
    assert texts == first


class _ForceEos:
    """Forces EOS at generated position 2 in the rows of prompt 1 (prompt-major, k rows)."""

    def __init__(self, k, width, eos):
        self.k, self.width, self.eos, self.rows = k, width, eos, []

    def __call__(self, input_ids, scores):
        self.rows.append(input_ids.shape[0])
        if input_ids.shape[1] - self.width == 2:
            scores = scores.clone()
            scores[self.k:2 * self.k] = float("-inf")
            scores[self.k:2 * self.k, self.eos] = 0.0
        return scores


def test_processors_see_prompt_major_rows_and_responses_stop_at_eos(model64, prompt_ids):
    tok = models.tiny_tokenizer()
    k = 3
    width = max(len(p) for p in prompt_ids)
    force = _ForceEos(k, width, tok.eos_token_id)
    seeds = [s for i in range(3) for s in _seeds(i, k)]
    out = generate(model64, tok, prompt_ids, k, seeds, 8, processors=[force])
    assert [len(g) for g in out] == [k, k, k] and set(force.rows) == {3 * k}
    for r in out[1]:
        assert len(r) == 3 and r[-1] == tok.eos_token_id
    for r in out[0] + out[2]:
        assert len(r) == 8 or r[-1] == tok.eos_token_id
        assert tok.eos_token_id not in r[:-1]


# ---------------------------------------------------------------------------- no host sync
_HOST = ("cpu", "item", "tolist", "numpy", "__bool__", "__int__", "__float__")


def test_no_host_sync_inside_the_processors(monkeypatch, model64, prompt_ids):
    """While SeededSampler / GeometricMixtureProcessor code runs (the reference model's own
    forward excepted: transformers' mask code may read a flag), no tensor goes to the host."""
    tok = models.tiny_tokenizer()
    reference = copy.deepcopy(model64)
    with torch.no_grad():
        for p in reference.parameters():
            p.add_(0.05 * torch.randn_like(p))
    state = {"depth": 0, "calls": 0}

    def guard(name):
        original = getattr(torch.Tensor, name)

        def guarded(self, *args, **kwargs):
            if state["depth"] > 0:
                raise AssertionError(f"Tensor.{name} called inside a processor's __call__")
            return original(self, *args, **kwargs)
        return guarded

    def watched(cls):
        original = cls.__call__

        def call(self, *args, **kwargs):
            state["depth"] += 1
            state["calls"] += 1
            try:
                return original(self, *args, **kwargs)
            finally:
                state["depth"] -= 1
        monkeypatch.setattr(cls, "__call__", call)

    @contextlib.contextmanager
    def model_forward():  # pause the guard inside the reference model's forward only
        depth, state["depth"] = state["depth"], 0
        try:
            yield
        finally:
            state["depth"] = depth

    _, mask = sampling.pad_prompts(tok, prompt_ids)
    k = 2
    mixture = GeometricMixtureProcessor(reference, 0.5, mask.repeat_interleave(k, 0),
                                        context=model_forward)
    watched(SeededSampler)
    watched(GeometricMixtureProcessor)
    for name in _HOST:
        monkeypatch.setattr(torch.Tensor, name, guard(name))
    seeds = [s for i in range(3) for s in _seeds(i, k)]
    out = generate(model64, tok, prompt_ids, k, seeds, 6, processors=[mixture])
    monkeypatch.undo()
    assert state["calls"] >= 2 * 6  # both processors ran at every step
    assert [len(g) for g in out] == [k, k, k]


def test_processor_sources_hold_no_host_copies():
    sources = [inspect.getsource(SeededSampler), inspect.getsource(GeometricMixtureProcessor),
               inspect.getsource(sampling._uniforms), inspect.getsource(sampling._mix64)]
    for src in sources:
        for bad in (".cpu(", ".item(", ".tolist(", ".numpy("):
            assert bad not in src
    # the check bites: the final copy in generate is there
    assert ".tolist(" in inspect.getsource(generate)


# ---------------------------------------------------------------------------- bad input
def test_bad_input_raises(model64, prompt_ids):
    tok = models.tiny_tokenizer()
    for t in (0.0, -1.0):
        with pytest.raises(ValueError, match="temperature must be positive"):
            SeededSampler([1, 2], temperature=t)
    with pytest.raises(ValueError, match="3 rows of scores but 2 seeds"):
        SeededSampler([1, 2])(torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, 6))
    with pytest.raises(ValueError, match="needs len\\(prompt_ids\\) \\* k = 4 seeds"):
        generate(model64, tok, prompt_ids[:2], 2, [1, 2, 3], 4)
    with pytest.raises(ValueError, match="temperature must be positive"):
        generate(model64, tok, prompt_ids[:1], 1, [1], 4, temperature=0.0)
    with pytest.raises(ValueError, match="prompt 1 has no tokens"):
        generate(model64, tok, [prompt_ids[0], []], 1, [1, 2], 4)
