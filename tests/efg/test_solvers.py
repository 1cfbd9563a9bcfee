"""Sequence-form solvers against OpenSpiel's algorithms and exact references."""

import inspect

import jax
import numpy as np
import pyspiel
import pytest
from efg_games import LIARS_DICE_3, load

from gametheory.driver import solve
from gametheory.efg import EFG_SOLVERS, tabular_policy_to_plans, uniform_plans
from gametheory.efg.lp import solve_lp
from gametheory.efg.metrics import regularized_gap
from gametheory.solvers.base import Solver


def test_registry_factories_have_keyword_defaults():
    for name in ("mmd", "mpo", "comal", "cfr", "cfr_plus"):
        assert name in EFG_SOLVERS
    for name, factory in EFG_SOLVERS.items():
        params = inspect.signature(factory).parameters.values()
        assert all(p.default is not inspect.Parameter.empty for p in params), name
        assert all(isinstance(p.default, (int, float, str, tuple)) for p in params), name
        solver = factory()
        assert isinstance(solver, Solver) and solver.name == name
    assert EFG_SOLVERS["cfr"]().average is not None
    assert EFG_SOLVERS["cfr_plus"]().average is not None


@pytest.mark.parametrize("name, alpha, stepsize", [("kuhn_poker", 0.1, 0.5),
                                                    ("kuhn_poker", 0.05, 1.0),
                                                    (LIARS_DICE_3, 0.05, 1.0)])
def test_mmd_matches_openspiel_mmd_dilated(name, alpha, stepsize):
    # Reference: OpenSpiel open_spiel/python/algorithms/mmd_dilated.py, same alpha and eta.
    # Liar's dice (1, 3) has 1 to 6 legal actions per infoset (the per-sequence layout's case).
    from open_spiel.python.algorithms import mmd_dilated

    game = load(name)
    ref = mmd_dilated.MMDDilatedEnt(pyspiel.load_game(name), alpha=alpha, stepsize=stepsize)
    solver = EFG_SOLVERS["mmd"](lr=stepsize, temp=alpha, scale=1.0)
    state = solver.init(game)
    update = jax.jit(solver.update)
    for _ in range(20):
        ref.update_sequences()
        state = update(game, state)
        theirs = tabular_policy_to_plans(game, ref.get_policies())
        for a, b in zip(solver.policy(game, state), theirs):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-8)
    assert float(regularized_gap(game, solver.policy(game, state), alpha)) == pytest.approx(
        ref.get_gap(), abs=1e-8)


def test_mmd_converges_to_openspiel_gambit_qre(kuhn):
    # Kuhn alpha=0.1 reduced-normal-form QRE from Gambit (OpenSpiel mmd_dilated_test.py):
    # compare behavioural policies through OpenSpiel's own solver run to convergence.
    solver = EFG_SOLVERS["mmd"](lr=1.0, temp=0.1, scale=1.0)
    result = solve(kuhn, solver, 2000, record_every=2000)
    assert float(regularized_gap(kuhn, result.last, 0.1)) < 1e-10


def test_cfr_plus_leduc_1000_iterations(leduc):
    # OpenSpiel C++ CFRPlusSolver: average exploitability 2.57e-4 after 1000 iterations (issue 3).
    result = solve(leduc, EFG_SOLVERS["cfr_plus"](), 1000, record_every=1000)
    assert float(result.exploitability_avg[-1]) <= 3e-4


def test_cfr_kuhn_average_converges(kuhn):
    # Kuhn game value = -1/18 (Kuhn 1950): the CFR average's value approaches it.
    result = solve(kuhn, EFG_SOLVERS["cfr"](), 2000, record_every=2000)
    assert float(result.exploitability_avg[-1]) < 1e-2
    assert float(kuhn.value(result.average)) == pytest.approx(-1 / 18, abs=5e-3)


def test_cfr_plus_matches_openspiel_python_cfr_plus(kuhn):
    # Reference: OpenSpiel Python CFRPlusSolver (alternating updates, RM+, linear averaging).
    from open_spiel.python.algorithms import cfr as os_cfr

    os_game = pyspiel.load_game("kuhn_poker")
    ref = os_cfr.CFRPlusSolver(os_game)
    for _ in range(50):
        ref.evaluate_and_update_policy()
    solver = EFG_SOLVERS["cfr_plus"]()
    result = solve(kuhn, solver, 50, record_every=50)
    theirs = tabular_policy_to_plans(kuhn, ref.current_policy())
    for a, b in zip(result.last, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-9)
    avg_theirs = tabular_policy_to_plans(kuhn, ref.average_policy())
    for a, b in zip(result.average, avg_theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-9)


@pytest.mark.parametrize("name", ["mpo", "comal"])
def test_last_iterate_kuhn(kuhn, name):
    # Kuhn game value = -1/18 (Kuhn 1950); exploitability 0 at equilibrium.
    result = solve(kuhn, EFG_SOLVERS[name](), 3000, record_every=1000)
    assert float(result.exploitability_last[-1]) < 1e-3
    assert float(kuhn.value(result.last)) == pytest.approx(-1 / 18, abs=2e-3)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mpo", "comal"])
def test_last_iterate_leduc_10k(leduc, name):
    # MPO / COMAL last iterate on Leduc <= 1e-3 within 10000 iterations (the defaults reach
    # 4.4e-4 at 10000, benchmarks/efg_speed.py).
    result = solve(leduc, EFG_SOLVERS[name](), 10000, record_every=1000)
    assert float(np.min(np.asarray(result.exploitability_last))) <= 1e-3
    assert float(result.exploitability_last[-1]) <= 1e-3
    # Leduc value = -0.0856064 (sequence-form LP, OpenSpiel sequence_form_lp_test)
    assert float(leduc.value(result.last)) == pytest.approx(solve_lp(leduc)[0], abs=1e-3)


@pytest.mark.parametrize("name", ["mmd", "mpo", "comal"])
@pytest.mark.parametrize("flag", [0, 1, "0", "true", 1.0])
def test_step_flags_accept_cli_values(kuhn, name, flag):
    for params in (dict(alternating=0, extragradient=flag), dict(alternating=flag)):
        solver = EFG_SOLVERS[name](**params)
        state = jax.jit(solver.update)(kuhn, solver.init(kuhn))
        assert all(np.all(np.isfinite(np.asarray(x))) for x in solver.policy(kuhn, state))


@pytest.mark.parametrize("name", ["mmd", "mpo", "comal"])
def test_alternating_and_extragradient_together_is_an_error(name):
    with pytest.raises(ValueError, match="alternating=False"):
        EFG_SOLVERS[name](alternating=True, extragradient=True)


def test_mirror_prox_and_alternating_mmd_have_the_same_fixed_point(kuhn):
    # Mirror prox and the alternating step keep the regularised equilibrium of MMD: all three
    # reach the same QRE (regularised gap ~0, the OpenSpiel MMDDilatedEnt gap at alpha=0.1).
    lasts = []
    for params in (dict(extragradient=0), dict(extragradient=1), dict(alternating=1)):
        solver = EFG_SOLVERS["mmd"](lr=1.0, temp=0.1, scale=1.0, **params)
        result = solve(kuhn, solver, 2000, record_every=2000)
        assert float(regularized_gap(kuhn, result.last, 0.1)) < 1e-10
        lasts.append(result.last)
    for last in lasts[1:]:
        for a, b in zip(lasts[0], last):
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-9)


def test_initial_plans_are_validated(kuhn):
    x, y = uniform_plans(kuhn)
    for name in ("mmd", "cfr_plus"):
        with pytest.raises(ValueError):
            EFG_SOLVERS[name]().init(kuhn, (x.at[1].add(0.3), y))
        state = EFG_SOLVERS[name]().init(kuhn, (x, y))
        assert state is not None


@pytest.mark.parametrize(
    "name, params",
    [
        ("mmd", dict(lr=-1.0)),
        ("mmd", dict(magnet="bogus")),
        ("mpo", dict(reset_every=0)),
        ("comal", dict(tau=0.0)),
        ("mpo", dict(weighting="bogus")),
        ("mpo", dict(extragradient=2)),
        ("comal", dict(extragradient="maybe")),
    ],
)
def test_bad_solver_parameters(name, params):
    with pytest.raises(ValueError):
        EFG_SOLVERS[name](**params)


def test_annealed_mmd_removes_the_regularisation_bias(kuhn):
    # A fixed temperature stops at the QRE; annealing it per infoset moves the last iterate on
    # towards the Nash equilibrium (Sokota et al. 2023, Sec. 5); Kuhn value -1/18 (Kuhn 1950).
    # The fixed-temperature run has the annealed solver's own step, weights and initial
    # temperature, so that the annealing is the only difference.
    fixed = solve(kuhn, EFG_SOLVERS["mmd"](lr=0.3, temp=0.75, weighting="reach",
                                          alternating=False, extragradient=False), 5000,
                  record_every=1000)
    annealed = solve(kuhn, EFG_SOLVERS["mmd_annealed"](), 5000, record_every=1000)
    trace = np.asarray(annealed.exploitability_last)
    assert np.all(np.diff(trace) < 0)  # still decreasing: no fixed regularised point
    assert trace[-1] < float(fixed.exploitability_last[-1]) / 5


def test_optimistic_last_iterate_converges_on_kuhn(kuhn):
    # Optimistic mirror descent on the treeplex: last-iterate convergence in zero-sum EFGs
    # (Lee, Kroer & Luo 2021); exploitability 0 at the Kuhn equilibrium (value -1/18).
    result = solve(kuhn, EFG_SOLVERS["optimistic"](), 5000, record_every=1000)
    assert float(result.exploitability_last[-1]) < 1e-8
    assert float(kuhn.value(result.last)) == pytest.approx(-1 / 18, abs=1e-6)
