"""gametheory.rules: one function for jax and torch, on the simplex, closed forms checked."""

import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gametheory import rules

finite = st.floats(-5.0, 5.0, allow_nan=False, width=64)
step = st.floats(0.01, 2.0)


def _log_policy(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


vectors = arrays(np.float64, st.integers(2, 7), elements=finite)

# Each case: rule name, function of (logits, q, extra, lr, temp) on any array library.
CASES = {
    "mwu": lambda l, q, r, eta, t: rules.mwu(l, q, eta),
    "optimistic_mwu": lambda l, q, r, eta, t: rules.optimistic_mwu(l, q, r, eta),
    "mmd": lambda l, q, r, eta, t: rules.mmd(l, q, eta, t, r),
    "inpo": lambda l, q, r, eta, t: rules.inpo(l, q, eta, t, r),
    "nash_md": lambda l, q, r, eta, t: rules.nash_md(l, q, eta, min(t, 1 / eta), r),
    "geometric_mixture": lambda l, q, r, eta, t: rules.geometric_mixture(l, r, min(t, 1.0)),
    "magnet_update": lambda l, q, r, eta, t: rules.magnet_update(r, l, min(t, 1.0)),
    "prox_point_target": lambda l, q, r, eta, t: rules.prox_point_target(r, q, t),
    "regularized_mwu": lambda l, q, r, eta, t: rules.mwu(
        l, rules.regularized_payoff(l, q, t, r), eta),
}


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=40, deadline=None)
@given(data=st.data(), eta=step, temp=st.floats(0.01, 1.0))
def test_rule_on_simplex_and_identical_on_jax_and_torch(name, data, eta, temp):
    x = data.draw(vectors)
    n = x.shape[0]
    q = data.draw(arrays(np.float64, n, elements=finite))
    r = _log_policy(data.draw(arrays(np.float64, n, elements=finite)))
    logits = _log_policy(x)
    out_jax = np.asarray(CASES[name](jnp.asarray(logits), jnp.asarray(q), jnp.asarray(r),
                                     eta, temp))
    out_torch = CASES[name](torch.tensor(logits), torch.tensor(q), torch.tensor(r), eta, temp)
    assert isinstance(out_torch, torch.Tensor)
    # Same function, same float64 numbers on both libraries.
    np.testing.assert_allclose(out_torch.numpy(), out_jax, rtol=0, atol=1e-12)
    # The output is a normalised log-policy: probabilities >= 0 summing to one.
    np.testing.assert_allclose(np.exp(out_jax).sum(), 1.0, atol=1e-12)


def test_mmd_is_the_argmax_of_its_objective():
    # Sokota et al. 2023, eq. (5): pi' = argmax eta <pi, q> - eta*alpha KL(pi||rho) - KL(pi||pi_t).
    # Check against scipy's constrained optimiser on the simplex.
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    logits, magnet = _log_policy(rng.normal(size=4)), _log_policy(rng.normal(size=4))
    q, eta, alpha = rng.normal(size=4), 0.7, 0.3

    def negative_objective(p):
        p = np.clip(p, 1e-12, None)
        kl_magnet = np.sum(p * (np.log(p) - magnet))
        kl_prev = np.sum(p * (np.log(p) - logits))
        return -(eta * p @ q - eta * alpha * kl_magnet - kl_prev)

    res = minimize(negative_objective, np.full(4, 0.25), method="SLSQP", bounds=[(0, 1)] * 4,
                   constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1}],
                   options={"ftol": 1e-14, "maxiter": 500})
    closed_form = np.exp(np.asarray(rules.mmd(jnp.asarray(logits), jnp.asarray(q), eta, alpha,
                                              jnp.asarray(magnet))))
    np.testing.assert_allclose(closed_form, res.x, atol=1e-5)


def test_logsumexp_handles_masked_entries():
    x = torch.tensor([[0.0, -float("inf"), 1.0], [-float("inf")] * 3], dtype=torch.float64)
    out = rules.logsumexp(x, keepdims=False)
    assert torch.isclose(out[0], torch.logsumexp(x[0], 0))
    assert out[1] == -float("inf")  # an all-masked row stays -inf, not nan


def test_importing_rules_does_not_import_jax():
    code = "import gametheory.rules, sys; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
