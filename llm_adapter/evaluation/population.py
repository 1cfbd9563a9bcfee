"""A population of policies judged against each other on held-out prompts, cached on disk.

A :class:`Population` holds, for each member, responses to the same prompts: ``K`` samples per
prompt drawn once with fixed seeds (:meth:`Population.add_model`,
:meth:`~Population.add_checkpoint`, or given: :meth:`~Population.add_samples`), or an exact
distribution over an enumerable response set (:meth:`~Population.add_distribution`, the toy
LM). The win rate of member ``i`` over member ``j`` on prompt ``b`` is

    P_b[i, j] = sum_{a, c} w_i[b, a] w_j[b, c] V_b(y_i[b, a], y_j[b, c])

with ``V_b(y, y') = P(y > y' | prompt b)`` the judge's verdict and ``w`` the weights of the
responses (``1/K`` for samples, the probabilities for a distribution); ``P = mean_b P_b``.

Each *unordered* pair of members is judged once per prompt and sample pair, in one orientation;
the other is ``1 - V`` (so ``P + P^T = 1`` exactly, and ``P[i, i] = 1/2`` is not judged). Use a
judge that cancels its own position bias (``LLMJudge`` and ``PairwiseJudge`` ask both orders).
A pointwise judge (a reward model, ``BradleyTerryOracle``) scores every response once and the
verdicts are formed from the scores. Verdicts are keyed by the *fingerprints* of the members'
responses (a hash of the prompts and responses), not their names: members with the same
responses share their verdicts (all exact toy distributions do), and a member whose responses
changed is judged again.

On disk (``cache_dir``; written by :meth:`Population.add_*` and when judging):

* ``judge.json``: the judge's name (a cache judged by another judge is refused);
* ``members.json``: the members in order (name, run, step, fingerprint, weights, source);
* ``samples/<fingerprint>.json``: a member's responses; ``sources.json``: which fingerprint a
  model source (a checkpoint's path and file stamps, the member's name and the sampling
  settings) produced, so a checkpoint is neither loaded nor sampled twice;
* ``verdicts/<fingerprint>.safetensors``: the verdicts ``[prompts, K, K']`` of that member's
  responses against those of every member added before it (keys: their fingerprints), or its
  scores (key ``scores``) for a pointwise judge. Adding a member writes one such file: one new
  row of the matrix.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.prompts import Prompt, conversation, plain_text
from ..judges.adapters import as_oracle
from ..judges.oracles import check_preferences, is_pointwise
from .metagame import PopulationReport, analyse
from .policies import _as_lists, checkpoint_source, load_checkpoint, name_salt, sample_responses

__all__ = ["Member", "WinRates", "Population"]


@dataclass
class Member:
    """One policy of a population: its responses ``[prompts][K]`` (token-id lists or strings),
    their weights ``[prompts, K]`` (rows sum to 1), whether they are an exact distribution, its
    run and step (for last vs average), the fingerprint of its responses and the source it was
    sampled from (None for given responses)."""

    name: str
    responses: list
    weights: np.ndarray
    exact: bool
    run: str | None
    step: int | None
    fingerprint: str
    source: str | None = None

    def record(self) -> dict:
        uniform = not self.exact and np.allclose(self.weights, 1.0 / self.weights.shape[1])
        return {"name": self.name, "run": self.run, "step": self.step,
                "fingerprint": self.fingerprint, "exact": self.exact, "source": self.source,
                "weights": None if uniform else self.weights.tolist()}


@dataclass(frozen=True)
class WinRates:
    """``matrix [n, n]`` = ``P[i, j]``, the win rate of ``names[i]`` over ``names[j]``, its
    standard errors over prompts ``se [n, n]`` (``nan`` with one prompt unless exact) and the
    per-prompt estimates ``per_prompt [prompts, n, n]``."""

    names: list
    matrix: np.ndarray
    se: np.ndarray
    per_prompt: np.ndarray


def _sha(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:20]


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class Population:
    """Policies evaluated against each other on ``prompts`` by ``judge``.

    ``prompts``: the held-out prompts (strings, conversations or prepared prompts; every member
    answers all of them). ``judge``: anything ``judge=`` of the trainer accepts (an oracle, a
    pairwise judge, a TRL-style judge, a reward model with ``reward_tokenizer``;
    :func:`~llm_adapter.judges.adapters.as_oracle`; ``tokenizer`` decodes token-id responses
    for text judges). ``cache_dir``: where samples and verdicts are kept (None: in memory only).
    ``judge_name``: the judge's identity in the cache (default: its class name; name it, e.g.
    by its model path, when several judges of one class share cache folders).
    ``batch_size``: rows per judge call.

    Members are added with :meth:`add_model`, :meth:`add_checkpoint`, :meth:`add_samples` or
    :meth:`add_distribution`; :meth:`win_rates` judges the pairs not judged yet and returns the
    matrix, :meth:`analyse` the meta-game (:func:`~llm_adapter.evaluation.metagame.analyse`).
    ``judged_rows`` counts the (prompt, a, b) rows (or scored responses) sent to the judge.
    """

    def __init__(self, prompts, judge, cache_dir=None, judge_name: str | None = None,
                 tokenizer=None, reward_tokenizer=None, batch_size: int = 1024):
        self.prompts = _prompt_list(prompts)
        self.judge_prompts = [p if isinstance(p, Prompt) else
                              Prompt(plain_text(p), conversation(p)) for p in self.prompts]
        self.prompt_key = _sha([conversation(p) for p in self.prompts])
        self.oracle = as_oracle(judge, tokenizer, reward_tokenizer)
        self.pointwise = is_pointwise(self.oracle)
        self.judge_name = judge_name or type(self.oracle).__name__
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        self.batch_size = batch_size
        self.members: list[Member] = []
        self.judged_rows = 0
        self._verdicts: dict[tuple[str, str], np.ndarray] = {}
        self._scores: dict[str, np.ndarray] = {}
        self._responses: dict[str, list] = {}
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        if self.cache_dir is not None:
            self._open_cache()

    # ------------------------------------------------------------------ the cache
    def _open_cache(self) -> None:
        root = self.cache_dir
        (root / "samples").mkdir(parents=True, exist_ok=True)
        (root / "verdicts").mkdir(exist_ok=True)
        info = {"judge": self.judge_name, "pointwise": self.pointwise}
        path = root / "judge.json"
        if path.is_file():
            saved = json.loads(path.read_text())
            if saved != info:
                raise ValueError(f"the cache {str(root)!r} holds verdicts of the judge "
                                 f"{saved.get('judge')!r} (pointwise: {saved.get('pointwise')}),"
                                 f" not {self.judge_name!r} (pointwise: {self.pointwise}); use "
                                 "another cache folder or delete this one.")
        else:
            _write_json(path, info)
        from safetensors.numpy import load_file

        for file in sorted((root / "verdicts").glob("*.safetensors")):
            fp = file.stem
            for key, value in load_file(str(file)).items():
                if key == "scores":
                    self._scores[fp] = value
                else:
                    self._verdicts[(fp, key)] = value

    def _save_verdicts(self, fp: str) -> None:
        if self.cache_dir is None:
            return
        from safetensors.numpy import save_file

        data = ({"scores": self._scores[fp]} if self.pointwise and fp in self._scores else
                {b: np.ascontiguousarray(v) for (a, b), v in self._verdicts.items() if a == fp})
        if data:
            path = self.cache_dir / "verdicts" / f"{fp}.safetensors"
            tmp = path.with_name(path.stem + ".tmp")
            save_file(data, str(tmp))
            os.replace(tmp, path)

    def _save_members(self) -> None:
        if self.cache_dir is not None:
            _write_json(self.cache_dir / "members.json", [m.record() for m in self.members])

    def _cached_samples(self, source_key: str):
        if self.cache_dir is None:
            return None
        index = self.cache_dir / "sources.json"
        fp = json.loads(index.read_text()).get(source_key) if index.is_file() else None
        file = self.cache_dir / "samples" / f"{fp}.json"
        return json.loads(file.read_text())["responses"] if fp and file.is_file() else None

    def _remember_source(self, source_key: str, fp: str) -> None:
        if self.cache_dir is None:
            return
        index = self.cache_dir / "sources.json"
        data = json.loads(index.read_text()) if index.is_file() else {}
        data[source_key] = fp
        _write_json(index, data)

    def restore(self) -> list[str]:
        """Add the members recorded in ``cache_dir/members.json`` that are not members yet (same
        prompts only); returns their names. Their verdicts come from the cache."""
        if self.cache_dir is None or not (self.cache_dir / "members.json").is_file():
            return []
        added = []
        for rec in json.loads((self.cache_dir / "members.json").read_text()):
            if rec["name"] in self.names:
                continue
            file = self.cache_dir / "samples" / f"{rec['fingerprint']}.json"
            if not file.is_file():
                continue
            data = json.loads(file.read_text())
            if data.get("prompts") != self.prompt_key:
                continue
            self._add(rec["name"], data["responses"], rec["weights"], rec["exact"], rec["run"],
                      rec["step"], rec["source"])
            added.append(rec["name"])
        return added

    # ------------------------------------------------------------------ members
    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def __len__(self) -> int:
        return len(self.members)

    def __contains__(self, name) -> bool:
        return name in self.names

    def member(self, name: str) -> Member:
        for m in self.members:
            if m.name == name:
                return m
        raise ValueError(f"no member {name!r}; members: {self.names}.")

    def _add(self, name, responses, weights, exact, run, step, source=None) -> Member:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a member needs a non-empty string name; got {name!r}.")
        if name in self.names:
            raise ValueError(f"the population already has a member {name!r}; names are unique.")
        if step is not None and not isinstance(step, (int, np.integer)):
            raise ValueError(f"step must be an integer or None; got {step!r}.")
        responses = _as_lists(responses)
        if len(responses) != len(self.prompts):
            raise ValueError(f"member {name!r} has responses for {len(responses)} prompts; the "
                             f"population has {len(self.prompts)}.")
        k = len(responses[0])
        if k == 0 or any(len(g) != k for g in responses):
            raise ValueError(f"member {name!r} needs the same number (>= 1) of responses for "
                             "every prompt.")
        if weights is None:
            w = np.full((len(responses), k), 1.0 / k)
        else:
            w = np.asarray(weights, dtype=np.float64)
            if w.ndim == 1:
                w = np.broadcast_to(w, (len(responses), w.shape[0])).copy()
            if w.shape != (len(responses), k):
                raise ValueError(f"member {name!r}: weights must be [{k}] or "
                                 f"[{len(responses)}, {k}]; got {w.shape}.")
            if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.allclose(w.sum(1), 1.0,
                                                                                  atol=1e-9):
                raise ValueError(f"member {name!r}: weights must be probabilities summing to 1 "
                                 "for every prompt.")
        fp = _sha({"prompts": self.prompt_key, "responses": responses})
        if fp not in self._responses:
            self._responses[fp] = responses
            if self.cache_dir is not None:
                file = self.cache_dir / "samples" / f"{fp}.json"
                if not file.is_file():
                    _write_json(file, {"prompts": self.prompt_key, "responses": responses})
        member = Member(name, responses, w, bool(exact), run, None if step is None else int(step),
                        fp, source)
        self.members.append(member)
        self._save_members()
        return member

    def add_samples(self, name: str, responses, run: str | None = None,
                    step: int | None = None, weights=None) -> Member:
        """Add a member from its responses ``[prompts][K]`` (token-id lists or strings, e.g. a
        rollout dataset's ``completions`` or another engine's output); ``weights [prompts, K]``
        (default ``1/K``)."""
        return self._add(name, responses, weights, False, run, step)

    def add_distribution(self, name: str, responses, probs, run: str | None = None,
                         step: int | None = None) -> Member:
        """Add an exact distribution: with ``probs [K]``, ``responses`` (``[K]`` token-id lists
        or strings) is its support for every prompt; with ``probs [prompts, K]``,
        ``responses`` is ``[prompts][K]``. The win rates against it are then exact
        expectations, e.g. for the toy LM ``pi_i^T P pi_j`` with ``responses =
        toy_responses()``."""
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim == 1:
            if len(responses) != probs.shape[0]:
                raise ValueError(f"member {name!r}: {len(responses)} responses but "
                                 f"{probs.shape[0]} probabilities.")
            responses = [list(responses)] * len(self.prompts)
        return self._add(name, responses, probs, True, run, step)

    def add_model(self, name: str, model, tokenizer, k: int = 4, seed: int = 0,
                  max_new_tokens: int = 64, temperature: float = 1.0,
                  max_prompt_length: int | None = None, batch_size: int = 8,
                  run: str | None = None, step: int | None = None, source: str | None = None,
                  sample=None) -> Member:
        """Add a causal LM by ``k`` samples per prompt (:func:`~llm_adapter.evaluation.
        policies.sample_responses`; the seeds are fixed by ``seed``, the prompt, the sample's
        index and the member's name, so members draw independent noise). ``source``: a string
        naming the weights (e.g. :func:`~llm_adapter.evaluation.policies.checkpoint_source`);
        with a cache, samples of the same source and settings are read back instead of drawn.
        ``sample``: a callable ``sample(prompts, k, seeds)`` to draw with instead (e.g.
        ``trainer.sample``)."""
        key = self._source_key(source, name, k, seed, max_new_tokens, temperature,
                               max_prompt_length)
        responses = self._cached_samples(key) if key is not None else None
        if responses is None:
            responses = sample_responses(model, tokenizer, self.prompts, k, seed, max_new_tokens,
                                         temperature, max_prompt_length, batch_size, sample,
                                         salt=name_salt(name))
        member = self._add(name, responses, None, False, run, step, source)
        if key is not None:
            self._remember_source(key, member.fingerprint)
        return member

    def add_checkpoint(self, path, name: str | None = None, run: str | None = None,
                       step: int | None = None, base=None, dtype=None, device=None,
                       **sampling) -> Member:
        """Add a checkpoint folder (:func:`~llm_adapter.evaluation.policies.load_checkpoint`:
        a full model, or a LoRA adapter on ``base``) by its samples (``sampling``: the
        arguments of :meth:`add_model`: ``k``, ``seed``, ``max_new_tokens``, ...). Default name:
        the folder's name. The model is loaded only if its samples are not cached, and
        released afterwards."""
        name = name or Path(path).name
        source = checkpoint_source(path, base)
        key = self._source_key(source, name, **_settings(sampling))
        responses = self._cached_samples(key)
        if responses is not None:
            member = self._add(name, responses, None, False, run, step, source)
            return member
        model, tokenizer = load_checkpoint(path, base, dtype, device)
        try:
            return self.add_model(name, model, tokenizer, run=run, step=step, source=source,
                                  **sampling)
        finally:
            del model

    def _source_key(self, source, name, k=4, seed=0, max_new_tokens=64, temperature=1.0,
                    max_prompt_length=None):
        if source is None:
            return None
        return _sha({"source": source, "name": name, "prompts": self.prompt_key, "k": k,
                     "seed": seed, "max_new_tokens": max_new_tokens,
                     "temperature": float(temperature), "max_prompt_length": max_prompt_length})

    # ------------------------------------------------------------------ judging
    def _verdict(self, fa: str, fb: str) -> np.ndarray | None:
        """``[prompts, Ka, Kb]`` verdicts ``P(y_a > y_b)`` of two response sets, or None."""
        if self.pointwise:
            if fa not in self._scores or fb not in self._scores:
                return None
            sa = torch.from_numpy(self._scores[fa])
            sb = torch.from_numpy(self._scores[fb])
            v = check_preferences(self.oracle.preference_from_scores(sa[:, :, None],
                                                                     sb[:, None, :]))
            return v.numpy()
        if (fa, fb) in self._verdicts:
            return self._verdicts[(fa, fb)]
        if (fb, fa) in self._verdicts:
            return 1.0 - np.swapaxes(self._verdicts[(fb, fa)], 1, 2)
        return None

    def _call(self, prompts, a, b=None) -> np.ndarray:
        """The judge (or the scorer, ``b=None``) on rows in chunks of ``batch_size``."""
        out = []
        for s in range(0, len(prompts), self.batch_size):
            sl = slice(s, s + self.batch_size)
            if b is None:
                v = torch.as_tensor(self.oracle.score(prompts[sl], a[sl]), dtype=torch.float64)
                if not torch.all(torch.isfinite(v)):
                    raise ValueError("the judge returned a non-finite score.")
            else:
                v = check_preferences(torch.as_tensor(self.oracle(prompts[sl], a[sl], b[sl]),
                                                      dtype=torch.float64))
            if v.shape != (len(prompts[sl]),):
                raise ValueError(f"the judge returned shape {tuple(v.shape)} for "
                                 f"{len(prompts[sl])} rows; expected one value per row.")
            out.append(v.cpu().numpy())
            self.judged_rows += len(prompts[sl])
        return np.concatenate(out)

    def judge_missing(self) -> int:
        """Judge every pair of members not judged yet (pointwise: score every response set not
        scored yet); returns the number of rows sent to the judge."""
        before = self.judged_rows
        fps = list(dict.fromkeys(m.fingerprint for m in self.members))
        if self.pointwise:
            for fp in fps:
                if fp in self._scores:
                    continue
                resp = self._responses[fp]
                k = len(resp[0])
                rows_p = [p for p in self.judge_prompts for _ in range(k)]
                rows_a = [r for g in resp for r in g]
                self._scores[fp] = self._call(rows_p, rows_a).reshape(len(resp), k)
                self._save_verdicts(fp)
            return self.judged_rows - before
        # pairs of members, the later-added one first (its row of the matrix)
        needed = []
        seen = set()
        for j, mj in enumerate(self.members):
            for mi in self.members[:j]:
                pair = (mj.fingerprint, mi.fingerprint)
                if pair in seen or (pair[::-1] in seen):
                    continue
                seen.add(pair)
                if self._verdict(*pair) is None:
                    needed.append(pair)
        if not needed:
            return 0
        rows_p, rows_a, rows_b, spans = [], [], [], []
        for fa, fb in needed:
            ra, rb = self._responses[fa], self._responses[fb]
            ka, kb = len(ra[0]), len(rb[0])
            same = fa == fb
            idx = [(p, a, c) for p in range(len(ra)) for a in range(ka) for c in range(kb)
                   if not same or a < c]
            rows_p += [self.judge_prompts[p] for p, _, _ in idx]
            rows_a += [ra[p][a] for p, a, _ in idx]
            rows_b += [rb[p][c] for p, _, c in idx]
            spans.append((fa, fb, idx, ka, kb))
        values = self._call(rows_p, rows_a, rows_b) if rows_p else np.zeros(0)
        start, touched = 0, []
        for fa, fb, idx, ka, kb in spans:
            v = np.full((len(self.prompts), ka, kb), 0.5)
            vals = values[start:start + len(idx)]
            start += len(idx)
            if idx:
                p, a, c = (np.array(t) for t in zip(*idx))
                v[p, a, c] = vals
                if fa == fb:
                    v[p, c, a] = 1.0 - vals
            self._verdicts[(fa, fb)] = v
            touched.append(fa)
        for fa in dict.fromkeys(touched):
            self._save_verdicts(fa)
        return self.judged_rows - before

    def win_rates(self) -> WinRates:
        """The win-rate matrix of the members (judging what is missing first)."""
        if not self.members:
            raise ValueError("the population is empty: add members first.")
        self.judge_missing()
        n, b = len(self.members), len(self.prompts)
        pp = np.full((b, n, n), 0.5)
        for i, mi in enumerate(self.members):
            for j in range(i + 1, n):
                mj = self.members[j]
                v = self._verdict(mi.fingerprint, mj.fingerprint)
                pij = np.einsum("bk,bkl,bl->b", mi.weights, v, mj.weights)
                pp[:, i, j], pp[:, j, i] = pij, 1.0 - pij
        exact = all(m.exact for m in self.members)
        p = pp.mean(0)
        se = (pp.std(0, ddof=1) / np.sqrt(b) if b > 1 else
              np.zeros((n, n)) if exact else np.full((n, n), np.nan))
        np.fill_diagonal(se, 0.0)
        return WinRates(self.names, p, se, pp)

    def analyse(self, bootstrap: int = 1000, confidence: float = 0.95,
                seed: int = 0) -> PopulationReport:
        """The population meta-game (:func:`~llm_adapter.evaluation.metagame.analyse`): Nash,
        exploitability within the population of every member, of each run's last checkpoint
        and uniform average, and the Nash's duality gap, with bootstrap intervals."""
        wr = self.win_rates()
        report = analyse(wr.per_prompt, wr.names, [m.run for m in self.members],
                         [m.step for m in self.members], bootstrap, confidence, seed,
                         exact=all(m.exact for m in self.members))
        report.extra["judge"] = self.judge_name
        report.extra["samples_per_prompt"] = {m.name: len(m.responses[0]) for m in self.members}
        return report


def _settings(sampling: dict) -> dict:
    keys = ("k", "seed", "max_new_tokens", "temperature", "max_prompt_length")
    return {k: sampling[k] for k in keys if k in sampling}


def _prompt_list(prompts) -> list:
    from ..data.prompts import _rows

    rows = _rows(prompts)
    if not rows:
        raise ValueError("no prompts: pass at least one held-out prompt.")
    for i, p in enumerate(rows):
        if not isinstance(p, (str, list, tuple)) or (isinstance(p, str) and not p.strip()):
            raise ValueError(f"prompt {i} must be a non-empty string or a conversation; got "
                             f"{p!r}.")
    return rows
