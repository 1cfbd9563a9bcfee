"""The frontier report's comparison with RTCFR+ (benchmarks/efg_frontier.py): a game both solve
to float64 round-off is a tie, any other game is compared as recorded."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import efg_frontier  # noqa: E402


def _run(last, seconds_per_iteration=1e-3):
    return {"steps": [0, 100], "last": last, "average": None, "output": "last",
            "seconds_per_iteration": seconds_per_iteration}


def test_round_off_counts_as_a_tie_and_nothing_else_does():
    results = {
        # both at an exact equilibrium up to round-off: ours 4.1e-16, theirs 1.9e-16
        "solved": {"mpo": _run([0.5, 4.1e-16]), "rtcfr_plus": _run([0.5, 1.9e-16])},
        # ours behind by a small factor above round-off: not a tie
        "behind": {"mpo": _run([0.5, 1.6e-4]), "rtcfr_plus": _run([0.5, 1.3e-4])},
        # ours ahead
        "ahead": {"mpo": _run([0.5, 2.3e-9]), "rtcfr_plus": _run([0.5, 1.5e-4])},
        # ours at 1e-11 against an exact 0: a real difference at this size
        "above_round_off": {"mpo": _run([0.5, 1e-11]), "rtcfr_plus": _run([0.5, 0.0])},
    }
    lines = efg_frontier._targets(results, 100)
    line = next(x for x in lines if x.startswith("- mpo last iterate"))
    assert "2 of 4 games at 100 iterations, 2 of 4 at equal seconds" in line
    assert "compared strictly: 1 and 1" in line


def test_equal_seconds_gives_the_slower_solver_fewer_iterations():
    # ours costs twice RTCFR+'s time per iteration: at equal seconds it is read at iteration 50,
    # where it is still behind (1e-3 against 1e-6).
    slow = {"steps": [0, 50, 100], "last": [0.5, 1e-3, 1e-9], "average": None,
            "output": "last", "seconds_per_iteration": 2e-3}
    results = {"g": {"mpo": slow, "rtcfr_plus": _run([0.5, 1e-6])}}
    line = next(x for x in efg_frontier._targets(results, 100)
                if x.startswith("- mpo last iterate"))
    assert "1 of 1 games at 100 iterations, 0 of 1 at equal seconds" in line
