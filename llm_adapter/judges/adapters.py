"""What ``judge=`` accepts, turned into one preference oracle ``P(a > b | prompt)``.

The trainer's ``judge`` argument takes any of

* an **oracle**: a batched callable ``oracle(prompts, a, b) -> Tensor[B]`` of probabilities in
  ``[0, 1]`` on token-id responses (:mod:`llm_adapter.judges.oracles`: ``MatrixOracle``,
  ``BradleyTerryOracle``, ``LLMJudge``);
* a **pairwise judge** on text: :class:`PairwiseJudge` wraps ``fn(prompts, a_texts, b_texts)``
  returning probabilities (or 0/1 verdicts), and any object with TRL's judge interface
  ``judge.judge(prompts, [[a, b], ...]) -> [index of the better one]`` is wrapped
  automatically;
* a **reward model**: a ``transformers`` sequence-classification model with one output,
  scored with its own tokenizer; preferences are Bradley-Terry ``sigmoid(beta (r(a) - r(b)))``
  (:class:`RewardModelOracle`).

:func:`as_oracle` does the dispatch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data.prompts import conversation, plain_text, prompt_token_ids
from .oracles import BradleyTerryOracle, _check_batch, check_preferences

__all__ = ["PairwiseJudge", "RewardModelOracle", "as_oracle"]


def _decode(tokenizer, r) -> str:
    if isinstance(r, str):
        return r
    if tokenizer is None:
        raise ValueError("responses are token ids: pass the policy tokenizer so the judge can "
                         "decode them.")
    return tokenizer.decode([int(t) for t in r], skip_special_tokens=True)


class PairwiseJudge:
    """A judge on text: ``fn(prompts, a_texts, b_texts) -> [B]`` probabilities ``P(a > b)``
    (0/1 verdicts are probabilities too). Token-id responses are decoded with ``tokenizer``.

    ``symmetrise=True`` averages both presentation orders, ``(f(a, b) + 1 - f(b, a)) / 2``, so
    that a judge with a position bias still gives ``P(a > b) + P(b > a) = 1``.
    """

    def __init__(self, fn: Callable, tokenizer=None, symmetrise: bool = True):
        if not callable(fn):
            raise ValueError(f"PairwiseJudge needs a callable; got {type(fn).__name__}.")
        self.fn, self.tokenizer, self.symmetrise = fn, tokenizer, bool(symmetrise)

    def _call(self, prompts, a, b) -> torch.Tensor:
        p = check_preferences(torch.as_tensor(self.fn(list(prompts), a, b), dtype=torch.float64))
        if p.shape != (len(prompts),):
            raise ValueError(f"the judge returned shape {tuple(p.shape)}; expected "
                             f"[{len(prompts)}] (one verdict per pair).")
        return p

    def __call__(self, prompts, a, b) -> torch.Tensor:
        _check_batch(prompts, a, b)
        ta = [_decode(self.tokenizer, x) for x in a]
        tb = [_decode(self.tokenizer, x) for x in b]
        if not self.symmetrise:
            return self._call(prompts, ta, tb)
        n = len(prompts)
        both = self._call(list(prompts) * 2, ta + tb, tb + ta)
        return 0.5 * (both[:n] + 1.0 - both[n:])


def _trl_style(judge) -> Callable:
    """``fn(prompts, a, b)`` from an object whose ``judge(prompts, completions)`` returns the
    index (0 or 1) of the better completion of each pair (TRL's ``BasePairwiseJudge``)."""
    def fn(prompts, a, b):
        winners = judge.judge(list(prompts), [[x, y] for x, y in zip(a, b)])
        w = torch.as_tensor(winners, dtype=torch.float64)
        if torch.any((w != 0) & (w != 1)):
            raise ValueError("judge.judge must return the index 0 or 1 of the better completion "
                             f"of each pair; got {winners!r}.")
        return 1.0 - w

    return fn


class RewardModelOracle(BradleyTerryOracle):
    """Bradley-Terry preferences from a reward model: ``sigmoid(beta (r(a) - r(b)))`` with
    ``r(y)`` the reward model's score of the conversation ``prompt -> y``.

    ``reward_model``: a ``transformers`` ``*ForSequenceClassification`` with ``num_labels == 1``;
    ``reward_tokenizer``: its tokenizer; ``policy_tokenizer`` decodes token-id responses.
    The reward model reads the conversation through *its own* tokenizer: with a chat template
    the prompt's messages (:func:`llm_adapter.data.prompts.conversation`) plus an assistant turn
    holding the response are rendered by that template and tokenised without added specials;
    without one it reads the prompt's plain text followed by the response, with its tokenizer's
    specials. A reward tokenizer without a pad token gets its EOS as pad (and the model's
    ``config.pad_token_id`` is set to match, which batched scoring needs). Each response is
    scored once (:meth:`score`); texts go in right-padded batches of ``batch_size``.
    """

    def __init__(self, reward_model, reward_tokenizer, policy_tokenizer=None, beta: float = 1.0,
                 batch_size: int = 16):
        num_labels = getattr(getattr(reward_model, "config", None), "num_labels", None)
        if num_labels != 1:
            raise ValueError(f"a reward model must have one output (config.num_labels == 1); "
                             f"got {num_labels}.")
        if reward_tokenizer is None:
            raise ValueError("a reward model needs its tokenizer (reward_tokenizer=).")
        if reward_tokenizer.pad_token_id is None:
            if reward_tokenizer.eos_token is None:
                raise ValueError("the reward tokenizer has neither a pad nor an EOS token; set "
                                 "reward_tokenizer.pad_token.")
            reward_tokenizer.pad_token = reward_tokenizer.eos_token
        if getattr(reward_model.config, "pad_token_id", None) is None:
            reward_model.config.pad_token_id = reward_tokenizer.pad_token_id
        if not (isinstance(beta, (int, float)) and beta > 0 and beta < float("inf")):
            raise ValueError(f"beta must be a finite positive number; got {beta!r}.")
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        self.model, self.reward_tokenizer = reward_model, reward_tokenizer
        self.policy_tokenizer, self.batch_size = policy_tokenizer, batch_size
        super().__init__(self.rewards, beta)

    def token_ids(self, prompt, response) -> list[int]:
        """What the reward model reads for ``(prompt, response)``: token ids in its vocabulary."""
        tok = self.reward_tokenizer
        text = _decode(self.policy_tokenizer, response)
        if getattr(tok, "chat_template", None):
            messages = conversation(prompt) + [{"role": "assistant", "content": text}]
            rendered = tok.apply_chat_template(messages, tokenize=False)
            return list(tok(rendered, add_special_tokens=False)["input_ids"])
        return prompt_token_ids(tok, plain_text(prompt) + text)

    @torch.no_grad()
    def rewards(self, prompts, responses) -> torch.Tensor:
        """``r(prompt_i -> response_i)``, ``[B]`` float64."""
        rows = [self.token_ids(p, r) for p, r in zip(prompts, responses)]
        device = next(self.model.parameters()).device
        pad = self.reward_tokenizer.pad_token_id
        out = []
        for i in range(0, len(rows), self.batch_size):
            chunk = rows[i:i + self.batch_size]
            width = max(map(len, chunk))
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for j, r in enumerate(chunk):
                ids[j, :len(r)] = torch.tensor(r)
                mask[j, :len(r)] = 1
            logits = self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            out.append(logits[:, 0].double().cpu())
        return torch.cat(out)


def _is_reward_model(obj) -> bool:
    return isinstance(obj, torch.nn.Module) and type(obj).__name__.endswith(
        "ForSequenceClassification")


def as_oracle(judge, tokenizer=None, reward_tokenizer=None):
    """One preference oracle from whatever ``judge`` is (see the module docstring).

    ``tokenizer`` is the policy's (it decodes token-id responses for text judges and reward
    models); ``reward_tokenizer`` is a reward model's own tokenizer (defaults to ``tokenizer``).
    """
    if judge is None:
        raise ValueError("judge is required: pass an oracle, a PairwiseJudge, an object with a "
                         "judge(prompts, completions) method, or a reward model.")
    if _is_reward_model(judge):
        return RewardModelOracle(judge, reward_tokenizer or tokenizer, tokenizer)
    if isinstance(judge, PairwiseJudge):
        if judge.tokenizer is None:
            judge.tokenizer = tokenizer
        return judge
    if hasattr(judge, "judge") and callable(judge.judge):
        return PairwiseJudge(_trl_style(judge), tokenizer)
    if callable(judge):
        return judge
    raise ValueError(f"cannot use a {type(judge).__name__} as a judge: pass an oracle callable, "
                     "a PairwiseJudge, an object with judge(prompts, completions), or a reward "
                     "model.")
