"""Tiny offline models for the llm_adapter tests: nothing is downloaded."""

import numpy as np
import pytest
import torch

from llm_adapter import models

# The models here are tiny: one intra-op thread avoids thread contention on a loaded 2-core
# machine (measured ~30x faster per self-play step than the default thread pool).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tokenizer():
    return models.tiny_tokenizer()


@pytest.fixture()
def tiny_model(tokenizer):
    return models.tiny_causal_lm(tokenizer, hidden=32, layers=2, seed=0)


@pytest.fixture(scope="session")
def comal_prefs() -> np.ndarray:
    # COMAL 3x3 game (Liu et al. 2024, Sec. 4): P[b>a] = P[c>b] = 0.9, P[a>c] = 0.8
    p = np.full((3, 3), 0.5)
    for winner, loser, prob in ((1, 0, 0.9), (2, 1, 0.9), (0, 2, 0.8)):
        p[winner, loser], p[loser, winner] = prob, 1.0 - prob
    return p


@pytest.fixture(autouse=True)
def _fresh_accelerate_state():
    """Each test builds its own Accelerator (mixed precision, accumulation): reset the
    process-wide accelerate singletons around it."""
    from accelerate.state import AcceleratorState, GradientState

    yield
    AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()
