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

__all__ = ["SelfPlayConfig", "ALGORITHMS", "PAPER_SETTINGS", "REPORT_TO", "MIXED_PRECISION"]

ALGORITHMS = ("sppo", "sppo_pairwise", "mpo", "mpo_token", "comal", "inpo", "nash_md")
#: Names that changed, with what to use instead.
RENAMED = {"sppo_pointwise": "'sppo' is now the SPPO paper's pointwise loss (what "
                             "'sppo_pointwise' was); the pairwise variant is 'sppo_pairwise'"}
EPOCH = "epoch"
REPORT_TO = ("none", "tensorboard", "csv")
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


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


@dataclasses.dataclass
class SelfPlayConfig:
    """Hyper-parameters of :class:`~llm_adapter.trainer.SelfPlayTrainer`.

    Batching: one self-play iteration (``max_steps`` of them) draws a global batch of
    ``per_device_batch_size * gradient_accumulation_steps * num_processes`` prompts, samples
    ``num_generations`` responses for each, judges them, and takes ``num_iterations`` optimiser
    steps, each accumulating gradients over ``gradient_accumulation_steps`` micro-batches.

    Generation: ``steps_per_generation`` iterations share one generation from the same frozen
    ``pi_t`` (sampled, judged and scored up front for all their prompts; ``"epoch"``: the whole
    prompt set, SPPO's schedule; 1: a fresh generation every iteration, the online default).
    ``max_prompt_length`` keeps the last that many prompt tokens. Evaluation: every
    ``eval_steps`` iterations (and at the end) the win rate of fresh samples against
    ``initial_samples`` samples of the initial policy on the eval prompts, and ``KL(pi || pi_0)``.

    Rule: ``eta`` is the step size (SPPO ``beta = 1/eta``), ``temp`` MPO's magnet strength
    ``alpha`` / INPO-COMAL-Nash-MD's ``tau``; ``ref_update_steps`` resets the reference / magnet to
    the current policy every that many iterations (MPO's magnet period, COMAL's outer step; None:
    never; ``"paper"``: the paper's period). ``None`` fields take the algorithm's
    :data:`PAPER_SETTINGS`.
    """

    output_dir: str = "selfplay_output"
    algorithm: str = "mpo"
    eta: float | None = None
    temp: float | None = None
    ref_update_steps: int | None | str = "paper"
    num_generations: int | None = None
    per_device_batch_size: int = 2
    gradient_accumulation_steps: int = 1
    max_steps: int = 10
    num_iterations: int = 1
    learning_rate: float | None = None
    optim: str | None = None
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    max_new_tokens: int = 64
    max_prompt_length: int | None = None
    temperature: float = 1.0
    steps_per_generation: int | str | None = None
    eval_steps: int | None = None
    mixed_precision: str = "no"
    initial_samples: int = 2
    logging_steps: int = 1
    save_steps: int | None = None
    report_to: str | list = "none"
    seed: int = 0

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
        for name in ("ref_update_steps", "save_steps", "eval_steps", "max_prompt_length"):
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
