"""Step time and peak memory of the self-play trainer's optimisation step against a plain torch
forward + backward + AdamW step on the same batch and model.

    python benchmarks/llm_step_overhead.py --model smollm2   # or --model tiny, or a local path

Both variants score the same ``B x K`` prompt/completion rows, back-propagate and step AdamW.
The plain variant's loss is the masked token cross-entropy from one forward pass; the trainer
variant runs ``SelfPlayTrainer.optimisation_step`` (masked float32 log-softmax sequence
log-probs + the MPO loss on cached log-probs of pi_t and the magnet). Only one model is
resident in both. Each variant runs in its own subprocess so that its peak memory (peak RSS on
CPU, ``torch.cuda.max_memory_allocated`` on CUDA) is its own. Uses CUDA if present.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch


def _setup(model_name):
    from llm_adapter import MatrixOracle, SelfPlayConfig, SelfPlayTrainer, models

    if model_name == "tiny":
        tokenizer = models.tiny_tokenizer()
        model = models.tiny_causal_lm(tokenizer)
    else:
        model, tokenizer = models.load_model(model_name)
    prompts = models.format_prompts(tokenizer, models.load_prompts(4))
    k = 4
    completions = [f"Answer {j}: " + "a short reply with a few words " * (1 + j % 3)
                   for _ in prompts for j in range(k)]
    flat_p = [p for p in prompts for _ in range(k)]
    oracle = MatrixOracle([[0.5]])
    cfg = SelfPlayConfig(algorithm="mpo", k=k, lr=1e-5, max_grad_norm=None)
    trainer = SelfPlayTrainer(model, tokenizer, oracle, cfg)
    return trainer, flat_p, completions, len(prompts), k


def _run_variant(variant, model_name, reps):
    from llm_adapter.logprobs import encode

    trainer, flat_p, comps, b, k = _setup(model_name)
    model, dev = trainer.model, trainer.device
    torch.manual_seed(0)
    if variant == "trainer":
        with torch.no_grad():
            old = trainer._logps(flat_p, comps).view(b, k).float()
        ref = old - 0.01 * torch.randn_like(old)
        win = torch.rand(b, k, device=dev)

        def step():
            trainer.optimisation_step(flat_p, comps, old, win, ref)
    else:
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

        def step():
            batch = encode(trainer.tokenizer, flat_p, comps, add_eos=False, device=dev)
            logits = model(input_ids=batch["input_ids"],
                           attention_mask=batch["attention_mask"]).logits[:, :-1]
            labels = batch["input_ids"][:, 1:].masked_fill(batch["completion_mask"][:, 1:] == 0,
                                                           -100)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                     labels.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    step()  # warm-up (allocates optimiser state)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
        kind = "CUDA max_memory_allocated"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        kind = "peak RSS"
    tokens = sum(len(c) for c in comps)
    return {"variant": variant, "median_s": statistics.median(times), "min_s": min(times),
            "peak_mib": peak, "memory": kind, "device": str(dev), "rows": b * k,
            "completion_chars": tokens}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--variant", choices=["plain", "trainer"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.variant:
        print(json.dumps(_run_variant(args.variant, args.model, args.reps)))
        return None
    res = {}
    for variant in ("plain", "trainer", "plain", "trainer"):  # interleaved, best of two runs
        out = subprocess.run([sys.executable, __file__, "--model", args.model, "--reps",
                              str(args.reps), "--variant", variant], capture_output=True,
                             text=True, check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        if variant not in res or r["median_s"] < res[variant]["median_s"]:
            res[variant] = r
    p, t = res["plain"], res["trainer"]
    print(f"model {args.model} on {p['device']}, batch {p['rows']} rows, {args.reps} reps")
    print(f"plain torch fwd+bwd+AdamW : {p['median_s']*1e3:8.1f} ms/step  "
          f"{p['memory']} {p['peak_mib']:.0f} MiB")
    print(f"trainer optimisation_step : {t['median_s']*1e3:8.1f} ms/step  "
          f"{t['memory']} {t['peak_mib']:.0f} MiB")
    print(f"time overhead {100 * (t['median_s'] / p['median_s'] - 1):+.1f} %, "
          f"memory overhead {100 * (t['peak_mib'] / p['peak_mib'] - 1):+.1f} %")
    return res


if __name__ == "__main__":
    main()
