"""llm_adapter: the rules of :mod:`gametheory.rules` as LLM fine-tuning losses (PyTorch).

Importing this package imports torch but never JAX (it uses only ``gametheory.rules``, which is
written against the array API). Submodules:

* :mod:`~llm_adapter.prompts`: prompt ``datasets.Dataset`` s, chat templating, token ids with
  special tokens once.
* :mod:`~llm_adapter.rollouts`: rollout datasets (responses from any engine, trained on later).
* :mod:`~llm_adapter.logprobs`: masked completion log-probs, one-pass chosen/rejected scoring,
  host weight snapshots and a log-prob cache.
* :mod:`~llm_adapter.frozen`: frozen policies without host traffic (disabled adapter, adapter
  snapshot on the device, resident frozen copy).
* :mod:`~llm_adapter.oracles`: preference oracles ``P(a > b | prompt)`` (matrix, Bradley-Terry,
  LLM judge) and win-rate estimation.
* :mod:`~llm_adapter.losses`: SPPO, MPO, COMAL/INPO, Nash-MD, DPO and IPO losses and the table
  of paper parameters.
* :mod:`~llm_adapter.config`: ``SelfPlayConfig`` (TRL-style fields, each paper's settings).
* :mod:`~llm_adapter.trainer`: the self-play trainer on ``accelerate`` (DDP / FSDP / DeepSpeed).
* :mod:`~llm_adapter.judges`: ``judge=`` as an oracle, a pairwise judge or a reward model.
* :mod:`~llm_adapter.sampling`: per-response seeded sampling on the device (Gumbel-max,
  batch-split invariant).
* :mod:`~llm_adapter.kl`: KL estimates that are never negative (k3, exact token-level).
* :mod:`~llm_adapter.checkpoint`: ``save_pretrained`` folders plus the state to resume.
* :mod:`~llm_adapter.tracking`: ``report_to`` trackers (TensorBoard, CSV, wandb, mlflow) and
  the run plot.
* :mod:`~llm_adapter.callbacks`, :mod:`~llm_adapter.schedules`: trainer callbacks and
  learning-rate schedules.
* :mod:`~llm_adapter.mixture`: Nash-MD's geometric-mixture sampling with one resident model.
* :mod:`~llm_adapter.toy`: an enumerable toy LM for exact verification.
* :mod:`~llm_adapter.persuasion`: the advisor / receiver loop (Bayesian persuasion).
* :mod:`~llm_adapter.models`: model loading (local directory / GGUF) and tiny offline models.
"""

from . import (
    callbacks,
    checkpoint,
    config,
    frozen,
    judges,
    kl,
    logprobs,
    losses,
    mixture,
    models,
    oracles,
    persuasion,
    prompts,
    rollouts,
    sampling,
    schedules,
    toy,
    tracking,
    trainer,
)
from .callbacks import TrainerCallback
from .config import PAPER_SETTINGS, SelfPlayConfig
from .judges import PairwiseJudge, RewardModelOracle, as_oracle
from .kl import k3_kl, token_kl
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
from .prompts import Prompt, prepare_prompts, prompt_dataset
from .rollouts import load_rollouts, save_rollouts
from .toy import ToyLM
from .trainer import SelfPlayTrainer

comal_loss = inpo_loss

__all__ = [
    "callbacks", "checkpoint", "config", "frozen", "judges", "kl", "logprobs", "losses",
    "mixture", "models", "oracles", "persuasion", "prompts", "rollouts", "sampling", "schedules",
    "toy", "tracking", "trainer", "TrainerCallback", "Prompt", "load_rollouts", "save_rollouts",
    "PAPER_SETTINGS", "PairwiseJudge", "RewardModelOracle", "as_oracle", "k3_kl", "token_kl",
    "prepare_prompts", "prompt_dataset",
    "LogProbCache", "WeightSnapshot", "completion_logps", "concatenated_logps", "encode",
    "dpo_loss", "from_paper", "inpo_loss", "comal_loss", "ipo_loss", "mpo_loss",
    "mpo_token_loss", "nash_md_loss", "sppo_loss", "sppo_pairwise_loss",
    "load_model", "load_prompts", "tiny_causal_lm", "tiny_tokenizer",
    "BradleyTerryOracle", "LLMJudge", "MatrixOracle", "estimate_win_rates", "preference_matrix",
    "ToyLM", "SelfPlayConfig", "SelfPlayTrainer",
]
