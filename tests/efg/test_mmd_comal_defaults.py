"""Sequence-form COMAL's outer rule (reference moves only on a solved regularised game) and the
parameter checks of MMD / COMAL. The 10000-iteration figures of the defaults are in
``test_efg_defaults.py``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gametheory.efg import EFG_SOLVERS
from gametheory.efg.metrics import regularized_gap
from gametheory.efg.treeplex import to_padded


def test_comal_moves_its_reference_only_when_the_regularised_game_is_solved(kuhn):
    # At every reference move the inner last iterate's regularised gap (metrics.regularized_gap,
    # the saddle-point gap of x^T A y - tau D(x || pi_k) + tau D(y || pi_k), zero exactly at its
    # equilibrium) is at most inner_rtol times the gap at pi_k; between moves it is not.
    rtol = 0.003
    solver = EFG_SOLVERS["comal"](inner_rtol=rtol, gap_every=1)
    state = solver.init(kuhn)
    update = jax.jit(solver.update)

    @jax.jit
    def gap(plans, ref_logits, weights):
        # per-sequence log-policies -> padded [I, A] behavioural magnets
        refs = tuple(to_padded(tp, jnp.exp(r)) for tp, r in zip(kuhn.treeplexes, ref_logits))
        return regularized_gap(kuhn, plans, 0.003 * state.scale, refs, weights)

    moves = 0
    for _ in range(1000):  # the default alternating steps first move it at step 442
        new = update(kuhn, state)
        if int(new.outer_step) > int(state.outer_step):
            moves += 1
            assert float(gap(new.plans, state.ref_logits, state.weights)) <= (
                rtol * float(state.start_gap) + 1e-15)
            # the new start gap is the new regularised game's gap at its own reference
            np.testing.assert_allclose(float(new.start_gap),
                                       float(gap(new.plans, new.ref_logits, new.weights)),
                                       atol=1e-15)
        elif int(new.inner_step) > int(state.inner_step):  # an accepted step, no move
            assert float(gap(new.plans, state.ref_logits, state.weights)) > (
                rtol * float(state.start_gap) - 1e-15)  # (rounding once solved)
        state = new
    assert moves >= 2


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("comal", dict(inner_steps="adaptive"), "MPO's rule"),
        ("comal", dict(inner_steps=0), "inner_steps"),
        ("comal", dict(inner_rtol=1.0), "inner_rtol must be in"),
        ("comal", dict(inner_rtol=0.0), "needs inner_rtol > 0"),
        ("comal", dict(gap_every=0), "gap_every"),
        ("comal", dict(inner_tol=-1.0), "inner_tol"),
        ("mmd", dict(weighting="bogus"), "weighting must be"),
        ("mmd", dict(extragradient="maybe"), "extragradient"),
    ],
)
def test_bad_parameters_name_the_problem(name, params, match):
    with pytest.raises(ValueError, match=match):
        EFG_SOLVERS[name](**params)


def test_mmd_in_absolute_units_is_openspiels_form(leduc):
    # scale=1.0 resolves weighting/extragradient "auto" to OpenSpiel's MMDDilatedEnt form
    # (uniform weights, plain step; the step itself is checked against OpenSpiel in
    # test_solvers.py); in game units the infoset weights follow the reach.
    absolute = EFG_SOLVERS["mmd"](lr=0.1, temp=0.05, scale=1.0).init(leduc)
    assert all(np.all(np.asarray(w) == 1.0) for w in absolute.weights)
    relative = EFG_SOLVERS["mmd"]().init(leduc)
    assert any(np.min(np.asarray(w)) < 1.0 for w in relative.weights)
