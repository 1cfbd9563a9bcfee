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
# # 6. Bayesian persuasion
#
# A **sender** knows the state of the world $s \sim \mu_0$; a **receiver** acts on what it
# believes. The sender cannot lie about the rules: it *commits* in advance to a signalling
# scheme $\pi(\text{signal} \mid s)$, and the receiver, seeing a signal, updates its belief by
# Bayes' rule and best-responds. Which scheme should the sender commit to (Kamenica and
# Gentzkow 2011)? This notebook computes the answer three ways (an LP, the concave envelope,
# a differentiable scheme), learns it online, and runs the advisor / receiver loop that uses it
# to steer a black-box model.

# %%
import os
import re

import jax

jax.config.update("jax_enable_x64", True)

import exercises
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown

from gametheory.persuasion import (
    PersuasionProblem,
    TypedPersuasionProblem,
    concavify,
    evaluate_scheme,
    follow_the_leader,
    hedge_over_schemes,
    learn_prior_online,
    optimal_scheme,
    plot_concavification,
    plot_regret,
    softmax_scheme,
)
from llm_adapter import persuasion as pl

CI = os.environ.get("GT_NOTEBOOK_SIZE", "teaching") == "ci"
HORIZON = 3000 if CI else 20000

# %% [markdown]
# ## The prosecutor and the judge
#
# A defendant is guilty with probability $0.3$. The judge convicts iff $P(\text{guilty}) \ge
# \tfrac12$; the prosecutor wants a conviction whatever the truth. Revealing nothing gets no
# conviction; revealing everything convicts the guilty only. By the revelation principle the
# prosecutor can restrict to *recommendations* ("convict" / "acquit") that the judge is willing
# to follow, the **obedience** constraints, which makes the optimal scheme one LP:
# $$\max_{\pi}\ \sum_{s,a} \mu_0(s)\,\pi(a\mid s)\,u_S(s,a)\quad\text{s.t.}\quad
# \sum_s \mu_0(s)\,\pi(a\mid s)\,\big(u_R(s,a) - u_R(s,a')\big) \ge 0\ \ \forall a, a'.$$

# %%
judge = PersuasionProblem(prior=[0.7, 0.3],
                          sender_utility=[[0, 1], [0, 1]],      # [state, action]
                          receiver_utility=[[1, 0], [0, 1]],
                          states=["innocent", "guilty"], actions=["acquit", "convict"])
sol = optimal_scheme(judge)
print("pi(action | state):\n", np.round(sol.scheme, 6))
print("posteriors P(state | recommendation):\n", np.round(sol.posteriors, 6))
convict_posterior = sol.posteriors[list(sol.recommended).index(1), 1]
Markdown(f"The optimal scheme convicts with probability {sol.value:.4g}, against "
         f"{sol.no_information:.4g} with no information and {sol.full_disclosure:.4g} with full "
         f"disclosure: it recommends \"convict\" for every guilty defendant and for a fraction "
         f"{sol.scheme[0, 1]:.4f} of the innocent ones, so that a \"convict\" signal leaves the "
         f"judge exactly at the threshold, P(guilty) = {convict_posterior:.4g}.")

# %% [markdown]
# ## Concavification
#
# Any scheme splits the prior into posteriors $\mu_k$ that average back to it
# ($\sum_k p_k \mu_k = \mu_0$, *Bayes plausibility*), and each posterior earns the sender
# $\hat v(\mu)$, its utility when the receiver best-responds to $\mu$. So the best value at
# prior $\mu_0$ is the **concave envelope** of $\hat v$ at $\mu_0$ (Kamenica and Gentzkow 2011,
# Cor. 2). With two states a belief is one number, $P(\text{guilty})$:

# %%
fig = plot_concavification(judge)
plt.show()
cav = concavify(judge)
priors = np.linspace(0.01, 0.99, 25)
lp_values = np.array([optimal_scheme(judge.with_prior([1 - p, p])).value for p in priors])
gap = float(np.max(np.abs(cav.value(priors) - lp_values)))
print(f"largest difference between the envelope and the LP over 25 priors: {gap:.1e}")

# %% [markdown]
# ## A differentiable scheme
#
# `softmax_scheme` stores $\log \pi(\cdot \mid s)$ and maximises the sender's utility with the
# toolkit's mirror step (`gametheory.rules.mwu`) on an augmented Lagrangian of the obedience
# constraints, jitted in JAX: the same machinery that trains a model, checked against the LP.

# %%
res = softmax_scheme(judge)
Markdown(f"Mirror ascent reaches {res.value:.8f} (LP {sol.value:.8f}) with the largest obedience "
         f"violation {res.max_violation:.1e}; it recommends conviction for an innocent "
         f"defendant with probability {float(res.scheme[0, 1]):.6f}.")

# %% [markdown]
# ## Online persuasion: an unknown prior
#
# Suppose the prosecutor does not know the prior and sees one case at a time (after Zu, Iyer
# and Xu 2021). Persuading with a scheme computed for a wrong prior can break obedience and
# lose the judge's trust, so the learner plays the scheme that is obedient for *every* prior in a
# Hoeffding box around the empirical frequencies and best for the estimate. Its regret against
# the LP optimum grows like $\sqrt{T \log T}$.

# %%
online = learn_prior_online(judge, HORIZON, seed=0)
fig = plot_regret({"robust LP, unknown prior": (np.arange(1, HORIZON + 1), online.regret)},
                  title="prosecutor-judge with an unknown prior")
plt.show()
Markdown(f"After {HORIZON} cases the cumulative regret is {online.regret[-1]:.1f}, "
         f"{online.regret[-1] / np.sqrt(HORIZON * np.log(HORIZON)):.3f} x sqrt(T log T); "
         f"every round's scheme was obedient under the true prior: "
         f"{bool(online.persuasive.all())}; the final scheme convicts an innocent defendant with "
         f"probability {online.scheme[0, 1]:.4f} (optimum {sol.scheme[0, 1]:.4f}), using "
         f"{online.solves} LP solves.")

# %% [markdown]
# **Unknown receiver types** (after Castiglioni et al. 2020): each round an adversary picks one
# of three judges with thresholds 0.4, 0.6 and 0.8, and the sender sees which one only after
# committing. Hedge over the LP optima of a grid of type distributions has regret growing like
# $\sqrt{T}$; follow-the-leader, which solves the LP on the empirical type frequencies, is
# exploited by an adversary that reacts to it.

# %%
qs = [0.4, 0.6, 0.8]
judges = TypedPersuasionProblem([0.7, 0.3], [[0, 1], [0, 1]],
                                [[[q, 0], [0, 1 - q]] for q in qs])
hedge = hedge_over_schemes(judges, HORIZON // 4, adversary="adaptive")
ftl = follow_the_leader(judges, HORIZON // 4, adversary="adaptive")
fig = plot_regret({"Hedge over LP grid": (hedge.rounds, hedge.regret),
                   "follow the leader": (ftl.rounds, ftl.regret)},
                  title="adaptive adversary over receiver types")
plt.show()
print(f"final regret: Hedge {hedge.regret[-1]:.1f}, follow the leader {ftl.regret[-1]:.1f} "
      f"after {HORIZON // 4} rounds")

# %% [markdown]
# ## The advisor / receiver loop
#
# After Bai et al. (2024): an **advisor** sees a task's hidden state and sends a signal; a
# black-box **receiver** (any `prompt -> answer` function: a language model, a person, a
# script) answers with the signal rendered into its prompt. Each task is a one-step word problem
# with one true hint per operation (add, subtract, multiply, divide); only the hint of the
# task's own operation helps. The loop measures the receiver's accuracy with every hint (a
# utility table), fits the persuasion LP on half of the tasks and reports held-out accuracy
# under four conditions.
#
# A real receiver is `pl.HFReceiver(model, tokenizer)`. Here a **mock receiver** stands in: it
# copies the number a hint's equation gives and, without a hint, can only add and subtract.

# %%
tasks = pl.load_word_problems(120 if CI else 200)
by_question = {t.question: t for t in tasks}


def mock_receiver(prompt):
    hint = re.search(r"Hint: .*= (\d+)", prompt)
    if hint:
        return hint.group(1)
    task = by_question[re.search(r"Problem: (.*)\n", prompt).group(1)]
    return task.answer if task.state in ("add", "subtract") else "?"


print(pl.render_prompt(tasks[0], tasks[0].items[tasks[0].state]))

# %% [markdown]
# The advisor here is a noisy classifier of the operation: with probability $0.7$ it names the
# right one (`TabularAdvisor`, rows = true operation, columns = signal). The conditions:
# *no context*, a hint drawn from the *prior*, a hint drawn from the *posterior* after the
# advisor's signal, and the *optimised* scheme the LP computed from the measured table.

# %%
noisy = [[0.7 if i == j else 0.1 for j in range(4)] for i in range(4)]
report = pl.persuasion_loop(mock_receiver, tasks, advisor=pl.TabularAdvisor(noisy),
                            fit_fraction=0.5)
fig, ax = plt.subplots(figsize=(6.4, 3.2))
order = ("no_context", "prior", "posterior", "optimised", "online")
names = [k for k in order if k in report.accuracy] + [k for k in report.accuracy
                                                      if k not in order]
ax.bar(names, [report.accuracy[k] for k in names], color=[f"C{i}" for i in range(len(names))])
ax.set_ylim(0, 1.15)
ax.set_ylabel("held-out accuracy")
ax.set_title(f"mock receiver, {len(report.eval_index)} held-out tasks")
for i, k in enumerate(names):
    ax.text(i, report.accuracy[k] + 0.02, f"{report.accuracy[k]:.2f}", ha="center", fontsize=8)
plt.show()
print("categories:", report.categories)
print("measured accuracy table (rows: state, columns: hint category):\n",
      np.round(report.utility_fit, 2))
print("optimised scheme pi(recommended hint | state):\n", np.round(report.scheme, 3))
print("receiver calls:", report.calls)

# %% [markdown]
# ## Exercises
#
# **Exercise 6.1 (a stricter judge).** The judge now convicts only if
# $P(\text{guilty}) \ge 2/3$ (receiver utility `[[2/3, 0], [0, 1/3]]`: acquitting an innocent is
# worth $2/3$, convicting a guilty $1/3$). With prior $P(\text{guilty}) = 0.3$, what conviction
# probability can the prosecutor reach? Enter the number (reason with the concave envelope,
# then check with `optimal_scheme`).

# %%
strict_value = None  # a number
exercises.check_strict_judge_value(strict_value)

# %% [markdown]
# **Exercise 6.2 (a scheme by hand).** Enter a $2\times 2$ scheme `[[pi(acquit|innocent),
# pi(convict|innocent)], [pi(acquit|guilty), pi(convict|guilty)]]` for the original judge
# (threshold $\tfrac12$) under which the judge convicts with probability at least $0.55$ while
# always following the recommendation.

# %%
my_scheme = None  # [[., .], [., .]]
exercises.check_judge_scheme(my_scheme)

# %% [markdown]
# **Exercise 6.3 (Bayes' rule).** Write `posteriors(prior, scheme)` that returns the `[K, S]`
# posteriors $P(s \mid k) = \mu_0(s)\pi(k \mid s) / \sum_{s'} \mu_0(s')\pi(k \mid s')$ of a
# scheme `[S, K]` (every signal has positive probability in the check).

# %%
posteriors = None  # your function
exercises.check_posteriors(posteriors)

# %% [markdown]
# ## Solutions

# %%
strict = PersuasionProblem([0.7, 0.3], [[0, 1], [0, 1]], [[2 / 3, 0], [0, 1 / 3]])
strict_sol = optimal_scheme(strict)
print(f"stricter judge: {strict_sol.value:.6f} (the envelope's chord: 0.3 / (2/3) = "
      f"{0.3 / (2 / 3):.6f})")
assert exercises.check_strict_judge_value(strict_sol.value)

# Recommend "convict" for every guilty defendant and for a fraction p of the innocent ones:
# P(convict) = 0.3 + 0.7 p and the posterior after "convict" is 0.3 / (0.3 + 0.7 p), at least
# 1/2 for p <= 3/7. p = 3/8 convicts with probability 0.5625.
hand = [[5 / 8, 3 / 8], [0.0, 1.0]]
print("value of the hand-made scheme:", evaluate_scheme(judge, hand).sender_value)
assert exercises.check_judge_scheme(hand)


def posteriors_solution(prior, scheme):
    joint = np.asarray(prior)[:, None] * np.asarray(scheme)
    return (joint / joint.sum(axis=0, keepdims=True)).T


assert exercises.check_posteriors(posteriors_solution)
