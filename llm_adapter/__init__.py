"""llm_adapter: the rules of :mod:`gametheory.rules` as LLM fine-tuning losses (PyTorch).

Importing this package imports torch but never JAX (it uses only ``gametheory.rules``, which is
written against the array API). The subpackages follow the data through one self-play iteration:

* :mod:`~llm_adapter.data`: prompt sets, chat templating, token ids with special tokens once;
  rollout datasets (responses from any engine, trained on later);
* :mod:`~llm_adapter.sampling`: seeded sampling on the device (Gumbel-max, batch-split
  invariant) and Nash-MD's geometric mixture with a KV-cached reference;
* :mod:`~llm_adapter.judges`: preference oracles ``P(a > b | prompt)`` (pointwise scorers such
  as reward models score each response once; pairwise judges batch their pairs), win rates, and
  what ``judge=`` accepts;
* :mod:`~llm_adapter.scoring`: completion log-probs, frozen policies without host traffic (a
  disabled adapter, an adapter snapshot, a resident frozen copy), KL estimates;
* :mod:`~llm_adapter.losses`: SPPO, MPO, COMAL/INPO, Nash-MD, DPO and IPO losses on the rules,
  and the table of paper parameters;
* :mod:`~llm_adapter.trainer`: ``SelfPlayConfig`` and ``SelfPlayTrainer`` on ``accelerate``
  (DDP / FSDP / DeepSpeed), checkpoints, callbacks, schedules, trackers;
* :mod:`~llm_adapter.evaluation`: checkpoints as a population meta-game (win rates, its Nash
  from the core's LP, each checkpoint's exploitability within the population, last vs average).

Beside them: :mod:`~llm_adapter.models` (model loading from a folder, a GGUF file or the local
hub cache; tiny offline models), :mod:`~llm_adapter.toy` (an enumerable toy LM for exact
verification), :mod:`~llm_adapter.persuasion` (the advisor / receiver loop) and
:mod:`~llm_adapter.cli` (``python -m llm_adapter train|rollout``).
"""

from . import (
    data,
    evaluation,
    judges,
    losses,
    models,
    persuasion,
    sampling,
    scoring,
    toy,
    trainer,
)
from .data import Prompt, load_rollouts, prepare_prompts, prompt_dataset, save_rollouts
from .judges import (
    BradleyTerryOracle,
    LLMJudge,
    MatrixOracle,
    PairwiseJudge,
    RewardModelOracle,
    as_oracle,
    estimate_win_rates,
    preference_matrix,
)
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
from .scoring import (
    LogProbCache,
    WeightSnapshot,
    completion_logps,
    concatenated_logps,
    encode,
    k3_kl,
    token_kl,
)
from .toy import ToyLM
from .trainer import PAPER_SETTINGS, SelfPlayConfig, SelfPlayTrainer, TrainerCallback

comal_loss = inpo_loss

__all__ = [
    "data", "evaluation", "judges", "losses", "models", "persuasion", "sampling", "scoring", "toy",
    "trainer",
    "Prompt", "load_rollouts", "prepare_prompts", "prompt_dataset", "save_rollouts",
    "BradleyTerryOracle", "LLMJudge", "MatrixOracle", "PairwiseJudge", "RewardModelOracle",
    "as_oracle", "estimate_win_rates", "preference_matrix",
    "dpo_loss", "from_paper", "inpo_loss", "comal_loss", "ipo_loss", "mpo_loss",
    "mpo_token_loss", "nash_md_loss", "sppo_loss", "sppo_pairwise_loss",
    "load_model", "load_prompts", "tiny_causal_lm", "tiny_tokenizer",
    "LogProbCache", "WeightSnapshot", "completion_logps", "concatenated_logps", "encode",
    "k3_kl", "token_kl", "ToyLM", "PAPER_SETTINGS", "SelfPlayConfig", "SelfPlayTrainer",
    "TrainerCallback",
]
