"""Which public names of the packages have an entry in the built API reference."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

#: Packages and modules whose ``__all__`` the API reference must cover.
PUBLIC_MODULES = (
    "gametheory", "gametheory.efg", "llm_adapter",
    "gametheory.games", "gametheory.solvers", "gametheory.driver", "gametheory.lp",
    "gametheory.metrics", "gametheory.rules", "gametheory.correlated", "gametheory.psro",
    "gametheory.teams", "gametheory.persuasion", "gametheory.incentives",
)

_ID = re.compile(r'\bid="([A-Za-z_][\w.]*)"')


def anchors(site: Path) -> set[str]:
    """Every ``id`` of the API pages of a built site (mkdocstrings: the dotted path)."""
    ids: set[str] = set()
    for page in (site / "api").rglob("*.html"):
        ids.update(_ID.findall(page.read_text(encoding="utf-8")))
    return ids


def public_names() -> list[tuple[str, str, object]]:
    """``(module, name, object)`` for every name in the ``__all__`` of PUBLIC_MODULES."""
    out = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            out.append((module_name, name, getattr(module, name)))
    return out


def candidates(module_name: str, name: str, obj) -> list[str]:
    """Anchors under which ``obj`` may be documented: where it is exported, where it is
    defined (functions, classes), or the module itself."""
    paths = [f"{module_name}.{name}"]
    if inspect.ismodule(obj):
        paths.append(obj.__name__)
    elif inspect.isfunction(obj) or inspect.isclass(obj):
        paths.append(f"{obj.__module__}.{obj.__qualname__}")
    return paths


def documented(ids: set[str], module_name: str, name: str, obj) -> bool:
    """Whether ``module_name.name`` has an entry: one of its candidate anchors, or (constants,
    which carry no ``__module__``) an entry of that name in a submodule of ``module_name``."""
    if any(c in ids for c in candidates(module_name, name, obj)):
        return True
    if inspect.ismodule(obj) or callable(obj):
        return False
    return any(i.startswith(module_name + ".") and i.endswith("." + name) for i in ids)


def missing(site: Path) -> list[str]:
    """The public names without an entry in the API reference of ``site``."""
    ids = anchors(site)
    return [f"{m}.{n}" for m, n, obj in public_names() if not documented(ids, m, n, obj)]
