"""The self-play trainer and what runs it.

* :mod:`~llm_adapter.trainer.config`: ``SelfPlayConfig`` (TRL-style fields, each paper's
  settings);
* :mod:`~llm_adapter.trainer.selfplay`: ``SelfPlayTrainer``, the loop on ``accelerate``;
* :mod:`~llm_adapter.trainer.checkpoint`: checkpoint folders Hugging Face loaders read, the state
  to resume, rotation, merged LoRA export;
* :mod:`~llm_adapter.trainer.callbacks`, :mod:`~llm_adapter.trainer.schedules`,
  :mod:`~llm_adapter.trainer.tracking`: callbacks, learning-rate schedules, ``report_to``
  trackers and the run plot.
"""

from . import callbacks, checkpoint, config, schedules, selfplay, tracking
from .callbacks import CallbackHandler, TrainerCallback
from .config import ALGORITHMS, PAPER_SETTINGS, SelfPlayConfig
from .selfplay import SelfPlayTrainer

__all__ = ["callbacks", "checkpoint", "config", "schedules", "selfplay", "tracking",
           "CallbackHandler", "TrainerCallback", "ALGORITHMS", "PAPER_SETTINGS",
           "SelfPlayConfig", "SelfPlayTrainer"]
