"""Limited-liability contract LP against hand-derived optima."""

import numpy as np
import pytest

from gametheory.incentives import ContractProblem, min_pay_contract, optimal_contract


def _effort():
    # Two outcomes (fail: reward 0, success: reward 4); low effort costs 0 and succeeds w.p.
    # 0.25, high effort costs 1 and succeeds w.p. 0.75.
    return ContractProblem(rewards=[0, 4], costs=[0, 1],
                           outcome_probs=[[0.75, 0.25], [0.25, 0.75]],
                           actions=["low", "high"], outcomes=["fail", "success"])


def test_two_outcome_effort_contract():
    sol = optimal_contract(_effort())
    # IC for high effort: 0.75 t_s + 0.25 t_f - 1 >= 0.25 t_s + 0.75 t_f, i.e. t_s - t_f >= 2;
    # limited liability makes t = (0, 2) cheapest (expected payment 1.5), so the principal gets
    # 0.75 * 4 - 1.5 = 1.5 > 1 (low effort with t = 0).
    assert sol.best.action == 1
    np.testing.assert_allclose(sol.best.payments, [0.0, 2.0], atol=1e-9)
    assert sol.best.principal_utility == pytest.approx(1.5, abs=1e-9)
    assert sol.best.agent_utility == pytest.approx(0.5, abs=1e-9)  # limited-liability rent
    low = sol.per_action[0]
    assert low.expected_payment == pytest.approx(0.0, abs=1e-12)
    assert low.principal_utility == pytest.approx(1.0, abs=1e-12)


def test_unimplementable_action_and_outside_option():
    # A costly action that is a garbling of the free one (same outcome distribution) can never
    # be induced: no contract pays more for it.
    prob = ContractProblem([0, 1], [0, 1], [[0.5, 0.5], [0.5, 0.5]])
    assert min_pay_contract(prob, 1) is None
    assert optimal_contract(prob).best.action == 0
    # With an outside option of 1 the agent must be paid at least c + 1 in expectation: high
    # effort needs t_s >= 2 (IC) and 0.75 t_s >= 2 (IR), so t_s = 8/3 and the principal gets
    # 3 - 2 = 1; low effort needs E[t] = 1 (e.g. a flat wage), leaving 1 - 1 = 0.
    p = ContractProblem([0, 4], [0, 1], [[0.75, 0.25], [0.25, 0.75]], outside_option=1.0)
    sol = optimal_contract(p)
    assert sol.best.action == 1
    assert sol.best.expected_payment == pytest.approx(2.0, abs=1e-9)
    assert sol.per_action[0].principal_utility == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("kwargs,needle", [
    (dict(rewards=[0, 4], costs=[0, 1], outcome_probs=[[0.7, 0.2], [0.25, 0.75]]),
     "probability distribution"),
    (dict(rewards=[0, 4], costs=[0, 1], outcome_probs=[[0.75, 0.25]]), "shape mismatch"),
    (dict(rewards=[0, float("nan")], costs=[0, 1], outcome_probs=[[0.75, 0.25], [0.25, 0.75]]),
     "non-finite"),
])
def test_bad_contract_problems(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        ContractProblem(**kwargs)
