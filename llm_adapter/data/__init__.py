"""Prompts in, rollouts out: the data the trainer reads.

* :mod:`~llm_adapter.data.prompts`: prompt sets as ``datasets.Dataset`` s, chat templating
  (:class:`~llm_adapter.data.prompts.Prompt`), token ids with special tokens exactly once;
* :mod:`~llm_adapter.data.rollouts`: rollout datasets, so that any engine can generate and the
  trainer trains on what it wrote.

The JSON files beside them are the shipped prompt sets.
"""

from . import prompts, rollouts
from .prompts import (
    Prompt,
    conversation,
    plain_text,
    prepare_prompts,
    prompt_dataset,
    prompt_token_ids,
)
from .rollouts import check_rollouts, is_rollout_dataset, load_rollouts, save_rollouts

__all__ = ["prompts", "rollouts", "Prompt", "conversation", "plain_text", "prepare_prompts",
           "prompt_dataset", "prompt_token_ids", "check_rollouts", "is_rollout_dataset",
           "load_rollouts", "save_rollouts"]
