"""Every teaching notebook runs top to bottom in a fresh kernel, within its time bound.

The notebooks are jupytext percent files (``docs/notebooks/NN_name.py``); ``nbclient`` runs each
in a new ``python3`` kernel started in the notebook's folder, and a cell that raises fails the
test (nbclient's ``CellExecutionError`` names the cell). Each notebook must draw its plots,
state no hand-typed results in its Markdown cells and end with exercises whose solutions pass
their checks (the solution cells ``assert`` the checks).
"""

from __future__ import annotations

import re

import jupytext
import pytest
from notebook_runner import NOTEBOOKS, execute_notebook, image_outputs

#: Each notebook runs top to bottom in under 2 minutes on 2 CPU cores (the teaching size).
TIME_BOUND_S = 120.0

IDS = [p.stem for p in NOTEBOOKS]


def test_the_six_notebooks_are_there():
    assert IDS == ["01_last_iterate", "02_regularisation", "03_extensive_form",
                   "04_population_methods", "05_language_models", "06_persuasion"]


def _check_run(path, notebook, seconds):
    print(f"{path.name}: {seconds:.1f} s")
    assert seconds < TIME_BOUND_S, f"{path.name} took {seconds:.0f} s (bound {TIME_BOUND_S} s)"
    errors = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
    assert image_outputs(notebook) >= 1, f"{path.name} draws no plot"
    # Every exercise's solution passed its check: the checks print a tick and nothing failed.
    text = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("output_type") == "stream")
    assert "✗" not in text, f"{path.name}: an exercise check failed on a solution"
    assert text.count("✓") >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_within_its_time_bound(path, executed_notebooks):
    _check_run(path, *executed_notebooks(path))  # CI size


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_within_its_time_bound_at_teaching_size(path):
    _check_run(path, *execute_notebook(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_exercises_with_checks_and_solutions(path):
    notebook = jupytext.read(path)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    exercises = re.findall(r"\*\*Exercise \d\.\d", markdown)
    assert 2 <= len(exercises) <= 3, f"{path.name}: {len(exercises)} exercises"
    checks = set(re.findall(r"exercises\.(check_\w+)\(", code))
    assert len(checks) == len(exercises)
    for check in checks:  # each check is called on the reader's answer and asserted on ours
        assert re.search(rf"assert exercises\.{check}\(", code), f"{check} has no solution"
    assert "## Solutions" in markdown


# Results look like measured numbers: 0.0856, 1.5e-3, 3.2 x 10^-4 in prose. Inputs of the
# examples (0.3, 0.9, 2/3, 10^{-8}) are short and allowed.
_RESULT = re.compile(r"(?<![\w.^{])(\d\.\d{3,}|\d+(\.\d+)?e-?\d+)(?![\w}])")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_hand_typed_results_in_prose(path):
    # Numbers a notebook reports are printed by its cells (f-strings / Markdown(...) outputs),
    # never typed into its Markdown cells, where they would go stale.
    notebook = jupytext.read(path)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            prose = re.sub(r"```.*?```", "", cell.source, flags=re.S)  # code is not prose
            prose = re.sub(r"`[^`]*`", "", prose)
            found = [m.group(0) for m in _RESULT.finditer(prose)]
            assert not found, f"{path.name}: hand-typed number(s) {found} in:\n{cell.source}"


def test_readme_links_every_notebook_and_says_how_to_open_them():
    readme = (NOTEBOOKS[0].parents[2] / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"(docs/notebooks/{path.name})" in readme, f"README does not link {path.name}"
    assert "make notebooks" in readme and "jupytext --to ipynb" in readme
