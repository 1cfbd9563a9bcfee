"""Griffe extension for the API reference: Sphinx roles in docstrings become inline code.

The docstrings cross-reference with reStructuredText roles (``:func:`solve```,
``:mod:`~gametheory.solvers.scale```), which Markdown would print verbatim. This extension
rewrites each role to an inline code span of its target, keeping only the last component when
the target starts with ``~`` (Sphinx's convention) and dropping a leading dot.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:func|mod|class|meth|data|attr|obj|exc):`(~?)\.?([^`]+)`")


def _code(match: re.Match) -> str:
    short, target = match.group(1), match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def roles_to_code(text: str) -> str:
    """``:func:`~a.b.c``` -> `` `c` ``; ``:mod:`.base``` -> `` `base` ``."""
    return _ROLE.sub(_code, text)


class RstRoles(griffe.Extension):
    """Rewrite the Sphinx roles of every docstring when an object is loaded."""

    def on_object(self, *, obj, loader, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = roles_to_code(obj.docstring.value)
