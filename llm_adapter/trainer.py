"""Self-play preference optimisation of a Hugging Face causal LM with the rules of the core.

Each iteration ``t`` of :class:`SelfPlayTrainer`:

1. samples ``K`` responses per prompt from ``pi_t`` (the current model; ``generate`` with pure
   ancestral sampling: ``top_k=0``, ``top_p=1``), or for Nash-MD from the token-level geometric
   mixture ``pi_t^(1-eta tau) pi_ref^(eta tau)`` (:mod:`llm_adapter.mixture`);
2. queries the preference oracle on the ``K x K`` pairs and estimates ``P_hat(y > pi_t)`` as row
   means (self-term 1/2 included);
3. scores the samples under the frozen policies ``pi_t`` and the reference / magnet (one resident
   model: frozen policies are :class:`~llm_adapter.logprobs.WeightSnapshot` s swapped in, and
   their log-probs are cached);
4. computes target log-ratios with the rule (``gametheory.rules`` via :mod:`llm_adapter.losses`)
   and takes ``epochs`` passes of ``torch.optim.AdamW`` over the loss;
5. advances the schedules: the reference / magnet is reset to the current policy every
   ``ref_every`` iterations (MPO's magnet reset, COMAL's outer step ``R``).

Logged per iteration: win rate of ``pi_t`` against samples of the initial policy,
``KL(pi_t || pi_ref)`` and ``KL(pi_t || pi_{t+1})`` (Monte-Carlo estimates on the samples of
``pi_t``), the loss and seconds. :meth:`SelfPlayTrainer.save` / :meth:`load` checkpoint the
trainable weights (safetensors) and the trainer state (``torch.save``, loaded with
``weights_only=True``); a resumed run equals an uninterrupted one. PEFT LoRA models work
unchanged (only adapter weights are trainable and snapshotted). CUDA and bf16 autocast are used
when available.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path

import torch

from . import losses
from .logprobs import LogProbCache, WeightSnapshot, _check_prompts, completion_logps, encode
from .mixture import GeometricMixtureProcessor
from .oracles import estimate_win_rates

__all__ = ["SelfPlayConfig", "SelfPlayTrainer", "ALGORITHMS"]

ALGORITHMS = ("sppo", "sppo_pointwise", "mpo", "mpo_token", "comal", "inpo", "nash_md")


@dataclasses.dataclass
class SelfPlayConfig:
    """Hyper-parameters of :class:`SelfPlayTrainer`.

    ``eta``: the rule's step size (SPPO ``beta = 1/eta``). ``temp``: MPO's magnet strength
    ``alpha`` / COMAL-INPO's ``tau``. ``ref_every``: iterations between resets of the reference /
    magnet to the current policy (None: the reference stays at the initial policy, i.e. INPO).
    """

    algorithm: str = "mpo"
    eta: float = 1.0
    temp: float = 0.1
    ref_every: int | None = None
    k: int = 4
    prompts_per_step: int = 4
    epochs: int = 1
    lr: float = 1e-5
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    max_new_tokens: int = 32
    temperature: float = 1.0
    initial_samples: int = 2
    seed: int = 0

    def __post_init__(self):
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}; got {self.algorithm!r}.")
        for name in ("eta", "temp", "lr", "temperature"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive; got {getattr(self, name)!r}.")
        for name in ("k", "prompts_per_step", "epochs", "max_new_tokens", "initial_samples"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer.")
        if self.k < 2 and self.algorithm != "mpo_token":
            raise ValueError("k must be >= 2: the pairwise losses compare responses of a prompt.")
        if self.ref_every is not None and self.ref_every < 1:
            raise ValueError("ref_every must be a positive integer or None.")
        if self.algorithm == "nash_md" and self.eta * self.temp > 1:
            raise ValueError(
                f"nash_md mixes pi_t^(1-eta*temp) pi_ref^(eta*temp): eta * temp must be <= 1; "
                f"got {self.eta * self.temp:g}."
            )


class SelfPlayTrainer:
    """Self-play trainer for ``model`` (a ``transformers`` causal LM, optionally PEFT-wrapped).

    ``oracle(prompts, a, b) -> [B]`` gives ``P(a > b | prompt)``; responses are passed as
    token-id lists (the :class:`~llm_adapter.oracles.LLMJudge` decodes them).
    """

    def __init__(self, model, tokenizer, oracle, config: SelfPlayConfig | None = None,
                 device=None, bf16: bool | None = None):
        self.config = config or SelfPlayConfig()
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device)
        self.tokenizer, self.oracle = tokenizer, oracle
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        if bf16 is None:
            bf16 = self.device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.bf16 = bool(bf16)
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("the model has no trainable parameters.")
        self.optimizer = torch.optim.AdamW(params, lr=self.config.lr,
                                           weight_decay=self.config.weight_decay)
        self.iteration = 0
        self.ref_version = 0
        self.initial = WeightSnapshot(model)
        self.reference = self.initial
        self.cache = LogProbCache()
        self.initial_samples: dict[str, list[list[int]]] = {}
        self.history: list[dict] = []

    # ------------------------------------------------------------------ helpers
    def _autocast(self):
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    @torch.no_grad()
    def sample(self, prompts, k: int, seed: int, mixture=None) -> list[list[list[int]]]:
        """``k`` responses per prompt from the current model, as token ids cut after EOS.

        ``mixture=(snapshot, beta)`` samples from the token-level geometric mixture
        ``pi^(1-beta) snapshot^beta`` instead (Nash-MD; :mod:`llm_adapter.mixture`).
        """
        _check_prompts(prompts)
        tok, cfg = self.tokenizer, self.config
        torch.manual_seed(seed)
        side = tok.padding_side
        tok.padding_side = "left"
        try:
            enc = tok(list(prompts), return_tensors="pt", padding=True).to(self.device)
        finally:
            tok.padding_side = side
        self.model.eval()
        processors = []
        if mixture is not None:
            prompt_mask = enc["attention_mask"].repeat_interleave(k, dim=0)
            processors.append(GeometricMixtureProcessor(self.model, mixture[0], mixture[1],
                                                        prompt_mask))
        with self._autocast():
            out = self.model.generate(**enc, do_sample=True, num_return_sequences=k,
                                      logits_processor=processors,
                                      max_new_tokens=cfg.max_new_tokens,
                                      temperature=cfg.temperature, top_k=0, top_p=1.0,
                                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        gen = out[:, enc["input_ids"].shape[1]:].cpu().tolist()
        responses = []
        for ids in gen:
            if tok.eos_token_id in ids:
                ids = ids[: ids.index(tok.eos_token_id) + 1]
            responses.append(ids)
        return [responses[i * k:(i + 1) * k] for i in range(len(prompts))]

    def _logps(self, prompts, completions, per_token=False):
        batch = encode(self.tokenizer, prompts, completions, add_eos=False, device=self.device)
        with self._autocast():
            return completion_logps(self.model, **batch, per_token=per_token)

    @torch.no_grad()
    def _frozen_logps(self, name, snapshot, prompts, completions):
        def compute(p, c):
            ctx = snapshot.swapped_in(self.model) if snapshot is not None else (
                contextlib.nullcontext())
            with ctx:
                return self._logps(p, c)

        return self.cache.get(name, prompts, completions, compute)

    def _ensure_initial_samples(self, prompts) -> None:
        missing = [p for p in dict.fromkeys(prompts) if p not in self.initial_samples]
        if not missing:
            return
        with self.initial.swapped_in(self.model):
            groups = self.sample(missing, self.config.initial_samples,
                                 seed=self.config.seed * 7919 + 17)
        self.initial_samples.update(zip(missing, groups))

    def _loss(self, rows, logps, old, win, ref):
        cfg = self.config
        if cfg.algorithm == "sppo":
            return losses.sppo_pairwise_loss(logps, old, win, cfg.eta)
        if cfg.algorithm == "sppo_pointwise":
            return losses.sppo_loss(logps.flatten(), old.flatten(), win.flatten(), cfg.eta)
        if cfg.algorithm == "mpo":
            return losses.mpo_loss(logps, old, win, ref, cfg.eta, cfg.temp)
        if cfg.algorithm == "nash_md":  # win rates are against the mixture policy
            return losses.nash_md_loss(logps, old, win, ref, cfg.eta, cfg.temp)
        return losses.inpo_loss(logps, old, win, ref, cfg.eta, cfg.temp)

    def optimisation_step(self, prompts, completions, old, win, ref, token_frozen=None) -> float:
        """One optimiser step on a minibatch; returns the loss.

        ``prompts``, ``completions``: ``B*K`` rows (prompt-major); ``old``, ``win``, ``ref``:
        ``[B, K]`` (cached log-probs of ``pi_t`` and the reference, win rates);
        ``token_frozen``: ``(pi_t, magnet)`` per-token log-probs for ``mpo_token``.
        """
        cfg = self.config
        if cfg.algorithm == "mpo_token":
            tok, mask = self._logps(prompts, completions, per_token=True)
            loss = losses.mpo_token_loss(tok, *token_frozen, mask, win.flatten(), cfg.eta,
                                         cfg.temp)
        else:
            logps = self._logps(prompts, completions).view(old.shape)
            loss = self._loss(None, logps, old, win, ref)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(
                [p for g in self.optimizer.param_groups for p in g["params"]], cfg.max_grad_norm)
        self.optimizer.step()
        return loss.item()

    # ------------------------------------------------------------------ one iteration
    def step(self, prompts) -> dict:
        """One self-play iteration on ``prompts``; returns the logged metrics."""
        _check_prompts(prompts)
        cfg, t0 = self.config, time.perf_counter()
        prompts = list(prompts)
        self._ensure_initial_samples(prompts)
        # Nash-MD samples from (and estimates win rates against) the geometric mixture.
        mixture = (self.reference, cfg.eta * cfg.temp) if cfg.algorithm == "nash_md" else None
        responses = self.sample(prompts, cfg.k, seed=cfg.seed * 1_000_003 + self.iteration,
                                mixture=mixture)
        win = estimate_win_rates(self.oracle, prompts, responses).float()  # [B, K]
        vs_initial = estimate_win_rates(self.oracle, prompts, responses,
                                        [self.initial_samples[p] for p in prompts])
        b, k = len(prompts), cfg.k
        flat_p = [p for p in prompts for _ in range(k)]
        flat_c = [c for group in responses for c in group]
        old = self._frozen_logps(f"pi_{self.iteration}", None, flat_p, flat_c).view(b, k)
        ref = self._frozen_logps(f"ref_{self.ref_version}", self.reference, flat_p,
                                 flat_c).view(b, k)
        starts = range(0, b, cfg.prompts_per_step)
        token_frozen = {}
        if cfg.algorithm == "mpo_token":  # per-token log-probs of pi_t and the magnet, per batch
            with torch.no_grad():
                for s in starts:
                    rows = range(s * k, min(s + cfg.prompts_per_step, b) * k)
                    sp, sc = [flat_p[i] for i in rows], [flat_c[i] for i in rows]
                    tok_old, _ = self._logps(sp, sc, per_token=True)
                    with self.reference.swapped_in(self.model):
                        tok_ref, _ = self._logps(sp, sc, per_token=True)
                    token_frozen[s] = (tok_old, tok_ref)
        old, ref, win = old.to(self.device), ref.to(self.device), win.to(self.device)

        self.model.eval()  # no dropout: the trained log-probs are those of the policy sampled
        total, n = 0.0, 0
        for _ in range(cfg.epochs):
            for s in starts:
                rows = list(range(s * k, min(s + cfg.prompts_per_step, b) * k))
                sp, sc = [flat_p[i] for i in rows], [flat_c[i] for i in rows]
                sl = slice(s, s + cfg.prompts_per_step)
                total += self.optimisation_step(sp, sc, old[sl], win[sl], ref[sl],
                                                token_frozen.get(s))
                n += 1
        with torch.no_grad():
            new = self._logps(flat_p, flat_c).view(b, k).float()
        metrics = {
            "iteration": self.iteration,
            "loss": total / n,
            "win_rate_vs_initial": float(vs_initial.mean()),
            "kl_to_ref": float((old - ref).mean()),
            "kl_step": float((old - new).mean()),
            "mean_response_tokens": sum(map(len, flat_c)) / len(flat_c),
            "seconds": time.perf_counter() - t0,
        }
        self.cache.clear(f"pi_{self.iteration}")
        self.iteration += 1
        if cfg.ref_every and self.iteration % cfg.ref_every == 0:
            self.cache.clear(f"ref_{self.ref_version}")
            self.reference = WeightSnapshot(self.model)
            self.ref_version += 1
        self.history.append(metrics)
        return metrics

    def train(self, prompts, iterations: int, checkpoint_dir=None, progress: bool = True) -> list:
        """Run ``iterations`` iterations (each on all ``prompts``) with a tqdm progress bar;
        checkpoint to ``checkpoint_dir`` after each iteration if given."""
        from tqdm.auto import tqdm

        out = []
        bar = tqdm(range(iterations), desc=self.config.algorithm, disable=not progress)
        for _ in bar:
            m = self.step(prompts)
            out.append(m)
            bar.set_postfix(loss=f"{m['loss']:.3g}", win0=f"{m['win_rate_vs_initial']:.3f}",
                            kl_ref=f"{m['kl_to_ref']:.3g}")
            if checkpoint_dir is not None:
                self.save(checkpoint_dir)
        return out

    @torch.no_grad()
    def evaluate(self, prompts, k: int | None = None, seed: int = 12345) -> dict:
        """Win rate of the current policy against the initial policy's samples and a
        Monte-Carlo estimate of ``KL(pi || pi_0)`` from fresh samples of ``pi``."""
        _check_prompts(prompts)
        k = k or self.config.k
        prompts = list(prompts)
        self._ensure_initial_samples(prompts)
        responses = self.sample(prompts, k, seed=seed)
        win = estimate_win_rates(self.oracle, prompts, responses,
                                 [self.initial_samples[p] for p in prompts])
        flat_p = [p for p in prompts for _ in range(k)]
        flat_c = [c for g in responses for c in g]
        cur = self._logps(flat_p, flat_c).float()
        with self.initial.swapped_in(self.model):
            init = self._logps(flat_p, flat_c).float()
        return {"win_rate_vs_initial": float(win.mean()), "kl_to_initial": float((cur - init)
                                                                                 .mean())}

    # ------------------------------------------------------------------ checkpoints
    def save(self, path) -> None:
        """Write ``trainable.safetensors``, ``reference.safetensors``, ``initial.safetensors``
        and ``trainer_state.pt`` to the directory ``path``."""
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        live = {n: p.detach().cpu().contiguous() for n, p in self.model.named_parameters()
                if p.requires_grad}
        save_file(live, str(path / "trainable.safetensors"))
        save_file({n: t.contiguous() for n, t in self.reference.tensors.items()},
                  str(path / "reference.safetensors"))
        save_file({n: t.contiguous() for n, t in self.initial.tensors.items()},
                  str(path / "initial.safetensors"))
        torch.save({"iteration": self.iteration, "ref_version": self.ref_version,
                    "optimizer": self.optimizer.state_dict(),
                    "initial_samples": self.initial_samples, "history": self.history,
                    "config": dataclasses.asdict(self.config)}, path / "trainer_state.pt")

    def load(self, path) -> SelfPlayTrainer:
        """Resume from a directory written by :meth:`save` (``torch.load(weights_only=True)``)."""
        from safetensors.torch import load_file

        path = Path(path)
        state = torch.load(path / "trainer_state.pt", weights_only=True, map_location="cpu")
        if state["config"] != dataclasses.asdict(self.config):
            raise ValueError("the checkpoint was written with a different SelfPlayConfig.")
        live = load_file(str(path / "trainable.safetensors"))
        params = dict(self.model.named_parameters())
        if set(live) != {n for n, p in params.items() if p.requires_grad}:
            raise ValueError("checkpoint weights do not match the model's trainable parameters.")
        with torch.no_grad():
            for n, t in live.items():
                params[n].copy_(t.to(params[n].device, params[n].dtype))
        self.initial = WeightSnapshot.from_state_dict(load_file(str(path / "initial.safetensors")))
        self.ref_version = state["ref_version"]
        ref = load_file(str(path / "reference.safetensors"))
        self.reference = (self.initial if self.ref_version == 0
                          else WeightSnapshot.from_state_dict(ref))
        self.optimizer.load_state_dict(state["optimizer"])
        self.iteration = state["iteration"]
        self.initial_samples = state["initial_samples"]
        self.history = state["history"]
        self.cache.clear()
        return self
