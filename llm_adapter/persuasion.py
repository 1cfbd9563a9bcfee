"""A model-agnostic advisor / receiver loop: alignment by Bayesian persuasion.

After Bai et al. 2024, "Efficient Model-agnostic Alignment via Bayesian Persuasion"
(arXiv 2405.18718): an *Advisor* observes the state of a task and sends a signal; a black-box
*Receiver* answers the task with the signal rendered into its prompt. Here:

* a **task** is a question with a gradable answer and one *information item* per category
  (:class:`InformationTask`); its **state** is the category of the item that is relevant to it.
  The shipped task set (:func:`load_word_problems`, 200 one-step arithmetic word problems from
  ``llm_adapter/data/make_word_problems.py``) has the categories ``add``, ``subtract``,
  ``multiply``, ``divide``: every problem carries a true fact of each kind about its numbers,
  and only the one of its own operation gives the answer.
* the **Receiver** is any callable ``prompt -> answer``: :class:`HFReceiver` (a Hugging Face
  causal LM through ``generate``, greedy) or a deterministic mock. Its action is the item it
  puts in its context; answers are graded by exact match (:func:`grade`).
* the **Advisor** commits to a scheme ``pi(signal | state)`` over the categories:
  :class:`TabularAdvisor`, or :class:`LMAdvisor`, a small LM whose output distribution over the
  signal texts (one per category) is its scheme.

:func:`measure_utilities` asks the receiver every task once without context and once with each
item, which gives the utility table ``v[state, item category]`` (accuracy). From it
:func:`persuasion_loop` fits the sender-optimal scheme (:func:`~gametheory.persuasion.
optimal_scheme`, or the online learner :func:`~gametheory.persuasion.learn_prior_online` over
the stream of task states) and reports, on held-out tasks, the receiver's accuracy under the
three conditions of Bai et al. plus the optimised scheme:

1. ``no_context``: the question alone;
2. ``prior``: an item whose category is drawn from the prior over states;
3. ``posterior``: the advisor sends a signal; the receiver draws the item's category from the
   posterior that signal induces under the advisor's committed scheme;
4. ``optimised``: the fitted direct scheme recommends a category and the receiver uses that
   item (obedience holds on the fitted table by the LP's constraints).

Because the receiver decodes greedily, its answer to a given prompt is fixed, so each condition's
accuracy is computed *exactly* as an expectation over the signal and item draws from the
measured per-task correctness: no condition needs receiver calls beyond the table's
``tasks x (categories + 1)``.

The LP and the online learner come from :mod:`gametheory.persuasion` (NumPy/SciPy, no JAX).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from importlib import resources
from typing import NamedTuple

import numpy as np

from gametheory.persuasion import PersuasionProblem, learn_prior_online, optimal_scheme

__all__ = [
    "InformationTask",
    "load_word_problems",
    "render_prompt",
    "grade",
    "HFReceiver",
    "UtilityTable",
    "measure_utilities",
    "TabularAdvisor",
    "LMAdvisor",
    "fit_scheme",
    "condition_accuracies",
    "PersuasionReport",
    "persuasion_loop",
]

Receiver = Callable[[str], str]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclasses.dataclass(frozen=True)
class InformationTask:
    """A question, its answer, its state (relevant item category) and one item per category."""

    question: str
    answer: str
    state: str
    items: dict

    def __post_init__(self):
        if self.state not in self.items:
            raise ValueError(f"task state {self.state!r} has no information item; items: "
                             f"{sorted(self.items)}.")


def load_word_problems(n: int | None = None) -> list[InformationTask]:
    """The shipped word problems (``llm_adapter/data/word_problems.json``), optionally the
    first ``n``. Regenerate the file with ``python llm_adapter/data/make_word_problems.py``."""
    text = resources.files("llm_adapter").joinpath("data/word_problems.json").read_text()
    problems = json.loads(text)["problems"]
    if n is not None:
        if not 1 <= n <= len(problems):
            raise ValueError(f"n must be in [1, {len(problems)}]; got {n}.")
        problems = problems[:n]
    return [InformationTask(p["question"], p["answer"], p["state"], dict(p["items"]))
            for p in problems]


def render_prompt(task: InformationTask, item: str | None = None) -> str:
    """The receiver's prompt: the question, the information item (if any) as a hint, and the
    instruction to reply with a number."""
    hint = f"Hint: {item}\n" if item is not None else ""
    return f"Problem: {task.question}\n{hint}Reply with the final number only."


def grade(response: str, answer: str) -> bool:
    """Exact match of the first number in ``response`` with ``answer`` (commas ignored)."""
    found = _NUMBER.findall(response.replace(",", ""))
    return bool(found) and found[0] == answer.strip()


class HFReceiver:
    """A Hugging Face causal LM as a receiver: greedy ``generate`` on the chat-formatted prompt.

    ``answer_prefix`` is appended after the chat template's assistant header (the model
    continues ``"The answer is"``), which keeps small models to a short numeric reply;
    ``max_new_tokens`` bounds the reply. ``batch(prompts)`` answers a list (left-padded
    batches of ``batch_size``); ``calls`` counts the prompts answered.
    """

    def __init__(self, model, tokenizer, max_new_tokens: int = 6, batch_size: int = 16,
                 answer_prefix: str = "The answer is", system: str | None = None):
        if max_new_tokens < 1 or batch_size < 1:
            raise ValueError("max_new_tokens and batch_size must be >= 1.")
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.answer_prefix, self.system = answer_prefix, system
        self.calls = 0

    def __call__(self, prompt: str) -> str:
        return self.batch([prompt])[0]

    def batch(self, prompts: Sequence[str]) -> list[str]:
        import torch

        from .models import format_prompts

        tok = self.tokenizer
        texts = [t + self.answer_prefix for t in format_prompts(tok, prompts, self.system)]
        side, tok.padding_side = tok.padding_side, "left"
        out: list[str] = []
        try:
            for i in range(0, len(texts), self.batch_size):
                enc = tok(texts[i:i + self.batch_size], return_tensors="pt", padding=True)
                enc = {k: v.to(self.model.device) for k, v in enc.items()}
                with torch.no_grad():
                    gen = self.model.generate(**enc, max_new_tokens=self.max_new_tokens,
                                              do_sample=False, pad_token_id=tok.pad_token_id)
                out += tok.batch_decode(gen[:, enc["input_ids"].shape[1]:],
                                        skip_special_tokens=True)
        finally:
            tok.padding_side = side
        self.calls += len(prompts)
        return out


def _answer_all(receiver, prompts: list[str], progress: bool, chunk: int = 16) -> list[str]:
    from tqdm.auto import tqdm

    batch = getattr(receiver, "batch", None)
    out: list[str] = []
    with tqdm(total=len(prompts), disable=not progress, desc="receiver") as bar:
        for i in range(0, len(prompts), chunk):
            part = prompts[i:i + chunk]
            answers = batch(part) if batch is not None else [receiver(p) for p in part]
            if len(answers) != len(part) or not all(isinstance(a, str) for a in answers):
                raise ValueError("the receiver must return one string per prompt.")
            out += answers
            bar.update(len(part))
    return out


@dataclasses.dataclass(frozen=True)
class UtilityTable:
    """Graded receiver answers: ``correct[i, a]`` with the item of category ``a`` in the prompt
    of task ``i``, ``no_context[i]`` without any; ``states[i]`` the task's state index."""

    categories: tuple[str, ...]
    states: np.ndarray  # [N] int
    correct: np.ndarray  # [N, A] in {0, 1}
    no_context: np.ndarray  # [N] in {0, 1}
    responses: tuple  # per task: (no-context answer, answer with each item)
    calls: int  # receiver calls spent

    def subset(self, index) -> UtilityTable:
        """The rows ``index`` (calls are kept: they were spent on the whole table)."""
        index = np.asarray(index)
        return dataclasses.replace(self, states=self.states[index], correct=self.correct[index],
                                   no_context=self.no_context[index],
                                   responses=tuple(self.responses[i] for i in index))

    def prior(self) -> np.ndarray:
        """``[A]`` empirical distribution of the tasks' states."""
        return np.bincount(self.states, minlength=len(self.categories)) / len(self.states)

    def utility(self) -> np.ndarray:
        """``[A, A]`` mean accuracy per (state, item category); rows of absent states are 0."""
        a = len(self.categories)
        out = np.zeros((a, a))
        for s in range(a):
            rows = self.states == s
            if rows.any():
                out[s] = self.correct[rows].mean(axis=0)
        return out

    def problem(self, sender_utility=None) -> PersuasionProblem:
        """The persuasion problem of the table: prior = state frequencies, receiver utility =
        accuracy; the sender's utility defaults to the same accuracy (an aligned advisor)."""
        v = self.utility()
        return PersuasionProblem(self.prior(), v if sender_utility is None else sender_utility,
                                 v, states=self.categories, actions=self.categories)


def measure_utilities(receiver: Receiver, tasks: Sequence[InformationTask],
                      categories: Sequence[str] | None = None,
                      progress: bool = False) -> UtilityTable:
    """Ask ``receiver`` each task without context and with each category's item; grade.

    ``categories`` defaults to the sorted item categories of the first task (they must be the
    same for every task and include every task's state). Costs ``len(tasks) * (A + 1)`` calls.
    """
    if not tasks:
        raise ValueError("tasks is empty; pass at least one task.")
    cats = tuple(categories) if categories is not None else tuple(sorted(tasks[0].items))
    index = {c: i for i, c in enumerate(cats)}
    for t in tasks:
        if set(t.items) != set(cats) or t.state not in index:
            raise ValueError(f"task {t.question[:40]!r}... must have one item for each category "
                             f"{list(cats)} and a state among them.")
    prompts = []
    for t in tasks:
        prompts.append(render_prompt(t))
        prompts += [render_prompt(t, t.items[c]) for c in cats]
    answers = _answer_all(receiver, prompts, progress)
    k = len(cats) + 1
    rows = [answers[i * k:(i + 1) * k] for i in range(len(tasks))]
    graded = np.array([[grade(a, t.answer) for a in r] for r, t in zip(rows, tasks)], dtype=float)
    return UtilityTable(categories=cats, states=np.array([index[t.state] for t in tasks]),
                        correct=graded[:, 1:], no_context=graded[:, 0],
                        responses=tuple(tuple(r) for r in rows), calls=len(prompts))


class TabularAdvisor:
    """An advisor that commits to a fixed scheme ``[states, signals]`` (rows sum to 1)."""

    def __init__(self, scheme):
        scheme = np.asarray(scheme, dtype=np.float64)
        if scheme.ndim != 2 or np.any(scheme < 0) or not np.allclose(scheme.sum(axis=1), 1.0):
            raise ValueError("scheme must be a [states, signals] table of probabilities whose "
                             "rows sum to 1.")
        self.scheme = scheme

    def task_scheme(self, tasks: Sequence[InformationTask], table: UtilityTable) -> np.ndarray:
        """``[N, signals]``: the signal distribution for each task (its state's row)."""
        if self.scheme.shape[0] != len(table.categories):
            raise ValueError(f"the scheme has {self.scheme.shape[0]} rows but there are "
                             f"{len(table.categories)} states.")
        return self.scheme[table.states]


class LMAdvisor:
    """A small causal LM as advisor: its scheme is its distribution over ``signal_texts``.

    For task ``x`` the advisor reads ``template.format(question=...)`` and scores each signal
    text as a completion; ``pi(signal | x)`` is the softmax of the summed completion log-probs
    (:func:`llm_adapter.scoring.logprobs.completion_logps`). Signal ``j`` recommends category ``j``.
    """

    def __init__(self, model, tokenizer, signal_texts: Sequence[str],
                 template: str = ("Problem: {question}\nWhich operation solves it: addition, "
                                  "subtraction, multiplication or division?\nOperation:"),
                 batch_size: int = 32):
        if len(signal_texts) < 1:
            raise ValueError("signal_texts is empty; give one text per category.")
        self.model, self.tokenizer = model, tokenizer
        self.signal_texts, self.template = list(signal_texts), template
        self.batch_size = batch_size

    def task_scheme(self, tasks: Sequence[InformationTask], table=None) -> np.ndarray:
        """``[N, signals]``: the advisor LM's distribution over the signal texts per task."""
        import torch

        from .scoring.logprobs import completion_logps, encode

        k = len(self.signal_texts)
        prompts = [self.template.format(question=t.question) for t in tasks for _ in range(k)]
        completions = self.signal_texts * len(tasks)
        logps = []
        with torch.no_grad():
            for i in range(0, len(prompts), self.batch_size):
                batch = encode(self.tokenizer, prompts[i:i + self.batch_size],
                               completions[i:i + self.batch_size], add_eos=False,
                               device=self.model.device)
                logps.append(completion_logps(self.model, **batch).double().cpu())
        logits = torch.cat(logps).reshape(len(tasks), k)
        return torch.softmax(logits, dim=-1).numpy()


def fit_scheme(table: UtilityTable, method: str = "lp", sender_utility=None, seed: int = 0,
               delta: float = 0.05) -> np.ndarray:
    """The direct scheme ``[A, A]`` fitted on ``table``.

    ``"lp"``: :func:`~gametheory.persuasion.optimal_scheme` of :meth:`UtilityTable.problem`;
    ``"online"``: :func:`~gametheory.persuasion.learn_prior_online` fed the tasks' states in
    order (the prior is learned from the stream; the utilities are the table's), last scheme.
    """
    problem = table.problem(sender_utility)
    if method == "lp":
        return optimal_scheme(problem).scheme
    if method == "online":
        states = table.states.astype(np.int64)
        return learn_prior_online(problem, len(states), seed=seed, delta=delta,
                                  states=states).scheme
    raise ValueError(f"unknown method {method!r}; use 'lp' or 'online'.")


def condition_accuracies(table: UtilityTable, prior, scheme, advisor_signals=None,
                         advisor_scheme=None) -> dict:
    """Receiver accuracy on ``table``'s tasks under the four conditions (exact expectations).

    ``prior [A]``: the prior over states that the receiver and advisor share; ``scheme [A, A]``:
    the optimised direct scheme; ``advisor_signals [N, K]``: the advisor's signal distribution
    for each task and ``advisor_scheme [A, K]`` its committed (state-level) scheme, from which the
    receiver's posteriors are formed. Without an advisor, ``posterior`` is omitted.
    """
    prior = np.asarray(prior, dtype=np.float64)
    c = table.correct
    out = {
        "no_context": float(table.no_context.mean()),
        "prior": float((c @ prior).mean()),
        "optimised": float(np.sum(np.asarray(scheme)[table.states] * c, axis=1).mean()),
    }
    if advisor_signals is not None:
        joint = prior[:, None] * np.asarray(advisor_scheme)  # [A, K]
        mass = joint.sum(axis=0)
        post = np.where(mass > 0, joint / np.where(mass > 0, mass, 1.0), prior[:, None])  # [A,K]
        # task i: sum_k P(signal k | x_i) sum_a mu(a | k) correct[i, a]
        out["posterior"] = float(np.sum(np.asarray(advisor_signals) * (c @ post), axis=1).mean())
    return out


class PersuasionReport(NamedTuple):
    """Outcome of :func:`persuasion_loop`."""

    accuracy: dict  # condition -> held-out accuracy (also "online" if fitted)
    fit_value: float  # LP value on the fitted table (the optimised accuracy there)
    scheme: np.ndarray  # [A, A] fitted LP scheme pi(recommended category | state)
    online_scheme: np.ndarray | None  # [A, A] online learner's scheme
    advisor_scheme: np.ndarray | None  # [A, K] advisor's committed scheme (fit tasks)
    utility_fit: np.ndarray  # [A, A] accuracy table of the fit tasks
    utility_eval: np.ndarray  # [A, A] accuracy table of the evaluation tasks
    prior: np.ndarray  # [A] state frequencies of the fit tasks
    categories: tuple
    calls: int  # receiver calls
    fit_index: np.ndarray
    eval_index: np.ndarray


def persuasion_loop(receiver: Receiver, tasks: Sequence[InformationTask], advisor=None,
                    fit_fraction: float | None = 0.5, online: bool = True, seed: int = 0,
                    sender_utility=None, progress: bool = False,
                    table: UtilityTable | None = None) -> PersuasionReport:
    """Measure, fit and report (module docstring).

    Tasks are split (seeded permutation) into a fraction ``fit_fraction`` on which the prior,
    the utility table, the LP scheme, the online scheme and the advisor's committed scheme are
    fitted, and the rest on which the conditions are evaluated; ``fit_fraction=None`` fits and
    evaluates on all tasks. ``advisor``: a :class:`TabularAdvisor` or :class:`LMAdvisor` (or
    ``None``); ``table``: a previously measured table to reuse instead of calling ``receiver``.
    """
    tasks = list(tasks)
    if table is None:
        table = measure_utilities(receiver, tasks, progress=progress)
    elif len(table.states) != len(tasks):
        raise ValueError("table and tasks have different lengths.")
    n = len(tasks)
    if fit_fraction is None:
        fit_idx = eval_idx = np.arange(n)
    else:
        if not 0 < fit_fraction < 1:
            raise ValueError(f"fit_fraction must be in (0, 1) or None; got {fit_fraction!r}.")
        perm = np.random.default_rng(seed).permutation(n)
        cut = int(round(fit_fraction * n))
        if not 0 < cut < n:
            raise ValueError(f"{n} tasks are too few to split with fit_fraction={fit_fraction}.")
        fit_idx, eval_idx = np.sort(perm[:cut]), np.sort(perm[cut:])
    fit, ev = table.subset(fit_idx), table.subset(eval_idx)
    problem = fit.problem(sender_utility)
    sol = optimal_scheme(problem)
    online_scheme = fit_scheme(fit, "online", sender_utility, seed=seed) if online else None
    signals = committed = None
    if advisor is not None:
        all_signals = np.asarray(advisor.task_scheme(tasks, table))
        a = len(table.categories)
        fit_signals = all_signals[fit_idx]
        committed = np.stack([fit_signals[fit.states == s].mean(axis=0) if np.any(fit.states == s)
                              else np.full(all_signals.shape[1], 1.0 / all_signals.shape[1])
                              for s in range(a)])
        signals = all_signals[eval_idx]
    acc = condition_accuracies(ev, problem.prior, sol.scheme, signals, committed)
    if online_scheme is not None:
        acc["online"] = condition_accuracies(ev, problem.prior, online_scheme)["optimised"]
    return PersuasionReport(acc, sol.value, sol.scheme, online_scheme, committed,
                            fit.utility(), ev.utility(), problem.prior, table.categories,
                            table.calls, fit_idx, eval_idx)
