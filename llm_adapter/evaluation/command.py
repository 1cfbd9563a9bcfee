"""``python -m llm_adapter population CKPT [CKPT ...] --output DIR``: checkpoints as a population.

Each checkpoint folder (a full model folder or a LoRA adapter folder the trainer wrote; also a
``.gguf`` file or a cached hub id) samples ``--num_samples`` responses to each held-out prompt
with fixed seeds; the judge compares every pair; the report (``population.json``,
``report.md``, ``win_rates.png``, ``exploitability.png``, ``last_vs_average.png``) goes to
``--output``. Samples and verdicts are cached in ``--cache`` (default ``OUTPUT/cache``): running
again with one more checkpoint samples and judges only that one.

A folder named ``checkpoint-<step>`` belongs to the run named by its parent folder, at that
step; other folders form the run ``checkpoints`` in the order given. Member names are
``run/checkpoint-<step>`` or the folder's name.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

__all__ = ["add_parser", "run", "FLAGS"]

#: Flags of the ``population`` subcommand: (default, type, help).
FLAGS = {
    "judge": ("initial", "yaml", "'initial' (an LLM judge made of --base, else of the first "
                                 "checkpoint), '{llm_judge: FOLDER}' or '{reward_model: FOLDER, "
                                 "beta: 1.0}'"),
    "prompts": (16, str, "held-out prompts: N (the last N shipped prompts, those that `train "
                         "--eval_prompts N` holds out) or a .json/.jsonl/.csv/.parquet file or "
                         "save_to_disk folder with a 'prompt' column"),
    "num_samples": (4, int, "responses sampled per prompt and checkpoint"),
    "max_new_tokens": (64, int, "longest response, in tokens"),
    "temperature": (1.0, float, "sampling temperature"),
    "seed": (0, int, "seed of the samples (each checkpoint's noise also depends on its name) "
                     "and of the bootstrap"),
    "base": (None, str, "base model of LoRA adapter checkpoints: a folder, smollm2 or a cached "
                        "hub id; null: each adapter's base_model_name_or_path"),
    "dtype": ("float32", str, "weights' dtype: float32, float64 or bfloat16"),
    "bootstrap": (1000, int, "bootstrap resamples of the prompts for the intervals"),
    "confidence": (0.95, float, "confidence level of the intervals"),
    "batch_size": (8, int, "prompts per generation batch"),
    "cache": (None, str, "folder of cached samples and verdicts; null: OUTPUT/cache"),
}
_DTYPES = ("float32", "float64", "bfloat16")
_STEP = re.compile(r"checkpoint-(\d+)")


def add_parser(sub, describe):
    """Add the ``population`` subcommand to the ``python -m llm_adapter`` subparsers ``sub``;
    ``describe(help, default)`` formats each flag's help with its default."""
    import yaml

    p = sub.add_parser(
        "population", help="judge checkpoints against each other: the population meta-game",
        description="Sample every checkpoint on held-out prompts, judge every pair, and report "
                    "the win-rate matrix, the population's Nash (exact LP), each checkpoint's "
                    "exploitability within the population (max_j P[j, i] - 1/2 = NashConv/2), "
                    "last vs uniform average per run and the Nash's duality gap, with "
                    "bootstrap intervals over prompts.")
    p.add_argument("checkpoints", nargs="+", metavar="CKPT",
                   help="checkpoint folders (full model or LoRA adapter), .gguf files or cached "
                        "hub ids; checkpoint-<step> folders are grouped by their parent folder")
    p.add_argument("--output", required=True, metavar="DIR",
                   help="folder for population.json, report.md and the figures")
    for key, (default, kind, text) in FLAGS.items():
        p.add_argument(f"--{key}", type=yaml.safe_load if kind == "yaml" else kind,
                       default=default, metavar="VALUE", help=describe(text, default))
    return p


def _members(paths) -> list[tuple[str, str, str, int | None]]:
    """``(path, name, run, step)`` for every checkpoint argument."""
    out = []
    for raw in paths:
        path = Path(raw)
        m = _STEP.fullmatch(path.name)
        if m and path.parent.name:
            run, step, name = path.parent.name, int(m.group(1)), f"{path.parent.name}/{path.name}"
        else:
            run, step, name = "checkpoints", None, path.name or str(raw)
        out.append((raw, name, run, step))
    names = [n for _, n, _, _ in out]
    if len(set(names)) != len(names):  # the same folder name twice: use the paths as given
        out = [(raw, str(raw), run, step) for raw, _, run, step in out]
    if len({n for _, n, _, _ in out}) != len(out):
        raise ValueError("a checkpoint is given twice.")
    return out


def _prompts(spec):
    from ..cli import _dataset
    from ..data.prompts import prompt_dataset

    try:
        n = int(spec)
    except (TypeError, ValueError):
        return list(_dataset(spec, None, "prompts")["prompt"])
    full = prompt_dataset()
    if not 1 <= n <= len(full):
        raise ValueError(f"--prompts must be a file or an integer in [1, {len(full)}]; got {n}.")
    return list(full.select(range(len(full) - n, len(full)))["prompt"])


def _judge(spec, first, base, dtype):
    """``(oracle, tokenizer, judge name, the base model if loaded)`` for the ``--judge``
    spec."""
    from .. import cli, models
    from ..judges.oracles import LLMJudge
    from .policies import checkpoint_source, load_checkpoint

    if spec == "initial":
        if base is not None:
            model, tokenizer = models.load_model(base, dtype=dtype)
            source = checkpoint_source(base) if Path(base).exists() else base
        else:
            model, tokenizer = load_checkpoint(first, dtype=dtype)
            source = checkpoint_source(first)
        judge = LLMJudge(model.eval(), tokenizer, cache=True)
        return judge, tokenizer, f"initial:{source}", model if base is not None else None
    if isinstance(spec, dict):
        model, tokenizer = (models.load_model(base, dtype=dtype) if base is not None
                            else load_checkpoint(first, dtype=dtype))
        judge, _ = cli._judge(spec, None, tokenizer, dtype)
        return judge, tokenizer, json.dumps(spec, sort_keys=True), (
            model if base is not None else None)
    raise ValueError("judge must be 'initial', {llm_judge: folder} or {reward_model: folder[, "
                     f"beta: b]}}; got {spec!r}.")


def run(args: dict, parser) -> int:
    """Run the ``population`` subcommand on the parsed ``args``; bad input is one line on
    stderr and exit status 2 (``parser.error``)."""
    import torch

    from .population import Population
    from .report import write_report

    try:
        for key in ("num_samples", "max_new_tokens", "batch_size"):
            if args[key] < 1:
                raise ValueError(f"--{key} must be at least 1; got {args[key]}.")
        if args["bootstrap"] < 0:
            raise ValueError(f"--bootstrap must be >= 0; got {args['bootstrap']}.")
        if not 0 < args["confidence"] < 1:
            raise ValueError(f"--confidence must lie in (0, 1); got {args['confidence']}.")
        if not args["temperature"] > 0:
            raise ValueError(f"--temperature must be positive; got {args['temperature']}.")
        if args["dtype"] not in _DTYPES:
            raise ValueError(f"--dtype must be one of {_DTYPES}; got {args['dtype']!r}.")
        dtype = getattr(torch, args["dtype"])
        members = _members(args["checkpoints"])
        for raw, *_ in members:
            text = str(raw)
            hub_id = text.count("/") == 1 and not text.startswith((".", "/", "~"))
            if not Path(raw).exists() and not hub_id:
                raise ValueError(f"checkpoint {text!r} does not exist (give checkpoint folders, "
                                 ".gguf files or cached hub ids owner/name).")
        prompts = _prompts(args["prompts"])
        output = Path(args["output"])
        if output.exists() and not output.is_dir():
            raise ValueError(f"--output {str(output)!r} is a file; give a folder.")
        base = args["base"]
        oracle, tokenizer, judge_name, base_model = _judge(args["judge"], members[0][0], base,
                                                           dtype)
        pop = Population(prompts, oracle, cache_dir=args["cache"] or output / "cache",
                         judge_name=judge_name, tokenizer=tokenizer)
        for raw, name, run_name, step in members:
            print(f"population: {name}", file=sys.stderr, flush=True)
            pop.add_checkpoint(raw, name=name, run=run_name, step=step,
                               base=base_model if base_model is not None else base,
                               dtype=dtype, k=args["num_samples"], seed=args["seed"],
                               max_new_tokens=args["max_new_tokens"],
                               temperature=args["temperature"], batch_size=args["batch_size"])
        report = pop.analyse(bootstrap=args["bootstrap"], confidence=args["confidence"],
                             seed=args["seed"])
        paths = write_report(report, output)
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e).replace("\n", " "))
    print(json.dumps({"output": str(output), "members": len(pop), "prompts": len(prompts),
                      "judged_rows": pop.judged_rows,
                      "runs": {r.name: {"last": r.last.value, "average": r.average.value}
                               for r in report.runs},
                      "files": sorted(p.name for p in paths.values())}))
    return 0


def main(argv=None) -> int:  # pragma: no cover - python -m llm_adapter population is the entry
    from ..cli import main as cli_main

    return cli_main(["population", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
