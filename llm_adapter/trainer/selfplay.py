"""Self-play preference optimisation of a Hugging Face causal LM with the rules of the core,
on ``accelerate`` so that one script runs on a CPU, one GPU, or many (DDP, FSDP, DeepSpeed).

Each iteration ``t`` of :class:`SelfPlayTrainer` (``max_steps`` of them):

1. takes this process's share of a global batch of prompts (the prompt stream is a fixed
   shuffle per epoch, sharded by ``accelerator.prepare`` of a ``DataLoader``; the global batch is
   ``per_device_batch_size * gradient_accumulation_steps * num_processes`` prompts);
2. **generate**: samples ``num_generations`` responses per prompt from ``pi_t`` (or, for
   Nash-MD, from the token-level geometric mixture ``pi_t^(1-eta tau) pi_ref^(eta tau)``), each
   response from its own seed (:mod:`llm_adapter.sampling.sampler`; the seed is a function of
   the run seed, the generation, the prompt's dataset index and epoch), so the samples do not
   depend on how the batch is split across processes. With ``steps_per_generation = S > 1`` (SPPO:
   ``"epoch"``) the prompts of ``S`` iterations are generated, judged and scored at once with
   the same frozen ``pi_t``, and the next ``S`` iterations train on them. A rollout dataset
   (:mod:`llm_adapter.data.rollouts`) replaces this phase by responses from any engine;
3. **judge**: ``P_hat(y > pi_t)`` as row means of the ``K x K`` preference matrix of each
   prompt (a pointwise judge such as a reward model scores each response once);
4. **score**: log-probs of the samples under the frozen ``pi_t`` (at generation) and under the
   reference / magnet (rules that have one);
5. **train**: ``num_iterations`` optimiser steps on the rule's loss (:mod:`llm_adapter.losses`),
   each accumulating gradients over the micro-batches (``accelerator.accumulate``; DDP averages
   across processes, so the step equals one step on the whole global batch);
6. resets the reference / magnet to the current policy every ``ref_update_steps`` iterations
   (MPO's magnet reset, COMAL's outer step).

Only the main process logs (``report_to``), saves and plots. Logged per iteration: the loss,
``kl_to_ref`` = ``KL(pi_t || pi_ref)`` (rules with a reference), on logged iterations
(every ``logging_steps`` and the last; it costs a forward of its own) ``kl_step`` =
``KL(pi_t || pi_{t+1})`` (k3 estimates on the samples, never negative:
:mod:`llm_adapter.scoring.kl`), response length, tokens per second, and the seconds of each
phase (``generate_seconds``, ``judge_seconds``, ``score_seconds``, ``train_seconds``). Every
``eval_steps`` iterations :meth:`SelfPlayTrainer.evaluate` logs the win rate of fresh samples
against the initial policy's on the eval prompts (``eval_win_rate_vs_initial``, with its
standard error) and ``eval_kl_to_initial``. Checkpoints: :mod:`llm_adapter.trainer.checkpoint`.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
import zlib
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType, GradientAccumulationPlugin, gather_object

from .. import losses, models
from ..data.prompts import conversation, prepare_prompts, prompt_token_ids
from ..data.rollouts import check_rollouts, is_rollout_dataset
from ..judges.adapters import as_oracle
from ..judges.oracles import estimate_win_rates, is_pointwise, score_groups, win_rates_from_scores
from ..sampling.mixture import GeometricMixtureProcessor
from ..sampling.sampler import generate, pad_prompts, row_seed
from ..scoring.frozen import AdapterSnapshot, FrozenCopy, frozen_policy
from ..scoring.kl import k3_kl
from ..scoring.logprobs import _check_prompts, completion_logps, encode
from . import checkpoint
from .callbacks import CallbackHandler
from .config import ALGORITHMS, EPOCH, SelfPlayConfig
from .schedules import make_scheduler
from .tracking import make_trackers, plot_history

__all__ = ["SelfPlayConfig", "SelfPlayTrainer", "ALGORITHMS"]

_RESUMABLE_CHANGES = {"output_dir", "max_steps", "save_steps", "logging_steps", "report_to",
                      "eval_steps", "save_total_limit", "save_merged", "frozen_offload"}
#: Rules whose loss has no reference / magnet term (their reference forward is skipped).
_NO_REFERENCE = ("sppo", "sppo_pairwise")
_PHASES = ("generate", "judge", "score", "train")


class _PromptStream(torch.utils.data.Dataset):
    """``(stream position, dataset index, epoch)`` triples: epoch ``e`` is the dataset in the
    order of ``random.Random(seed + e).shuffle``; the stream is ``length`` items long."""

    def __init__(self, n_prompts: int, length: int, seed: int):
        self.order: list[tuple[int, int]] = []
        epoch = 0
        while len(self.order) < length:
            perm = list(range(n_prompts))
            random.Random(seed + epoch).shuffle(perm)
            self.order += [(i, epoch) for i in perm]
            epoch += 1
        self.order = self.order[:length]

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i: int):
        return (i, *self.order[i])


def _collate(items):
    return list(items)


class SelfPlayTrainer:
    """Self-play trainer for ``model`` (a ``transformers`` causal LM, optionally PEFT-wrapped).

    ``tokenizer`` (or ``processing_class``, TRL's name): the policy's tokenizer.
    ``judge``: an oracle, a pairwise judge or a reward model
    (:func:`~llm_adapter.judges.adapters.as_oracle`; ``reward_tokenizer`` is a reward model's own
    tokenizer).
    ``train_dataset``: a ``datasets.Dataset`` with a ``prompt`` column or a list of prompts
    (chat-templated when the tokenizer has a template:
    :func:`~llm_adapter.data.prompts.prepare_prompts`), or a rollout dataset (``prompt`` and
    ``completions`` columns, :mod:`llm_adapter.data.rollouts`): the trainer then trains on those
    responses instead of generating.
    ``eval_dataset``: prompts for :meth:`evaluate` (every ``args.eval_steps`` iterations).
    ``args``: a :class:`~llm_adapter.trainer.config.SelfPlayConfig` (default: MPO's settings).
    ``accelerator``: an ``accelerate.Accelerator`` to use instead of the one built from ``args``.
    ``peft_config``: a ``peft`` config; the model is wrapped with ``get_peft_model`` first.
    ``callbacks``: :class:`~llm_adapter.trainer.callbacks.TrainerCallback` instances or classes.

    Frozen policies (the initial policy, the reference / magnet) are what is cheapest
    (:mod:`llm_adapter.scoring.frozen`): for a LoRA model the base model with the adapter
    disabled and snapshots of the adapter weights on the device; for full fine-tuning a frozen
    copy resident on the device (``frozen_offload``: in host memory). Without eval prompts the
    initial copy of a fully fine-tuned model is reused as the reference once the reference first
    moves, so at most one frozen copy is held.
    """

    def __init__(self, model, tokenizer=None, judge=None, args: SelfPlayConfig | None = None,
                 train_dataset=None, accelerator: Accelerator | None = None,
                 reward_tokenizer=None, eval_dataset=None, processing_class=None,
                 peft_config=None, callbacks=None):
        self.args = args if args is not None else SelfPlayConfig()
        if not isinstance(self.args, SelfPlayConfig):
            raise ValueError(f"args must be a SelfPlayConfig; got {type(self.args).__name__}.")
        cfg = self.args
        if tokenizer is not None and processing_class is not None and (
                tokenizer is not processing_class):
            raise ValueError("pass the tokenizer once: tokenizer= or processing_class=.")
        tokenizer = tokenizer if tokenizer is not None else processing_class
        if tokenizer is None:
            raise ValueError("the policy's tokenizer is required (tokenizer= or "
                             "processing_class=).")
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.oracle = as_oracle(judge, tokenizer, reward_tokenizer)
        self.rollout_rows = None
        self.prompts = None
        if train_dataset is not None and is_rollout_dataset(train_dataset):
            self.rollout_rows = self._prepare_rollouts(train_dataset)
        elif train_dataset is not None:
            self.prompts = prepare_prompts(train_dataset, tokenizer)
        self.eval_prompts = (prepare_prompts(eval_dataset, tokenizer)
                             if eval_dataset is not None else None)
        if accelerator is None:
            accelerator = _make_accelerator(cfg)
        elif accelerator.gradient_accumulation_steps != cfg.gradient_accumulation_steps:
            raise ValueError("the accelerator's gradient_accumulation_steps "
                             f"({accelerator.gradient_accumulation_steps}) differs from the "
                             f"config's ({cfg.gradient_accumulation_steps}).")
        self.accelerator = accelerator
        if accelerator.distributed_type == DistributedType.DEEPSPEED:
            # DeepSpeed sizes its micro-batch from a dataloader passed to prepare(); the
            # trainer prepares its prompt loader later, so it states both numbers here.
            ds = accelerator.state.deepspeed_plugin.deepspeed_config
            ds["train_micro_batch_size_per_gpu"] = cfg.per_device_batch_size
            ds["gradient_accumulation_steps"] = cfg.gradient_accumulation_steps
        if peft_config is not None:
            import peft

            if checkpoint.is_peft_model(model):
                raise ValueError("the model is already a PEFT model; pass peft_config= only for "
                                 "a plain model.")
            model = peft.get_peft_model(model, peft_config)
        if cfg.gradient_checkpointing:
            models.enable_gradient_checkpointing(model)
        self.callbacks = CallbackHandler(callbacks)
        self.should_stop = False
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no trainable parameters.")
        if cfg.optim == "rmsprop":
            optimizer = torch.optim.RMSprop(params, lr=cfg.learning_rate,
                                            weight_decay=cfg.weight_decay)
        else:
            optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate,
                                          weight_decay=cfg.weight_decay)
        self.model, self.optimizer = accelerator.prepare(model, optimizer)
        # stepped once per optimiser step by the trainer (not prepared: accelerate would step
        # it once per process)
        self.scheduler = make_scheduler(
            self.optimizer, cfg.lr_scheduler_type, cfg.max_steps * cfg.num_iterations,
            cfg.warmup_steps, cfg.warmup_ratio)
        judge_model = getattr(self.oracle, "model", None)
        if isinstance(judge_model, torch.nn.Module):  # a reward model / LLM judge: same device
            judge_model.to(accelerator.device)
        self.step_count = 0
        self.ref_version = 0
        # the initial policy pi_0 and the reference / magnet. None when nothing needs them: a
        # full fine-tuning run of a rule without a reference (SPPO) and without eval prompts
        # holds no frozen copy, and one without eval prompts reuses pi_0's copy as the magnet
        needed = (self._uses_reference or self.eval_prompts is not None
                  or checkpoint.is_peft_model(self.unwrapped))
        self.initial = (frozen_policy(self.unwrapped, offload=cfg.frozen_offload) if needed
                        else None)
        self.reference = self.initial
        # True while the reference holds the current weights (no optimiser step since it was
        # taken): its log-probs are then the training forward's, and its own forward is skipped
        self._reference_is_current = True
        self.initial_samples: dict = {}
        self.history: list[dict] = []
        self._buffer: list[dict] = []  # generated micro-batches not trained on yet
        self._consumed = 0  # micro-batches drawn from the prompt loader by this process
        self._trackers_started = False

    # ------------------------------------------------------------------ small helpers
    @property
    def unwrapped(self):
        """The model without the DDP / FSDP wrapper (what ``generate`` and snapshots use)."""
        return self.accelerator.unwrap_model(self.model)

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    @property
    def global_batch_size(self) -> int:
        """Prompts per self-play iteration over all processes."""
        cfg = self.args
        return (cfg.per_device_batch_size * cfg.gradient_accumulation_steps
                * self.accelerator.num_processes)

    @property
    def _uses_reference(self) -> bool:
        return self.args.algorithm not in _NO_REFERENCE

    def _prompt_ids(self, prompt) -> list[int]:
        """The prompt's token ids, special tokens once, cut to ``max_prompt_length``."""
        return prompt_token_ids(self.tokenizer, prompt, self.args.max_prompt_length)

    def _prepare_rollouts(self, data) -> list[dict]:
        """Rows of a rollout dataset with rendered prompts and token-id completions."""
        rows = check_rollouts(data, self.args.num_generations)
        prompts = prepare_prompts([r["prompt"] for r in rows], self.tokenizer)
        if rows[0].get("scores") is not None and not is_pointwise(self.oracle):
            raise ValueError("the rollouts hold judge scores but the judge is not a pointwise "
                             "scorer (a reward model / BradleyTerryOracle) that can turn them "
                             "into preferences; drop the scores column or pass such a judge.")
        out = []
        for r, p in zip(rows, prompts):
            comps = [c if isinstance(c, list) else
                     list(self.tokenizer(c, add_special_tokens=False)["input_ids"])
                     for c in r["completions"]]
            out.append({"prompt": p, "completions": comps, "logps": r.get("logps"),
                        "scores": r.get("scores")})
        return out

    def _logps(self, model, prompt_ids, completions, per_token=False):
        batch = encode(self.tokenizer, prompt_ids, completions, add_eos=False,
                       device=self.device)
        return completion_logps(model, **batch, per_token=per_token)

    @torch.no_grad()
    def _token_logps(self, prompt_ids, completions, policy=None):
        """Per-token log-probs ``[R, T]`` (float32, or float64 for a float64 model) and mask
        under the current weights or the frozen ``policy`` (:mod:`llm_adapter.scoring.frozen`)."""
        ctx = policy.scoring(self.unwrapped) if policy is not None else (
            contextlib.nullcontext(self.unwrapped))
        with ctx as scorer:
            tok, mask = self._logps(scorer, prompt_ids, completions, per_token=True)
        return tok, mask

    @torch.no_grad()
    def sample(self, prompts, k: int, seeds, mixture=None, model=None) -> list[list[list[int]]]:
        """``k`` responses per prompt from the current policy (``seeds``: one per response,
        prompt-major). ``prompts``: strings / :class:`~llm_adapter.data.prompts.Prompt` s or
        token-id lists. ``mixture=(frozen policy, beta)`` samples Nash-MD's geometric mixture
        ``pi^(1-beta) frozen^beta`` instead (:mod:`llm_adapter.sampling.mixture`; the frozen
        policy's forward keeps its own KV cache). ``model``: another module to sample from (a
        frozen copy)."""
        _check_prompts(prompts, allow_ids=True)
        ids = [self._prompt_ids(p) for p in prompts]
        model = model if model is not None else self.unwrapped
        model.eval()
        processors = []
        if mixture is not None:
            frozen, beta = mixture
            mask = pad_prompts(self.tokenizer, ids)[1].repeat_interleave(k, 0).to(self.device)
            if isinstance(frozen, FrozenCopy) and not frozen.offload:
                processors.append(GeometricMixtureProcessor(frozen.module, beta, mask))
            else:
                processors.append(GeometricMixtureProcessor(
                    model, beta, mask, context=_scoring_context(frozen, model)))
        return generate(model, self.tokenizer, ids, k, seeds, self.args.max_new_tokens,
                        self.args.temperature, processors)

    # ------------------------------------------------------------------ rollouts
    def _seeds(self, generation: int, items) -> list[int]:
        """One seed per response: run seed, generation, dataset index, epoch, sample."""
        return [row_seed(self.args.seed, generation, _index_seed(it[1]), it[2], j)
                for it in items for j in range(self.args.num_generations)]

    def _make_rollout(self, items, generation: int, defer_old: bool = False) -> dict:
        """Generate (or read), judge and score one micro-batch ``items = [(stream position,
        dataset index, epoch[, prompt])]`` of this process under the current policy ``pi_t``.

        ``defer_old``: the micro-batch is trained on before any optimiser step (one generation
        per iteration), so ``log pi_t`` is taken from the first training forward (detached)
        instead of a separate forward pass now."""
        cfg = self.args
        k = cfg.num_generations
        seconds = dict.fromkeys(_PHASES, 0.0)
        t = time.perf_counter()
        indices = [it[1] for it in items]
        rows = None
        if self.rollout_rows is not None:
            rows = [self.rollout_rows[i] for i in indices]
            prompts = [r["prompt"] for r in rows]
            responses = [r["completions"] for r in rows]
        else:
            prompts = [it[3] if len(it) > 3 else self.prompts[it[1]] for it in items]
            responses = self.sample(prompts, k, self._seeds(generation, items),
                                    mixture=self._mixture())
            seconds["generate"] = time.perf_counter() - t
        t = time.perf_counter()
        scores = None
        if rows is not None and rows[0]["scores"] is not None:
            scores = torch.tensor([r["scores"] for r in rows], dtype=torch.float64)
        elif is_pointwise(self.oracle):
            scores = torch.stack(score_groups(self.oracle, prompts, responses))
        win = (win_rates_from_scores(self.oracle, scores) if scores is not None
               else estimate_win_rates(self.oracle, prompts, responses))
        seconds["judge"] = time.perf_counter() - t
        t = time.perf_counter()
        ids = [self._prompt_ids(p) for p in prompts]
        flat_ids = [r for r in ids for _ in range(k)]
        flat_c = [c for group in responses for c in group]
        behaviour = rows is not None and rows[0]["logps"] is not None
        old_tok = mask = old = None
        if not defer_old or behaviour:
            old_tok, mask = self._token_logps(flat_ids, flat_c)
            old = old_tok.sum(-1).view(len(items), k)
        if behaviour:  # log pi_t of the generator
            old = torch.tensor([r["logps"] for r in rows], dtype=old.dtype, device=old.device)
        seconds["score"] = time.perf_counter() - t
        return {
            "indices": indices, "prompt_ids": flat_ids, "completions": flat_c,
            "responses": responses, "scores": scores, "mask": mask, "old_tok": old_tok,
            "old": old, "win": win.float().to(self.device), "seconds": seconds,
            "tokens": torch.tensor([sum(len(c) for c in g) for g in responses],
                                   dtype=torch.float32),
        }

    def _mixture(self):
        """Nash-MD samples from ``pi_t^(1-eta tau) pi_ref^(eta tau)``; other rules from pi_t."""
        cfg = self.args
        return (self.reference, cfg.eta * cfg.temp) if cfg.algorithm == "nash_md" else None

    def _add_reference(self, r) -> None:
        """Reference / magnet log-probs of a rollout (at the iteration that trains on it: the
        reference may have been reset since generation)."""
        if not self._uses_reference:
            return
        if self._reference_is_current:  # filled in by the first training forward (_loss)
            r["ref_tok"] = r["ref"] = None
            return
        t = time.perf_counter()
        ref_tok, _ = self._token_logps(r["prompt_ids"], r["completions"], self.reference)
        r["ref_tok"] = ref_tok
        r["ref"] = ref_tok.sum(-1).view(len(r["indices"]), self.args.num_generations)
        r["seconds"]["score"] += time.perf_counter() - t

    def _loss(self, r) -> torch.Tensor:
        cfg = self.args
        win = r["win"]
        tok, mask = self._logps(self.model, r["prompt_ids"], r["completions"], per_token=True)
        if r["old"] is None:  # first pass before any step: this forward is pi_t's
            r["old_tok"], r["mask"] = tok.detach(), mask
            r["old"] = tok.detach().sum(-1).view(win.shape)
        if self._uses_reference and r["ref"] is None:  # the reference is these weights
            r["ref_tok"], r["ref"] = tok.detach(), tok.detach().sum(-1).view(win.shape)
        old = r["old"]
        if cfg.algorithm == "mpo_token":
            return losses.mpo_token_loss(tok, r["old_tok"], r["ref_tok"], mask,
                                         win.flatten(), cfg.eta, cfg.temp)
        logps = tok.sum(-1).view(old.shape)
        if cfg.algorithm == "sppo":  # the paper's pointwise loss, Wu et al. 2024 eq. (3.6)
            return losses.sppo_loss(logps.flatten(), old.flatten(), win.flatten(), cfg.eta)
        if cfg.algorithm == "sppo_pairwise":
            return losses.sppo_pairwise_loss(logps, old, win, cfg.eta)
        ref = r["ref"]
        if cfg.algorithm == "mpo":
            return losses.mpo_loss(logps, old, win, ref, cfg.eta, cfg.temp)
        if cfg.algorithm == "nash_md":  # win rates are against the mixture policy
            return losses.nash_md_loss(logps, old, win, ref, cfg.eta, cfg.temp)
        return losses.inpo_loss(logps, old, win, ref, cfg.eta, cfg.temp)

    def _optimise(self, rollouts) -> float:
        """``num_iterations`` optimiser steps, each accumulating over ``rollouts``; returns the
        mean loss over micro-batches and passes (this process)."""
        cfg, acc = self.args, self.accelerator
        _training_mode(self.model, cfg.gradient_checkpointing)
        total = 0.0
        try:
            for _ in range(cfg.num_iterations):
                for r in rollouts:
                    with acc.accumulate(self.model):
                        loss = self._loss(r)
                        acc.backward(loss)
                        if acc.sync_gradients and cfg.max_grad_norm is not None:
                            acc.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                        self.optimizer.step()
                        self.optimizer.zero_grad(set_to_none=True)
                        if acc.sync_gradients:
                            self.scheduler.step()
                            self._reference_is_current = False
                    total += float(loss.detach())
        finally:
            self.model.eval()
        return total / (cfg.num_iterations * len(rollouts))

    def optimisation_step(self, rollouts) -> float:
        """The optimisation part of an iteration on prepared rollouts (see
        :meth:`_make_rollout`); exposed for benchmarks. Returns the mean loss."""
        for r in rollouts:
            if "ref" not in r:
                self._add_reference(r)
        return self._optimise(rollouts)

    def _logs_step(self, step: int) -> bool:
        """Whether iteration ``step`` (1-based) is logged: every ``logging_steps`` and the last."""
        return step % self.args.logging_steps == 0 or step == self.args.max_steps

    def _iteration(self, rollouts) -> dict:
        cfg, acc = self.args, self.accelerator
        if len(rollouts) % cfg.gradient_accumulation_steps:
            raise ValueError(f"{len(rollouts)} micro-batches is not a multiple of "
                             f"gradient_accumulation_steps={cfg.gradient_accumulation_steps}.")
        for r in rollouts:
            self._add_reference(r)
        t = time.perf_counter()
        loss = self._optimise(rollouts)
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        kl_step = []
        if self._logs_step(self.step_count + 1):  # a diagnostic forward: on logged steps only
            for r in rollouts:
                new_tok, _ = self._token_logps(r["prompt_ids"], r["completions"])
                kl = k3_kl(r["old_tok"], new_tok, r["mask"])
                kl_step.append(kl.view(-1, cfg.num_generations).mean(-1).cpu())
        score_s = time.perf_counter() - t
        phases = {p: sum(r["seconds"][p] for r in rollouts) for p in _PHASES}
        phases["train"] += train_s
        phases["score"] += score_s
        seconds = sum(phases.values())

        def gathered(values):
            return acc.gather(values.to(self.device)).cpu()

        def slowest(value):  # the iteration lasts as long as its slowest process
            return float(gathered(torch.tensor([value], dtype=torch.float64)).max())

        tokens = gathered(torch.cat([r["tokens"] for r in rollouts]))
        seconds_all = slowest(seconds)
        metrics = {
            "step": self.step_count + 1,
            "loss": float(gathered(torch.tensor([loss], dtype=torch.float64)).mean()),
        }
        if kl_step:
            metrics["kl_step"] = float(gathered(torch.cat(kl_step)).mean())
        if self._uses_reference:
            kl_ref = torch.cat([k3_kl(r["old_tok"], r["ref_tok"], r["mask"])
                                .view(-1, cfg.num_generations).mean(-1).cpu() for r in rollouts])
            metrics["kl_to_ref"] = float(gathered(kl_ref).mean())
        metrics.update({
            "mean_response_tokens": float(tokens.mean()) / cfg.num_generations,
            "tokens_per_second": float(tokens.sum()) / seconds_all,
            "seconds": seconds_all,
            **{f"{p}_seconds": slowest(phases[p]) for p in _PHASES},
            "learning_rate": float(self.scheduler.get_last_lr()[0]),
            "reference_version": self.ref_version,
        })
        self.step_count += 1
        metrics["reference_updated"] = self._advance_reference()
        self.history.append(metrics)
        return metrics

    def _advance_reference(self) -> bool:
        """Reset the reference / magnet to the current policy if the schedule says so."""
        period = self.args.ref_update_steps
        if period and self.step_count % period == 0:
            self._reset_reference()
            self.ref_version += 1
            return True
        return False

    def _reset_reference(self) -> None:
        """The reference / magnet := the current policy, reusing the frozen policy's memory."""
        model = self.unwrapped
        if self.reference is None:  # the rule has no reference and nothing else needs one
            return
        self._reference_is_current = True
        if self.reference is not self.initial:
            self.reference.update(model)  # in place, on the device
        elif checkpoint.is_peft_model(model):
            self.reference = AdapterSnapshot(model)
        elif self.eval_prompts is None:  # pi_0 is not needed for evaluation: one copy
            self.reference.update(model)
            self.initial = None
        else:
            self.reference = FrozenCopy(model, offload=self.args.frozen_offload)

    def step(self, prompts) -> dict:
        """One self-play iteration on an explicit list of this process's ``prompts`` (split into
        micro-batches of ``per_device_batch_size``); returns the logged metrics."""
        _check_prompts(prompts)
        cfg = self.args
        items = [(i, p, 0, p) for i, p in enumerate(prompts)]  # seeds keyed by prompt text
        size = cfg.per_device_batch_size
        rollouts = [self._make_rollout(items[s:s + size], self.step_count, defer_old=True)
                    for s in range(0, len(items), size)]
        return self._iteration(rollouts)

    # ------------------------------------------------------------------ the run
    def _n_items(self) -> int:
        return len(self.rollout_rows if self.rollout_rows is not None else self.prompts)

    def steps_per_generation(self) -> int:
        """Iterations that share one generation (``"epoch"``: enough global batches to cover
        the prompt set once)."""
        s = self.args.steps_per_generation
        return math.ceil(self._n_items() / self.global_batch_size) if s == EPOCH else s

    def _dataloader(self):
        cfg = self.args
        per = self.steps_per_generation()  # whole generations: aligned however long the run
        steps = math.ceil(cfg.max_steps / per) * per
        stream = _PromptStream(self._n_items(), steps * self.global_batch_size, cfg.seed)
        loader = torch.utils.data.DataLoader(stream, batch_size=cfg.per_device_batch_size,
                                             shuffle=False, collate_fn=_collate)
        loader = self.accelerator.prepare(loader)
        done = self._consumed
        return self.accelerator.skip_first_batches(loader, done) if done else loader

    def _next_rollouts(self, loader) -> list[dict]:
        """The micro-batches of the next iteration; generates ``steps_per_generation``
        iterations' worth when the buffer is empty (generations start at multiples of it, so
        a run cut short and resumed, or given another ``max_steps``, generates the same)."""
        ga = self.args.gradient_accumulation_steps
        if not self._buffer:
            batches = [next(loader) for _ in range(self.steps_per_generation() * ga)]
            self._consumed += len(batches)
            defer = self.steps_per_generation() == 1
            self._buffer = [self._make_rollout(b, self.step_count, defer) for b in batches]
        out, self._buffer = self._buffer[:ga], self._buffer[ga:]
        return [_to_device(r, self.device) for r in out]

    def train(self, resume_from_checkpoint=None, progress: bool = True) -> list[dict]:
        """Run self-play iterations until ``max_steps``; returns this call's metrics.

        ``resume_from_checkpoint``: a checkpoint folder, or True for the latest
        ``checkpoint-<step>`` under ``output_dir``. Logs every ``logging_steps``, evaluates
        every ``eval_steps``, checkpoints every ``save_steps``, and at the end writes
        ``history.json`` and ``selfplay_run.png`` to ``output_dir`` (main process).
        """
        from tqdm.auto import tqdm

        cfg, acc = self.args, self.accelerator
        if self.prompts is None and self.rollout_rows is None:
            raise ValueError("no prompts: pass train_dataset= to the trainer (a datasets.Dataset "
                             "with a 'prompt' column, a list of prompts, or a rollout "
                             "dataset).")
        if cfg.eval_steps and self.eval_prompts is None:
            raise ValueError("eval_steps is set but there is no eval_dataset: pass "
                             "eval_dataset= (prompts to evaluate on) or unset eval_steps.")
        if resume_from_checkpoint:
            path = (checkpoint.latest_checkpoint(cfg.output_dir)
                    if resume_from_checkpoint is True else resume_from_checkpoint)
            if path is None:
                raise ValueError(f"no checkpoint-<step> folder under {cfg.output_dir} to resume.")
            self.load_checkpoint(path)
        if not self._trackers_started and cfg.report_targets():
            acc.init_trackers("selfplay", config=_flat(cfg.to_dict()))
            self._trackers_started = True
        loader = iter(self._dataloader())
        out = []
        bar = tqdm(range(self.step_count, cfg.max_steps), desc=cfg.algorithm,
                   disable=not (progress and acc.is_main_process))
        self.should_stop = False
        self.callbacks.call("on_train_begin", self)
        for _ in bar:
            m = self._iteration(self._next_rollouts(loader))
            self.callbacks.call("on_step_end", self, m)
            if cfg.eval_steps and self.step_count % cfg.eval_steps == 0:
                evaluation = self.evaluate()
                self.callbacks.call("on_evaluate", self, evaluation)  # may add metrics
                m.update(evaluation)
            out.append(m)
            shown = {"loss": f"{m['loss']:.3g}"}
            if "kl_step" in m:
                shown["kl_step"] = f"{m['kl_step']:.3g}"
            if "eval_win_rate_vs_initial" in m:
                shown["win0"] = f"{m['eval_win_rate_vs_initial']:.3f}"
            bar.set_postfix(shown)
            if self._logs_step(self.step_count) and cfg.report_targets():
                acc.log({k: float(v) for k, v in m.items() if k != "step"},
                        step=self.step_count)
            if cfg.save_steps and self.step_count % cfg.save_steps == 0:
                self.save_checkpoint(Path(cfg.output_dir) / f"checkpoint-{self.step_count}")
            if self.should_stop:
                break
        bar.close()
        if cfg.save_merged:
            self.save_merged_model()
        if acc.is_main_process and self.history:
            out_dir = Path(cfg.output_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "history.json").write_text(json.dumps(self.history, indent=1))
            plot_history(self.history, out_dir / "selfplay_run.png",
                         title=f"{cfg.algorithm} self-play, {acc.num_processes} process(es)")
        if self._trackers_started:
            # accelerate's end_training() would also destroy the process group, which the
            # final save still needs: finish the trackers only (the CLI ends the run)
            for tracker in acc.trackers:
                tracker.finish()
            acc.trackers = []
            self._trackers_started = False
        self.callbacks.call("on_train_end", self)
        return out

    # ------------------------------------------------------------------ rollout datasets
    @torch.no_grad()
    def generate_rollouts(self, prompts=None, generation: int = 0):
        """A rollout dataset (:mod:`llm_adapter.data.rollouts`) of the current policy: for every
        prompt of ``prompts`` (default: the train prompts), in order, ``num_generations``
        responses with their sequence log-probs and, for a pointwise judge, their scores.

        The samples are those online training draws at generation ``generation`` for the
        prompts' first epoch (same seeds), so ``rollout`` then ``train --rollouts`` gives the
        update of online training. Runs on this process's prompts (call it on one process).
        """
        from datasets import Dataset

        cfg = self.args
        raw = prompts if prompts is not None else self.prompts
        if raw is None:
            raise ValueError("no prompts: pass prompts= or build the trainer with train_dataset=.")
        prepared = prepare_prompts(raw, self.tokenizer)
        size = cfg.per_device_batch_size
        rows = []
        for s in range(0, len(prepared), size):
            items = [(i, i, 0) for i in range(s, min(s + size, len(prepared)))]
            group = [prepared[i] for i, _, _ in items]
            responses = self.sample(group, cfg.num_generations, self._seeds(generation, items),
                                    mixture=self._mixture())
            ids = [self._prompt_ids(p) for p in group]
            flat_ids = [r for r in ids for _ in range(cfg.num_generations)]
            flat_c = [c for g in responses for c in g]
            tok, _ = self._token_logps(flat_ids, flat_c)
            logps = tok.sum(-1).view(len(group), -1).double().cpu().tolist()
            scores = (torch.stack(score_groups(self.oracle, group, responses)).tolist()
                      if is_pointwise(self.oracle) else None)
            for j, p in enumerate(group):
                row = {"prompt": _original(p), "completions": responses[j], "logps": logps[j]}
                if scores is not None:
                    row["scores"] = scores[j]
                rows.append(row)
        return Dataset.from_list(rows)

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self, prompts=None, k: int | None = None, seed: int | None = None) -> dict:
        """Win rate of fresh samples of the current policy against ``initial_samples`` samples
        of the initial policy, and the k3 estimate of ``KL(pi || pi_0)`` on them.

        ``prompts``: default the eval dataset; each process evaluates its share. Samples use
        fixed seeds (``seed``, default the run seed), so successive evaluations compare the
        policies on the same random numbers. Returns ``eval_win_rate_vs_initial``, its standard
        error over prompts ``eval_win_rate_se``, and ``eval_kl_to_initial``.
        """
        cfg, acc = self.args, self.accelerator
        raw = prompts if prompts is not None else self.eval_prompts
        if raw is None:
            raise ValueError("no eval prompts: pass prompts= or eval_dataset= to the trainer.")
        if self.initial is None:
            raise ValueError("the trainer keeps no copy of the initial policy (full fine-tuning "
                             "without eval prompts holds at most one frozen copy, for the "
                             "reference); pass eval_dataset= when building the trainer to "
                             "evaluate later.")
        prepared = prepare_prompts(raw, self.tokenizer)
        k = k or cfg.num_generations
        seed = cfg.seed if seed is None else seed
        mine = list(range(acc.process_index, len(prepared), acc.num_processes))
        group = [prepared[i] for i in mine]
        win, kl = [], []
        if group:
            seeds = [row_seed(seed, -2, _index_seed(str(p)), j) for p in group for j in range(k)]
            responses = self.sample(group, k, seeds)
            opponents = self._initial_samples(group, seed)
            if is_pointwise(self.oracle):
                scores = score_groups(self.oracle, group + group, responses + opponents)
                rates = torch.stack([win_rates_from_scores(self.oracle, s[None], o[None])[0]
                                     for s, o in zip(scores[:len(group)], scores[len(group):])])
            else:
                rates = estimate_win_rates(self.oracle, group, responses, opponents)
            win = rates.double().mean(-1).tolist()
            ids = [self._prompt_ids(p) for p in group]
            flat_ids = [r for r in ids for _ in range(k)]
            flat_c = [c for g in responses for c in g]
            cur, mask = self._token_logps(flat_ids, flat_c)
            init, _ = self._token_logps(flat_ids, flat_c, self.initial)
            kl = k3_kl(cur, init, mask).view(len(group), k).mean(-1).double().tolist()
        win = torch.tensor(gather_object(win), dtype=torch.float64)
        kl = torch.tensor(gather_object(kl), dtype=torch.float64)
        se = float(win.std(unbiased=True) / math.sqrt(len(win))) if len(win) > 1 else math.nan
        return {"eval_win_rate_vs_initial": float(win.mean()), "eval_win_rate_se": se,
                "eval_kl_to_initial": float(kl.mean())}

    def _initial_samples(self, prompts, seed: int) -> list[list[list[int]]]:
        """``initial_samples`` samples of the initial policy for each prompt (at least one),
        cached by prompt text."""
        n = max(1, self.args.initial_samples)
        missing = list(dict.fromkeys(str(p) for p in prompts if str(p) not in
                                     self.initial_samples))
        if missing:
            by_text = {str(p): p for p in prompts}
            group = [by_text[m] for m in missing]
            seeds = [row_seed(seed, -1, _index_seed(m), j) for m in missing for j in range(n)]
            with self.initial.scoring(self.unwrapped) as initial:
                samples = self.sample(group, n, seeds, model=initial)
            self.initial_samples.update(zip(missing, samples))
        return [self.initial_samples[str(p)] for p in prompts]

    # ------------------------------------------------------------------ checkpoints
    def save_model(self, path=None) -> Path:
        """``save_pretrained`` the model and tokenizer into ``path`` (default ``output_dir``):
        a PEFT adapter folder or a full model folder. Call on every process."""
        acc = self.accelerator
        path = Path(path or self.args.output_dir)
        sharded = acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)
        state = acc.get_state_dict(self.model) if sharded else None
        acc.wait_for_everyone()
        checkpoint.save_model(self.unwrapped, self.tokenizer, path, state,
                              acc.is_main_process)
        acc.wait_for_everyone()
        return path

    def save_merged_model(self, path=None) -> Path:
        """A plain model folder (``AutoModelForCausalLM.from_pretrained`` loads it without
        peft): a LoRA adapter merged into a copy of the base weights; a fully fine-tuned model
        as it is. Default ``output_dir/merged``. Call on every process."""
        acc = self.accelerator
        path = Path(path or Path(self.args.output_dir) / "merged")
        acc.wait_for_everyone()
        checkpoint.save_merged_model(self.unwrapped, self.tokenizer, path, acc.is_main_process)
        acc.wait_for_everyone()
        return path

    def save_checkpoint(self, path) -> Path:
        """Model folder (:meth:`save_model`) plus the trainer state to resume from it (the
        generated micro-batches not yet trained on included, per process)."""
        path = self.save_model(path)
        acc = self.accelerator
        if acc.is_main_process:
            state = {"step": self.step_count, "ref_version": self.ref_version,
                     "history": self.history, "config": self.args.to_dict(),
                     "consumed": self._consumed, "scheduler": self.scheduler.state_dict(),
                     "initial_kept": self.initial is not None,
                     "reference_is_current": self._reference_is_current,
                     "initial_samples": [[k, v] for k, v in self.initial_samples.items()]}
            checkpoint.save_state(path, state, self.optimizer, self.reference,
                                  self.initial if self.initial is not None else self.reference,
                                  acc.scaler)
        acc.wait_for_everyone()
        torch.save([_to_device(r, "cpu") for r in self._buffer],
                   Path(path) / f"rollout_buffer_{acc.process_index}.pt")
        acc.wait_for_everyone()
        if acc.is_main_process and self.args.save_total_limit:
            checkpoint.rotate_checkpoints(self.args.output_dir, self.args.save_total_limit,
                                          keep=path)
        self.callbacks.call("on_save", self, path)
        return path

    def load_checkpoint(self, path) -> SelfPlayTrainer:
        """Restore weights, optimiser, snapshots, RNG, counters and the generated micro-batches
        not yet trained on from :meth:`save_checkpoint`."""
        loaded = checkpoint.load_state(path)
        state = loaded["state"]
        saved, now = state["config"], self.args.to_dict()
        changed = sorted(k for k in now if saved.get(k) != now[k] and k not in _RESUMABLE_CHANGES)
        if changed:
            raise ValueError(f"the checkpoint was written with a different SelfPlayConfig "
                             f"({', '.join(changed)} differ); resume with the same settings.")
        checkpoint.load_model_weights(self.unwrapped, path)
        self._reference_is_current = state.get("reference_is_current", False)
        self.optimizer.load_state_dict(loaded["optimizer"])
        if loaded["scaler"] is not None and self.accelerator.scaler is not None:
            self.accelerator.scaler.load_state_dict(loaded["scaler"])
        model = self.unwrapped
        self.ref_version = state["ref_version"]
        frozen = self.initial if self.initial is not None else self.reference
        if frozen is None:  # no frozen policy is kept in this setting
            pass
        elif self.ref_version == 0:
            frozen.load_state_dict(loaded["initial"])
            self.initial = self.reference = frozen
        elif not state.get("initial_kept", True):  # one frozen copy, now the reference
            frozen.load_state_dict(loaded["reference"])
            self.initial, self.reference = None, frozen
        else:
            frozen.load_state_dict(loaded["initial"])
            self.initial = frozen
            self.reference = (AdapterSnapshot(model) if checkpoint.is_peft_model(model)
                              else FrozenCopy(model, offload=self.args.frozen_offload))
            self.reference.load_state_dict(loaded["reference"])
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
        self.step_count = state["step"]
        self._consumed = state.get("consumed", self.step_count
                                   * self.args.gradient_accumulation_steps)
        self.history = list(state["history"])
        self.initial_samples = {k: v for k, v in state["initial_samples"]}
        buffer = Path(path) / f"rollout_buffer_{self.accelerator.process_index}.pt"
        self._buffer = (torch.load(buffer, weights_only=True) if buffer.exists() else [])
        return self


def _scoring_context(frozen, model):
    """A zero-argument context factory entering ``frozen.scoring(model)``."""
    return lambda: frozen.scoring(model)


def _training_mode(model, checkpointing: bool) -> None:
    """Eval mode for the loss forward (no dropout: the trained log-probs are those of the
    policy that was sampled), except that gradient checkpointing only recomputes in train mode:
    then train mode with every dropout module switched off."""
    if not checkpointing:
        model.eval()
        return
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()


def _to_device(r: dict, device) -> dict:
    """A rollout with its tensors on ``device``."""
    return {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in r.items()}


def _original(prompt):
    """A prepared prompt back in the form a dataset holds: its text, or its conversation."""
    messages = conversation(prompt)
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    return messages


def _make_accelerator(cfg: SelfPlayConfig) -> Accelerator:
    """The ``Accelerator`` for ``cfg``: mixed precision, gradient accumulation (not tied to the
    end of the prompt loader), trackers, CPU when there is no GPU."""
    try:
        return Accelerator(
            cpu=not torch.cuda.is_available(), mixed_precision=cfg.mixed_precision,
            gradient_accumulation_plugin=GradientAccumulationPlugin(
                num_steps=cfg.gradient_accumulation_steps, sync_with_dataloader=False),
            log_with=make_trackers(cfg.report_targets(), cfg.output_dir) or None,
            project_dir=cfg.output_dir)
    except ValueError as e:
        if "already been initialized" not in str(e):
            raise
        raise ValueError(f"this process already runs accelerate with another setting than "
                         f"mixed_precision={cfg.mixed_precision!r}; one process runs one "
                         "mixed-precision setting: start a new process, or pass "
                         "accelerator= to the trainer.") from e


def _index_seed(index) -> int:
    """An integer for seeding from a dataset index (int) or a prompt text (str)."""
    return index if isinstance(index, int) else zlib.crc32(str(index).encode()) + (1 << 40)


def _flat(d: dict) -> dict:
    """Scalars only (TensorBoard's hparams reject lists and None)."""
    return {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in d.items()}
