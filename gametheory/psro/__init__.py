"""Policy-space response oracles (PSRO) with exact meta-games on two-player zero-sum games.

A run is a choice of parts (small protocols, like the solvers' ``(init, update)`` pairs):

* a meta-solver (:mod:`.meta_solvers`): exact Nash LP, uniform, projected replicator dynamics,
  regret matching, or any registered normal-form solver;
* an oracle (:mod:`.oracles`): exact best response, or a policy trained by gradient ascent;
* an initialisation of trained best responses (:mod:`.initializers`): scratch, inherit, noisy
  copy or Fusion-PSRO's Nash policy fusion.

Meta-game entries and the meta-mixture's exploitability are exact (bilinear in mixed strategies
or realization plans). See ``docs/psro.md``.
"""

from .checkpoint import load_run
from .games import PSROGame, as_psro_game
from .initializers import (
    INITIALIZERS,
    InitContext,
    Initializer,
    fusion,
    inherit,
    make_initializer,
    noisy,
    scratch,
)
from .meta_solvers import (
    META_SOLVERS,
    MetaSolver,
    make_meta_solver,
    meta_solver_names,
    nash,
    prd,
    registered,
    regret_matching,
    uniform,
)
from .oracles import ORACLES, Oracle, exact, gradient, make_oracle
from .param_policies import ParamPolicy, mlp_policy, tabular_policy
from .runner import TEAM_VARIANTS, TWO_PLAYER_VARIANTS, VARIANTS, run_psro
from .state import PSROResult, PSROState

__all__ = [
    "run_psro",
    "load_run",
    "PSROResult",
    "PSROState",
    "PSROGame",
    "as_psro_game",
    "VARIANTS",
    "TWO_PLAYER_VARIANTS",
    "TEAM_VARIANTS",
    "MetaSolver",
    "META_SOLVERS",
    "make_meta_solver",
    "meta_solver_names",
    "nash",
    "uniform",
    "prd",
    "regret_matching",
    "registered",
    "Oracle",
    "ORACLES",
    "make_oracle",
    "exact",
    "gradient",
    "Initializer",
    "InitContext",
    "INITIALIZERS",
    "make_initializer",
    "scratch",
    "inherit",
    "noisy",
    "fusion",
    "ParamPolicy",
    "tabular_policy",
    "mlp_policy",
]
