"""The logged KL estimates are never negative, and estimate the right quantity.

Reference values: ``scipy.special.rel_entr`` (the exact KL of explicit distributions).
"""

import numpy as np
import pytest
import scipy.special
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llm_adapter import k3_kl, token_kl

_logits = st.integers(2, 6).flatmap(lambda v: st.tuples(
    arrays(np.float64, (3, 4, v), elements=st.floats(-30, 30)),
    arrays(np.float64, (3, 4, v), elements=st.floats(-30, 30)),
    arrays(np.int64, (3, 4), elements=st.integers(0, v - 1)),
    arrays(np.bool_, (3, 4))))


@settings(max_examples=200, deadline=None)
@given(_logits)
def test_k3_and_token_kl_are_never_negative(data):
    lp_logits, lq_logits, tokens, mask = (torch.as_tensor(x) for x in data)
    logp = torch.log_softmax(lp_logits, -1).gather(-1, tokens[..., None]).squeeze(-1)
    logq = torch.log_softmax(lq_logits, -1).gather(-1, tokens[..., None]).squeeze(-1)
    for dtype in (torch.float64, torch.float32):
        assert torch.all(k3_kl(logp.to(dtype), logq.to(dtype), mask) >= 0)
    assert torch.all(k3_kl(logp, logp, mask) == 0)
    assert torch.all(token_kl(lp_logits, lq_logits, mask) >= 0)
    assert torch.all(token_kl(lp_logits, lp_logits) == 0)


def test_k3_expectation_is_the_exact_kl():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    exact = scipy.special.rel_entr(p, q).sum()  # KL(p || q)
    # E_{y ~ p}[k3(y)] summed over the 5 outcomes with weights p(y)
    tokens = torch.log(torch.as_tensor(p))[:, None]
    k3 = k3_kl(tokens, torch.log(torch.as_tensor(q))[:, None])
    assert float((torch.as_tensor(p) * k3).sum()) == pytest.approx(exact, rel=1e-12)


def test_token_kl_is_the_sum_of_per_position_kls():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3, 7)), rng.normal(size=(2, 3, 7))
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    pa, pb = scipy.special.softmax(a, -1), scipy.special.softmax(b, -1)
    exact = (scipy.special.rel_entr(pa, pb).sum(-1) * mask.numpy()).sum(-1)
    got = token_kl(torch.as_tensor(a), torch.as_tensor(b), mask)
    np.testing.assert_allclose(got.numpy(), exact, rtol=1e-12)


def test_token_kl_of_masked_tokens_is_finite_and_exact():
    # A token with a -inf logit under p (masked vocabulary) contributes 0 * log(0 / q) = 0;
    # torch's kl_div(log_target=True) would give NaN there.
    a = np.array([[[0.0, 1.0, -np.inf, 0.5]]])
    b = np.array([[[0.3, 0.0, 2.0, -1.0]]])
    exact = scipy.special.rel_entr(scipy.special.softmax(a, -1),
                                   scipy.special.softmax(b, -1)).sum()
    got = token_kl(torch.as_tensor(a), torch.as_tensor(b))
    assert float(got[0]) == pytest.approx(exact, rel=1e-12)


def test_bad_shapes_and_non_finite_values_raise():
    with pytest.raises(ValueError, match="one shape"):
        k3_kl(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="mask must be"):
        k3_kl(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(3, 3))
    with pytest.raises(ValueError, match="non-finite"):
        k3_kl(torch.zeros(1, 2), torch.tensor([[0.0, float("nan")]]))
