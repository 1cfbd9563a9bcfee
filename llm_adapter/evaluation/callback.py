"""The population evaluation during training: a trainer callback.

:class:`PopulationCallback` adds the current policy to a :class:`~llm_adapter.evaluation.
population.Population` at the start of training (the initial policy, ``step-0``) and every
``every`` iterations (default the trainer's ``eval_steps``), judges only the new row of the
win-rate matrix, and logs into that iteration's metrics (so into ``trainer.history``,
``history.json`` and the ``report_to`` trackers):

* ``population_size``;
* ``population_exploitability_last`` (and ``_se``): the current policy's exploitability within
  the population of the checkpoints so far, ``max_j P[j, last] - 1/2`` (NashConv / 2);
* ``population_exploitability_average`` (and ``_se``): that of the uniform mixture of the
  checkpoints so far (the average iterate);
* ``population_nash_weight_last``: the population Nash's weight on the current policy.

A converging run drives the last iterate's value towards 0; a cycling one keeps it up (an
earlier checkpoint beats the current one). At the end of training the report
(:func:`~llm_adapter.evaluation.report.write_report`) goes to ``report_dir`` (default
``output_dir/population``).

Memory: a checkpoint enters by its ``k`` samples per eval prompt, drawn when it is added with
fixed seeds (``trainer.sample``, the trainer's ``max_new_tokens`` and ``temperature``); no
weights are kept (checkpoint folders, ``save_steps``, keep those). Cost per addition: ``k``
samples per prompt, and ``prompts x k x k`` judge rows against each earlier member (a pointwise
judge: ``prompts x k`` scores). Every process computes the same population (all eval prompts);
only the main process writes the cache and the report (a ``population=`` passed in writes to
its own cache: build it with ``cache_dir`` on the main process only).
"""

from __future__ import annotations

from pathlib import Path

from ..trainer.callbacks import TrainerCallback
from .population import Population
from .report import write_report

__all__ = ["PopulationCallback"]


class PopulationCallback(TrainerCallback):
    """Evaluate the run's checkpoints as a population while training.

    ``prompts``: held-out prompts (default: the trainer's eval dataset); ``judge``: default the
    trainer's judge; ``population``: a :class:`~llm_adapter.evaluation.population.Population`
    to add the checkpoints to instead (its prompts and judge; e.g. one seeded with fixed
    opponents: reference models, another run's checkpoints, simple probe policies, which make
    the population a stronger critic); ``every``: iterations between additions (default
    ``eval_steps``); ``k``:
    samples per prompt and checkpoint; ``seed``: sampling seed (shared by all checkpoints);
    ``run``: the run's name in the report; ``include_initial``: add the policy at the start of
    training; ``cache_dir``: keep samples and verdicts on disk (a resumed run reads its earlier
    checkpoints back); ``bootstrap``: resamples for the logged standard errors; ``report_dir``:
    where the final report goes (None: ``output_dir/population``; False: no report).
    After training, ``callback.population`` and ``callback.report`` hold the results.
    """

    def __init__(self, prompts=None, judge=None, every: int | None = None, k: int = 4,
                 seed: int = 0, run: str = "run", include_initial: bool = True,
                 cache_dir=None, bootstrap: int = 200, report_dir=None,
                 judge_name: str | None = None, population: Population | None = None):
        if population is not None and (prompts is not None or judge is not None
                                       or cache_dir is not None):
            raise ValueError("pass population= alone, or prompts= / judge= / cache_dir= to "
                             "build one; a population has its own prompts, judge and cache.")
        if every is not None and not (isinstance(every, int) and every >= 1):
            raise ValueError(f"every must be a positive integer or None; got {every!r}.")
        if not (isinstance(k, int) and k >= 1):
            raise ValueError(f"k must be a positive integer; got {k!r}.")
        self.prompts, self.judge, self.every, self.k, self.seed = prompts, judge, every, k, seed
        self.run, self.include_initial, self.cache_dir = run, include_initial, cache_dir
        self.bootstrap, self.report_dir, self.judge_name = bootstrap, report_dir, judge_name
        self.population: Population | None = population
        self.report = None

    def _period(self, trainer) -> int:
        every = self.every or trainer.args.eval_steps
        if not every:
            raise ValueError("PopulationCallback needs every= or the trainer's eval_steps to "
                             "know when to add a checkpoint.")
        return every

    def on_train_begin(self, trainer) -> None:
        self._period(trainer)
        if self.population is None:
            prompts = self.prompts if self.prompts is not None else trainer.eval_prompts
            if prompts is None:
                raise ValueError("PopulationCallback needs held-out prompts: pass prompts= or "
                                 "give the trainer an eval_dataset.")
            main = trainer.accelerator.is_main_process
            self.population = Population(
                prompts, self.judge if self.judge is not None else trainer.oracle,
                cache_dir=self.cache_dir if main else None, judge_name=self.judge_name,
                tokenizer=trainer.tokenizer)
            if self.cache_dir is not None:
                self.population.restore()
                # a resumed run: forget members from steps it has not reached (again)
                self.population.members = [
                    m for m in self.population.members
                    if m.run != self.run or m.step is None or m.step <= trainer.step_count]
        if self.include_initial and trainer.step_count == 0:
            self._add(trainer)

    def _add(self, trainer) -> dict:
        name = f"{self.run}/step-{trainer.step_count}"
        pop = self.population
        if name not in pop:
            cfg = trainer.args
            pop.add_model(name, trainer.unwrapped, trainer.tokenizer, k=self.k, seed=self.seed,
                          max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature,
                          run=self.run, step=trainer.step_count, sample=trainer.sample)
        report = pop.analyse(bootstrap=self.bootstrap if len(pop.prompts) > 1 else 0,
                             seed=self.seed)
        self.report = report
        run = report.run(self.run)
        last = report.member(name)
        return {"population_size": len(pop),
                "population_exploitability_last": report.exploitability[last].value,
                "population_exploitability_last_se": report.exploitability[last].se,
                "population_exploitability_average": run.curve_average[
                    run.members.index(last)].value,
                "population_exploitability_average_se": run.curve_average[
                    run.members.index(last)].se,
                "population_nash_weight_last": float(report.nash[last])}

    def on_step_end(self, trainer, metrics: dict) -> None:
        if trainer.step_count % self._period(trainer) == 0:
            metrics.update(self._add(trainer))

    def on_train_end(self, trainer) -> None:
        if self.report_dir is False or self.report is None:
            return
        if not trainer.accelerator.is_main_process:
            return
        out = (Path(self.report_dir) if self.report_dir is not None else
               Path(trainer.args.output_dir) / "population")
        write_report(self.report, out, title=f"Population of {self.run} "
                                             f"({trainer.args.algorithm})")
