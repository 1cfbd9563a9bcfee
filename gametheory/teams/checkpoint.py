"""Checkpoints of a team PSRO run: ``state.npz`` (arrays) + ``state.json`` (the rest), no pickle.

Both files are written to temporary names and renamed, JSON last, so a run killed mid-write
leaves the previous complete checkpoint (the JSON names the iteration count it belongs to).
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(folder, arrays: dict, meta: dict) -> pathlib.Path:
    """Write ``arrays`` (NumPy) and ``meta`` (JSON-serialisable) into ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tag = int(meta.get("iterations", 0))
    npz = folder / f"state-{tag}.npz"
    tmp = folder / f"state-{tag}.{os.getpid()}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, npz)
    tmp_json = folder / f"state.{os.getpid()}.tmp.json"
    tmp_json.write_text(json.dumps({**meta, "arrays": npz.name}, indent=1))
    os.replace(tmp_json, folder / "state.json")
    for old in folder.glob("state-*.npz"):  # keep only the file the JSON names
        if old.name != npz.name:
            old.unlink(missing_ok=True)
    return folder / "state.json"


def load_checkpoint(folder) -> tuple[dict, dict] | None:
    """``(arrays, meta)`` of the checkpoint in ``folder``, or ``None`` if there is none."""
    folder = pathlib.Path(folder)
    path = folder / "state.json"
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text())
        with np.load(folder / meta["arrays"], allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(f"checkpoint in {folder} is unreadable ({err}); delete it to start "
                         "over.") from err
    return arrays, meta
