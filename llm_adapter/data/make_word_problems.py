"""Generate ``word_problems.json``: one-step arithmetic word problems with information items.

    python llm_adapter/data/make_word_problems.py            # rewrites the shipped file

Each problem needs one operation, its *state*: ``add``, ``subtract``, ``multiply`` or
``divide`` (drawn with probabilities 0.35 / 0.30 / 0.20 / 0.15, so the prior over states is not
uniform). Every problem carries one information item per category, a true arithmetic fact about
its two numbers (``"47 + 18 = 65"``, ``"47 - 18 = 29"``, ...); only the item of the problem's own
category gives its answer: the numbers are drawn so that the answer is neither one of them nor
any number in another item. Deterministic given the seed; nothing is downloaded.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

CATEGORIES = ("add", "subtract", "multiply", "divide")
PRIOR = (0.35, 0.30, 0.20, 0.15)
NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kemal",
         "Lena", "Maya", "Noah", "Omar", "Priya", "Rosa", "Sam", "Tariq", "Uma")
THINGS = ("apples", "pencils", "stickers", "marbles", "books", "coins", "cookies", "stamps",
          "shells", "cards")

TEMPLATES = {
    "add": (
        "{name} has {a} {things}. {name} gets {b} more {things}. How many {things} does {name} "
        "have now?",
        "A shelf holds {a} {things} and a box holds {b} {things}. How many {things} are there in "
        "all?",
        "{name} collected {a} {things} on Monday and {b} {things} on Tuesday. How many {things} "
        "did {name} collect altogether?",
    ),
    "subtract": (
        "{name} has {a} {things} and gives away {b} of them. How many {things} are left?",
        "There were {a} {things} in a jar. {name} took out {b}. How many {things} are still in "
        "the jar?",
        "{name} needs {a} {things} and already has {b}. How many more {things} does {name} "
        "need?",
    ),
    "multiply": (
        "{name} buys {a} bags with {b} {things} in each bag. How many {things} does {name} buy?",
        "There are {a} rows of {things} with {b} {things} in each row. How many {things} are "
        "there?",
        "{name} saves {b} {things} every day for {a} days. How many {things} does {name} save?",
    ),
    "divide": (
        "{name} shares {a} {things} equally among {b} friends. How many {things} does each "
        "friend get?",
        "{a} {things} are packed into {b} equal boxes. How many {things} go in each box?",
        "{name} puts {a} {things} into groups of {b}. How many groups does {name} make?",
    ),
}


def _facts(a: int, b: int) -> dict[str, tuple[str, int | None]]:
    """One true fact per category about ``a`` and ``b`` (text, integer result or None)."""
    hi, lo = max(a, b), min(a, b)
    q, r = divmod(hi, lo)
    div = f"{hi} / {lo} = {q}" if r == 0 else f"{hi} / {lo} = {q} remainder {r}"
    return {"add": (f"{a} + {b} = {a + b}", a + b),
            "subtract": (f"{hi} - {lo} = {hi - lo}", hi - lo),
            "multiply": (f"{a} * {b} = {a * b}", a * b),
            "divide": (div, q if r == 0 else None)}


def _operands(rng: random.Random, state: str) -> tuple[int, int, int]:
    if state == "add":
        a, b = rng.randint(12, 89), rng.randint(11, 79)
        return a, b, a + b
    if state == "subtract":
        a = rng.randint(40, 99)
        b = rng.randint(11, a // 2 - 1)  # a / b >= 2: the remainder is not a - b
        return a, b, a - b
    if state == "multiply":
        a, b = rng.randint(3, 12), rng.randint(4, 15)
        return a, b, a * b
    b, k = rng.randint(2, 9), rng.randint(3, 12)
    return b * k, b, k


def make_word_problems(n: int = 200, seed: int = 0) -> dict:
    """The task set as a JSON-ready dict (see the module docstring)."""
    rng = random.Random(seed)
    problems = []
    while len(problems) < n:
        state = rng.choices(CATEGORIES, weights=PRIOR)[0]
        a, b, answer = _operands(rng, state)
        facts = _facts(a, b)
        others = " ".join(text for cat, (text, _) in facts.items() if cat != state)
        if answer in (a, b) or str(answer) in re.findall(r"\d+", others):
            continue  # the answer would appear in the question or in another item
        name, things = rng.choice(NAMES), rng.choice(THINGS)
        question = rng.choice(TEMPLATES[state]).format(name=name, things=things, a=a, b=b)
        problems.append({"id": len(problems), "question": question, "answer": str(answer),
                         "state": state, "items": {c: facts[c][0] for c in CATEGORIES}})
    return {"description": "One-step arithmetic word problems; state = the operation needed; "
                           "items = one true fact per operation about the problem's numbers.",
            "generator": "llm_adapter/data/make_word_problems.py", "seed": seed,
            "categories": list(CATEGORIES), "problems": problems}


if __name__ == "__main__":
    out = Path(__file__).with_name("word_problems.json")
    out.write_text(json.dumps(make_word_problems(), indent=1) + "\n")
    print(f"wrote {out}")
