"""Packaging: the wheel builds without setuptools warnings and carries the package data."""

import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_wheel_builds_quietly_with_the_data_files(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # The data folders used to be "importable packages absent from `packages`".
    assert "would be ignored" not in proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob("gametheory-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("gametheory/games/data/spinning_tops_small.npz",
                 "gametheory/games/data/SPINNING_TOPS.md", "llm_adapter/data/prompts.json",
                 "gametheory/commands/solve.py"):
        assert data in names
    assert not any("__pycache__" in n for n in names)
