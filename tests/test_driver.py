"""The driver: records, averages, resume, progress path and vmapped batches."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gametheory import games, solvers
from gametheory.driver import solve, solve_batch, solve_batch_until, solve_seeds, solve_until
from gametheory.lp import solve_zero_sum


def test_records_include_a_final_partial_chunk():
    result = solve(games.rock_paper_scissors(), solvers.mwu(), 250, record_every=100)
    np.testing.assert_array_equal(result.steps, [100, 200, 250])
    assert result.exploitability_last.shape == (3,)


def test_average_is_the_mean_of_the_iterates():
    g = games.biased_rps()
    solver = solvers.mwu(lr=0.3)
    state, iterates = solver.init(g), []
    for _ in range(7):
        state = solver.update(g, state)
        iterates.append(solver.policy(g, state))
    result = solve(g, solver, 7, record_every=7)
    for player in range(2):
        mean = np.mean([np.asarray(it[player]) for it in iterates], axis=0)
        np.testing.assert_allclose(result.average[player], mean, atol=1e-14)
        np.testing.assert_allclose(result.last[player], iterates[-1][player], atol=1e-14)
    assert float(result.exploitability_avg[-1]) == pytest.approx(
        float(g.exploitability(tuple(jnp.asarray(m) for m in (
            np.mean([np.asarray(it[0]) for it in iterates], axis=0),
            np.mean([np.asarray(it[1]) for it in iterates], axis=0))))), abs=1e-14)


def test_resume_equals_uninterrupted_run_and_progress_path_matches():
    g, solver = games.comal_3x3(), solvers.mpo(lr=1.0, temp=0.1, reset_every=50)
    full = solve(g, solver, 300, record_every=100)
    first = solve(g, solver, 100, record_every=100)
    rest = solve(g, solver, 200, record_every=100, state=first.state)
    for a, b in zip(full.last, rest.last):
        np.testing.assert_allclose(a, b, atol=1e-15)
    shown = solve(g, solver, 300, record_every=100, progress=True)
    np.testing.assert_allclose(shown.exploitability_last, full.exploitability_last, atol=1e-15)
    np.testing.assert_allclose(shown.exploitability_avg, full.exploitability_avg, atol=1e-15)


def test_vmapped_batch_equals_one_by_one():
    batch = [games.random_zero_sum(5, 4, seed=s) for s in range(4)]
    solver = solvers.omwu(lr=0.2)
    together = solve_batch(batch, solver, 200, record_every=50)
    assert together.exploitability_last.shape == (4, 4)
    for i, g in enumerate(batch):
        alone = solve(g, solver, 200, record_every=50)
        np.testing.assert_allclose(together.exploitability_last[i], alone.exploitability_last,
                                   atol=1e-12)


def test_seeds_give_distinct_random_starts():
    result = solve_seeds(games.rock_paper_scissors(), solvers.mwu(), 10, seeds=[0, 1, 2])
    assert result.last[0].shape == (3, 3)
    assert not np.allclose(result.last[0][0], result.last[0][1])


def test_solve_until_stops_at_tolerance():
    g = games.comal_3x3()
    out = solve_until(g, solvers.mpo(lr=1.0, temp=0.1, reset_every=200, extragradient=False,
                                  scale=1.0, polish=False), tol=1e-8,
                      max_steps=20000, check_every=100)
    assert bool(out.converged) and float(out.exploitability) <= 1e-8
    assert int(out.steps) < 20000
    # The stopping point is an approximate Nash: compare with the LP equilibrium.
    np.testing.assert_allclose(out.last[0], solve_zero_sum(g).row, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(steps=0), "steps must be a positive integer"),
        (dict(steps=10, record_every=0), "record_every must be a positive integer"),
        (dict(steps=2.5), "steps must be a positive integer"),
    ],
)
def test_bad_driver_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        solve(games.rock_paper_scissors(), solvers.mwu(), **kwargs)


def test_continuous_batching_matches_lockstep_vmap():
    # Slots refill and shrink on the host; each game must follow exactly the iteration the
    # lockstep vmapped while_loop gives it (same steps, same policies), in the input order.
    batch = [games.random_zero_sum(6, 7, seed=s) for s in range(11)]
    solver = solvers.mpo(lr=2.0, temp=0.001, reset_every=200, polish=False)
    kwargs = dict(tol=1e-9, max_steps=3000, check_every=50)
    lockstep = solve_batch_until(batch, solver, **kwargs)
    slotted = solve_batch_until(batch, solver, slots=3, **kwargs)
    steps = np.asarray(lockstep.steps)
    assert len(set(steps.tolist())) > 2  # games stop at different steps: refills happen
    np.testing.assert_array_equal(np.asarray(slotted.steps), steps)
    np.testing.assert_array_equal(np.asarray(slotted.converged), np.asarray(lockstep.converged))
    for a, b in zip(slotted.last, lockstep.last):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # Converged games sit at the LP value.
    assert np.asarray(slotted.converged).sum() >= 3
    for g, x, y, ok in zip(batch, *slotted.last, np.asarray(slotted.converged)):
        if ok:
            assert float(x @ g.payoffs @ y) == pytest.approx(solve_zero_sum(g).value, abs=1e-8)


@pytest.mark.parametrize("platform", ["cpu", "gpu"])
def test_slot_widths_lists_every_width_the_run_uses(monkeypatch, platform):
    # A timed run is compiled ahead by running each width of slot_widths once; a width the run
    # reaches that is not listed would be compiled inside the timing. On an accelerator
    # (simulated: a 2-game shrink floor) the batch stops shrinking at the floor.
    import gametheory.driver as driver

    batch = games.stack_games([games.random_zero_sum(6, 7, seed=s) for s in range(11)])
    monkeypatch.setattr(driver, "_platform", lambda leaf: platform)
    monkeypatch.setattr(driver, "ACCELERATOR_SHRINK_BYTES", 2 * 6 * 7 * 8)
    used = []
    real = driver._slot_round

    def spy(slot_games, *args, **kwargs):
        used.append(int(jax.tree.leaves(slot_games)[0].shape[0]))
        return real(slot_games, *args, **kwargs)

    monkeypatch.setattr(driver, "_slot_round", spy)
    solver = solvers.mpo(lr=2.0, temp=0.001, reset_every=200, polish=False)
    kwargs = dict(tol=1e-9, max_steps=3000, check_every=50)
    slotted = solve_batch_until(batch, solver, slots=5, **kwargs)
    widths = driver.slot_widths(batch, 5)
    assert set(used) <= set(widths)
    assert widths == ([5, 2, 1] if platform == "cpu" else [5, 2])
    assert min(used) == 2  # the run shrank (on the accelerator, to its floor)
    lockstep = solve_batch_until(batch, solver, **kwargs)
    np.testing.assert_array_equal(np.asarray(slotted.steps), np.asarray(lockstep.steps))


@pytest.mark.parametrize("total,slots", [(9, 8), (19, 8), (10, 4)])
def test_slots_refilled_in_the_round_the_batch_shrinks_start_their_games(total, slots):
    # The simplex method finishes every game of a round together, so the last queued games
    # are handed to slots in the same round as the batch shrinks (and pads with copies of a
    # fresh slot): those games must still start from their own initial states.
    batch = games.stack_games([games.random_zero_sum(12, 10, seed=50 + s)
                               for s in range(total)])
    kwargs = dict(tol=1e-12, max_steps=300, check_every=40)
    slotted = solve_batch_until(batch, solvers.tableau(), slots=slots, **kwargs)
    lockstep = solve_batch_until(batch, solvers.tableau(), **kwargs)
    np.testing.assert_array_equal(np.asarray(slotted.steps), np.asarray(lockstep.steps))
    assert bool(np.all(slotted.converged))
    for a, b in zip(slotted.last, lockstep.last):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_continuous_batching_rejects_bad_slots():
    with pytest.raises(ValueError, match="slots must be a positive integer"):
        solve_batch_until([games.rock_paper_scissors()], solvers.mwu(), tol=1e-3, slots=0)


def test_solve_until_rejects_bad_tolerance():
    with pytest.raises(ValueError, match="tol must be positive"):
        solve_until(games.rock_paper_scissors(), solvers.mwu(), tol=0.0)


def test_jit_and_vmap_of_metrics():
    g = games.random_zero_sum(6, 6, seed=0)
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    xs = jax.vmap(lambda k: jax.random.dirichlet(k, jnp.ones(6)))(keys)
    batched = jax.jit(jax.vmap(lambda x: g.exploitability((x, x))))(xs)
    one_by_one = [float(g.exploitability((x, x))) for x in xs]
    np.testing.assert_allclose(batched, one_by_one, atol=1e-14)


@pytest.mark.parametrize(
    "initial,match",
    [
        (([-0.5, 1.5, 0.0], [1.0, 0.0, 0.0]), "player 0 is not a probability vector.*negative"),
        (([np.nan, 0.5, 0.5], [1.0, 0.0, 0.0]), "non-finite"),
        (([0.5, 0.5, 0.5], [1.0, 0.0, 0.0]), "sums to 1.5"),
        (([0.5, 0.5], [1.0, 0.0, 0.0]), "has 2 entries; it needs 3"),
        (([1.0, 0.0, 0.0],), "expected a tuple of 2"),
    ],
)
def test_bad_initial_profiles_raise_in_every_entry_point(initial, match):
    # Under jit the profile is traced and cannot be checked inside the solver: these used to
    # return NaN policies silently.
    game, solver = games.rock_paper_scissors(), solvers.mwu()
    with pytest.raises(ValueError, match=match):
        solve(game, solver, 10, initial=initial)
    with pytest.raises(ValueError, match=match):
        solve_until(game, solver, tol=1e-3, initial=initial)
    with pytest.raises(ValueError, match=match):
        solve_batch([game, game], solver, 10,
                    initial=tuple(np.stack([np.asarray(p)] * 2) for p in initial))
