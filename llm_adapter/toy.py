"""An enumerable toy language model: every expectation over its responses is an exact sum.

:class:`ToyLM` is an autoregressive policy over ``vocab_size`` tokens and a fixed response
length ``length`` (default 3 x 2 = 9 responses) parameterised by a table of logits per prefix,
so it can represent *every* distribution over its responses. Responses are indexed
lexicographically: ``index = sum_l token_l * vocab_size^(length-1-l)``.

:func:`lifted_preference` turns a preference matrix over response classes (e.g. the COMAL 3x3
game) into one over whole responses. :func:`exact_self_play` and :func:`sampled_self_play` run
the self-play loop of :mod:`llm_adapter.trainer.selfplay` on the toy LM: the rule gives target
log-ratios, a pairwise loss of :mod:`llm_adapter.losses` is minimised with a ``torch.optim``
optimiser, and the next ``pi_t`` is the trained model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from gametheory import rules

from . import losses

__all__ = ["ToyLM", "lifted_preference", "SelfPlayTrace", "exact_self_play", "sampled_self_play",
           "fit", "exploitability"]


class ToyLM(torch.nn.Module):
    """Tabular autoregressive LM: ``logits(token_l | prefix) = table_l[prefix_index]``.

    ``vocab_size ** length`` responses; parameters ``table_l: [vocab_size**l, vocab_size]``.
    """

    def __init__(self, vocab_size: int = 3, length: int = 2, dtype=torch.float64):
        super().__init__()
        if vocab_size < 2 or length < 1:
            raise ValueError("ToyLM needs vocab_size >= 2 and length >= 1.")
        self.vocab_size, self.length = vocab_size, length
        self.tables = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(vocab_size**l, vocab_size, dtype=dtype))
             for l in range(length)])

    @property
    def num_responses(self) -> int:
        return self.vocab_size**self.length

    def responses(self) -> torch.Tensor:
        """All responses as token ids, ``[N, length]``, in index order."""
        idx = torch.arange(self.num_responses)
        powers = self.vocab_size ** torch.arange(self.length - 1, -1, -1)
        return (idx[:, None] // powers) % self.vocab_size

    def index(self, tokens: torch.Tensor) -> torch.Tensor:
        """Response index of ``tokens: [..., length]`` -> ``[...]``."""
        powers = self.vocab_size ** torch.arange(self.length - 1, -1, -1, device=tokens.device)
        return (tokens * powers).sum(-1)

    def token_logps(self, tokens: torch.Tensor) -> torch.Tensor:
        """Per-token log-probabilities ``[B, length]`` of ``tokens: [B, length]``."""
        if tokens.ndim != 2 or tokens.shape[1] != self.length:
            raise ValueError(f"tokens must be [B, {self.length}]; got {tuple(tokens.shape)}.")
        out, prefix = [], torch.zeros(tokens.shape[0], dtype=torch.long, device=tokens.device)
        for l, table in enumerate(self.tables):
            logp = torch.log_softmax(table[prefix], dim=-1)
            out.append(logp.gather(-1, tokens[:, l:l + 1]).squeeze(-1))
            prefix = prefix * self.vocab_size + tokens[:, l]
        return torch.stack(out, dim=-1)

    def sequence_logps(self, tokens: torch.Tensor) -> torch.Tensor:
        """Summed log-probabilities ``[B]`` of whole responses ``tokens: [B, length]``."""
        return self.token_logps(tokens).sum(-1)

    def log_probs(self) -> torch.Tensor:
        """The whole distribution over responses, ``[N]`` (log-probabilities), in index order.

        Equals ``sequence_logps(responses())`` (tested) but is vectorised over prefixes.
        """
        out = torch.zeros(1, dtype=self.tables[0].dtype, device=self.tables[0].device)
        for table in self.tables:
            out = (out[:, None] + torch.log_softmax(table, dim=-1)).reshape(-1)
        return out

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` responses ``[n, length]`` sampled token by token."""
        prefix = torch.zeros(n, dtype=torch.long)
        toks = []
        for table in self.tables:
            probs = torch.softmax(table[prefix], dim=-1)
            tok = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
            toks.append(tok)
            prefix = prefix * self.vocab_size + tok
        return torch.stack(toks, dim=-1)

    @torch.no_grad()
    def set_log_probs(self, log_probs: torch.Tensor) -> ToyLM:
        """Set the tables so that the model's distribution is ``exp(log_probs)`` (``[N]``)."""
        log_probs = torch.as_tensor(log_probs, dtype=self.tables[0].dtype)
        if log_probs.shape != (self.num_responses,):
            raise ValueError(f"log_probs must be [{self.num_responses}].")
        joint = log_probs.reshape((self.vocab_size,) * self.length)
        for l, table in enumerate(self.tables):
            # log-marginal of the prefix of length l+1
            marg = joint
            for _ in range(self.length - l - 1):
                marg = torch.logsumexp(marg, dim=-1)
            table.copy_(marg.reshape(self.vocab_size**l, self.vocab_size))
        return self


def lifted_preference(class_prefs, classes) -> torch.Tensor:
    """``P[y, y'] = class_prefs[classes[y], classes[y']]``: a preference over responses.

    ``class_prefs: [C, C]`` with ``P + P^T = 1``; ``classes: [N]`` ints in ``[0, C)``.
    """
    p = torch.as_tensor(class_prefs, dtype=torch.float64)
    c = torch.as_tensor(classes, dtype=torch.long)
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        raise ValueError("class_prefs must be a square matrix.")
    if torch.any(p < 0) or torch.any(p > 1) or not torch.allclose(p + p.T, torch.ones_like(p)):
        raise ValueError("class_prefs must lie in [0, 1] and satisfy P + P^T = 1.")
    if c.ndim != 1 or torch.any(c < 0) or torch.any(c >= p.shape[0]):
        raise ValueError(f"classes must be a 1-D array of ints in [0, {p.shape[0]}).")
    return p[c[:, None], c[None, :]]


def exploitability(prefs: torch.Tensor, probs: torch.Tensor) -> float:
    """``max_y P(y > pi) - 1/2`` (= NashConv/2 of the symmetric profile ``(pi, pi)``)."""
    return float((prefs @ probs).max() - 0.5)


def _record(trace, model, prefs, loss) -> torch.Tensor:
    """Append the model's new log-policy, its exact exploitability and the loss to ``trace``."""
    with torch.no_grad():
        new = model.log_probs().clone()
    trace.log_probs.append(new)
    trace.exploitability.append(exploitability(prefs, new.exp()))
    trace.losses.append(loss)
    return new


class SelfPlayTrace(NamedTuple):
    log_probs: list  # [iterations + 1] tensors [N]: pi_0, ..., pi_T
    exploitability: list  # [iterations + 1] floats
    losses: list  # [iterations] final loss of each fit


def fit(model: ToyLM, loss_fn: Callable[[], torch.Tensor], steps: int = 50,
        tol: float = 1e-14) -> float:
    """Minimise ``loss_fn()`` over ``model``'s parameters with ``torch.optim.LBFGS``."""
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=steps, tolerance_grad=tol,
                            tolerance_change=tol, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(loss_fn())


def _rule_loss(algorithm, logps, old, q_win, ref, eta, temp, weights):
    if algorithm == "sppo_pairwise":
        return losses.sppo_pairwise_loss(logps, old, q_win, eta, weights)
    if algorithm == "sppo":
        w = weights if weights is not None else torch.full_like(logps, 1.0 / logps.shape[-1])
        w = w / w.sum(-1, keepdim=True)
        # exact expectation E_{y ~ pi_t}[.] of the pointwise loss; losses.sppo_loss is its mean
        return (w * (logps - old - eta * (q_win - 0.5)) ** 2).sum(-1).mean()
    if algorithm == "mpo":
        return losses.mpo_loss(logps, old, q_win, ref, eta, temp, weights)
    if algorithm in ("comal", "inpo"):
        return losses.inpo_loss(logps, old, q_win, ref, eta, temp, weights)
    if algorithm == "nash_md":
        return losses.nash_md_loss(logps, old, q_win, ref, eta, temp, weights)
    raise ValueError(f"unknown algorithm {algorithm!r}.")


def exact_self_play(prefs, algorithm: str, iterations: int, eta: float, temp: float = 0.1,
                    ref_every: int | None = None, initial=None, vocab_size: int = 3,
                    length: int = 2, fit_steps: int = 100) -> SelfPlayTrace:
    """Self-play on the toy LM with exact expectations over all responses.

    Iteration t: ``P(y > pi_t) = prefs @ pi_t`` exactly; the pairwise loss of ``algorithm``
    (``"sppo"`` = the paper's pointwise loss, ``"sppo_pairwise"`` = the exact MWU step,
    ``"mpo"``, ``"comal"``/``"inpo"``, ``"nash_md"``) with
    weights ``pi_t(y)`` is minimised by L-BFGS; the trained model is ``pi_{t+1}``. The
    reference / magnet starts at ``pi_0`` and is reset to the current policy every
    ``ref_every`` iterations (MPO reset, COMAL's R; never if None). For Nash-MD the win rates
    are against the geometric mixture ``pi_t^(1-eta temp) pi_ref^(eta temp)``.
    """
    prefs = torch.as_tensor(prefs, dtype=torch.float64)
    model = ToyLM(vocab_size, length)
    if initial is not None:
        model.set_log_probs(torch.log(torch.as_tensor(initial, dtype=torch.float64)))
    if prefs.shape != (model.num_responses, model.num_responses):
        raise ValueError(f"prefs must be [{model.num_responses}, {model.num_responses}].")
    with torch.no_grad():
        ref = model.log_probs().clone()
    trace = SelfPlayTrace([ref.clone()], [exploitability(prefs, ref.exp())], [])
    for t in range(iterations):
        with torch.no_grad():
            old = model.log_probs().clone()
            opp = old.exp()
            if algorithm == "nash_md":
                opp = rules.geometric_mixture(old, ref, eta * temp).exp()
            win = (prefs @ opp)[None]
        weights = old.exp()[None]
        loss = fit(model, lambda: _rule_loss(algorithm, model.log_probs()[None], old[None], win,
                                             ref[None], eta, temp, weights), steps=fit_steps)
        new = _record(trace, model, prefs, loss)
        if ref_every and (t + 1) % ref_every == 0:
            ref = new.clone()
    return trace


def sampled_self_play(prefs, algorithm: str, iterations: int, eta: float, temp: float = 0.1,
                      ref_every: int | None = None, initial=None, num_prompts: int = 256,
                      k: int = 4, seed: int = 0, vocab_size: int = 3, length: int = 2,
                      fit_steps: int = 100) -> SelfPlayTrace:
    """Self-play on the toy LM from samples: each iteration draws ``k`` responses for each of
    ``num_prompts`` (identical) prompts from ``pi_t``, queries the preference on the ``k x k``
    pairs, estimates ``P_hat(y > pi_t)`` by row means (self-term 1/2 included), and minimises
    the pairwise loss (uniform weights) over the samples. Exploitability is computed exactly.
    """
    prefs = torch.as_tensor(prefs, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    model = ToyLM(vocab_size, length)
    if initial is not None:
        model.set_log_probs(torch.log(torch.as_tensor(initial, dtype=torch.float64)))
    ref_model = ToyLM(vocab_size, length)
    ref_model.load_state_dict(model.state_dict())
    with torch.no_grad():
        lp = model.log_probs()
    trace = SelfPlayTrace([lp.clone()], [exploitability(prefs, lp.exp())], [])
    for t in range(iterations):
        tokens = model.sample(num_prompts * k, generator=gen)  # [B*K, L]
        idx = model.index(tokens).reshape(num_prompts, k)
        win = losses.win_rates_from_matrix(prefs[idx[:, :, None], idx[:, None, :]])
        # a response's log-prob depends only on its index: score the N responses once, gather
        with torch.no_grad():
            old = model.log_probs()[idx]
            ref = ref_model.log_probs()[idx]
        loss = fit(model, lambda: _rule_loss(algorithm, model.log_probs()[idx], old, win, ref, eta,
                                             temp, None), steps=fit_steps)
        _record(trace, model, prefs, loss)
        if ref_every and (t + 1) % ref_every == 0:
            ref_model.load_state_dict(model.state_dict())
    return trace
