"""Check functions for the exercises of the teaching notebooks.

Every ``check_*`` function prints what is right or wrong and returns ``True`` only for a
correct answer; ``None`` (an exercise not attempted yet) prints a reminder and returns
``False``. A check never raises on a wrong answer, so a notebook keeps running; the solution
cells ``assert`` the result. The reference each check compares with is computed here with the
library (an LP, an exact best response, a closed form named in a comment), not stored.

Heavy imports (OpenSpiel, torch) happen inside the checks that need them.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = [
    "check_mwu_step",
    "check_biased_rps_nash",
    "check_omwu_step",
    "check_perturbed_rps_qre",
    "check_absolute_units",
    "check_two_by_two",
    "check_kuhn_value",
    "check_realization_plan_test",
    "check_kuhn_best_response",
    "check_double_oracle_order",
    "check_uniform_population_exploitability",
    "check_heterogeneous_values",
    "check_inpo_target",
    "check_pairwise_loss",
    "check_lifted_class_marginal",
    "check_strict_judge_value",
    "check_judge_scheme",
    "check_posteriors",
]


def _report(ok: bool, good: str, bad: str) -> bool:
    print(("✓ " + good) if ok else ("✗ " + bad))
    return bool(ok)


def _unanswered(answer) -> bool:
    if answer is None:
        print("… not answered yet: replace None by your answer.")
        return True
    return False


def _as_float(answer, what: str):
    """``answer`` as a float (accepts ``Fraction`` and strings like ``"-1/18"``), else None."""
    try:
        if isinstance(answer, str):
            return float(Fraction(answer.replace(" ", "")))
        return float(answer)
    except (TypeError, ValueError, ZeroDivisionError):
        print(f"✗ {what} must be a number (a float, a Fraction or a string like '-1/18'); "
              f"got {answer!r}.")
        return None


def _as_distribution(answer, size: int, what: str):
    try:
        p = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        p = None
    if p is None or p.shape != (size,) or not np.all(np.isfinite(p)):
        print(f"✗ {what} must be a list of {size} finite numbers; got {answer!r}.")
        return None
    if np.any(p < -1e-12) or abs(p.sum() - 1.0) > 1e-6:
        print(f"✗ {what} must be a probability vector (non-negative, summing to 1); its sum is "
              f"{p.sum():.6g} and its smallest entry {p.min():.3g}.")
        return None
    return np.clip(p, 0.0, None) / np.clip(p, 0.0, None).sum()


def _random_inputs(seed: int, shape=(4, 5)):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape)
    logits = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return rng, logits


def _compare_rule(fn, reference, make_args, name: str) -> bool:
    """Run ``fn`` and the library rule on random inputs (JAX arrays) and compare."""
    import jax.numpy as jnp

    if not callable(fn):
        print(f"✗ {name} must be a function; got {fn!r}.")
        return False
    worst = 0.0
    for seed in range(5):
        args = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in make_args(seed)]
        try:
            mine = np.asarray(fn(*args), dtype=np.float64)
        except Exception as err:  # a student's function may fail in any way: report it
            print(f"✗ {name} raised {type(err).__name__}: {err}")
            return False
        ref = np.asarray(reference(*args))
        if mine.shape != ref.shape:
            print(f"✗ {name} returned shape {mine.shape}; expected {ref.shape} (one log-policy "
                  "per row, actions on the last axis).")
            return False
        if not np.allclose(np.exp(mine).sum(-1), 1.0, atol=1e-6):
            print(f"✗ {name} does not return a normalised log-policy: exp(output) sums to "
                  f"{np.exp(mine).sum(-1)[0]:.6g}, not 1 (subtract the logsumexp).")
            return False
        worst = max(worst, float(np.max(np.abs(mine - ref))))
    return _report(worst < 1e-8, f"{name} matches gametheory.rules (max error {worst:.1e}).",
                   f"{name} differs from the rule by up to {worst:.3g} in log-probability.")


# --- Notebook 1: last iterate vs average -------------------------------------------------------

def check_mwu_step(fn) -> bool:
    """Exercise 1.1: ``fn(logits, q, lr)`` equals :func:`gametheory.rules.mwu`."""
    if _unanswered(fn):
        return False
    from gametheory import rules

    def args(seed):
        rng, logits = _random_inputs(seed)
        return logits, rng.normal(size=logits.shape), float(rng.uniform(0.05, 2.0))

    return _compare_rule(fn, rules.mwu, args, "mwu_step")


def check_biased_rps_nash(strategy) -> bool:
    """Exercise 1.2: the row strategy of biased RPS's equilibrium, to exploitability 1e-6.

    Biased RPS is symmetric (``A = -A^T``), so the profile ``(x, x)`` is checked.
    """
    if _unanswered(strategy):
        return False
    x = _as_distribution(strategy, 3, "the strategy")
    if x is None:
        return False
    import gametheory as gt

    game = gt.games.biased_rps()
    expl = float(game.exploitability((x, x)))
    return _report(expl <= 1e-6, f"exploitability {expl:.1e}: a Nash equilibrium.",
                   f"exploitability {expl:.3g} > 1e-6: not an equilibrium yet (run longer, or "
                   "use a solver whose last iterate converges).")


def check_omwu_step(fn) -> bool:
    """Exercise 1.3: ``fn(logits, q, q_prev, lr)`` equals
    :func:`gametheory.rules.optimistic_mwu`."""
    if _unanswered(fn):
        return False
    from gametheory import rules

    def args(seed):
        rng, logits = _random_inputs(seed)
        return (logits, rng.normal(size=logits.shape), rng.normal(size=logits.shape),
                float(rng.uniform(0.05, 2.0)))

    return _compare_rule(fn, rules.optimistic_mwu, args, "omwu_step")


# --- Notebook 2: regularisation and magnets ----------------------------------------------------

def check_perturbed_rps_qre(strategy, temp: float = 0.05) -> bool:
    """Exercise 2.1: the QRE of perturbed RPS at ``temp`` (absolute units, uniform magnet).

    The game is symmetric up to a constant, so the QRE is ``(x, x)``; accepted when the
    regularised NashConv (:func:`gametheory.metrics.regularized_gap`) is below 1e-8.
    """
    if _unanswered(strategy):
        return False
    x = _as_distribution(strategy, 3, "the strategy")
    if x is None:
        return False
    import gametheory as gt

    game = gt.games.perturbed_rps()
    gap = float(gt.metrics.regularized_gap(game, (x, x), temp))
    return _report(gap <= 1e-8, f"regularised NashConv {gap:.1e}: the QRE at temperature {temp}.",
                   f"regularised NashConv {gap:.3g} > 1e-8: not the QRE at temperature {temp} "
                   "(absolute units: scale=1.0).")


def check_absolute_units(answer, game, lr: float, temp: float) -> bool:
    """Exercise 2.2: ``answer = (lr_abs, temp_abs)`` makes ``mmd(lr_abs, temp_abs, scale=1.0)``
    walk the same path on ``game`` as ``mmd(lr, temp)`` (relative units); checked by running
    both for 200 steps from the same start."""
    if _unanswered(answer):
        return False
    try:
        lr_abs, temp_abs = (float(v) for v in answer)
    except (TypeError, ValueError):
        print(f"✗ enter a pair (lr, temp) of numbers; got {answer!r}.")
        return False
    if not (lr_abs > 0 and temp_abs > 0):
        print(f"✗ lr and temp must be positive; got {answer!r}.")
        return False
    import gametheory as gt

    start = tuple([1.0 / n] * n for n in game.num_actions)
    start = ([0.6, 0.3, 0.1], [0.2, 0.5, 0.3]) if game.num_actions == (3, 3) else start
    rel = gt.solve(game, gt.solvers.mmd(lr=lr, temp=temp), 200, initial=start)
    ab = gt.solve(game, gt.solvers.mmd(lr=lr_abs, temp=temp_abs, scale=1.0), 200, initial=start)
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(rel.last, ab.last))
    return _report(diff <= 1e-9, f"same iterates (largest difference {diff:.1e}).",
                   f"the iterates differ by up to {diff:.3g}: remember eta = lr / S and "
                   "alpha = temp * S, with S = game.payoff_scale().")


def check_two_by_two(answer) -> bool:
    """Exercise 2.3: the mixed equilibrium of ``[[3, -1], [-2, 1]]``, to NashConv 1e-9."""
    if _unanswered(answer):
        return False
    try:
        x_raw, y_raw = answer
    except (TypeError, ValueError):
        print(f"✗ enter a pair (x, y) of strategies; got {answer!r}.")
        return False
    x = _as_distribution(x_raw, 2, "x")
    y = _as_distribution(y_raw, 2, "y") if x is not None else None
    if y is None:
        return False
    a = np.array([[3.0, -1.0], [-2.0, 1.0]])
    nash_conv = float(np.max(a @ y) - np.min(x @ a))
    return _report(nash_conv <= 1e-9, f"NashConv {nash_conv:.1e}: the equilibrium.",
                   f"NashConv {nash_conv:.3g}: not an equilibrium (each player must make the "
                   "other indifferent).")


# --- Notebook 3: extensive form ----------------------------------------------------------------

def _kuhn():
    from gametheory import efg

    return efg.sequence_form_game("kuhn_poker")


def check_kuhn_value(answer) -> bool:
    """Exercise 3.1: player 0's equilibrium value of Kuhn poker (-1/18, Kuhn 1950), compared
    with the sequence-form LP to 1e-9."""
    if _unanswered(answer):
        return False
    v = _as_float(answer, "the value")
    if v is None:
        return False
    from gametheory import efg

    value = efg.solve_lp(_kuhn())[0]
    return _report(abs(v - value) <= 1e-9, f"{answer} is the value of Kuhn poker.",
                   f"{answer} = {v:.6g} is not the value (hint: player 0, who acts first, "
                   "loses a little on average).")


def _plan_of(game, player, behavioural) -> np.ndarray:
    """Realization plan (float64, NumPy) of a ``[I, 2]`` behavioural policy of Kuhn poker:
    ``x[seq(I, a)] = x[parent(I)] b(a | I)``, infosets in treeplex order (parents first)."""
    tp = game.treeplexes[player]
    x = np.zeros(tp.num_sequences)
    x[0] = 1.0
    for i, (parent, seqs) in enumerate(zip(np.asarray(tp.parent), np.asarray(tp.seq_index))):
        x[seqs] = x[parent] * np.asarray(behavioural[i], dtype=np.float64)
    return x


def check_realization_plan_test(fn) -> bool:
    """Exercise 3.2: ``fn(game, player, x)`` accepts valid Kuhn realization plans and rejects
    broken ones (negative entry, empty sequence != 1, a violated infoset constraint, wrong
    length)."""
    if _unanswered(fn):
        return False
    if not callable(fn):
        print(f"✗ is_realization_plan must be a function; got {fn!r}.")
        return False
    game = _kuhn()
    rng = np.random.default_rng(0)
    cases = []  # (description, player, plan, valid)
    for seed in range(6):
        for player in range(2):
            cases.append((f"the plan of a random policy (seed {seed})", player,
                          _plan_of(game, player, rng.dirichlet([1.0, 1.0], size=6)), True))
    for player in range(2):
        pure = np.tile([1.0, 0.0], (6, 1))
        cases.append(("a pure strategy's plan", player, _plan_of(game, player, pure), True))
    x = _plan_of(game, 0, np.full((6, 2), 0.5))
    cases.append(("a plan scaled by 0.9 (empty sequence 0.9)", 0, 0.9 * x, False))
    tp = game.treeplexes[0]
    seq, parent = np.asarray(tp.seq_index), np.asarray(tp.parent)
    bad = x.copy()
    bad[seq[0, 0]] += 0.1  # children of infoset 0 now sum to 1.1
    cases.append(("a plan whose first infoset's children sum to 1.1", 0, bad, False))
    neg = x.copy()  # a last infoset: its sequences lead nowhere, so only x >= 0 is violated
    leaf = len(parent) - 1
    neg[seq[leaf, 0]], neg[seq[leaf, 1]] = -0.2, x[parent[leaf]] + 0.2
    cases.append(("a plan with a negative entry (every sum still right)", 0, neg, False))
    cases.append(("a plan with one entry too few", 0, x[:-1], False))
    for what, player, plan, valid in cases:
        try:
            got = fn(game, player, plan)
        except Exception as err:  # a student's function may fail in any way: report it
            print(f"✗ is_realization_plan raised {type(err).__name__} on {what}: {err}")
            return False
        if bool(got) != valid:
            return _report(False, "", f"is_realization_plan returned {got!r} on {what} "
                                      f"(player {player}); expected {valid}.")
    return _report(True, f"is_realization_plan is right on all {len(cases)} plans.", "")


def check_kuhn_best_response(answer, behavioural0) -> bool:
    """Exercise 3.3: ``min_y x^T A y`` for player 0's behavioural policy ``behavioural0``
    (``[6, 2]``) in Kuhn poker, by the exact best-response sweep, to 1e-9."""
    if _unanswered(answer):
        return False
    v = _as_float(answer, "the payoff")
    if v is None:
        return False
    import jax.numpy as jnp

    from gametheory import efg
    from gametheory.efg import metrics

    game = _kuhn()
    plans = efg.behavioural_to_plans(game, (jnp.asarray(behavioural0),
                                            efg.uniform_behavioural(game)[1]))
    target = -float(metrics.best_response_values(game, plans)[1])
    return _report(abs(v - target) <= 1e-9, f"{v:.6g}: player 1's best response holds player 0 "
                   "to that.",
                   f"{v:.6g} is not min_y x^T A y for this x (player 1 minimises; use the "
                   "best-response value of player 1 and mind its sign).")


# --- Notebook 4: population methods ------------------------------------------------------------

def check_double_oracle_order(order) -> bool:
    """Exercise 4.1: the order in which double oracle adds RPS's pure strategies from {rock},
    read off :func:`gametheory.psro.run_psro` (exact oracle, LP meta-solver)."""
    if _unanswered(order):
        return False
    try:
        answer = [int(a) for a in order]
    except (TypeError, ValueError):
        print(f"✗ enter a list of action indices (0, 1, 2); got {order!r}.")
        return False
    import gametheory as gt
    from gametheory import psro

    run = psro.run_psro(gt.games.rock_paper_scissors(), 10, initial=0)
    truth = [int(np.argmax(member)) for member in run.population(0)]
    return _report(answer == truth, f"{answer}: each new strategy beats the previous meta-Nash.",
                   f"{answer} is not the order (start from [0]; the best response to rock is "
                   "the strategy that beats it).")


def check_uniform_population_exploitability(value) -> bool:
    """Exercise 4.2: exploitability of the uniform mixture of the final population of exact
    PSRO (Nash LP meta-solver, 25 iterations) on Kuhn poker, to 1e-9."""
    if _unanswered(value):
        return False
    v = _as_float(value, "the exploitability")
    if v is None:
        return False
    from gametheory import psro

    run = psro.run_psro("kuhn_poker", 25, meta_solver="nash")
    mixture = tuple(run.population(p).mean(axis=0) for p in range(2))
    truth = float(run.game.game.exploitability(mixture))
    return _report(abs(v - truth) <= 1e-9,
                   f"{v:.6g}: uniform weights are far from the meta-Nash "
                   f"({run.exploitability[-1]:.1e}).",
                   f"{v:.6g} is not the uniform mixture's exploitability (mix each player's "
                   "realization plans with equal weights, then NashConv / 2).")


def check_heterogeneous_values(values) -> bool:
    """Exercise 4.3: ``(shared, tmecor)`` values of the heterogeneous team game: the max-min
    value over shared-role plans (an LP over the actions both teammates take together) and the
    TMECor value (column generation), to 1e-9."""
    if _unanswered(values):
        return False
    try:
        shared, tmecor = (float(v) for v in values)
    except (TypeError, ValueError):
        print(f"✗ enter a pair (shared_value, tmecor_value); got {values!r}.")
        return False
    import gametheory as gt
    from gametheory.teams import heterogeneous_team_game, solve_tmecor

    game = heterogeneous_team_game()
    # Team utility of each joint action (a0, a1, b) from the game's sparse payoff table.
    utility = np.zeros((2, 2, 2))
    for seqs, u in zip(np.asarray(game.seqs) - 1, np.asarray(game.payoff)):
        utility[tuple(seqs)] = u
    shared_truth = gt.solve_zero_sum(np.array([[utility[a, a, b] for b in (0, 1)]
                                               for a in (0, 1)])).value
    tmecor_truth = solve_tmecor(game).value
    ok_shared = abs(shared - shared_truth) <= 1e-9
    ok_tmecor = abs(tmecor - tmecor_truth) <= 1e-9
    if ok_shared and ok_tmecor:
        return _report(True, f"shared roles guarantee {shared:g}; the TMECor value is "
                             f"{tmecor:g}: the team needs distinct roles.", "")
    wrong = [name for name, ok in (("shared value", ok_shared), ("TMECor value", ok_tmecor))
             if not ok]
    return _report(False, "", f"the {' and the '.join(wrong)} {'is' if len(wrong) == 1 else 'are'}"
                              " not right (team utility +1 iff (a0, a1) = (b, 1 - b), else -1).")


# --- Notebook 5: from games to language models -------------------------------------------------

def _torch_inputs(seed: int):
    import torch

    gen = torch.Generator().manual_seed(seed)
    b, k = 3, 5
    old = torch.log_softmax(torch.randn(b, k, generator=gen, dtype=torch.float64), -1)
    ref = torch.log_softmax(torch.randn(b, k, generator=gen, dtype=torch.float64), -1)
    win = torch.rand(b, k, generator=gen, dtype=torch.float64)
    return old, win, ref


def check_inpo_target(fn) -> bool:
    """Exercise 5.1: ``fn(old_logps, win_rates, ref_logps, eta, tau)`` equals
    :func:`llm_adapter.losses.inpo_targets` up to a constant per prompt (row)."""
    if _unanswered(fn):
        return False
    if not callable(fn):
        print(f"✗ inpo_target must be a function; got {fn!r}.")
        return False
    from llm_adapter import losses

    worst = 0.0
    for seed, (eta, tau) in enumerate([(1.0, 0.1), (10.0, 0.2), (0.3, 2.0)]):
        old, win, ref = _torch_inputs(seed)
        try:
            mine = np.asarray(fn(old, win, ref, eta, tau), dtype=np.float64)
        except Exception as err:  # a student's function may fail in any way: report it
            print(f"✗ inpo_target raised {type(err).__name__}: {err}")
            return False
        truth = losses.inpo_targets(old, win, ref, eta, tau).numpy()
        if mine.shape != truth.shape:
            print(f"✗ inpo_target returned shape {mine.shape}; expected {truth.shape}.")
            return False
        diff = mine - truth
        worst = max(worst, float(np.max(np.abs(diff - diff.mean(-1, keepdims=True)))))
    return _report(worst <= 1e-10, f"INPO targets right up to log Z (max error {worst:.1e}).",
                   f"the targets differ by up to {worst:.3g} beyond a per-prompt constant.")


def check_pairwise_loss(fn) -> bool:
    """Exercise 5.2: ``fn(logratios, targets, weights)`` equals
    :func:`llm_adapter.losses.pairwise_regression_loss`."""
    if _unanswered(fn):
        return False
    if not callable(fn):
        print(f"✗ pairwise_loss must be a function; got {fn!r}.")
        return False
    import torch

    from llm_adapter import losses

    worst = 0.0
    for seed in range(4):
        gen = torch.Generator().manual_seed(100 + seed)
        r, t = (torch.randn(4, 6, generator=gen, dtype=torch.float64) for _ in range(2))
        w = torch.rand(4, 6, generator=gen, dtype=torch.float64) * 3
        try:
            mine = float(fn(r, t, w))
        except Exception as err:  # a student's function may fail in any way: report it
            print(f"✗ pairwise_loss raised {type(err).__name__}: {err}")
            return False
        worst = max(worst, abs(mine - float(losses.pairwise_regression_loss(r, t, w))))
    return _report(worst <= 1e-12, f"the pairwise loss matches (max error {worst:.1e}).",
                   f"the loss differs by up to {worst:.3g} (normalise the weights per prompt, "
                   "then take the weighted variance of r - t and average over prompts).")


def check_lifted_class_marginal(value) -> bool:
    """Exercise 5.3: class a's equilibrium probability in the COMAL game lifted to responses,
    4/11 (Liu et al. 2024, Sec. 4), by the LP on the 3x3 game, to 1e-9."""
    if _unanswered(value):
        return False
    v = _as_float(value, "the probability")
    if v is None:
        return False
    import gametheory as gt

    truth = float(gt.solve_zero_sum(gt.games.comal_3x3()).row[0])
    return _report(abs(v - truth) <= 1e-9, f"{v:.6g}: the class marginal of every equilibrium.",
                   f"{v:.6g} is not it (the classes play the 3x3 game: its equilibrium).")

# --- Notebook 6: persuasion --------------------------------------------------------------------

def _judge(threshold: float):
    """Prosecutor and judge (Kamenica and Gentzkow 2011): prior P(guilty) = 0.3, the judge
    convicts iff P(guilty) >= threshold, the prosecutor wants a conviction."""
    from gametheory.persuasion import PersuasionProblem

    return PersuasionProblem([0.7, 0.3], [[0, 1], [0, 1]],
                             [[threshold, 0], [0, 1 - threshold]])


def check_strict_judge_value(value) -> bool:
    """Exercise 6.1: the optimal conviction probability for a judge with threshold 2/3
    (closed form 0.3 / (2/3) = 0.45), by the obedience LP, to 1e-7."""
    if _unanswered(value):
        return False
    v = _as_float(value, "the conviction probability")
    if v is None:
        return False
    from gametheory.persuasion import optimal_scheme

    truth = optimal_scheme(_judge(2 / 3)).value
    return _report(abs(v - truth) <= 1e-7, f"{v:.6g}: the envelope's chord from 0 to 2/3.",
                   f"{v:.6g} is not the optimum (split the prior into posteriors 0 and the "
                   "threshold).")


def check_judge_scheme(scheme) -> bool:
    """Exercise 6.2: a direct scheme for the threshold-1/2 judge that is obedient (the judge
    follows every recommendation) and convicts with probability >= 0.55."""
    if _unanswered(scheme):
        return False
    try:
        pi = np.asarray(scheme, dtype=np.float64)
    except (TypeError, ValueError):
        pi = None
    if pi is None or pi.shape != (2, 2) or not np.all(np.isfinite(pi)) or np.any(pi < 0) or \
            not np.allclose(pi.sum(axis=1), 1.0, atol=1e-9):
        print(f"✗ enter a 2x2 matrix of probabilities whose rows sum to 1; got {scheme!r}.")
        return False
    from gametheory.persuasion import evaluate_scheme, obedience_slack

    problem = _judge(0.5)
    value = evaluate_scheme(problem, pi).sender_value
    obedient = float(obedience_slack(problem, pi).min()) >= -1e-9
    if not obedient:
        return _report(False, "", "the judge would not follow some recommendation: the "
                                  "posterior after 'convict' must be at least 1/2.")
    return _report(value >= 0.55 - 1e-9, f"obedient, convicts with probability {value:.4g}.",
                   f"obedient, but convicts only with probability {value:.4g} < 0.55.")


def check_posteriors(fn) -> bool:
    """Exercise 6.3: ``fn(prior, scheme)`` returns the ``[K, S]`` posteriors, compared with
    :func:`gametheory.persuasion.evaluate_scheme` on random problems."""
    if _unanswered(fn):
        return False
    if not callable(fn):
        print(f"✗ posteriors must be a function; got {fn!r}.")
        return False
    from gametheory.persuasion import PersuasionProblem, evaluate_scheme

    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(5):
        s, k = 3, 4
        prior = rng.dirichlet(np.ones(s))
        scheme = rng.dirichlet(np.ones(k), size=s)
        problem = PersuasionProblem(prior, rng.normal(size=(s, 2)), rng.normal(size=(s, 2)))
        try:
            mine = np.asarray(fn(prior, scheme), dtype=np.float64)
        except Exception as err:  # a student's function may fail in any way: report it
            print(f"✗ posteriors raised {type(err).__name__}: {err}")
            return False
        truth = evaluate_scheme(problem, scheme).posteriors
        if mine.shape != truth.shape:
            print(f"✗ posteriors returned shape {mine.shape}; expected {truth.shape} "
                  "(one row per signal).")
            return False
        worst = max(worst, float(np.max(np.abs(mine - truth))))
    return _report(worst <= 1e-12, f"Bayes' rule, right to {worst:.1e}.",
                   f"the posteriors differ by up to {worst:.3g} (normalise each signal's "
                   "column of prior x scheme).")
