"""Run the teaching notebooks (jupytext percent ``.py`` files) in a fresh Jupyter kernel."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "docs" / "notebooks"
#: The notebooks, in reading order (``docs/notebooks/NN_name.py``).
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def execute_notebook(path: Path, size: str | None = None, timeout: int = 600):
    """Execute ``path`` top to bottom in a new ``python3`` kernel started in its folder.

    ``size`` sets ``GT_NOTEBOOK_SIZE`` for the kernel (``None``: the teaching size). Returns
    ``(notebook, seconds)``; a cell that raises makes ``nbclient`` raise
    ``CellExecutionError`` naming the cell.
    """
    import jupytext
    import nbclient

    notebook = jupytext.read(path)
    env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if size is not None:
        env["GT_NOTEBOOK_SIZE"] = size
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client = nbclient.NotebookClient(
            notebook, timeout=timeout, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return notebook, seconds


def image_outputs(notebook) -> int:
    """Number of PNG images among the outputs of ``notebook``'s code cells."""
    return sum("image/png" in out.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []))
