"""Normal-form solvers: optax-style ``(init, update)`` pairs (see :mod:`.base`) and a registry."""

from __future__ import annotations

import inspect

from .base import Solver
from .fictitious_play import fictitious_play, replicator
from .mmd import mmd, mpo
from .mwu import extragradient, mwu, omwu
from .pdhg import pdhg
from .regret_matching import rm_plus
from .regularized import comal, inpo, nash_md

__all__ = [
    "Solver",
    "mwu",
    "omwu",
    "extragradient",
    "mmd",
    "mpo",
    "comal",
    "pdhg",
    "inpo",
    "nash_md",
    "rm_plus",
    "fictitious_play",
    "replicator",
    "NORMAL_FORM_SOLVERS",
    "solver_parameters",
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
    "inpo": inpo,
    "nash_md": nash_md,
    "rm_plus": rm_plus,
    "fictitious_play": fictitious_play,
    "replicator": replicator,
}


def solver_parameters(factory) -> dict:
    """``{parameter: default}`` of a solver factory."""
    return {k: p.default for k, p in inspect.signature(factory).parameters.items()}


def parse_value(text: str):
    """Parse a ``--set`` value: int, float, bool, ``none`` or a bare string."""
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def make_solver(name: str, registry=None, **params) -> Solver:
    """Build a registered solver by name, checking parameter names (ValueError otherwise)."""
    registry = NORMAL_FORM_SOLVERS if registry is None else registry
    if name not in registry:
        raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(sorted(registry))}.")
    factory = registry[name]
    known = solver_parameters(factory)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(
            f"solver {name!r} has no parameter {', '.join(unknown)}; "
            f"its parameters are: {', '.join(known) or 'none'}."
        )
    return factory(**params)
