"""The advisor / receiver loop with a deterministic mock receiver and a tiny offline LM."""

import collections
import json
import re
import runpy
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch

from llm_adapter import persuasion as pl

CATS = ("add", "divide", "multiply", "subtract")  # sorted, the loop's default order


class MockReceiver:
    """Copies the result of the hint's equation; without a hint it solves additions and
    subtractions and fails the rest. Its accuracy therefore depends on the hint: 1 with the
    item of the task's own operation, 0 with any other item (the generator guarantees that no
    other item contains the answer), 1 or 0 without context."""

    def __init__(self, tasks):
        self.by_question = {t.question: t for t in tasks}
        self.calls = 0

    def __call__(self, prompt: str) -> str:
        self.calls += 1
        question = re.search(r"Problem: (.*)\n", prompt).group(1)
        hint = re.search(r"Hint: .*= (\d+)", prompt)
        if hint:
            return f"The answer is {hint.group(1)}."
        task = self.by_question[question]
        return task.answer if task.state in ("add", "subtract") else "I do not know."


@pytest.fixture(scope="module")
def tasks():
    return pl.load_word_problems(120)


@pytest.fixture(scope="module")
def state_freq(tasks):
    counts = collections.Counter(t.state for t in tasks)
    return np.array([counts[c] / len(tasks) for c in CATS])


def test_shipped_task_set_is_the_generator_output():
    path = Path(str(resources.files("llm_adapter").joinpath("data/word_problems.json")))
    gen = runpy.run_path(str(path.with_name("make_word_problems.py")))
    assert json.loads(path.read_text()) == json.loads(json.dumps(gen["make_word_problems"]()))
    tasks = pl.load_word_problems()
    assert len(tasks) == 200 and {t.state for t in tasks} == set(CATS)
    for t in tasks:  # only the item of the task's own operation holds the answer
        holders = [c for c, item in t.items.items()
                   if t.answer in re.findall(r"\d+", item.split("=")[1])]
        assert holders == [t.state], t


def test_grade_is_exact_match_of_the_first_number():
    assert pl.grade(" 36.", "36") and pl.grade("The answer is 1,032", "1032")
    assert not pl.grade("12 * 8 = 96", "96") and not pl.grade("no idea", "3")


def test_mock_table_and_conditions_in_sample(tasks, state_freq):
    receiver = MockReceiver(tasks)
    report = pl.persuasion_loop(receiver, tasks, fit_fraction=None, online=False)
    # The mock's table by construction: identity utility, 0/1 no-context accuracy.
    np.testing.assert_allclose(report.utility_fit, np.eye(4))
    assert report.calls == receiver.calls == 5 * len(tasks)
    acc = report.accuracy
    # Closed forms from the mock's definition, mu = state frequencies:
    assert acc["no_context"] == pytest.approx(state_freq[0] + state_freq[3])  # add + subtract
    assert acc["prior"] == pytest.approx(np.sum(state_freq**2))  # the drawn item matches
    assert acc["optimised"] == pytest.approx(1.0)  # recommend the task's own item
    # The optimised scheme equals the LP optimum of the measured table and beats both
    # baselines.
    assert report.fit_value == pytest.approx(acc["optimised"], abs=1e-9)
    assert acc["optimised"] > acc["no_context"] and acc["optimised"] > acc["prior"]


def test_posterior_condition_matches_sampling_the_loop(tasks, state_freq):
    """The exact expectation of the posterior condition against a Monte-Carlo run that samples
    a signal, samples the item's category from the posterior, renders it into the prompt and
    calls the receiver."""
    noisy = np.full((4, 4), 0.1) + 0.6 * np.eye(4)  # pi(signal = own state | state) = 0.7
    receiver = MockReceiver(tasks)
    report = pl.persuasion_loop(receiver, tasks, advisor=pl.TabularAdvisor(noisy),
                                fit_fraction=None, online=False)
    joint = state_freq[:, None] * noisy
    posterior = joint / joint.sum(axis=0)  # [state, signal]
    rng = np.random.default_rng(0)
    hits, draws = 0, 0
    for t in tasks:
        s = CATS.index(t.state)
        for _ in range(40):
            sig = rng.choice(4, p=noisy[s])
            item = CATS[rng.choice(4, p=posterior[:, sig])]
            hits += pl.grade(receiver(pl.render_prompt(t, t.items[item])), t.answer)
            draws += 1
    mc = hits / draws
    stderr = np.sqrt(mc * (1 - mc) / draws)
    assert abs(report.accuracy["posterior"] - mc) < 4 * stderr
    # An informative advisor helps over the prior draw; an uninformative one is the prior.
    assert report.accuracy["posterior"] > report.accuracy["prior"]
    flat = pl.persuasion_loop(receiver, tasks, advisor=pl.TabularAdvisor(np.full((4, 4), 0.25)),
                              fit_fraction=None, online=False)
    assert flat.accuracy["posterior"] == pytest.approx(np.sum(state_freq**2))


def test_held_out_split_and_online_learner(tasks):
    receiver = MockReceiver(tasks)
    table = pl.measure_utilities(receiver, tasks)
    report = pl.persuasion_loop(receiver, tasks, table=table, fit_fraction=0.5, seed=3)
    assert receiver.calls == 5 * len(tasks)  # the table was reused
    assert len(report.fit_index) == 60 and len(np.intersect1d(report.fit_index,
                                                              report.eval_index)) == 0
    assert report.accuracy["optimised"] == pytest.approx(1.0)
    # The robust online learner (60 rounds, unknown prior) is obedient but conservative: it
    # may fall back to revealing less; it is never worse than the prior draw here.
    assert report.accuracy["prior"] <= report.accuracy["online"] <= 1.0 + 1e-12
    np.testing.assert_allclose(report.online_scheme.sum(axis=1), 1.0)


def test_bad_inputs(tasks):
    with pytest.raises(ValueError, match="tasks is empty"):
        pl.measure_utilities(MockReceiver(tasks), [])
    with pytest.raises(ValueError, match="one string per prompt"):
        pl.measure_utilities(lambda p: 3, tasks[:2])
    with pytest.raises(ValueError, match="rows sum to 1"):
        pl.TabularAdvisor([[0.5, 0.6]])
    with pytest.raises(ValueError, match="fit_fraction"):
        pl.persuasion_loop(MockReceiver(tasks), tasks[:4], fit_fraction=1.5)
    with pytest.raises(ValueError, match="method"):
        pl.fit_scheme(pl.measure_utilities(MockReceiver(tasks), tasks[:4]), method="magic")


def test_hf_receiver_and_lm_advisor_on_a_tiny_model(tokenizer, tiny_model, tasks):
    receiver = pl.HFReceiver(tiny_model, tokenizer, max_new_tokens=2, batch_size=4)
    table = pl.measure_utilities(receiver, tasks[:2])
    assert receiver.calls == table.calls == 10
    assert all(isinstance(r, str) for row in table.responses for r in row)
    again = pl.measure_utilities(receiver, tasks[:2])  # greedy decoding is deterministic
    assert again.responses == table.responses
    texts = [" addition", " division", " multiplication", " subtraction"]
    advisor = pl.LMAdvisor(tiny_model, tokenizer, texts)
    probs = advisor.task_scheme(tasks[:2])
    # Independent check: score each signal text with a plain forward pass over the full string.
    for t, row in zip(tasks[:2], probs):
        prompt = advisor.template.format(question=t.question)
        scores = []
        for text in texts:
            p_ids = tokenizer(prompt)["input_ids"]
            c_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([p_ids + c_ids])
            with torch.no_grad():
                logp = torch.log_softmax(tiny_model(ids).logits[0, :-1].double(), dim=-1)
            scores.append(sum(logp[len(p_ids) - 1 + j, c].item() for j, c in enumerate(c_ids)))
        expected = np.exp(np.array(scores) - np.logaddexp.reduce(scores))
        np.testing.assert_allclose(row, expected, atol=1e-5)
