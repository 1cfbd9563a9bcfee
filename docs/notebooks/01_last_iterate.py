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
# # 1. Last iterate vs average
#
# Two players repeatedly update mixed strategies $x_t$ and $y_t$ in a zero-sum game. Plain
# self-play with multiplicative weights, the rule behind SPPO, has a famous defect: its
# **average** $\bar x_T = \frac1T \sum_{t \le T} x_t$ converges to a Nash equilibrium, but
# the strategy it actually plays, the **last iterate** $x_T$, cycles around the equilibrium
# and never reaches it. This notebook shows the cycle on rock-paper-scissors and on the
# intransitive preference game of the COMAL paper, then shows two rules whose last iterate does
# converge: MMD (to a regularised equilibrium) and MPO (to the Nash equilibrium itself).
#
# **Exploitability.** For a two-player zero-sum matrix game with payoff $x^\top A y$ to the row
# player, the NashConv of a profile is
# $\mathrm{NashConv}(x, y) = \max_i (Ay)_i - \min_j (A^\top x)_j \ge 0$, zero exactly at a Nash
# equilibrium. Throughout the project, **exploitability = NashConv / 2** (OpenSpiel's
# convention); every plot below uses it.

# %%
import os

import jax

jax.config.update("jax_enable_x64", True)  # float64: exploitabilities down to 1e-15

import exercises
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from simplex_plot import plot_path, simplex_axes

import gametheory as gt
from gametheory import rules

# Teaching size by default; GT_NOTEBOOK_SIZE=ci runs shorter horizons (used by the tests).
CI = os.environ.get("GT_NOTEBOOK_SIZE", "teaching") == "ci"
STEPS = 4000 if CI else 20000

# %% [markdown]
# ## The rules
#
# A player's strategy is stored as a log-policy $\log\pi$. Against the opponent's current
# strategy it sees the payoff gradient $q = A y$ (for the row player): $q(a)$ is the expected
# payoff of action $a$.
#
# * **MWU / Hedge** (the SPPO rule, with $q(y) = P(y \succ \pi_t)$ in the preference game):
#   $$\pi_{t+1}(a) \propto \pi_t(a)\, e^{\eta\, q_t(a)}.$$
# * **MMD**, magnetic mirror descent (Sokota et al. 2023), pulls towards a *magnet* $\rho$ with
#   temperature $\alpha$:
#   $$\log \pi_{t+1} = \frac{\log \pi_t + \eta\alpha \log\rho + \eta q_t}{1 + \eta\alpha}
#     \quad(\text{then normalised}).$$
#   Its fixed point is the equilibrium of the game regularised by $-\alpha\,\mathrm{KL}(\pi\|\rho)$
#   (the quantal response equilibrium, QRE, when $\rho$ is uniform), not the Nash equilibrium.
# * **MPO**, magnetic preference optimisation (Wang et al. 2024), is MMD whose magnet is reset
#   to the current iterate whenever the regularised game is solved; the magnets then follow a
#   proximal-point iteration and the last iterate converges to a Nash equilibrium.
#
# The functions live in `gametheory.rules` and run on JAX arrays and on torch tensors alike:

# %%
logits = jnp.log(jnp.array([0.6, 0.3, 0.1]))
q = jnp.array([0.0, 0.5, -0.5])
print("MWU step:", jnp.exp(rules.mwu(logits, q, lr=0.5)))
print("MMD step:", jnp.exp(rules.mmd(logits, q, lr=0.5, temp=0.2,
                                     magnet_logits=jnp.log(jnp.ones(3) / 3))))

# %% [markdown]
# A solver wraps a rule as an optax-style pair `(init, update)` over a state, plus `policy`,
# which reads the current profile. The small function below records every iterate under
# `jax.lax.scan`, which is what we need for trajectory plots (the driver `gt.solve` only
# records exploitability).

# %%
def trajectory(game, solver, steps, initial):
    """Every iterate of ``solver`` from ``initial``: a tuple of ``[steps + 1, A]`` arrays."""

    @jax.jit
    def run(initial):
        state = solver.init(game, initial)

        def one(state, _):
            state = solver.update(game, state)
            return state, solver.policy(game, state)

        _, path = jax.lax.scan(one, state, None, length=steps)
        return tuple(jnp.concatenate([jnp.asarray(p0)[None], p]) for p0, p in zip(initial, path))

    return tuple(np.asarray(p) for p in run(tuple(jnp.asarray(p) for p in initial)))


def running_average(path):
    """Average of the first t iterates, for every t."""
    return np.cumsum(path, axis=0) / np.arange(1, len(path) + 1)[:, None]


# %% [markdown]
# ## Rock-paper-scissors
#
# $A = \begin{pmatrix} 0 & -1 & 1 \\ 1 & 0 & -1 \\ -1 & 1 & 0\end{pmatrix}$, whose unique
# equilibrium is uniform. Starting away from it, MWU spirals *outwards* while its running
# average spirals in.

# %%
rps = gt.games.rock_paper_scissors()
start = ([0.6, 0.3, 0.1], [0.2, 0.5, 0.3])
mwu_rps = trajectory(rps, gt.solvers.mwu(lr=0.05), 2000, start)
avg_rps = running_average(mwu_rps[0])

fig, ax = plt.subplots(1, 2, figsize=(8.4, 3.9))
for axis, path, title in ((ax[0], mwu_rps[0], "last iterate $x_t$"),
                          (ax[1], avg_rps, r"average $\bar x_t$")):
    simplex_axes(axis, labels=("rock", "paper", "scissors"), title=f"MWU on RPS: {title}")
    plot_path(axis, path, color="C0", lw=0.6)
    axis.plot(*(np.ones(3) / 3 @ np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]])), "k*", ms=9)
plt.show()


# %% [markdown]
# Why outwards? With $x^*$ the interior equilibrium, $\mathrm{KL}(x^* \| x_t) + \mathrm{KL}(y^*
# \| y_t)$ is constant along the continuous-time dynamics (the replicator equation), and each
# discrete MWU step *adds* a second-order term, so the distance to the equilibrium grows
# (Bailey and Piliouras 2018). We can measure it:

# %%
def kl_to(target, path):
    return np.sum(target * (np.log(target) - np.log(path)), axis=-1)


uniform = np.ones(3) / 3
kl_path = kl_to(uniform, mwu_rps[0]) + kl_to(uniform, mwu_rps[1])
print(f"KL to the equilibrium: {kl_path[0]:.4f} at t = 0, {kl_path[1000]:.4f} at t = 1000, "
      f"{kl_path[-1]:.4f} at t = {len(kl_path) - 1}")
print("non-decreasing at every step:", bool(np.all(np.diff(kl_path) >= -1e-12)))

# %% [markdown]
# The driver `gt.solve` runs a solver under `lax.scan` and records the exploitability of the
# last and the average iterate. On a log scale, MWU's last iterate stays at a constant level
# (it cycles), its average falls like $1/T$, and the last iterates of MMD and MPO fall
# geometrically. On RPS the QRE of MMD's uniform magnet *is* the Nash equilibrium, so MMD
# converges all the way here. For MPO we set the step `lr=1` (relative to the payoff scale;
# notebook 2 shows why the step matters) and switch off the certified polish, a finishing step
# that also belongs to notebook 2, so that we see the plain dynamics.

# %%
solvers = {
    "MWU / SPPO": gt.solvers.mwu(lr=0.1),
    "MMD (temp 0.1)": gt.solvers.mmd(lr=0.1, temp=0.1),
    "MPO": gt.solvers.mpo(lr=1.0, polish=False),
}


def curves(game, initial, steps=STEPS):
    return {name: gt.solve(game, s, steps, initial=initial) for name, s in solvers.items()}


def plot_curves(results, title):
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for i, (name, r) in enumerate(results.items()):
        ax.semilogy(r.steps, np.maximum(r.exploitability_last, 1e-16), color=f"C{i}",
                    label=f"{name}, last")
        ax.semilogy(r.steps, np.maximum(r.exploitability_avg, 1e-16), "--", color=f"C{i}",
                    label=f"{name}, average")
    ax.set_xlabel("iteration")
    ax.set_ylabel("exploitability (NashConv / 2)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    plt.show()


rps_results = curves(rps, start)
plot_curves(rps_results, "rock-paper-scissors")
for name, r in rps_results.items():
    print(f"{name:15s} last {float(r.exploitability_last[-1]):9.2e}   "
          f"average {float(r.exploitability_avg[-1]):9.2e}")

# %% [markdown]
# ## The COMAL preference game
#
# In language-model alignment the "game" is a preference $P(y \succ y')$ between responses.
# The symmetric two-player game with payoff $\pi_1^\top P \pi_2 - \tfrac12$ is zero-sum
# ($P + P^\top = 1$), and its Nash equilibrium is the policy no other policy is preferred to.
# COMAL's example (Liu et al. 2024) is intransitive: $P(b \succ a) = P(c \succ b) = 0.9$,
# $P(a \succ c) = 0.8$. SPPO is MWU with $q_t(y) = P(y \succ \pi_t)$.

# %%
comal = gt.games.comal_3x3()
print("P =\n", np.asarray(comal.payoffs))
exact = gt.solve_zero_sum(comal)  # LP with scipy HiGHS
nash = np.asarray(exact.row)
print("Nash equilibrium (LP):", np.round(nash, 6), " value:", round(exact.value, 12))

# %% [markdown]
# Both players start at $\pi_0 = (0.6, 0.3, 0.1)$, the setting of the COMAL paper. Each panel
# shows one solver's last iterate (line) and the equilibrium (star).

# %%
pi0 = ([0.6, 0.3, 0.1],) * 2
paths = {
    "MWU / SPPO": trajectory(comal, gt.solvers.mwu(lr=0.1), 6000, pi0)[0],
    "MMD (temp 0.1)": trajectory(comal, gt.solvers.mmd(lr=0.1, temp=0.1), 6000, pi0)[0],
    "MPO": trajectory(comal, gt.solvers.mpo(lr=1.0, polish=False), 6000, pi0)[0],
}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
for i, (axis, (name, path)) in enumerate(zip(axes, paths.items())):
    simplex_axes(axis, labels=("a", "b", "c"), title=name)
    plot_path(axis, path, color=f"C{i}", lw=0.7)
    axis.plot(*(nash @ np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]])), "k*", ms=9)
plt.show()

# %%
comal_results = curves(comal, pi0)
plot_curves(comal_results, "COMAL 3x3 preference game")
mmd_final = comal_results["MMD (temp 0.1)"]
mpo_final = comal_results["MPO"]
mwu_final = comal_results["MWU / SPPO"]
print("MMD last iterate:", np.round(np.asarray(mmd_final.last[0]), 4))
print("MPO last iterate:", np.round(np.asarray(mpo_final.last[0]), 6))

# %%
from IPython.display import Markdown

Markdown(
    f"After {STEPS} iterations SPPO's last iterate is still "
    f"{float(mwu_final.exploitability_last[-1]):.3f} exploitable while its average is at "
    f"{float(mwu_final.exploitability_avg[-1]):.1e}. MMD stops at "
    f"{float(mmd_final.exploitability_last[-1]):.1e}: its last iterate converged, but to the "
    f"QRE of temperature 0.1, "
    f"{np.round(np.asarray(mmd_final.last[0]), 3).tolist()}, not to the Nash equilibrium. "
    f"MPO's last iterate reaches {float(mpo_final.exploitability_last[-1]):.1e}, at "
    f"{np.round(np.asarray(mpo_final.last[0]), 4).tolist()} (the LP gives "
    f"{np.round(nash, 4).tolist()} = (4/11, 3/11, 4/11))."
)

# %% [markdown]
# ## Exercises
#
# Each exercise has a check function in `exercises.py` (next to this notebook). Replace `None`
# by your answer and run the cell; the check prints what is right or wrong. The solutions are
# at the end of the notebook.
#
# **Exercise 1.1 (the SPPO rule).** Write `mwu_step(logits, q, lr)`: the normalised log-policy
# after one MWU step, $\log\pi' = \log\pi + \eta q - \log\sum_a \pi(a) e^{\eta q(a)}$, for
# `jax.numpy` arrays with the actions on the last axis.

# %%
mwu_step = None  # your function
exercises.check_mwu_step(mwu_step)

# %% [markdown]
# **Exercise 1.2 (an equilibrium by a last iterate).** Biased rock-paper-scissors
# (`gt.games.biased_rps()`, Perolat et al. 2021) has a unique, non-uniform equilibrium. Find it
# with a solver whose *last iterate* converges (not with the LP) and enter the row player's
# strategy as a list of three probabilities. The check accepts exploitability below $10^{-6}$.

# %%
biased_nash = None  # e.g. [p_rock, p_paper, p_scissors]
exercises.check_biased_rps_nash(biased_nash)

# %% [markdown]
# **Exercise 1.3 (optimism).** Optimistic MWU takes its step on the *predicted* gradient
# $2q_t - q_{t-1}$: $\log\pi_{t+1} \propto \log\pi_t + \eta(2q_t - q_{t-1})$ (Daskalakis and
# Panageas 2019). Write `omwu_step(logits, q, q_prev, lr)`. Then run
# `gt.solvers.omwu(lr=0.1)` on RPS with the `curves`/`plot_curves` helpers above (add it to
# `solvers`) and compare its last iterate with MWU's.

# %%
omwu_step = None  # your function
exercises.check_omwu_step(omwu_step)

# %% [markdown]
# ## Solutions

# %%
def mwu_step_solution(logits, q, lr):
    z = logits + lr * q
    return z - jax.scipy.special.logsumexp(z, axis=-1, keepdims=True)


def omwu_step_solution(logits, q, q_prev, lr):
    return mwu_step_solution(logits, 2 * q - q_prev, lr)


biased = gt.games.biased_rps()
biased_run = gt.solve(biased, gt.solvers.mpo(lr=1.0, polish=False), STEPS,
                      initial=([0.6, 0.3, 0.1], [0.2, 0.5, 0.3]))
print("MPO on biased RPS:", np.round(np.asarray(biased_run.last[0]), 6),
      f"exploitability {float(biased_run.exploitability_last[-1]):.1e}")

assert exercises.check_mwu_step(mwu_step_solution)
assert exercises.check_biased_rps_nash(np.asarray(biased_run.last[0]).tolist())
assert exercises.check_omwu_step(omwu_step_solution)

omwu_rps = gt.solve(rps, gt.solvers.omwu(lr=0.1), STEPS, initial=start)
print(f"OMWU on RPS, last iterate: {float(omwu_rps.exploitability_last[-1]):.1e} "
      f"(MWU: {float(rps_results['MWU / SPPO'].exploitability_last[-1]):.2f})")
