"""Preference oracles: one batched protocol ``P(a > b | prompt)``.

An oracle is any callable ``oracle(prompts, responses_a, responses_b) -> Tensor[B]`` with values
in ``[0, 1]``; it should satisfy ``P(a > b) + P(b > a) = 1``. Provided:

* :class:`MatrixOracle`: a preference matrix over response classes (exact, for tests and the
  toy LM); a ``classify`` function maps a response (text or token ids) to its class.
* :class:`BradleyTerryOracle`: ``sigmoid(beta (r(a) - r(b)))`` for a scalar reward function.
* :class:`LLMJudge`: asks a causal LM which of two responses is better and reads the normalised
  probabilities of the two answer tokens, averaging both presentation orders so that position
  bias cancels (hence ``P(a>b) + P(b>a) = 1`` exactly).

:func:`preference_matrix` queries an oracle on all ``K x K`` pairs of a prompt's responses and
:func:`estimate_win_rates` returns ``P_hat(y_i > pi_t)`` as row means including the self-term 1/2.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Protocol

import torch

from .logprobs import _check_prompts
from .losses import win_rates_from_matrix

__all__ = ["PreferenceOracle", "MatrixOracle", "BradleyTerryOracle", "LLMJudge",
           "preference_matrix", "estimate_win_rates", "check_preferences"]


class PreferenceOracle(Protocol):
    def __call__(self, prompts: Sequence[str], a: Sequence, b: Sequence) -> torch.Tensor:
        """``P(a_i > b_i | prompts_i)`` for each ``i``, shape ``[B]``, values in [0, 1]."""


def _check_batch(prompts, a, b) -> None:
    if len(a) != len(prompts) or len(b) != len(prompts):
        raise ValueError(f"batch size mismatch: {len(prompts)} prompts, {len(a)} responses a, "
                         f"{len(b)} responses b.")
    if len(prompts) == 0:
        raise ValueError("empty batch: pass at least one (prompt, a, b) triple.")


def check_preferences(p: torch.Tensor) -> torch.Tensor:
    """Raise a clear ``ValueError`` unless every preference is finite and in [0, 1]."""
    p = torch.as_tensor(p, dtype=torch.float64)
    if not torch.all(torch.isfinite(p)):
        raise ValueError("preferences must be finite.")
    if torch.any(p < 0) or torch.any(p > 1):
        raise ValueError(f"preferences must lie in [0, 1]; got values in [{float(p.min()):.4g}, "
                         f"{float(p.max()):.4g}]. Probabilities, not scores: wrap scalar scores "
                         "in BradleyTerryOracle.")
    return p


class MatrixOracle:
    """``P(a > b) = prefs[classify(a), classify(b)]`` for a preference matrix over classes."""

    def __init__(self, prefs, classify: Callable = int):
        p = check_preferences(prefs)
        if p.ndim != 2 or p.shape[0] != p.shape[1]:
            raise ValueError(f"prefs must be a square [C, C] matrix; got {tuple(p.shape)}.")
        if not torch.allclose(p + p.T, torch.ones_like(p), atol=1e-9):
            raise ValueError("prefs must satisfy P + P^T = 1 (and 1/2 on the diagonal).")
        self.prefs, self.classify = p, classify

    def __call__(self, prompts, a, b) -> torch.Tensor:
        _check_batch(prompts, a, b)
        ia = torch.tensor([self.classify(x) for x in a])
        ib = torch.tensor([self.classify(x) for x in b])
        c = self.prefs.shape[0]
        if torch.any(ia < 0) or torch.any(ia >= c) or torch.any(ib < 0) or torch.any(ib >= c):
            raise ValueError(f"classify must return class ids in [0, {c}).")
        return self.prefs[ia, ib]


class BradleyTerryOracle:
    """Bradley-Terry preferences ``sigmoid(beta (r(prompt, a) - r(prompt, b)))`` from a scalar
    reward function ``reward(prompts, responses) -> [B]``."""

    def __init__(self, reward: Callable, beta: float = 1.0):
        if not beta > 0:
            raise ValueError(f"beta must be positive; got {beta}.")
        self.reward, self.beta = reward, beta

    def __call__(self, prompts, a, b) -> torch.Tensor:
        _check_batch(prompts, a, b)
        ra = torch.as_tensor(self.reward(prompts, a), dtype=torch.float64)
        rb = torch.as_tensor(self.reward(prompts, b), dtype=torch.float64)
        if ra.shape != (len(prompts),) or rb.shape != (len(prompts),):
            raise ValueError("reward must return one finite score per (prompt, response).")
        if not (torch.all(torch.isfinite(ra)) and torch.all(torch.isfinite(rb))):
            raise ValueError("reward returned a non-finite score.")
        return torch.sigmoid(self.beta * (ra - rb))


DEFAULT_TEMPLATE = (
    "Which response answers the question better?\n"
    "Question: {prompt}\n"
    "Response A: {a}\n"
    "Response B: {b}\n"
    "The better response is Response"
)


class LLMJudge:
    """Pairwise judge from a causal LM.

    For the prompt ``template.format(prompt=..., a=..., b=...)`` the judge reads the next-token
    logits of the two answer tokens (first token of ``" A"`` and ``" B"`` by default) and takes
    ``p_first = softmax([l_A, l_B])[0]``. It averages both orders:
    ``P(a > b) = (p_first(a, b) + 1 - p_first(b, a)) / 2``, which cancels position bias and makes
    ``P(a > b) + P(b > a) = 1`` exactly. Responses may be strings or token-id lists (decoded).

    ``cache=True`` memoises verdicts (the judge is a fixed function of its input text).
    ``context`` is an optional context-manager factory entered around the judge's forward pass,
    e.g. ``model.disable_adapter`` to judge with the base model of a PEFT model being trained.
    """

    def __init__(self, model, tokenizer, template: str = DEFAULT_TEMPLATE,
                 answers=(" A", " B"), batch_size: int = 16, context: Callable | None = None,
                 max_response_chars: int = 1000, cache: bool = False):
        self.model, self.tokenizer, self.template = model, tokenizer, template
        self._memo = {} if cache else None
        self.batch_size, self.context, self.max_chars = batch_size, context, max_response_chars
        if len(answers) != 2:
            raise ValueError("answers must be two strings, naming the first and second response.")
        ids = [list(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers]
        # Shared leading tokens (e.g. a space in a character-level vocabulary) join the prompt;
        # the judge reads the first token where the two answers differ.
        n = 0
        while n < min(map(len, ids)) and ids[0][n] == ids[1][n]:
            n += 1
        if n == min(map(len, ids)):
            raise ValueError(f"answers {answers} do not differ in a token; choose others.")
        self.answer_prefix = tokenizer.decode(ids[0][:n]) if n else ""
        self.answer_ids = [ids[0][n], ids[1][n]]

    def _text(self, r) -> str:
        if not isinstance(r, str):
            r = self.tokenizer.decode([int(t) for t in r], skip_special_tokens=True)
        return r.strip()[: self.max_chars]

    @torch.no_grad()
    def first_preferred(self, prompts, a, b) -> torch.Tensor:
        """``p_first``: probability that the response shown first (``a``) is named, ``[B]``."""
        texts = [self.template.format(prompt=p, a=self._text(x), b=self._text(y))
                 + self.answer_prefix for p, x, y in zip(prompts, a, b)]
        if self._memo is not None:
            todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
            if todo:
                self._memo.update(zip(todo, self._score(todo).tolist()))
            return torch.tensor([self._memo[t] for t in texts], dtype=torch.float64)
        return self._score(texts)

    def _score(self, texts) -> torch.Tensor:
        device = next(self.model.parameters()).device
        side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"
        out = []
        try:
            ctx = self.context() if self.context is not None else _nullcontext()
            with ctx:
                for i in range(0, len(texts), self.batch_size):
                    enc = self.tokenizer(texts[i:i + self.batch_size], return_tensors="pt",
                                         padding=True).to(device)
                    logits = self.model(**enc).logits[:, -1].float()
                    pair = logits[:, self.answer_ids]
                    out.append(torch.softmax(pair, dim=-1)[:, 0].double().cpu())
        finally:
            self.tokenizer.padding_side = side
        return torch.cat(out)

    def __call__(self, prompts, a, b) -> torch.Tensor:
        _check_batch(prompts, a, b)
        _check_prompts(prompts)
        n = len(prompts)
        both = self.first_preferred(list(prompts) * 2, list(a) + list(b), list(b) + list(a))
        return 0.5 * (both[:n] + 1.0 - both[n:])


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def preference_matrix(oracle, prompt: str, responses: Sequence) -> torch.Tensor:
    """``[K, K]`` matrix ``M[i, j] = P(y_i > y_j | prompt)`` from the ``K(K-1)/2`` unordered
    pairs (``M[j, i] = 1 - M[i, j]``, diagonal 1/2)."""
    k = len(responses)
    if k == 0:
        raise ValueError("no responses given.")
    pairs = list(itertools.combinations(range(k), 2))
    m = torch.full((k, k), 0.5, dtype=torch.float64)
    if pairs:
        p = check_preferences(oracle([prompt] * len(pairs), [responses[i] for i, _ in pairs],
                                     [responses[j] for _, j in pairs]))
        if p.shape != (len(pairs),):
            raise ValueError(f"the oracle returned shape {tuple(p.shape)}; expected "
                             f"[{len(pairs)}].")
        for (i, j), v in zip(pairs, p.tolist()):
            m[i, j], m[j, i] = v, 1.0 - v
    return m


def estimate_win_rates(oracle, prompts: Sequence[str], responses: Sequence[Sequence],
                       opponents: Sequence[Sequence] | None = None) -> torch.Tensor:
    """``P_hat(y_bi > pi_t | prompt_b)``, ``[B, K]``.

    With ``opponents=None`` the K responses of a prompt play each other: row means of the
    ``K x K`` preference matrix including the self-term 1/2. With ``opponents`` (``[B][M]``,
    e.g. samples of the initial policy or of a mixture) each response is scored against them:
    ``mean_m P(y_bi > o_bm)``.
    """
    if len(prompts) != len(responses):
        raise ValueError(f"batch size mismatch: {len(prompts)} prompts, {len(responses)} groups "
                         "of responses.")
    _check_prompts(prompts)
    if opponents is None:
        return torch.stack([win_rates_from_matrix(preference_matrix(oracle, p, r))
                            for p, r in zip(prompts, responses)])
    if len(opponents) != len(prompts):
        raise ValueError("opponents must hold one group per prompt.")
    rows = []
    for p, r, o in zip(prompts, responses, opponents):
        a = [x for x in r for _ in o]
        b = [y for _ in r for y in o]
        v = check_preferences(oracle([p] * len(a), a, b)).reshape(len(r), len(o))
        rows.append(v.mean(-1))
    return torch.stack(rows)
