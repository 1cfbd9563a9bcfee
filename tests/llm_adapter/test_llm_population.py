"""Checkpoints as a population meta-game (llm_adapter.evaluation).

Reference values: on the enumerable toy LM the exact win rate between two toy policies is
``pi_i^T P pi_j`` for the lifted COMAL 3x3 preference ``P``, and the exploitability of a
profile is ``gametheory.games.PreferenceGame.exploitability`` (the JAX core; NashConv / 2);
the exact Nash of a meta-game is ``gametheory.lp.solve_zero_sum`` (scipy HiGHS). COMAL 3x3
game: Liu et al. 2024, Sec. 4; its self-play settings (eta 10, MPO/COMAL temp 0.2, magnet reset
every 10, initial policy (0.6, 0.3, 0.1)) as in test_llm_selfplay_toy.py.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from gametheory.games import preference_game
from gametheory.lp import solve_zero_sum
from llm_adapter import (
    BradleyTerryOracle,
    MatrixOracle,
    SelfPlayConfig,
    SelfPlayTrainer,
    cli,
    models,
    toy,
)
from llm_adapter.evaluation import (
    Population,
    PopulationCallback,
    analyse,
    exploitability_within,
    toy_responses,
    toy_samples,
    write_report,
)
from llm_adapter.evaluation.report import FIGURES

INITIAL = np.repeat([0.6, 0.3, 0.1], 3) / 3
ETA, TEMP, R = 10.0, 0.2, 10
ITERATIONS, EVERY = 100, 10
# the runs: SPPO as the exact MWU step and as the paper's pointwise loss, and MPO
RUNS = {"sppo_pairwise": {}, "sppo": {}, "mpo": {"temp": TEMP, "ref_every": R}}


@pytest.fixture(scope="module")
def lifted(comal_prefs):
    classes = toy.ToyLM().responses()[:, 0].numpy()
    return toy.lifted_preference(comal_prefs, classes).numpy()


@pytest.fixture(scope="module")
def checkpoints(lifted):
    """``{run: [(step, probs)]}``: every EVERY-th iterate of exact self-play on the toy LM."""
    out = {}
    for algorithm, kw in RUNS.items():
        trace = toy.exact_self_play(lifted, algorithm, ITERATIONS, eta=ETA, initial=INITIAL,
                                    fit_steps=40, **kw)
        out[algorithm] = [(s, trace.log_probs[s].exp().numpy())
                          for s in range(0, ITERATIONS + 1, EVERY)]
    return out


def _oracle(prefs):
    return MatrixOracle(prefs, classify=lambda y: 3 * int(y[0]) + int(y[1]))


@pytest.fixture(scope="module")
def exact_population(lifted, checkpoints):
    pop = Population(["(the toy LM has no prompt)"], _oracle(lifted))
    for run, ckpts in checkpoints.items():
        for step, probs in ckpts:
            pop.add_distribution(f"{run}/{step}", toy_responses(), probs, run=run, step=step)
    return pop


def _exact_matrix(lifted, checkpoints, names):
    probs = {f"{run}/{s}": p for run, ck in checkpoints.items() for s, p in ck}
    pi = np.stack([probs[n] for n in names])
    return pi @ lifted @ pi.T, pi


def test_exact_judging_gives_the_cores_exploitability(exact_population, lifted, checkpoints):
    report = exact_population.analyse()
    exact, pi = _exact_matrix(lifted, checkpoints, report.names)
    # exact judging: P[i, j] = pi_i^T P pi_j
    np.testing.assert_allclose(report.win_rates, exact, atol=1e-12)
    meta = preference_game(exact)
    n = len(report.names)
    core = [float(meta.exploitability((np.eye(n)[i], np.eye(n)[i]))) for i in range(n)]
    np.testing.assert_allclose([e.value for e in report.exploitability], core, atol=1e-12)
    assert all(e.se == 0 and e.ci[0] == e.ci[1] == e.value for e in report.exploitability)
    # the uniform average of a run is the meta-game mixture: the core agrees on it too
    mpo = report.run("mpo")
    x = np.zeros(n)
    x[mpo.members] = 1 / len(mpo.members)
    assert mpo.average.value == pytest.approx(float(meta.exploitability((x, x))), abs=1e-12)
    # the population Nash (HiGHS) is an equilibrium of the exact meta-game; its gap is 0
    assert float(meta.exploitability((report.nash, report.nash))) < 1e-9
    assert report.duality_gap.value < 1e-9
    # within the population is a lower bound on the exploitability over all toy policies
    full = np.array([toy.exploitability(torch.tensor(lifted), torch.tensor(p)) for p in pi])
    assert np.all(np.array(core) <= full + 1e-12)


def test_the_report_tells_the_converging_run_from_the_cycling_one(exact_population, tmp_path):
    report = exact_population.analyse()
    mpo, sppo, mwu = report.run("mpo"), report.run("sppo"), report.run("sppo_pairwise")
    first = report.exploitability[mpo.members[0]].value
    # MPO's last iterate: its exploitability within the population falls towards 0 ...
    assert mpo.last.value < 0.01 and mpo.last.value < first / 10
    assert mpo.last.value < mpo.average.value  # ... and beats its average iterate
    # SPPO's (both losses) does not fall: an earlier checkpoint beats the last one by 0.3
    for run in (sppo, mwu):
        tail = [e.value for e in run.curve_last[len(run.members) // 2:]]
        assert min(tail) > 0.25 and run.last.value > 10 * mpo.last.value
        assert run.average.value < run.last.value  # averaging helps SPPO, as on games
    # the same from populations that grow as during training (checkpoints up to each step)
    wr = exact_population.win_rates()
    steps = sorted({s for s in report.steps})
    logged = {"mpo": [], "sppo_pairwise": []}
    for s in steps:
        idx = [i for i, t in enumerate(report.steps) if t <= s]
        sub = analyse(wr.per_prompt[:, idx][:, :, idx], [report.names[i] for i in idx],
                      [report.runs_of[i] for i in idx], [report.steps[i] for i in idx],
                      exact=True)
        for run in logged:
            logged[run].append(sub.run(run).last.value)
    assert logged["mpo"][-1] < 0.01
    assert min(logged["sppo_pairwise"][2:]) > 0.25
    paths = write_report(report, tmp_path)
    assert all((tmp_path / f).stat().st_size > 10_000 for f in FIGURES)
    data = json.loads(paths["json"].read_text())
    assert data["runs"]["mpo"]["last"]["value"] == pytest.approx(mpo.last.value)


def test_sampled_judging_agrees_with_exact_to_the_stated_error(lifted, checkpoints):
    prompts, k = 200, 4  # 200 copies of the toy LM's (empty) prompt, 4 samples each
    pop = Population(["(the toy LM has no prompt)"] * prompts, _oracle(lifted))
    for seed, (run, ckpts) in enumerate(checkpoints.items()):
        if run == "sppo":
            continue
        for step, probs in ckpts[::2]:
            pop.add_samples(f"{run}/{step}", toy_samples(np.log(probs), prompts, k,
                                                         seed=100 * seed + step),
                            run=run, step=step)
    report = pop.analyse(bootstrap=500)
    exact, _ = _exact_matrix(lifted, checkpoints, report.names)
    # every entry within 4 standard errors; between two SPPO iterates at a vertex of the simplex
    # all 800 samples fall in one class (standard error 0) while the exact value is 1/2 - 5e-5
    assert np.all(np.abs(report.win_rates - exact) <= 4 * report.win_rate_se + 1e-4)
    exact_e = exact.max(0) - 0.5
    for e, x in zip(report.exploitability, exact_e):
        assert 0 < e.se < 0.02 and abs(e.value - x) < 4 * e.se, (e, x)


class CountingJudge:
    """A pairwise judge on string responses ``"member|class"`` that records every row."""

    def __init__(self, class_prefs):
        self.prefs, self.rows = torch.as_tensor(class_prefs), []

    def __call__(self, prompts, a, b):
        self.rows += [(x.split("|")[0], y.split("|")[0]) for x, y in zip(a, b)]
        ia = [int(x.split("|")[1]) for x in a]
        ib = [int(y.split("|")[1]) for y in b]
        return self.prefs[ia, ib]


def _string_samples(name, probs, prompts, k, seed):
    rng = np.random.default_rng(seed)
    return [[f"{name}|{c}" for c in rng.choice(3, size=k, p=probs)] for _ in range(prompts)]


def test_adding_a_checkpoint_judges_only_its_row_and_column(comal_prefs, tmp_path):
    prompts, k = 5, 3
    policies = {f"m{i}": np.random.default_rng(i).dirichlet(np.ones(3)) for i in range(5)}
    samples = {n: _string_samples(n, p, prompts, k, i) for i, (n, p) in
               enumerate(policies.items())}
    judge = CountingJudge(comal_prefs)
    pop = Population([f"prompt {b}" for b in range(prompts)], judge, cache_dir=tmp_path)
    for n in ["m0", "m1", "m2"]:
        pop.add_samples(n, samples[n])
    before = pop.win_rates().matrix
    assert len(judge.rows) == 3 * prompts * k * k  # 3 pairs
    judge.rows.clear()
    pop.add_samples("m3", samples["m3"])
    after = pop.win_rates().matrix
    # only the new row: m3 against each earlier member, every prompt and sample pair once
    assert len(judge.rows) == 3 * prompts * k * k
    assert all("m3" in pair and pair[0] != pair[1] for pair in judge.rows)
    np.testing.assert_array_equal(after[:3, :3], before)
    np.testing.assert_allclose(after + after.T, 1.0, atol=1e-15)
    # a new session on the same cache: nothing is judged again; a fifth member costs its row
    judge.rows.clear()
    again = Population([f"prompt {b}" for b in range(prompts)], judge, cache_dir=tmp_path)
    assert again.restore() == ["m0", "m1", "m2", "m3"]
    np.testing.assert_array_equal(again.win_rates().matrix, after)
    assert judge.rows == []
    again.add_samples("m4", samples["m4"])
    again.win_rates()
    assert len(judge.rows) == 4 * prompts * k * k and all("m4" in p for p in judge.rows)
    with pytest.raises(ValueError, match="holds verdicts of the judge"):
        Population(["p"], judge, cache_dir=tmp_path, judge_name="another judge")


def test_a_pointwise_judge_scores_each_response_once(tmp_path):
    scored = []

    def reward(prompts, responses):
        scored.extend(responses)
        return torch.tensor([float(r.split("|")[1]) for r in responses])

    oracle = BradleyTerryOracle(reward, beta=2.0)
    prompts, k = 4, 2
    pop = Population([f"p{b}" for b in range(prompts)], oracle, cache_dir=tmp_path)
    for i in range(3):
        pop.add_samples(f"m{i}", _string_samples(f"m{i}", [0.2, 0.3, 0.5], prompts, k, i))
    wr = pop.win_rates()
    assert len(scored) == 3 * prompts * k
    scored.clear()
    pop.add_samples("m3", _string_samples("m3", [0.6, 0.2, 0.2], prompts, k, 3))
    wr = pop.win_rates()
    assert len(scored) == prompts * k and all(r.startswith("m3|") for r in scored)
    # P[i, j] = mean over prompts and sample pairs of sigmoid(beta (r_a - r_b))
    s = {m.name: np.array([[float(r.split("|")[1]) for r in g] for g in m.responses])
         for m in pop.members}
    ref = 1 / (1 + np.exp(-2.0 * (s["m3"][:, :, None] - s["m0"][:, None, :])))
    assert wr.matrix[3, 0] == pytest.approx(ref.mean(), abs=1e-12)


def test_rock_paper_scissors_meta_game():
    # rock-paper-scissors as a preference (a beats b with probability 1): Nash (1/3, 1/3, 1/3)
    # (textbook); a pure strategy loses to its counter: exploitability 1 - 1/2
    p = np.array([[0.5, 0.0, 1.0], [1.0, 0.5, 0.0], [0.0, 1.0, 0.5]])
    report = analyse(p[None], ["rock", "paper", "scissors"], exact=True)
    np.testing.assert_allclose(report.nash, [1 / 3] * 3, atol=1e-9)
    assert [e.value for e in report.exploitability] == pytest.approx([0.5] * 3)
    assert exploitability_within(p, report.nash) == pytest.approx(0.0, abs=1e-9)
    assert exploitability_within(p, solve_zero_sum(p - 0.5).row) == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="P \\+ P\\^T = 1"):
        analyse(np.full((1, 2, 2), 0.7), ["a", "b"])


def test_the_population_meta_game_runs_without_jax():
    # llm_adapter may import only gametheory.rules at import time (no JAX GPU pre-allocation):
    # the LP of the meta-game comes from gametheory.lp, which is numpy + scipy
    code = ("import sys, numpy as np, llm_adapter.cli\n"
            "from llm_adapter import MatrixOracle\n"
            "from llm_adapter.evaluation import Population\n"
            "pop = Population(['p'], MatrixOracle(np.array([[0.5, 0.9], [0.1, 0.5]])))\n"
            "pop.add_distribution('a', [0, 1], [0.5, 0.5])\n"
            "pop.add_distribution('b', [0, 1], [0.9, 0.1])\n"
            "assert pop.analyse().nash[1] == 1.0  # b (0.9 on the winning class) dominates\n"
            "print('jax' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- a tiny model
BIASED = 0.5 + np.array([[0.0, -1.0, 3.0], [1.0, 0.0, -1.0], [-3.0, 1.0, 0.0]]) / 6


class CountingOracle(MatrixOracle):
    """MatrixOracle (class = first token id mod 3) that counts the rows it judges."""

    def __init__(self):
        super().__init__(BIASED, classify=lambda ids: ids[0] % 3 if ids else 0)
        self.rows = 0

    def __call__(self, prompts, a, b):
        self.rows += len(a)
        return super().__call__(prompts, a, b)


def test_population_callback_logs_at_eval_steps(tokenizer, tiny_model, tmp_path):
    prompts, k = ["Pick one.", "Your move:", "Go:"], 2
    oracle = CountingOracle()
    callback = PopulationCallback(k=k, cache_dir=tmp_path / "cache", bootstrap=100)
    cfg = SelfPlayConfig(output_dir=str(tmp_path / "run"), algorithm="mpo", eta=2.0, temp=0.1,
                         ref_update_steps=2, num_generations=4, per_device_batch_size=2,
                         learning_rate=5e-2, max_new_tokens=1, seed=0, max_steps=4,
                         eval_steps=2)
    trainer = SelfPlayTrainer(tiny_model, tokenizer, oracle, cfg, train_dataset=prompts[:2],
                              eval_dataset=prompts, callbacks=[callback])
    trainer.train(progress=False)
    logged = [h for h in trainer.history if "population_size" in h]
    assert [h["step"] for h in logged] == [2, 4]
    assert [h["population_size"] for h in logged] == [2, 3]  # the initial policy, then each
    report = callback.report
    assert report.names == ["run/step-0", "run/step-2", "run/step-4"]
    last = report.exploitability[-1]
    assert logged[-1]["population_exploitability_last"] == pytest.approx(last.value)
    assert logged[-1]["population_exploitability_average"] == pytest.approx(
        report.run("run").average.value)
    assert 0 <= last.value <= 0.5 and last.se >= 0
    # each addition judged only its row: against 1, then 2 earlier members, prompts x k x k
    # rows each (the population's own count: the trainer's evaluate() uses the oracle too)
    assert callback.population.judged_rows == (1 + 2) * len(prompts) * k * k
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history[-1]["population_size"] == 3
    assert all((tmp_path / "run" / "population" / f).is_file() for f in FIGURES)
    # the cache holds what was judged: a new population reads it back without judging
    again = Population(trainer.eval_prompts, CountingOracle(), cache_dir=tmp_path / "cache")
    assert again.restore() == report.names
    np.testing.assert_array_equal(again.win_rates().matrix, report.win_rates)
    assert again.judged_rows == 0


@pytest.fixture()
def checkpoint_folders(tokenizer, tmp_path):
    run = tmp_path / "runs" / "mpo"
    for step in range(3):
        model = models.tiny_causal_lm(tokenizer, seed=step)
        model.save_pretrained(run / f"checkpoint-{step}")
        tokenizer.save_pretrained(run / f"checkpoint-{step}")
    judge = models.tiny_causal_lm(tokenizer, seed=9)
    judge.save_pretrained(tmp_path / "judge")
    tokenizer.save_pretrained(tmp_path / "judge")
    return run, tmp_path / "judge"


def test_cli_population_writes_the_report_and_judges_a_new_checkpoint_only(
        checkpoint_folders, tmp_path, capsys):
    run, judge = checkpoint_folders
    common = ["--output", str(tmp_path / "out"), "--prompts", "3", "--num_samples", "2",
              "--max_new_tokens", "3", "--judge", f"{{llm_judge: {judge}}}", "--bootstrap", "50"]
    assert cli.main(["population", str(run / "checkpoint-0"), str(run / "checkpoint-1"),
                     *common]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["members"] == 2 and first["judged_rows"] == 3 * 2 * 2
    assert sorted(first["files"]) == sorted(["population.json", "report.md", *FIGURES])
    assert cli.main(["population", *(str(run / f"checkpoint-{s}") for s in range(3)),
                     *common]) == 0
    out = capsys.readouterr()
    second = json.loads(out.out.strip().splitlines()[-1])
    # one new checkpoint: its row against the two earlier ones, 3 prompts x 2 x 2 samples each
    assert second["members"] == 3 and second["judged_rows"] == 2 * 3 * 2 * 2
    data = json.loads((tmp_path / "out" / "population.json").read_text())
    assert [m["name"] for m in data["members"]] == [f"mpo/checkpoint-{s}" for s in range(3)]
    assert [m["step"] for m in data["members"]] == [0, 1, 2]
    assert set(data["runs"]) == {"mpo"} and len(data["win_rates"]) == 3
    assert "| mpo | 3 | mpo/checkpoint-2 |" in (tmp_path / "out" / "report.md").read_text()


def _error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_cli_population_help_and_bad_input(capsys, tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["population", "--help"])
    text = " ".join(capsys.readouterr().out.split()).split("options:", 1)[1]
    from llm_adapter.evaluation.command import FLAGS

    for key in FLAGS:  # every flag: a description and its default
        entry = re.split(r" --\w+ VALUE", text.split(f"--{key} VALUE", 1)[1], maxsplit=1)[0]
        assert "(default: " in entry and len(entry) > 30, (key, entry)
    assert "does not exist" in _error(capsys, ["population", str(tmp_path / "nope"),
                                               "--output", str(tmp_path / "o")])
    assert "--num_samples must be at least 1" in _error(
        capsys, ["population", "x", "--output", "o", "--num_samples", "0"])
    assert "invalid int value" in _error(capsys, ["population", "x", "--output", "o",
                                                  "--bootstrap", "many"])
    assert "required: --output" in _error(capsys, ["population", "x"])


@pytest.mark.filterwarnings("ignore:.*is_gradient_checkpointing.*:FutureWarning")
def test_a_lora_checkpoint_enters_by_its_samples_and_is_loaded_once(tokenizer, tmp_path,
                                                                     monkeypatch):
    import copy

    import peft

    from llm_adapter.evaluation import population as population_module
    from llm_adapter.evaluation.policies import name_salt, sample_responses

    base = models.tiny_causal_lm(tokenizer, seed=0)
    lora = peft.get_peft_model(copy.deepcopy(base), peft.LoraConfig(
        r=4, lora_alpha=8, init_lora_weights="gaussian", target_modules=["q_proj", "v_proj"]))
    lora.save_pretrained(tmp_path / "ckpt")
    tokenizer.save_pretrained(tmp_path / "ckpt")
    prompts = ["Pick one.", "Your move:"]
    pop = Population(prompts, CountingOracle(), cache_dir=tmp_path / "cache")
    member = pop.add_checkpoint(tmp_path / "ckpt", base=base, k=3, max_new_tokens=2)
    # the adapter on a copy of the base samples what the in-memory adapter model samples
    assert member.responses == sample_responses(lora, tokenizer, prompts, k=3, max_new_tokens=2,
                                                salt=name_salt("ckpt"))
    assert not any("lora_" in n for n, _ in base.named_parameters())  # the base is untouched
    # a second session reads the samples back without loading the checkpoint
    monkeypatch.setattr(population_module, "load_checkpoint",
                        lambda *a, **k: pytest.fail("the checkpoint was loaded again"))
    again = Population(prompts, CountingOracle(), cache_dir=tmp_path / "cache")
    assert again.add_checkpoint(tmp_path / "ckpt", base=base, k=3,
                                max_new_tokens=2).responses == member.responses


def test_exact_distributions_on_different_supports(lifted):
    # P[i, j] = pi_i^T P pi_j also when members enumerate different responses: here two toy
    # policies keep only part of the 9 responses (the verdicts of a pair are judged in one
    # orientation and read transposed for the other)
    responses = toy_responses()
    rng = np.random.default_rng(0)
    supports = {"a": list(range(0, 6)), "b": list(range(3, 9)), "c": [0, 4, 8]}
    probs = {n: rng.dirichlet(np.ones(len(s))) for n, s in supports.items()}
    pop = Population(["p"], _oracle(lifted))
    for n, s in supports.items():
        pop.add_distribution(n, [responses[i] for i in s], probs[n])
    full = {n: np.zeros(9) for n in supports}
    for n, s in supports.items():
        full[n][s] = probs[n]
    pi = np.stack([full[n] for n in supports])
    np.testing.assert_allclose(pop.win_rates().matrix, pi @ lifted @ pi.T, atol=1e-12)
