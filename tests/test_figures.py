"""The figures in docs/figures are the demo's: its manifest names every registered solver.

``python benchmarks/last_iterate.py --figures docs/figures`` writes the figures and
``docs/figures/manifest.json`` (the command, the package version, the solvers drawn per figure).
A solver added to a registry without regenerating the figures fails here.
"""

import json
import re
from pathlib import Path

import pytest

from gametheory.solvers import NORMAL_FORM_SOLVERS

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
MANIFEST = json.loads((FIGURES / "manifest.json").read_text())
DOCS = {"README.md": ROOT / "README.md", "docs/benchmarks.md": ROOT / "docs" / "benchmarks.md"}


def _efg_solvers() -> set:
    efg = pytest.importorskip("gametheory.efg")
    return set(efg.EFG_SOLVERS)


def test_manifest_solvers_are_the_registries():
    solvers = MANIFEST["solvers"]
    assert set(solvers["normal_form"]) == set(NORMAL_FORM_SOLVERS), (
        "docs/figures predate the solver registry; rerun " + MANIFEST["command"])
    assert set(solvers["extensive_form"]) == _efg_solvers(), (
        "docs/figures predate the solver registry; rerun " + MANIFEST["command"])


def test_each_figure_draws_every_solver_that_applies_to_its_game():
    figures = MANIFEST["figures"]
    assert set(figures) == {p.name for p in FIGURES.glob("*.png")}
    # Rock-paper-scissors is zero-sum: every normal-form solver applies, one panel each.
    assert figures["rps.png"]["solvers"] == list(NORMAL_FORM_SOLVERS)
    # Shapley's game is general-sum: all but the zero-sum-only solvers (pdhg, tableau).
    assert set(figures["shapley.png"]["solvers"]) == set(NORMAL_FORM_SOLVERS) - {"pdhg",
                                                                                   "tableau"}
    for name in ("efg_kuhn_poker.png", "efg_leduc_poker.png"):
        assert set(figures[name]["solvers"]) == _efg_solvers()


def test_manifest_names_the_command_the_docs_give_and_a_version():
    assert MANIFEST["command"] == "python benchmarks/last_iterate.py --figures docs/figures"
    for label, path in DOCS.items():
        assert MANIFEST["command"] in path.read_text(), label
    # The version that drew them (recorded, not required to be the installed one).
    assert re.fullmatch(r"\d+\.\d+\S*", MANIFEST["version"])


def test_every_figure_the_docs_show_is_in_the_manifest():
    for label, path in DOCS.items():
        shown = re.findall(r"!\[[^\]]*\]\((?:docs/)?figures/([^)]+\.png)\)", path.read_text())
        assert shown, label
        assert set(shown) <= set(MANIFEST["figures"]), label
