"""Losses (shapes, errors, golden values), the paper-parameter table, and the oracles."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory import rules
from llm_adapter import losses
from llm_adapter.judges import oracles


def _t(*v):
    return torch.tensor(v, dtype=torch.float64)


def test_win_rates_include_the_self_term():
    # hand computation: row means of [[1/2, 1], [0, 1/2]] = (3/4, 1/4)
    m = torch.tensor([[0.5, 1.0], [0.0, 0.5]])
    torch.testing.assert_close(losses.win_rates_from_matrix(m), torch.tensor([0.75, 0.25]))


def test_dpo_and_ipo_golden_values():
    z = _t(0.0)
    # DPO (Rafailov et al. 2023, eq. (7)) at zero margin: -log sigmoid(0) = log 2
    assert float(losses.dpo_loss(z, z, z, z, beta=0.1)) == pytest.approx(math.log(2))
    # IPO (Azar et al. 2023, eq. (17)) is zero at margin 1/(2 tau) = 5 for tau = 0.1
    assert float(losses.ipo_loss(_t(5.0), z, z, z, tau=0.1)) == pytest.approx(0.0, abs=1e-12)


def test_sppo_loss_matches_the_paper_form_under_the_parameter_table():
    # SPPO paper code: loss = (log pi/pi_t - (1/beta)(P_hat - 1/2))^2 (Wu et al. 2024, eq. 3.6)
    beta = 0.25
    eta = losses.from_paper("sppo", beta=beta)["eta"]
    lp, old, win = _t(-1.0, -2.0), _t(-1.5, -1.0), _t(0.9, 0.2)
    paper = ((lp - old - (1 / beta) * (win - 0.5)) ** 2).mean()
    torch.testing.assert_close(losses.sppo_loss(lp, old, win, eta), paper)


def test_comal_and_nash_md_parameter_table():
    rng = np.random.default_rng(0)
    logits, ref = (torch.as_tensor(np.log(rng.dirichlet(np.ones(4)))) for _ in range(2))
    q = torch.as_tensor(rng.normal(size=4))
    eta_c, r = 5.0, 0.5
    p = losses.from_paper("comal", eta_c=eta_c, r=r)
    # COMAL code form: log pi' ∝ (log pi + r log ref + q / eta_c) / (1 + r)
    code = rules.log_normalize((logits + r * ref + q / eta_c) / (1 + r))
    torch.testing.assert_close(rules.inpo(logits, q, p["eta"], p["tau"], ref), code)
    m = losses.from_paper("nash_md", mixture_coef=0.125, eta=0.5)
    # Nash-MD mixture pi^(1-m) ref^m with m = mixture_coef (Munos et al. 2024, Sec. 5)
    torch.testing.assert_close(rules.geometric_mixture(logits, ref, m["eta"] * m["tau"]),
                               rules.log_normalize(0.875 * logits + 0.125 * ref))
    with pytest.raises(ValueError, match="missing"):
        losses.from_paper("comal", eta_c=1.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=3, max_size=3), st.floats(-10, 10))
def test_pairwise_loss_is_log_partition_free(shift_targets, c):
    lr = torch.tensor([[0.3, -0.2, 1.0]], dtype=torch.float64)
    t = torch.tensor([shift_targets], dtype=torch.float64)
    a = losses.pairwise_regression_loss(lr, t)
    b = losses.pairwise_regression_loss(lr + c, t)
    assert float(a) == pytest.approx(float(b), abs=1e-9)
    assert float(a) >= 0


def test_mpo_token_loss_masks_and_vanishes_kl_at_equality():
    tok = torch.tensor([[-1.0, -2.0, -9.0]], requires_grad=True)
    mask = torch.tensor([[1, 1, 0]])
    win = torch.tensor([0.5])
    # with P_hat = 1/2 and pi = pi_t = magnet the loss is 0 (k3 KL estimates vanish)
    loss = losses.mpo_token_loss(tok, tok.detach(), tok.detach(), mask, win, eta=1.0, alpha=0.1)
    assert loss.item() == 0.0
    loss2 = losses.mpo_token_loss(tok, tok.detach() - 1, tok.detach(), mask, torch.tensor([0.9]),
                                  eta=1.0, alpha=0.1)
    loss2.backward()
    assert tok.grad[0, 2] == 0  # padding gets no gradient


@pytest.mark.parametrize("call, match", [
    (lambda: losses.sppo_loss(_t(0.0, 1.0), _t(0.0, 1.0), _t(0.5, 1.5), 1.0), r"\[0, 1\]"),
    (lambda: losses.sppo_loss(_t(0.0), _t(0.0, 1.0), _t(0.5, 0.5), 1.0), "shape mismatch"),
    (lambda: losses.mpo_loss(_t(0.0), _t(0.0), _t(0.5), _t(0.0), 1.0, 0.1), "2-D"),
    (lambda: losses.sppo_loss(_t(0.0), _t(0.0), _t(0.5), -1.0), "eta must be a positive"),
    (lambda: losses.nash_md_loss(*(torch.zeros(1, 2) + 0.5,) * 4, eta=2.0, tau=1.0), "eta \\* tau"),
    (lambda: losses.dpo_loss(_t(0.0), _t(0.0, 1.0), _t(0.0), _t(0.0), 0.1), "shape mismatch"),
])
def test_bad_loss_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_matrix_and_bradley_terry_oracles():
    prefs = [[0.5, 0.9], [0.1, 0.5]]
    o = oracles.MatrixOracle(prefs, classify=len)
    torch.testing.assert_close(o(["p", "p"], ["a", ""], ["", "a"]), _t(0.1, 0.9))
    bt = oracles.BradleyTerryOracle(lambda p, r: [float(len(x)) for x in r], beta=1.0)
    # sigmoid(1 - 0) = 0.7310585786300049 (logistic function at 1)
    torch.testing.assert_close(bt(["p"], ["ab"], ["a"]), _t(0.7310585786300049))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        oracles.MatrixOracle([[0.5, 1.2], [-0.2, 0.5]])
    with pytest.raises(ValueError, match="P \\+ P\\^T"):
        oracles.MatrixOracle([[0.5, 0.7], [0.7, 0.5]])
    with pytest.raises(ValueError, match="batch size mismatch"):
        o(["p"], ["a", "b"], ["a"])


def test_oracle_outside_unit_interval_is_rejected():
    def bad(prompts, a, b):
        return torch.full((len(prompts),), 1.5)

    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        oracles.estimate_win_rates(bad, ["p"], [["a", "b"]])


def test_win_rate_estimate_is_row_mean_of_the_k_by_k_matrix():
    o = oracles.MatrixOracle([[0.5, 0.9, 0.2], [0.1, 0.5, 0.7], [0.8, 0.3, 0.5]], classify=int)
    got = oracles.estimate_win_rates(o, ["p"], [[0, 1, 2, 0]])
    # hand computation: rows of the 4x4 matrix over classes (0, 1, 2, 0), self-term 1/2:
    # y0: (.5 + .9 + .2 + .5)/4, y1: (.1 + .5 + .7 + .1)/4, y2: (.8 + .3 + .5 + .8)/4
    torch.testing.assert_close(got, _t(0.525, 0.35, 0.6, 0.525)[None])
    vs = oracles.estimate_win_rates(o, ["p"], [[1, 2]], opponents=[[0, 0]])
    torch.testing.assert_close(vs, _t(0.1, 0.8)[None])


def test_llm_judge_is_complementary_and_order_invariant(tiny_model, tokenizer):
    judge = oracles.LLMJudge(tiny_model, tokenizer)
    prompts = ["which is right?", "2+2?", "colour?"]
    a, b = ["yes it is", "4", "blue"], ["no", "five", "a long answer about red"]
    ab, ba = judge(prompts, a, b), judge(prompts, b, a)
    # P(a > b) + P(b > a) = 1 exactly (both orders are averaged)
    torch.testing.assert_close(ab + ba, torch.ones(3, dtype=torch.float64), atol=1e-12, rtol=0)
    # swapping the presentation order leaves the verdict unchanged
    first = judge.first_preferred(prompts, a, b)
    swapped = judge.first_preferred(prompts, b, a)
    torch.testing.assert_close(ab, 0.5 * (first + 1 - swapped), atol=1e-12, rtol=0)
    torch.testing.assert_close(ba, 0.5 * (swapped + 1 - first), atol=1e-12, rtol=0)
    assert torch.all((ab >= 0) & (ab <= 1))
    # token-id responses are decoded: same verdict as the strings
    ids = [tokenizer(x, add_special_tokens=False)["input_ids"] for x in a]
    torch.testing.assert_close(judge(prompts, ids, b), ab, atol=1e-6, rtol=0)
