"""Incentive design beside persuasion: contracts (hidden action) and auctions.

* :mod:`~gametheory.incentives.contracts`: the limited-liability principal-agent LP (minimum
  payment per implementable action, then the principal's best action).
* :mod:`~gametheory.incentives.auctions`: second price / VCG and Myerson's optimal auction for
  i.i.d. regular values (virtual values, reserve, expected revenue, Monte-Carlo check).
"""

from .auctions import (
    MonteCarloRevenue,
    OptimalAuction,
    VCGResult,
    check_regular,
    expected_revenue,
    myerson_auction,
    myerson_reserve,
    simulate_auction,
    vcg,
    virtual_value,
)
from .contracts import (
    ContractProblem,
    ContractSolution,
    MinPayContract,
    min_pay_contract,
    optimal_contract,
)

__all__ = [
    "ContractProblem", "MinPayContract", "ContractSolution", "min_pay_contract",
    "optimal_contract",
    "virtual_value", "check_regular", "myerson_reserve", "expected_revenue", "OptimalAuction",
    "myerson_auction", "MonteCarloRevenue", "simulate_auction", "VCGResult", "vcg",
]
