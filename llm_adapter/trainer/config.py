"""Hyper-parameters of the self-play trainer, TRL style, with each paper's recommended settings.

:class:`SelfPlayConfig` reads like TRL's ``OnlineDPOConfig`` / ``NashMDConfig``: ``output_dir``,
``per_device_batch_size`` (prompts per process per micro-batch), ``num_generations`` (``K``
responses per prompt), ``gradient_accumulation_steps``, ``logging_steps``, ``save_steps``,
``max_steps`` (self-play iterations), ``num_iterations`` (optimiser steps on each iteration's
samples, TRL-GRPO's ``mu``), ``report_to``, ``seed``, plus the rule's parameters. Every value is
validated on construction; a bad one raises one ``ValueError`` that names it and the fix.

Fields left at ``None`` are filled from :data:`PAPER_SETTINGS` for the chosen ``algorithm``, so
``SelfPlayConfig(algorithm="sppo")`` is SPPO as its paper ran it (``eta = 1/beta = 1000``, K = 5)
and the default ``SelfPlayConfig()`` is MPO whose magnet is reset every ``ref_update_steps = 10``
iterations. :meth:`SelfPlayConfig.from_paper` names the four papers explicitly.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from pathlib import Path

from .schedules import SCHEDULER_TYPES
from .tracking import TRACKERS

__all__ = ["SelfPlayConfig", "ALGORITHMS", "PAPER_SETTINGS", "REPORT_TO", "MIXED_PRECISION"]

ALGORITHMS = ("sppo", "sppo_pairwise", "mpo", "mpo_token", "comal", "inpo", "nash_md")
#: Names that changed, with what to use instead.
RENAMED = {"sppo_pointwise": "'sppo' is now the SPPO paper's pointwise loss (what "
                             "'sppo_pointwise' was); the pairwise variant is 'sppo_pairwise'"}
EPOCH = "epoch"
REPORT_TO = TRACKERS
MIXED_PRECISION = ("no", "bf16", "fp16")
OPTIMIZERS = ("adamw", "rmsprop")

#: Recommended settings per algorithm, in this package's parameterisation (``eta`` = the rule's
#: step size, ``temp`` = MPO's magnet strength alpha / INPO-COMAL-Nash-MD's tau,
#: ``ref_update_steps`` = iterations between resets of the reference / magnet to the current
#: policy, ``None`` = never). ``source`` says where each number comes from.
PAPER_SETTINGS = {
    "sppo": dict(
        eta=1000.0, temp=None, ref_update_steps=None, num_generations=5, learning_rate=5e-7,
        optim="rmsprop", steps_per_generation=EPOCH,
        source="Wu et al. 2024 (SPPO), Algorithm 1 and code uclaml/SPPO scripts/pipeline.sh and "
               "generate.sh: each iteration samples 5 responses for the whole prompt set from "
               "the fixed pi_t, ranks them, then trains on the pointwise loss (eq. (3.6)); "
               "beta = 1e-3 (eta = 1/beta = 1000), RMSprop, lr 5e-7"),
    "comal": dict(
        eta=500.0, temp=0.002 / 3, ref_update_steps=12, num_generations=5, learning_rate=5e-7,
        optim="adamw", steps_per_generation=1,
        source="Liu et al. 2024 (COMAL), code yale-nlp/COMAL comal.sh and inpo.py: eta_c = 0.002, "
               "tau/eta ratio r = 1/3 (eta = 1/eta_c = 500, tau = r * eta_c), reference "
               "advanced every 12 iterations, 5 samples per prompt, AdamW max lr 5e-7"),
    "nash_md": dict(
        eta=0.125 / 0.008, temp=0.008, ref_update_steps=None, num_generations=2,
        learning_rate=5e-7, optim="adamw", steps_per_generation=1,
        source="Munos et al. 2024 (Nash-MD), Sec. 8: mixture coefficient beta = eta * tau = "
               "0.125 (best Nash-MD-PG) and regularisation tau = 0.008; pairs of responses; "
               "fixed reference. The learning rate is not from the paper"),
    "mpo": dict(
        eta=10.0, temp=0.2, ref_update_steps=10, num_generations=4, learning_rate=5e-7,
        optim="adamw", steps_per_generation=1,
        source="Wang et al. 2024 (MPO) reset the magnet to the current policy periodically "
               "(Algorithm 1) but publish no code; eta = 10, alpha = 0.2 and a reset every 10 "
               "iterations are the MMD settings with which tests/llm_adapter/"
               "test_llm_selfplay_toy.py reaches the COMAL 3x3 game's Nash equilibrium. The "
               "learning rate follows SPPO / COMAL"),
}
# Variants share their family's settings; plain INPO (Zhang et al. 2024) never moves pi_ref.
PAPER_SETTINGS["sppo_pairwise"] = dict(
    PAPER_SETTINGS["sppo"], steps_per_generation=1,
    source="the log-partition-free (pairwise) form of SPPO's MWU step, whose minimiser is the "
           "exact rules.mwu step; SPPO's parameters, a fresh generation every iteration")
PAPER_SETTINGS["mpo_token"] = dict(PAPER_SETTINGS["mpo"])
PAPER_SETTINGS["inpo"] = dict(PAPER_SETTINGS["comal"], ref_update_steps=None,
                              source="INPO (Zhang et al. 2024) = COMAL's inner loss with a fixed "
                                     "reference; parameters as COMAL")

_PAPERS = ("sppo", "mpo", "comal", "nash_md")
_PAPER = "paper"  # ref_update_steps sentinel: take the paper's period
_FROM_TABLE = ("eta", "temp", "ref_update_steps", "num_generations", "learning_rate", "optim",
               "steps_per_generation")


def _field(default, help: str, choices=None):
    """A dataclass field with its command-line help (and choices) in the metadata."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


@dataclasses.dataclass
class SelfPlayConfig:
    """Hyper-parameters of :class:`~llm_adapter.trainer.selfplay.SelfPlayTrainer`.

    Batching: one self-play iteration (``max_steps`` of them) draws a global batch of
    ``per_device_batch_size * gradient_accumulation_steps * num_processes`` prompts, samples
    ``num_generations`` responses for each, judges them, and takes ``num_iterations`` optimiser
    steps, each accumulating gradients over ``gradient_accumulation_steps`` micro-batches.

    Generation: ``steps_per_generation`` iterations share one generation from the same frozen
    ``pi_t`` (sampled, judged and scored up front for all their prompts; ``"epoch"``: the whole
    prompt set, SPPO's schedule; 1: a fresh generation every iteration, the online default).
    ``max_prompt_length`` keeps the last that many prompt tokens. Evaluation: every
    ``eval_steps`` iterations the win rate of fresh samples against
    ``initial_samples`` samples of the initial policy on the eval prompts, and ``KL(pi || pi_0)``.

    Rule: ``eta`` is the step size (SPPO ``beta = 1/eta``), ``temp`` MPO's magnet strength
    ``alpha`` / INPO-COMAL-Nash-MD's ``tau``; ``ref_update_steps`` resets the reference / magnet to
    the current policy every that many iterations (MPO's magnet period, COMAL's outer step; None:
    never; ``"paper"``: the paper's period). ``None`` fields take the algorithm's
    :data:`PAPER_SETTINGS`.
    """

    output_dir: str = _field("selfplay_output", "folder for checkpoints, history.json, the run "
                             "plot and the final model")
    algorithm: str = _field("mpo", "the update rule", ALGORITHMS)
    eta: float | None = _field(None, "the rule's step size (SPPO's beta = 1/eta)")
    temp: float | None = _field(None, "MPO's magnet strength alpha / INPO, COMAL, Nash-MD's "
                                "tau")
    ref_update_steps: int | None | str = _field(
        "paper", "iterations between resets of the reference / magnet to the current policy "
        "(null: never; 'paper': the paper's period)")
    num_generations: int | None = _field(None, "K, responses sampled per prompt")
    per_device_batch_size: int = _field(2, "prompts per process per micro-batch")
    gradient_accumulation_steps: int = _field(1, "micro-batches accumulated into one optimiser "
                                              "step")
    max_steps: int = _field(10, "self-play iterations to run")
    num_iterations: int = _field(1, "optimiser steps on each iteration's samples (TRL GRPO's mu)")
    learning_rate: float | None = _field(None, "peak learning rate")
    lr_scheduler_type: str = _field("constant", "learning-rate schedule "
                                    "(transformers.get_scheduler)", SCHEDULER_TYPES)
    warmup_steps: int = _field(0, "linear warmup over this many optimiser steps (wins over "
                               "warmup_ratio)")
    warmup_ratio: float = _field(0.0, "warmup as a fraction of all optimiser steps")
    optim: str | None = _field(None, "optimiser", OPTIMIZERS)
    weight_decay: float = _field(0.0, "decoupled weight decay")
    max_grad_norm: float | None = _field(1.0, "gradient clipping norm (null: no clipping)")
    gradient_checkpointing: bool = _field(False, "recompute activations in the backward pass "
                                          "(less memory, more time)")
    max_new_tokens: int = _field(64, "longest response, in tokens")
    max_prompt_length: int | None = _field(None, "keep the last this many prompt tokens (null: "
                                           "all)")
    temperature: float = _field(1.0, "sampling temperature")
    steps_per_generation: int | str | None = _field(
        None, "iterations trained on one generation of the frozen pi_t ('epoch': the whole "
        "prompt set, SPPO's schedule)")
    eval_steps: int | None = _field(None, "evaluate against the initial policy every this many "
                                    "iterations (needs eval prompts)")
    mixed_precision: str = _field("no", "autocast the forward passes (log-softmax stays "
                                  "float32)", MIXED_PRECISION)
    frozen_offload: bool = _field(False, "full fine-tuning: keep the frozen initial / reference "
                                  "copies in host memory and move them in to score")
    initial_samples: int = _field(2, "samples of the initial policy per eval prompt (the "
                                  "opponents of the eval win rate)")
    logging_steps: int = _field(10, "log to report_to every this many iterations (and the "
                                "last); kl_step, which costs a forward, is computed on these")
    save_steps: int | None = _field(None, "write checkpoint-<step> every this many iterations "
                                    "(null: never)")
    save_total_limit: int | None = _field(None, "keep at most this many checkpoints (the oldest "
                                          "are deleted; null: all)")
    save_merged: bool = _field(False, "LoRA: also write output_dir/merged, the adapter merged "
                               "into the base weights (loads without peft)")
    report_to: str | list = _field("none", "trackers, one or a list", REPORT_TO)
    seed: int = _field(0, "seed of the prompt order and of every sample")

    def __post_init__(self):
        if self.algorithm in RENAMED:
            raise ValueError(f"algorithm {self.algorithm!r} was renamed: "
                             f"{RENAMED[self.algorithm]}.")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}; got {self.algorithm!r}.")
        paper = PAPER_SETTINGS[self.algorithm]
        # None means "the paper's value", except for ref_update_steps where None means "never
        # reset" and the string "paper" asks for the paper's period.
        for name in _FROM_TABLE:
            if getattr(self, name) is (_PAPER if name == "ref_update_steps" else None):
                setattr(self, name, paper[name])
        if self.temp is None:  # SPPO has no reference term; keep a number for the dict form
            self.temp = 0.0
        self._validate()

    def _validate(self) -> None:
        if not isinstance(self.output_dir, (str, os.PathLike)) or not str(self.output_dir):
            raise ValueError(f"output_dir must be a non-empty path; got {self.output_dir!r}.")
        for name in ("eta", "learning_rate", "temperature"):
            v = getattr(self, name)
            if not (_is_real(v) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite positive number; got {v!r}.")
        if not (_is_real(self.temp) and math.isfinite(self.temp) and self.temp >= 0):
            raise ValueError(f"temp must be a finite number >= 0; got {self.temp!r}.")
        if self.algorithm in ("mpo", "mpo_token", "comal", "inpo", "nash_md") and self.temp == 0:
            raise ValueError(f"{self.algorithm} needs temp > 0 (its regularisation strength); "
                             "got 0.")
        if not (_is_real(self.weight_decay) and math.isfinite(self.weight_decay)
                and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a finite number >= 0; got "
                             f"{self.weight_decay!r}.")
        if self.max_grad_norm is not None and not (
                _is_real(self.max_grad_norm) and math.isfinite(self.max_grad_norm)
                and self.max_grad_norm > 0):
            raise ValueError(f"max_grad_norm must be a finite positive number or None; got "
                             f"{self.max_grad_norm!r}.")
        for name, low in (("num_generations", 1), ("per_device_batch_size", 1),
                          ("gradient_accumulation_steps", 1), ("max_steps", 1),
                          ("num_iterations", 1), ("max_new_tokens", 1), ("initial_samples", 0),
                          ("logging_steps", 1), ("seed", 0)):
            v = getattr(self, name)
            if not (_is_int(v) and v >= low):
                raise ValueError(f"{name} must be an integer >= {low}; got {v!r}.")
        if self.steps_per_generation != EPOCH and not (
                _is_int(self.steps_per_generation) and self.steps_per_generation >= 1):
            raise ValueError(f"steps_per_generation must be an integer >= 1 or 'epoch'; got "
                             f"{self.steps_per_generation!r}.")
        for name in ("gradient_checkpointing", "frozen_offload", "save_merged"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false; got {getattr(self, name)!r}.")
        if self.lr_scheduler_type not in SCHEDULER_TYPES:
            raise ValueError(f"lr_scheduler_type must be one of {SCHEDULER_TYPES}; got "
                             f"{self.lr_scheduler_type!r}.")
        if not (_is_int(self.warmup_steps) and self.warmup_steps >= 0):
            raise ValueError(f"warmup_steps must be an integer >= 0; got {self.warmup_steps!r}.")
        if not (_is_real(self.warmup_ratio) and 0 <= self.warmup_ratio <= 1):
            raise ValueError(f"warmup_ratio must be a number in [0, 1]; got "
                             f"{self.warmup_ratio!r}.")
        for name in ("ref_update_steps", "save_steps", "eval_steps", "max_prompt_length",
                     "save_total_limit"):
            v = getattr(self, name)
            if v is not None and not (_is_int(v) and v >= 1):
                raise ValueError(f"{name} must be an integer >= 1 or None; got {v!r}.")
        if self.num_generations < 2 and self.algorithm != "mpo_token":
            raise ValueError(f"num_generations (K) must be >= 2 for {self.algorithm}: the "
                             "pairwise losses compare the responses of a prompt; got "
                             f"{self.num_generations}.")
        if self.algorithm == "nash_md" and self.eta * self.temp > 1:
            raise ValueError(
                f"nash_md mixes pi_t^(1-eta*temp) pi_ref^(eta*temp): eta * temp must be <= 1; "
                f"got {self.eta * self.temp:g}.")
        if self.optim not in OPTIMIZERS:
            raise ValueError(f"optim must be one of {OPTIMIZERS}; got {self.optim!r}.")
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision must be one of {MIXED_PRECISION}; got "
                             f"{self.mixed_precision!r}.")
        targets = [self.report_to] if isinstance(self.report_to, str) else self.report_to
        if not isinstance(targets, (list, tuple)) or not all(
                isinstance(t, str) and t in REPORT_TO for t in targets):
            raise ValueError(f"report_to must be one of {REPORT_TO} or a list of them; got "
                             f"{self.report_to!r}.")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_paper(cls, paper: str, **overrides) -> SelfPlayConfig:
        """The recommended settings of ``"sppo"``, ``"mpo"``, ``"comal"`` or ``"nash_md"``
        (:data:`PAPER_SETTINGS`, sources cited there), with ``overrides`` on top."""
        if paper not in _PAPERS:
            raise ValueError(f"from_paper knows {_PAPERS}; got {paper!r}.")
        if "algorithm" in overrides:
            raise ValueError("from_paper sets algorithm itself; pass the paper's name instead.")
        values = {k: PAPER_SETTINGS[paper][k] for k in _FROM_TABLE}
        values.update(overrides)
        return cls.from_dict({"algorithm": paper, **values})

    @classmethod
    def from_dict(cls, values: dict) -> SelfPlayConfig:
        """Build from a mapping (e.g. parsed YAML); unknown keys raise a ``ValueError``."""
        if not isinstance(values, dict):
            raise ValueError(f"a config must be a mapping of field: value; got "
                             f"{type(values).__name__}.")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; valid keys are {names}.")
        return cls(**values)

    def to_dict(self) -> dict:
        """Plain ``{field: value}`` (what checkpoints store and YAML files hold)."""
        return dataclasses.asdict(self)

    def report_targets(self) -> list[str]:
        """``report_to`` as a list without ``"none"``."""
        targets = [self.report_to] if isinstance(self.report_to, str) else list(self.report_to)
        return [t for t in targets if t != "none"]

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir)
