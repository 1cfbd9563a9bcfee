"""Normal-form solvers: optax-style ``(init, update)`` pairs (see :mod:`.base`) and a registry."""

from __future__ import annotations

from .base import Solver
from .fictitious_play import fictitious_play, replicator
from .mmd import mmd, mpo
from .mwu import extragradient, mwu, omwu
from .params import did_you_mean, effective_parameters, parse_value, solver_parameters
from .pdhg import pdhg
from .regret_matching import rm_plus
from .regularized import comal, inpo, nash_md
from .tableau import tableau

__all__ = [
    "Solver",
    "mwu",
    "omwu",
    "extragradient",
    "mmd",
    "mpo",
    "comal",
    "pdhg",
    "tableau",
    "inpo",
    "nash_md",
    "rm_plus",
    "fictitious_play",
    "replicator",
    "NORMAL_FORM_SOLVERS",
    "solver_parameters",
    "effective_parameters",
    "make_solver",
    "parse_value",
]

NORMAL_FORM_SOLVERS = {
    "mwu": mwu,
    "omwu": omwu,
    "extragradient": extragradient,
    "mmd": mmd,
    "mpo": mpo,
    "comal": comal,
    "pdhg": pdhg,
    "tableau": tableau,
    "inpo": inpo,
    "nash_md": nash_md,
    "rm_plus": rm_plus,
    "fictitious_play": fictitious_play,
    "replicator": replicator,
}


def make_solver(name: str, registry=None, **params) -> Solver:
    """Build a registered solver by name; ``ValueError`` for an unknown name (with the closest
    match) or an unknown parameter (listing the solver's real parameters)."""
    registry = NORMAL_FORM_SOLVERS if registry is None else registry
    if name not in registry:
        raise ValueError(
            f"unknown solver {name!r}; choose one of {', '.join(sorted(registry))}."
            + did_you_mean(name, registry)
        )
    factory = registry[name]
    try:
        effective_parameters(factory, params)
    except ValueError as err:
        raise ValueError(f"solver {name!r} has {err}") from None
    return factory(**params)
