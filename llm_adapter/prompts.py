"""Prompt sets as ``datasets.Dataset`` objects, and their conversion to generation-ready text.

* :func:`prompt_dataset` returns the project's shipped prompts (``llm_adapter/data/prompts.json``)
  as an offline ``datasets.Dataset`` with one column ``prompt``.
* :func:`prepare_prompts` turns a ``Dataset`` (column ``prompt``) or a list into the strings the
  trainer generates from: a plain-text prompt or a conversation (a list of ``{"role", "content"}``
  messages, TRL's conversational format) goes through the tokenizer's chat template when the
  tokenizer has one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources

__all__ = ["prompt_dataset", "prepare_prompts"]


def prompt_dataset(n: int | None = None):
    """The shipped prompt set as a ``datasets.Dataset`` with column ``prompt`` (first ``n`` rows
    if given). Built from the JSON file inside the package: nothing is downloaded."""
    from datasets import Dataset

    text = resources.files("llm_adapter").joinpath("data/prompts.json").read_text()
    prompts = json.loads(text)["prompts"]
    if n is not None:
        if not (isinstance(n, int) and 1 <= n <= len(prompts)):
            raise ValueError(f"n must be an integer in [1, {len(prompts)}]; got {n!r}.")
        prompts = prompts[:n]
    return Dataset.from_dict({"prompt": prompts})


def _rows(prompts) -> list:
    try:
        from datasets import Dataset
    except ImportError:  # pragma: no cover - datasets is part of the llm extra
        Dataset = ()
    if isinstance(prompts, Dataset):
        if "prompt" not in prompts.column_names:
            raise ValueError(f"the dataset needs a 'prompt' column; it has {prompts.column_names}. "
                             "Rename yours with dataset.rename_column(old, 'prompt').")
        return list(prompts["prompt"])
    if isinstance(prompts, str) or not isinstance(prompts, Sequence):
        raise ValueError("prompts must be a datasets.Dataset with a 'prompt' column or a list of "
                         f"prompts; got {type(prompts).__name__}.")
    return list(prompts)


def _is_conversation(p) -> bool:
    return isinstance(p, (list, tuple)) and all(
        isinstance(m, dict) and "role" in m and "content" in m for m in p) and len(p) > 0


def prepare_prompts(prompts, tokenizer=None, system: str | None = None) -> list[str]:
    """Generation-ready prompt strings from a ``Dataset`` (column ``prompt``) or a list.

    Each prompt is a string or a conversation (list of ``{"role", "content"}`` dicts). When
    ``tokenizer`` has a chat template, strings become one user turn (after an optional
    ``system`` turn) and every prompt is rendered with ``add_generation_prompt=True``; without a
    template strings pass unchanged and conversations raise a ``ValueError``.
    """
    rows = _rows(prompts)
    if not rows:
        raise ValueError("no prompts: pass at least one.")
    templated = tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))
    out = []
    for i, p in enumerate(rows):
        if isinstance(p, str):
            if not p.strip():
                raise ValueError(f"prompt {i} is empty.")
            if not templated:
                out.append(p)
                continue
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": p}]
        elif _is_conversation(p):
            if not templated:
                raise ValueError(f"prompt {i} is a conversation but the tokenizer has no chat "
                                 "template; set tokenizer.chat_template or pass plain strings.")
            messages = list(p)
        else:
            raise ValueError(f"prompt {i} must be a string or a list of {{'role', 'content'}} "
                             f"messages; got {p!r}.")
        out.append(tokenizer.apply_chat_template(messages, tokenize=False,
                                                 add_generation_prompt=True))
    return out
