"""Single-item auctions: second price / VCG and Myerson's optimal auction.

Bidders' values are i.i.d. draws from a continuous distribution given as a frozen
``scipy.stats`` distribution (e.g. ``scipy.stats.uniform(0, 1)``), which supplies the cdf ``F``,
density ``f``, survival function and sampler. Myerson (1981): with the virtual value

    phi(v) = v - (1 - F(v)) / f(v),

the expected revenue of any truthful auction equals the expected virtual surplus of its winner
(Myerson 1981). For a *regular* distribution (``phi`` non-decreasing) the optimal auction
is the second-price auction with reserve ``r* = phi^{-1}(0)``, and a second-price auction with
reserve ``r`` among ``n`` bidders earns

    Rev(r) = n * int_r^inf phi(v) F(v)^(n-1) f(v) dv.                                   (1)

For two bidders with U[0, 1] values: second price earns 1/3, Myerson's reserve is 1/2 and it
earns 5/12 (Myerson 1981; Krishna, "Auction Theory", 2nd ed., Ch. 2).

:func:`vcg` is the general Vickrey-Clarke-Groves mechanism over a finite outcome set (welfare-
maximising outcome, Clarke pivot payments); for one item it is the second-price auction.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import integrate, optimize

__all__ = [
    "virtual_value",
    "check_regular",
    "myerson_reserve",
    "expected_revenue",
    "OptimalAuction",
    "myerson_auction",
    "MonteCarloRevenue",
    "simulate_auction",
    "VCGResult",
    "vcg",
]


def _check_dist(dist):
    for attr in ("cdf", "pdf", "sf", "ppf", "rvs", "support"):
        if not hasattr(dist, attr):
            raise ValueError(f"value distribution must be a frozen scipy.stats continuous "
                             f"distribution (e.g. scipy.stats.uniform(0, 1)); {dist!r} has no "
                             f"{attr}().")


def _check_bidders(n) -> int:
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of bidders must be an integer >= 1; got {n!r}.")
    return int(n)


def virtual_value(dist, v):
    """Myerson's virtual value ``v - (1 - F(v)) / f(v)`` (array in, array out)."""
    _check_dist(dist)
    v = np.asarray(v, dtype=np.float64)
    return v - dist.sf(v) / dist.pdf(v)


def _probe_points(dist, points: int) -> np.ndarray:
    q = np.linspace(1e-6, 1 - 1e-6, points)
    return dist.ppf(q)


def check_regular(dist, points: int = 2001) -> None:
    """Raise ``ValueError`` unless ``phi`` is non-decreasing on ``points`` quantiles of ``dist``
    (a numerical check of regularity; ironing is not implemented)."""
    _check_dist(dist)
    phi = virtual_value(dist, _probe_points(dist, points))
    if not np.all(np.isfinite(phi)):
        raise ValueError("the virtual value is not finite on the support (density 0 inside?).")
    if np.any(np.diff(phi) < -1e-9 * max(1.0, np.abs(phi).max())):
        raise ValueError("the value distribution is not regular (its virtual value decreases "
                         "somewhere); Myerson's auction for it needs ironing, which is not "
                         "implemented.")


def myerson_reserve(dist) -> float:
    """The optimal reserve ``r* = phi^{-1}(0)`` of a regular distribution (its lower support
    end if ``phi >= 0`` there)."""
    check_regular(dist)
    lo, hi = dist.support()
    a, b = dist.ppf(1e-12), dist.ppf(1 - 1e-12)
    if virtual_value(dist, a) >= 0:
        return float(lo if np.isfinite(lo) else a)
    if virtual_value(dist, b) <= 0:
        return float(hi if np.isfinite(hi) else b)
    return float(optimize.brentq(lambda v: float(virtual_value(dist, v)), a, b, xtol=1e-14))


def expected_revenue(dist, n: int, reserve: float | None = None) -> float:
    """Expected revenue (1) of the second-price auction with ``reserve`` among ``n`` i.i.d.
    bidders (no reserve: ``reserve=None``), by numerical integration (``scipy.integrate.quad``)."""
    _check_dist(dist)
    n = _check_bidders(n)
    lo, hi = dist.support()
    r = lo if reserve is None else max(float(reserve), lo)
    if r >= hi:
        return 0.0
    integrand = lambda v: (v * dist.pdf(v) - dist.sf(v)) * dist.cdf(v) ** (n - 1)  # phi F^(n-1) f
    value, _ = integrate.quad(integrand, r, hi, limit=200, epsabs=1e-13, epsrel=1e-12)
    return float(n * value)


class OptimalAuction(NamedTuple):
    reserve: float  # Myerson's reserve phi^{-1}(0)
    revenue: float  # expected revenue of the optimal auction
    second_price_revenue: float  # expected revenue without reserve (VCG)


def myerson_auction(dist, n: int) -> OptimalAuction:
    """Myerson's optimal auction for ``n`` i.i.d. bidders with a regular value distribution:
    second price with reserve ``phi^{-1}(0)``; its revenue and the no-reserve revenue."""
    r = myerson_reserve(dist)
    return OptimalAuction(r, expected_revenue(dist, n, r), expected_revenue(dist, n, None))


class MonteCarloRevenue(NamedTuple):
    mean: float
    stderr: float
    samples: int


def simulate_auction(dist, n: int, reserve: float | None = None, samples: int = 200_000,
                     seed: int = 0, chunk: int = 100_000) -> MonteCarloRevenue:
    """Monte-Carlo revenue of the second-price auction with ``reserve``: the highest bidder wins
    if her value is at least the reserve and pays ``max(second highest value, reserve)``."""
    _check_dist(dist)
    n = _check_bidders(n)
    if samples < 2:
        raise ValueError(f"samples must be >= 2; got {samples}.")
    rng = np.random.default_rng(seed)
    r = -np.inf if reserve is None else float(reserve)
    total = total_sq = 0.0
    done = 0
    while done < samples:
        m = min(chunk, samples - done)
        values = np.sort(dist.rvs(size=(m, n), random_state=rng), axis=1)
        top = values[:, -1]
        second = values[:, -2] if n > 1 else np.full(m, -np.inf)
        pay = np.where(top >= r, np.maximum(second, r), 0.0)
        pay = np.where(np.isfinite(pay), pay, 0.0)  # one bidder, no reserve: pays nothing
        total += pay.sum()
        total_sq += (pay**2).sum()
        done += m
    mean = total / samples
    var = max(total_sq / samples - mean**2, 0.0)
    return MonteCarloRevenue(float(mean), float(np.sqrt(var / (samples - 1))), samples)


class VCGResult(NamedTuple):
    outcome: int  # welfare-maximising outcome (lowest index among ties)
    payments: np.ndarray  # [n] Clarke pivot payments
    welfare: float


def vcg(valuations) -> VCGResult:
    """VCG with Clarke pivot payments for ``valuations [bidders, outcomes]``.

    Picks the outcome maximising total value; bidder ``i`` pays the welfare the others would get
    without her minus what they get at the chosen outcome (Nisan et al., "Algorithmic Game
    Theory", Ch. 9). Single item, outcome ``j`` = "bidder ``j`` wins": the winner pays the
    second-highest value.
    """
    v = np.asarray(valuations, dtype=np.float64)
    if v.ndim != 2 or v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError("valuations must be a finite, non-empty [bidders, outcomes] table.")
    total = v.sum(axis=0)
    outcome = int(np.argmax(total))
    payments = np.array([np.max(total - v[i]) - (total[outcome] - v[i, outcome])
                         for i in range(v.shape[0])])
    return VCGResult(outcome, payments, float(total[outcome]))
