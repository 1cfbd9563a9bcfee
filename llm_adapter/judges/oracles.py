"""Preference oracles: one batched protocol ``P(a > b | prompt)``.

An oracle is any callable ``oracle(prompts, responses_a, responses_b) -> Tensor[B]`` with values
in ``[0, 1]``; it should satisfy ``P(a > b) + P(b > a) = 1``. Provided:

* :class:`MatrixOracle`: a preference matrix over response classes (exact, for tests and the
  toy LM); a ``classify`` function maps a response (text or token ids) to its class.
* :class:`BradleyTerryOracle`: ``sigmoid(beta (r(a) - r(b)))`` for a scalar reward function.
* :class:`LLMJudge`: asks a causal LM which of two responses is better and reads the normalised
  probabilities of the two answer tokens, averaging both presentation orders so that position
  bias cancels (hence ``P(a>b) + P(b>a) = 1`` exactly).

An oracle that is a *pointwise scorer* (a reward: :class:`BradleyTerryOracle` and the reward
models of :mod:`llm_adapter.judges.adapters`) has ``score(prompts, responses) -> [B]`` and
``preference_from_scores(s_a, s_b)``: it scores each response once and the ``K x K`` matrix is
formed from the ``K`` scores, so a judge call costs ``K`` rows per prompt, not ``K (K - 1)``.
Pairwise judges get all pairs of a whole batch in one call (they batch internally).

:func:`estimate_win_rates` returns ``P_hat(y_i > pi_t)`` as row means including the self-term
1/2; :func:`preference_matrix` is the matrix of one prompt.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Protocol

import torch

from ..data.prompts import plain_text
from ..losses import win_rates_from_matrix
from ..scoring.logprobs import _check_prompts

__all__ = ["PreferenceOracle", "MatrixOracle", "BradleyTerryOracle", "LLMJudge",
           "preference_matrix", "estimate_win_rates", "check_preferences", "is_pointwise",
           "score_groups", "win_rates_from_scores"]


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
    reward function ``reward(prompts, responses) -> [B]``.

    A pointwise scorer: :meth:`score` evaluates the reward once per response and
    :meth:`preference_from_scores` turns two scores into ``P(a > b)``.
    """

    def __init__(self, reward: Callable, beta: float = 1.0):
        if not beta > 0:
            raise ValueError(f"beta must be positive; got {beta}.")
        self.reward, self.beta = reward, beta

    def score(self, prompts, responses) -> torch.Tensor:
        """``r(prompt_i, response_i)``, ``[B]`` float64, checked finite."""
        r = torch.as_tensor(self.reward(list(prompts), list(responses)), dtype=torch.float64)
        if r.shape != (len(prompts),):
            raise ValueError(f"reward must return one score per (prompt, response): expected "
                             f"[{len(prompts)}], got {tuple(r.shape)}.")
        if not torch.all(torch.isfinite(r)):
            raise ValueError("reward returned a non-finite score.")
        return r

    def preference_from_scores(self, score_a, score_b) -> torch.Tensor:
        """``P(a > b) = sigmoid(beta (s_a - s_b))`` (broadcasting)."""
        return torch.sigmoid(self.beta * (score_a - score_b))

    def __call__(self, prompts, a, b) -> torch.Tensor:
        _check_batch(prompts, a, b)
        n = len(prompts)
        both = self.score(list(prompts) * 2, list(a) + list(b))
        return self.preference_from_scores(both[:n], both[n:])


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

    ``symmetrise=False`` asks once, in the given order (half the judge rows; position bias then
    stays in the verdicts). ``cache=True`` memoises verdicts (the judge is a fixed function of
    its input text). The question shown is the prompt's plain text
    (:func:`llm_adapter.data.prompts.plain_text`), not the policy's chat template.
    ``context`` is an optional context-manager factory entered around the judge's forward pass,
    e.g. ``model.disable_adapter`` to judge with the base model of a PEFT model being trained.
    """

    def __init__(self, model, tokenizer, template: str = DEFAULT_TEMPLATE,
                 answers=(" A", " B"), batch_size: int = 16, context: Callable | None = None,
                 max_response_chars: int = 1000, cache: bool = False, symmetrise: bool = True):
        self.model, self.tokenizer, self.template = model, tokenizer, template
        self.symmetrise = bool(symmetrise)
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
        texts = [self.template.format(prompt=plain_text(p), a=self._text(x), b=self._text(y))
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
        if not self.symmetrise:
            return self.first_preferred(list(prompts), list(a), list(b))
        both = self.first_preferred(list(prompts) * 2, list(a) + list(b), list(b) + list(a))
        return 0.5 * (both[:n] + 1.0 - both[n:])


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def is_pointwise(oracle) -> bool:
    """True for an oracle that scores responses one at a time (``score`` and
    ``preference_from_scores``), e.g. a reward model."""
    return callable(getattr(oracle, "score", None)) and callable(
        getattr(oracle, "preference_from_scores", None))


def score_groups(oracle, prompts: Sequence, groups: Sequence[Sequence]) -> list[torch.Tensor]:
    """Scores of a pointwise ``oracle`` for ``groups[b]`` (responses to ``prompts[b]``), every
    response scored once, all in one ``oracle.score`` call; one ``[len(groups[b])]`` tensor per
    prompt."""
    if len(groups) != len(prompts):
        raise ValueError(f"batch size mismatch: {len(prompts)} prompts, {len(groups)} groups of "
                         "responses.")
    flat_p = [p for p, g in zip(prompts, groups) for _ in g]
    flat_r = [r for g in groups for r in g]
    if not flat_r:
        raise ValueError("no responses given.")
    scores = torch.as_tensor(oracle.score(flat_p, flat_r), dtype=torch.float64)
    if scores.shape != (len(flat_r),):
        raise ValueError(f"the oracle's score returned shape {tuple(scores.shape)}; expected "
                         f"[{len(flat_r)}].")
    return list(torch.split(scores, [len(g) for g in groups]))


def win_rates_from_scores(oracle, scores, opponent_scores=None) -> torch.Tensor:
    """``P_hat(y_bi > pi_t)`` ``[B, K]`` from the scores of a pointwise ``oracle``.

    ``scores``: ``[B, K]`` (or a list of ``[K]``); without ``opponent_scores`` the ``K``
    responses of a prompt play each other (row means of the ``K x K`` matrix, self-term 1/2);
    with them (``[B, M]``) each response plays the ``M`` opponents.
    """
    s = torch.stack(list(scores)) if isinstance(scores, (list, tuple)) else scores
    if opponent_scores is None:
        m = check_preferences(oracle.preference_from_scores(s[:, :, None], s[:, None, :]))
        return win_rates_from_matrix(m)
    o = (torch.stack(list(opponent_scores)) if isinstance(opponent_scores, (list, tuple))
         else opponent_scores)
    return check_preferences(oracle.preference_from_scores(s[:, :, None], o[:, None, :])).mean(-1)


def _pairwise_matrices(oracle, prompts, groups) -> list[torch.Tensor]:
    """``K x K`` matrices of every prompt from one oracle call over all unordered pairs."""
    pairs = [(b, i, j) for b, g in enumerate(groups)
             for i, j in itertools.combinations(range(len(g)), 2)]
    mats = [torch.full((len(g), len(g)), 0.5, dtype=torch.float64) for g in groups]
    if pairs:
        p = check_preferences(oracle([prompts[b] for b, _, _ in pairs],
                                     [groups[b][i] for b, i, _ in pairs],
                                     [groups[b][j] for b, _, j in pairs]))
        if p.shape != (len(pairs),):
            raise ValueError(f"the oracle returned shape {tuple(p.shape)}; expected "
                             f"[{len(pairs)}].")
        for (b, i, j), v in zip(pairs, p.tolist()):
            mats[b][i, j], mats[b][j, i] = v, 1.0 - v
    return mats


def preference_matrix(oracle, prompt: str, responses: Sequence) -> torch.Tensor:
    """``[K, K]`` matrix ``M[i, j] = P(y_i > y_j | prompt)``: from ``K`` scores for a pointwise
    oracle, else from the ``K(K-1)/2`` unordered pairs (``M[j, i] = 1 - M[i, j]``, diagonal
    1/2)."""
    if len(responses) == 0:
        raise ValueError("no responses given.")
    if is_pointwise(oracle):
        s = score_groups(oracle, [prompt], [list(responses)])[0]
        m = check_preferences(oracle.preference_from_scores(s[:, None], s[None, :]))
        return m.fill_diagonal_(0.5)
    return _pairwise_matrices(oracle, [prompt], [list(responses)])[0]


def estimate_win_rates(oracle, prompts: Sequence[str], responses: Sequence[Sequence],
                       opponents: Sequence[Sequence] | None = None) -> torch.Tensor:
    """``P_hat(y_bi > pi_t | prompt_b)``, ``[B, K]``.

    With ``opponents=None`` the K responses of a prompt play each other: row means of the
    ``K x K`` preference matrix including the self-term 1/2. With ``opponents`` (``[B][M]``,
    e.g. samples of the initial policy or of a mixture) each response is scored against them:
    ``mean_m P(y_bi > o_bm)``. A pointwise oracle scores each response and opponent once (one
    call); a pairwise oracle gets every pair of the batch in one call.
    """
    if len(prompts) != len(responses):
        raise ValueError(f"batch size mismatch: {len(prompts)} prompts, {len(responses)} groups "
                         "of responses.")
    _check_prompts(prompts)
    if opponents is not None and len(opponents) != len(prompts):
        raise ValueError("opponents must hold one group per prompt.")
    if is_pointwise(oracle):
        groups = [list(r) for r in responses]
        if opponents is not None:
            scored = score_groups(oracle, list(prompts) * 2, groups + [list(o) for o in opponents])
            n = len(prompts)
            return torch.stack([win_rates_from_scores(oracle, s[None], o[None])[0]
                                for s, o in zip(scored[:n], scored[n:])])
        return torch.stack([win_rates_from_scores(oracle, s[None])[0]
                            for s in score_groups(oracle, prompts, groups)])
    if opponents is None:
        return torch.stack([win_rates_from_matrix(m) for m in
                            _pairwise_matrices(oracle, list(prompts), list(responses))])
    rows = [(b, i, m) for b, (r, o) in enumerate(zip(responses, opponents))
            for i in range(len(r)) for m in range(len(o))]
    v = check_preferences(oracle([prompts[b] for b, _, _ in rows],
                                 [responses[b][i] for b, i, _ in rows],
                                 [opponents[b][m] for b, _, m in rows]))
    if v.shape != (len(rows),):
        raise ValueError(f"the oracle returned shape {tuple(v.shape)}; expected [{len(rows)}].")
    out, start = [], 0
    for r, o in zip(responses, opponents):
        n = len(r) * len(o)
        out.append(v[start:start + n].reshape(len(r), len(o)).mean(-1))
        start += n
    return torch.stack(out)
