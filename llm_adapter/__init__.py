"""llm_adapter: the rules of :mod:`gametheory.rules` as LLM fine-tuning losses (PyTorch).

Importing this package imports torch but never JAX (it uses only ``gametheory.rules``, which is
written against the array API). Submodules:

* :mod:`~llm_adapter.logprobs`: masked completion log-probs, one-pass chosen/rejected scoring,
  frozen-policy snapshots and a log-prob cache.
* :mod:`~llm_adapter.oracles`: preference oracles ``P(a > b | prompt)`` (matrix, Bradley-Terry,
  LLM judge) and win-rate estimation.
* :mod:`~llm_adapter.losses`: SPPO, MPO, COMAL/INPO, Nash-MD, DPO and IPO losses and the table
  of paper parameters.
* :mod:`~llm_adapter.trainer`: the self-play trainer.
* :mod:`~llm_adapter.mixture`: Nash-MD's geometric-mixture sampling with one resident model.
* :mod:`~llm_adapter.toy`: an enumerable toy LM for exact verification.
* :mod:`~llm_adapter.persuasion`: the advisor / receiver loop (Bayesian persuasion).
* :mod:`~llm_adapter.models`: model loading (local directory / GGUF) and tiny offline models.
"""

from . import logprobs, losses, mixture, models, oracles, persuasion, toy, trainer
from .logprobs import LogProbCache, WeightSnapshot, completion_logps, concatenated_logps, encode
from .losses import (
    dpo_loss,
    from_paper,
    inpo_loss,
    ipo_loss,
    mpo_loss,
    mpo_token_loss,
    nash_md_loss,
    sppo_loss,
    sppo_pairwise_loss,
)
from .models import load_model, load_prompts, tiny_causal_lm, tiny_tokenizer
from .oracles import (
    BradleyTerryOracle,
    LLMJudge,
    MatrixOracle,
    estimate_win_rates,
    preference_matrix,
)
from .toy import ToyLM
from .trainer import SelfPlayConfig, SelfPlayTrainer

comal_loss = inpo_loss

__all__ = [
    "logprobs", "losses", "mixture", "models", "oracles", "persuasion", "toy", "trainer",
    "LogProbCache", "WeightSnapshot", "completion_logps", "concatenated_logps", "encode",
    "dpo_loss", "from_paper", "inpo_loss", "comal_loss", "ipo_loss", "mpo_loss",
    "mpo_token_loss", "nash_md_loss", "sppo_loss", "sppo_pairwise_loss",
    "load_model", "load_prompts", "tiny_causal_lm", "tiny_tokenizer",
    "BradleyTerryOracle", "LLMJudge", "MatrixOracle", "estimate_win_rates", "preference_matrix",
    "ToyLM", "SelfPlayConfig", "SelfPlayTrainer",
]
