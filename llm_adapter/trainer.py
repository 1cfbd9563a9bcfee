"""Self-play preference optimisation of a Hugging Face causal LM with the rules of the core,
on ``accelerate`` so that one script runs on a CPU, one GPU, or many (DDP, FSDP, DeepSpeed).

Each iteration ``t`` of :class:`SelfPlayTrainer` (``max_steps`` of them):

1. takes this process's share of a global batch of prompts (the prompt stream is a fixed
   shuffle per epoch, sharded by ``accelerator.prepare`` of a ``DataLoader``; the global batch is
   ``per_device_batch_size * gradient_accumulation_steps * num_processes`` prompts);
2. samples ``num_generations`` responses per prompt from ``pi_t`` (or, for Nash-MD, from the
   token-level geometric mixture ``pi_t^(1-eta tau) pi_ref^(eta tau)``), each response from its own
   seeded generator (:mod:`llm_adapter.sampling`), so the samples do not depend on how the batch
   is split across processes;
3. judges the ``K x K`` pairs of each prompt and estimates ``P_hat(y > pi_t)`` as row means;
4. scores the samples under the frozen ``pi_t`` and the reference / magnet (one resident model:
   frozen policies are :class:`~llm_adapter.logprobs.WeightSnapshot` s swapped in);
5. takes ``num_iterations`` optimiser steps on the rule's loss (:mod:`llm_adapter.losses`), each
   accumulating gradients over the micro-batches (``accelerator.accumulate``; DDP averages
   across processes, so the step equals one step on the whole global batch);
6. resets the reference / magnet to the current policy every ``ref_update_steps`` iterations
   (MPO's magnet reset, COMAL's outer step).

Sampling, judging and scoring run on each process for its own prompts; the per-prompt win rates
and KL estimates are gathered for logging. Only the main process logs (``report_to``), saves and
plots. Logged per iteration: the loss, the win rate of ``pi_t``'s samples against the initial
policy's, ``kl_to_ref`` = ``KL(pi_t || pi_ref)`` and ``kl_step`` = ``KL(pi_t || pi_{t+1})`` (k3
estimates on the samples, never negative: :mod:`llm_adapter.kl`), response length, generated
tokens per second and seconds. Checkpoints: :mod:`llm_adapter.checkpoint`.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
import zlib
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType, GradientAccumulationPlugin

from . import checkpoint, losses
from .config import ALGORITHMS, SelfPlayConfig
from .judges import as_oracle
from .kl import k3_kl
from .logprobs import WeightSnapshot, _check_prompts, completion_logps, encode
from .mixture import GeometricMixtureProcessor
from .oracles import estimate_win_rates
from .prompts import prepare_prompts
from .sampling import generate, row_seed
from .tracking import make_trackers, plot_history

__all__ = ["SelfPlayConfig", "SelfPlayTrainer", "ALGORITHMS"]

_RESUMABLE_CHANGES = {"output_dir", "max_steps", "save_steps", "logging_steps", "report_to"}


class _PromptStream(torch.utils.data.Dataset):
    """``(stream position, dataset index)`` pairs: epoch ``e`` is the dataset in the order of
    ``random.Random(seed + e).shuffle``; the stream is as long as ``max_steps`` global batches."""

    def __init__(self, n_prompts: int, length: int, seed: int):
        self.order: list[int] = []
        epoch = 0
        while len(self.order) < length:
            perm = list(range(n_prompts))
            random.Random(seed + epoch).shuffle(perm)
            self.order += perm
            epoch += 1
        self.order = self.order[:length]

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i: int):
        return i, self.order[i]


def _collate(items):
    return list(items)


class SelfPlayTrainer:
    """Self-play trainer for ``model`` (a ``transformers`` causal LM, optionally PEFT-wrapped).

    ``judge``: an oracle, a pairwise judge or a reward model (:func:`llm_adapter.judges.as_oracle`).
    ``train_dataset``: a ``datasets.Dataset`` with a ``prompt`` column or a list of prompts
    (chat-templated when the tokenizer has a template; :func:`llm_adapter.prompts.prepare_prompts`).
    ``args``: a :class:`~llm_adapter.config.SelfPlayConfig` (default: MPO's settings).
    ``accelerator``: an ``accelerate.Accelerator`` to use instead of the one built from ``args``.
    """

    def __init__(self, model, tokenizer, judge, args: SelfPlayConfig | None = None,
                 train_dataset=None, accelerator: Accelerator | None = None,
                 reward_tokenizer=None):
        self.args = args if args is not None else SelfPlayConfig()
        if not isinstance(self.args, SelfPlayConfig):
            raise ValueError(f"args must be a SelfPlayConfig; got {type(self.args).__name__}.")
        cfg = self.args
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.oracle = as_oracle(judge, tokenizer, reward_tokenizer)
        self.prompts = (prepare_prompts(train_dataset, tokenizer)
                        if train_dataset is not None else None)
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
        judge_model = getattr(self.oracle, "model", None)
        if isinstance(judge_model, torch.nn.Module):  # a reward model / LLM judge: same device
            judge_model.to(accelerator.device)
        self.step_count = 0
        self.ref_version = 0
        self.initial = WeightSnapshot(self.unwrapped)
        self.reference = self.initial
        self.initial_samples: dict[int, list[list[int]]] = {}
        self.history: list[dict] = []
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

    def _logps(self, model, prompts, completions, per_token=False):
        batch = encode(self.tokenizer, prompts, completions, add_eos=False, device=self.device)
        return completion_logps(model, **batch, per_token=per_token)

    @torch.no_grad()
    def _token_logps(self, prompts, completions, snapshot=None):
        """Per-token log-probs ``[R, T]`` (float32, or float64 for a float64 model) and mask
        under the current weights or ``snapshot``."""
        ctx = snapshot.swapped_in(self.unwrapped) if snapshot is not None else (
            contextlib.nullcontext())
        with ctx:
            tok, mask = self._logps(self.unwrapped, prompts, completions, per_token=True)
        return tok, mask

    @torch.no_grad()
    def sample(self, prompts, k: int, seeds, mixture=None) -> list[list[list[int]]]:
        """``k`` responses per prompt from the current policy (``seeds``: one per response,
        prompt-major). ``mixture=(snapshot, beta)`` samples Nash-MD's geometric mixture
        ``pi^(1-beta) snapshot^beta`` instead (:mod:`llm_adapter.mixture`)."""
        _check_prompts(prompts)
        model = self.unwrapped
        model.eval()
        processors = []
        if mixture is not None:
            side = self.tokenizer.padding_side
            self.tokenizer.padding_side = "left"
            try:
                mask = self.tokenizer(list(prompts), return_tensors="pt",
                                      padding=True)["attention_mask"]
            finally:
                self.tokenizer.padding_side = side
            processors.append(GeometricMixtureProcessor(
                model, mixture[0], mixture[1], mask.repeat_interleave(k, 0).to(self.device)))
        return generate(model, self.tokenizer, prompts, k, seeds, self.args.max_new_tokens,
                        self.args.temperature, processors)

    def _initial_samples(self, prompts, indices) -> list[list[list[int]]]:
        """Samples of the initial policy for each prompt, cached by ``indices`` (dataset indices,
        or prompt texts for explicit prompt lists)."""
        n = self.args.initial_samples or 1
        missing = [(p, i) for p, i in zip(prompts, indices) if i not in self.initial_samples]
        missing = list(dict(((i, p) for p, i in missing)).items())
        if missing:
            seeds = [row_seed(self.args.seed, -1, _index_seed(i), j) for i, _ in missing
                     for j in range(n)]
            with self.initial.swapped_in(self.unwrapped):
                groups = self.sample([p for _, p in missing], n, seeds)
            self.initial_samples.update({i: g for (i, _), g in zip(missing, groups)})
        return [self.initial_samples[i] for i in indices]

    # ------------------------------------------------------------------ one iteration
    def _rollout(self, items) -> dict:
        """Sample, judge and score one micro-batch ``items = [(stream pos, dataset index)]``
        (or ``[(pos, index, prompt text)]``) of this process."""
        cfg = self.args
        k = cfg.num_generations
        positions = [it[0] for it in items]
        indices = [it[1] for it in items]
        prompts = [it[2] if len(it) > 2 else self.prompts[it[1]] for it in items]
        mixture = (self.reference, cfg.eta * cfg.temp) if cfg.algorithm == "nash_md" else None
        seeds = [row_seed(cfg.seed, self.step_count, pos, j) for pos in positions
                 for j in range(k)]
        responses = self.sample(prompts, k, seeds, mixture=mixture)
        win = estimate_win_rates(self.oracle, prompts, responses).float()  # [b, K]
        if cfg.initial_samples:
            vs_initial = estimate_win_rates(self.oracle, prompts, responses,
                                            self._initial_samples(prompts, indices)).mean(-1)
        else:
            vs_initial = torch.full((len(prompts),), float("nan"))
        b = len(prompts)
        flat_p = [p for p in prompts for _ in range(k)]
        flat_c = [c for group in responses for c in group]
        old_tok, mask = self._token_logps(flat_p, flat_c)
        ref_tok, _ = self._token_logps(flat_p, flat_c, self.reference)
        return {
            "prompts": flat_p, "completions": flat_c, "mask": mask,
            "old_tok": old_tok, "ref_tok": ref_tok,
            "old": old_tok.sum(-1).view(b, k), "ref": ref_tok.sum(-1).view(b, k),
            "win": win.to(self.device), "vs_initial": vs_initial.float(),
            "kl_to_ref": k3_kl(old_tok, ref_tok, mask).view(b, k).mean(-1).cpu(),
            "tokens": torch.tensor([sum(len(c) for c in responses[i]) for i in range(b)],
                                   dtype=torch.float32),
        }

    def _loss(self, r) -> torch.Tensor:
        cfg = self.args
        old, win, ref = r["old"], r["win"], r["ref"]
        if cfg.algorithm == "mpo_token":
            tok, mask = self._logps(self.model, r["prompts"], r["completions"], per_token=True)
            return losses.mpo_token_loss(tok, r["old_tok"], r["ref_tok"], mask,
                                         win.flatten(), cfg.eta, cfg.temp)
        logps = self._logps(self.model, r["prompts"], r["completions"]).view(old.shape)
        if cfg.algorithm == "sppo":
            return losses.sppo_pairwise_loss(logps, old, win, cfg.eta)
        if cfg.algorithm == "sppo_pointwise":
            return losses.sppo_loss(logps.flatten(), old.flatten(), win.flatten(), cfg.eta)
        if cfg.algorithm in ("mpo",):
            return losses.mpo_loss(logps, old, win, ref, cfg.eta, cfg.temp)
        if cfg.algorithm == "nash_md":  # win rates are against the mixture policy
            return losses.nash_md_loss(logps, old, win, ref, cfg.eta, cfg.temp)
        return losses.inpo_loss(logps, old, win, ref, cfg.eta, cfg.temp)

    def _optimise(self, rollouts) -> float:
        """``num_iterations`` optimiser steps, each accumulating over ``rollouts``; returns the
        mean loss over micro-batches and passes (this process)."""
        cfg, acc = self.args, self.accelerator
        self.model.eval()  # no dropout: the trained log-probs are those of the policy sampled
        total = 0.0
        for _ in range(cfg.num_iterations):
            for r in rollouts:
                with acc.accumulate(self.model):
                    loss = self._loss(r)
                    acc.backward(loss)
                    if acc.sync_gradients and cfg.max_grad_norm is not None:
                        acc.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                    self.optimizer.step()
                    self.optimizer.zero_grad(set_to_none=True)
                total += float(loss.detach())
        return total / (cfg.num_iterations * len(rollouts))

    def optimisation_step(self, rollouts) -> float:
        """The optimisation part of an iteration on prepared rollouts (see :meth:`_rollout`);
        exposed for benchmarks. Returns the mean loss."""
        return self._optimise(rollouts)

    def _iteration(self, micro_batches) -> dict:
        cfg, acc = self.args, self.accelerator
        if len(micro_batches) % cfg.gradient_accumulation_steps:
            raise ValueError(f"{len(micro_batches)} micro-batches is not a multiple of "
                             f"gradient_accumulation_steps={cfg.gradient_accumulation_steps}.")
        t0 = time.perf_counter()
        rollouts = [self._rollout(mb) for mb in micro_batches]
        loss = self._optimise(rollouts)
        kl_step = []
        for r in rollouts:
            new_tok, _ = self._token_logps(r["prompts"], r["completions"])
            kl = k3_kl(r["old_tok"], new_tok, r["mask"])
            kl_step.append(kl.view(-1, cfg.num_generations).mean(-1).cpu())
        seconds = time.perf_counter() - t0

        def gathered(key_or_values):
            v = (torch.cat([r[key_or_values] for r in rollouts])
                 if isinstance(key_or_values, str) else key_or_values)
            return acc.gather(v.to(self.device)).cpu()

        tokens = gathered("tokens")
        seconds_all = gathered(torch.tensor([seconds], dtype=torch.float64))
        metrics = {
            "step": self.step_count + 1,
            "loss": float(gathered(torch.tensor([loss], dtype=torch.float64)).mean()),
            "win_rate_vs_initial": float(gathered("vs_initial").mean()),
            "kl_to_ref": float(gathered("kl_to_ref").mean()),
            "kl_step": float(gathered(torch.cat(kl_step)).mean()),
            "mean_response_tokens": float(tokens.mean()) / cfg.num_generations,
            "tokens_per_second": float(tokens.sum()) / float(seconds_all.max()),
            "seconds": float(seconds_all.max()),
            "reference_version": self.ref_version,
        }
        self.step_count += 1
        metrics["reference_updated"] = self._advance_reference()
        self.history.append(metrics)
        return metrics

    def _advance_reference(self) -> bool:
        """Reset the reference / magnet to the current policy if the schedule says so."""
        period = self.args.ref_update_steps
        if period and self.step_count % period == 0:
            self.reference = WeightSnapshot(self.unwrapped)
            self.ref_version += 1
            return True
        return False

    def step(self, prompts) -> dict:
        """One self-play iteration on an explicit list of this process's ``prompts`` (split into
        micro-batches of ``per_device_batch_size``); returns the logged metrics."""
        _check_prompts(prompts)
        cfg = self.args
        items = [(i, p, p) for i, p in enumerate(prompts)]  # initial samples cached by text
        size = cfg.per_device_batch_size
        return self._iteration([items[s:s + size] for s in range(0, len(items), size)])

    # ------------------------------------------------------------------ the run
    def _dataloader(self):
        cfg = self.args
        stream = _PromptStream(len(self.prompts), cfg.max_steps * self.global_batch_size,
                               cfg.seed)
        loader = torch.utils.data.DataLoader(stream, batch_size=cfg.per_device_batch_size,
                                             shuffle=False, collate_fn=_collate)
        loader = self.accelerator.prepare(loader)
        done = self.step_count * cfg.gradient_accumulation_steps
        return self.accelerator.skip_first_batches(loader, done) if done else loader

    def train(self, resume_from_checkpoint=None, progress: bool = True) -> list[dict]:
        """Run self-play iterations until ``max_steps``; returns this call's metrics.

        ``resume_from_checkpoint``: a checkpoint folder, or True for the latest
        ``checkpoint-<step>`` under ``output_dir``. Logs every ``logging_steps``, checkpoints
        every ``save_steps``, and at the end writes ``history.json`` and ``selfplay_run.png`` to
        ``output_dir`` (main process).
        """
        from tqdm.auto import tqdm

        cfg, acc = self.args, self.accelerator
        if self.prompts is None:
            raise ValueError("no prompts: pass train_dataset= to the trainer (a datasets.Dataset "
                             "with a 'prompt' column or a list of prompts).")
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
        for _ in bar:
            micro_batches = [next(loader) for _ in range(cfg.gradient_accumulation_steps)]
            m = self._iteration(micro_batches)
            out.append(m)
            bar.set_postfix(loss=f"{m['loss']:.3g}", win0=f"{m['win_rate_vs_initial']:.3f}",
                            kl_ref=f"{m['kl_to_ref']:.3g}")
            if self.step_count % cfg.logging_steps == 0 and cfg.report_targets():
                acc.log({k: float(v) for k, v in m.items() if k != "step"},
                        step=self.step_count)
            if cfg.save_steps and self.step_count % cfg.save_steps == 0:
                self.save_checkpoint(Path(cfg.output_dir) / f"checkpoint-{self.step_count}")
        if acc.is_main_process and self.history:
            out_dir = Path(cfg.output_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "history.json").write_text(json.dumps(self.history, indent=1))
            plot_history(self.history, out_dir / "selfplay_run.png",
                         title=f"{cfg.algorithm} self-play, {acc.num_processes} process(es)")
        if self._trackers_started:
            acc.end_training()
            self._trackers_started = False
        return out

    @torch.no_grad()
    def evaluate(self, prompts, k: int | None = None, seed: int = 12345) -> dict:
        """Win rate of fresh samples of the current policy against the initial policy's samples,
        and the k3 estimate of ``KL(pi || pi_0)`` on them (this process's ``prompts``)."""
        _check_prompts(prompts)
        k = k or self.args.num_generations
        prompts = list(prompts)
        responses = self.sample(prompts, k, [row_seed(seed, i, j) for i in range(len(prompts))
                                             for j in range(k)])
        opponents = self._initial_samples(prompts, list(prompts))
        win = estimate_win_rates(self.oracle, prompts, responses, opponents)
        flat_p = [p for p in prompts for _ in range(k)]
        flat_c = [c for g in responses for c in g]
        cur, mask = self._token_logps(flat_p, flat_c)
        init, _ = self._token_logps(flat_p, flat_c, self.initial)
        return {"win_rate_vs_initial": float(win.mean()),
                "kl_to_initial": float(k3_kl(cur, init, mask).mean())}

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

    def save_checkpoint(self, path) -> Path:
        """Model folder (:meth:`save_model`) plus the trainer state to resume from it."""
        path = self.save_model(path)
        if self.accelerator.is_main_process:
            state = {"step": self.step_count, "ref_version": self.ref_version,
                     "history": self.history, "config": self.args.to_dict(),
                     "initial_samples": [[k, v] for k, v in self.initial_samples.items()]}
            checkpoint.save_state(path, state, self.optimizer, self.reference, self.initial,
                                  self.accelerator.scaler)
        self.accelerator.wait_for_everyone()
        return path

    def load_checkpoint(self, path) -> SelfPlayTrainer:
        """Restore weights, optimiser, snapshots, RNG and counters from :meth:`save_checkpoint`."""
        loaded = checkpoint.load_state(path)
        state = loaded["state"]
        saved, now = state["config"], self.args.to_dict()
        changed = sorted(k for k in now if saved.get(k) != now[k] and k not in _RESUMABLE_CHANGES)
        if changed:
            raise ValueError(f"the checkpoint was written with a different SelfPlayConfig "
                             f"({', '.join(changed)} differ); resume with the same settings.")
        checkpoint.load_model_weights(self.unwrapped, path)
        self.optimizer.load_state_dict(loaded["optimizer"])
        if loaded["scaler"] is not None and self.accelerator.scaler is not None:
            self.accelerator.scaler.load_state_dict(loaded["scaler"])
        self.initial = WeightSnapshot.from_state_dict(loaded["initial"])
        self.ref_version = state["ref_version"]
        self.reference = (self.initial if self.ref_version == 0
                          else WeightSnapshot.from_state_dict(loaded["reference"]))
        self.step_count = state["step"]
        self.history = list(state["history"])
        self.initial_samples = {k: v for k, v in state["initial_samples"]}
        return self


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
    return index if isinstance(index, int) else zlib.crc32(index.encode()) + (1 << 40)


def _flat(d: dict) -> dict:
    """Scalars only (TensorBoard's hparams reject lists and None)."""
    return {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in d.items()}
