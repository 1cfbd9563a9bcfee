"""Prompt sets as ``datasets.Dataset`` objects, and their conversion to generation-ready text.

* :func:`prompt_dataset` returns the project's shipped prompts (``llm_adapter/data/prompts.json``)
  as an offline ``datasets.Dataset`` with one column ``prompt``.
* :func:`prepare_prompts` turns a ``Dataset`` (column ``prompt``) or a list into the
  :class:`Prompt` s the trainer generates from: a plain-text prompt or a conversation (a list of
  ``{"role", "content"}`` messages, TRL's conversational format) goes through the tokenizer's
  chat template when the tokenizer has one.
* :func:`prompt_token_ids` tokenises a prompt *once* with its special tokens exactly once: a
  chat-templated prompt already holds what its template writes (e.g. ``<s>``), so it is tokenised
  without added special tokens (as TRL does); a plain-text prompt gets the tokenizer's own
  specials.

A :class:`Prompt` is a ``str`` (the rendered text the policy sees, so it goes wherever a string
does) that also remembers its conversation, which judges with their own chat template (reward
models) render for themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources

__all__ = ["Prompt", "prompt_dataset", "prepare_prompts", "prompt_token_ids", "conversation",
           "plain_text"]


class Prompt(str):
    """A generation-ready prompt: the ``str`` value is the text the policy sees.

    ``messages``: the conversation it was rendered from (``[{"role", "content"}, ...]``; a plain
    string prompt is one user turn); ``templated``: True when the text came out of the policy
    tokenizer's chat template (it then holds the template's special tokens, e.g. BOS).
    """

    messages: tuple
    templated: bool

    def __new__(cls, text: str, messages=None, templated: bool = False):
        self = super().__new__(cls, text)
        self.messages = tuple(messages) if messages else ({"role": "user", "content": str(text)},)
        self.templated = bool(templated)
        return self

    def __reduce__(self):  # pickling (datasets, multiprocessing) keeps the attributes
        return (Prompt, (str(self), list(self.messages), self.templated))


def conversation(prompt) -> list[dict]:
    """The messages of ``prompt`` (a :class:`Prompt`, a conversation, or a string = one user
    turn)."""
    if isinstance(prompt, Prompt):
        return [dict(m) for m in prompt.messages]
    if _is_conversation(prompt):
        return [dict(m) for m in prompt]
    return [{"role": "user", "content": str(prompt)}]


def plain_text(prompt) -> str:
    """The prompt without any chat template: the user turn's text (the turns' contents joined by
    blank lines for a multi-turn conversation, system turns left out)."""
    turns = [m["content"] for m in conversation(prompt) if m["role"] != "system"]
    return "\n\n".join(str(t) for t in turns)


def prompt_token_ids(tokenizer, prompt, max_length: int | None = None) -> list[int]:
    """Token ids of one prompt with its special tokens exactly once.

    ``prompt``: token ids (returned as they are), a templated :class:`Prompt` (tokenised with
    ``add_special_tokens=False``: its template wrote the specials), or any other string
    (tokenised with the tokenizer's specials; a leading BOS that the text already holds is not
    added a second time). ``max_length`` keeps the last ``max_length`` tokens (TRL's
    ``max_prompt_length`` truncates on the left).
    """
    if isinstance(prompt, (list, tuple)) and all(isinstance(t, int) for t in prompt):
        ids = [int(t) for t in prompt]
    elif isinstance(prompt, str):
        templated = isinstance(prompt, Prompt) and prompt.templated
        ids = list(tokenizer(str(prompt), add_special_tokens=not templated)["input_ids"])
        bos = tokenizer.bos_token_id
        if not templated and bos is not None and ids[:2] == [bos, bos]:
            ids = ids[1:]  # the text started with BOS and the tokenizer added another
    else:
        raise ValueError(f"a prompt must be a string or a list of token ids; got {prompt!r}.")
    if not ids:
        raise ValueError(f"prompt {prompt!r} tokenises to nothing.")
    if max_length is not None:
        if not (isinstance(max_length, int) and max_length >= 1):
            raise ValueError(f"max_length must be a positive integer; got {max_length!r}.")
        ids = ids[-max_length:]
    return ids


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


def prepare_prompts(prompts, tokenizer=None, system: str | None = None) -> list[Prompt]:
    """Generation-ready :class:`Prompt` s from a ``Dataset`` (column ``prompt``) or a list.

    Each prompt is a string or a conversation (list of ``{"role", "content"}`` dicts). When
    ``tokenizer`` has a chat template, strings become one user turn (after an optional
    ``system`` turn) and every prompt is rendered with ``add_generation_prompt=True``; without a
    template strings pass unchanged and conversations raise a ``ValueError``. Already prepared
    prompts pass unchanged.
    """
    rows = _rows(prompts)
    if not rows:
        raise ValueError("no prompts: pass at least one.")
    templated = tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))
    out = []
    for i, p in enumerate(rows):
        if isinstance(p, Prompt):
            out.append(p)
            continue
        if isinstance(p, str):
            if not p.strip():
                raise ValueError(f"prompt {i} is empty.")
            if not templated:
                out.append(Prompt(p))
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
        text = tokenizer.apply_chat_template(messages, tokenize=False,
                                             add_generation_prompt=True)
        out.append(Prompt(text, messages, templated=True))
    return out
