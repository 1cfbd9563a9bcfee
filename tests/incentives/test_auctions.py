"""Second-price / VCG and Myerson auctions: closed forms and Monte-Carlo."""

import numpy as np
import pytest
from scipy import stats

from gametheory.incentives import (
    check_regular,
    expected_revenue,
    myerson_auction,
    simulate_auction,
    vcg,
    virtual_value,
)

UNIFORM = stats.uniform(0, 1)


def test_two_uniform_bidders_closed_form():
    # U[0,1]: phi(v) = 2v - 1, reserve 1/2. Two bidders: second price earns E[min] = 1/3;
    # Myerson's auction earns 5/12 (Myerson 1981; Krishna, Auction Theory, Ch. 2).
    np.testing.assert_allclose(virtual_value(UNIFORM, [0.25, 0.5, 0.9]), [-0.5, 0.0, 0.8])
    auction = myerson_auction(UNIFORM, 2)
    assert auction.reserve == pytest.approx(0.5, abs=1e-12)
    assert auction.revenue == pytest.approx(5 / 12, abs=1e-10)
    assert auction.second_price_revenue == pytest.approx(1 / 3, abs=1e-10)


def test_two_uniform_bidders_monte_carlo():
    plain = simulate_auction(UNIFORM, 2, None, samples=400_000, seed=0)
    reserve = simulate_auction(UNIFORM, 2, 0.5, samples=400_000, seed=1)
    assert abs(plain.mean - 1 / 3) < 4 * plain.stderr
    assert abs(reserve.mean - 5 / 12) < 4 * reserve.stderr
    assert plain.stderr < 1e-3


def test_exponential_values():
    # Exponential(mean m): phi(v) = v - m, so the reserve is m for any n (Krishna, Auction
    # Theory, Ch. 2). Three bidders, no reserve: E[second highest of 3] = m (1/2 + 1/3)
    # (exponential order statistics).
    m = 2.0
    dist = stats.expon(scale=m)
    auction = myerson_auction(dist, 3)
    assert auction.reserve == pytest.approx(m, abs=1e-9)
    assert auction.second_price_revenue == pytest.approx(m * 5 / 6, abs=1e-8)
    mc = simulate_auction(dist, 3, auction.reserve, samples=400_000, seed=2)
    assert abs(mc.mean - auction.revenue) < 4 * mc.stderr
    # Revenue (1) is maximised at the reserve (Myerson 1981).
    for r in (0.5 * m, 0.8 * m, 1.3 * m):
        assert expected_revenue(dist, 3, r) < auction.revenue


def test_vcg_single_item_and_two_items():
    # One item, outcome j = "bidder j wins": the winner pays the second-highest value.
    res = vcg(np.diag([5.0, 3.0, 4.0]))
    assert res.outcome == 0
    np.testing.assert_allclose(res.payments, [4.0, 0.0, 0.0])
    # Two identical items, unit demand, values (5, 3, 4); outcomes = which two bidders win.
    # Winners {0, 2} each pay the losing value 3 (the (k+1)-th price of the uniform-price auction).
    outcomes = [(0, 1), (0, 2), (1, 2)]
    values = np.array([5.0, 3.0, 4.0])
    table = np.array([[values[i] if i in o else 0.0 for o in outcomes] for i in range(3)])
    res = vcg(table)
    assert outcomes[res.outcome] == (0, 2)
    np.testing.assert_allclose(res.payments, [3.0, 0.0, 3.0])


def test_bad_distributions():
    with pytest.raises(ValueError, match="not regular"):
        check_regular(stats.lognorm(s=2.0))  # heavy tail: phi decreases
    with pytest.raises(ValueError, match="scipy.stats"):
        myerson_auction([0, 1], 2)
    with pytest.raises(ValueError, match="bidders"):
        expected_revenue(UNIFORM, 0)
