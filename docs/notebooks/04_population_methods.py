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
# # 4. Population methods: PSRO and teams
#
# When a game is too large to run a solver over all of its strategies, **PSRO** (policy-space
# response oracles, Lanctot et al. 2017) grows a small *population* of strategies per player:
#
# 1. solve the **meta-game** between the populations, $M_{ij} = x_i^\top A\, y_j$, for a
#    meta-strategy $(\sigma, \tau)$ (here an exact LP);
# 2. add each player's **best response** to the opponent's meta-mixture
#    $\bar y = \sum_j \tau_j y_j$ (here exact: $\arg\max_i (A\bar y)_i$, or one sweep over a
#    treeplex);
# 3. repeat until the best responses are already in the population.
#
# With exact best responses and a Nash meta-solver this is the **double oracle** method
# (McMahan, Gordon and Blum 2003). In `gametheory.psro` the meta-game and the exploitability
# of the meta-mixture are *exact*, so the curves below are not Monte-Carlo estimates.
# Exploitability = NashConv / 2.

# %%
import os

import jax

jax.config.update("jax_enable_x64", True)

import exercises
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown

import gametheory as gt
from gametheory import psro
from gametheory.teams import (
    heterogeneous_team_game,
    openspiel_team_game,
    solve_tmecor,
    team_psro,
)

CI = os.environ.get("GT_NOTEBOOK_SIZE", "teaching") == "ci"

# %% [markdown]
# ## A spinning top
#
# Czarnecki et al. (2020) measured the payoff tables of real games and found "spinning tops":
# a transitive axis (some strategies are simply better) and, in the middle, large cycles of
# strategies that beat each other. Sorting the strategies of Blotto with 10 coins on 3 fields
# by their average payoff shows it: the weak and strong ends are clean, the middle is a tangle.

# %%
top = gt.games.spinning_top("10_3_blotto")
A = np.asarray(top.payoffs)
order = np.argsort(A.mean(axis=1))
fig, ax = plt.subplots(figsize=(4.8, 4.2))
ax.imshow(A[np.ix_(order, order)], cmap="RdBu", vmin=-1, vmax=1)
ax.set_title("10-coin, 3-field Blotto, sorted by mean payoff")
ax.set_xlabel("column strategy")
ax.set_ylabel("row strategy")
plt.show()

# %% [markdown]
# The game is symmetric ($A = -A^\top$), so one population is shared by both players. Double
# oracle from pure strategy 0:

# %%
run = psro.run_psro("spinning_top:10_3_blotto", 100, initial=0)
size = run.population(0).shape[0]
support = int(np.sum(np.asarray(run.meta_strategies[0]) > 1e-9))
Markdown(f"PSRO stopped after {run.iterations} iterations ({run.state.stop}) with {size} of the "
         f"{A.shape[0]} strategies in its population; the meta-Nash mixes {support} of them "
         f"and is an equilibrium of the whole game: exploitability {run.exploitability[-1]:.1e}.")

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 4))
ax[0].semilogy(np.maximum(run.exploitability, 1e-16), "o-", ms=3)
ax[0].set_xlabel("PSRO iteration")
ax[0].set_ylabel("exploitability of the meta-mixture")
ax[0].set_title("double oracle on the spinning top")
im = ax[1].imshow(run.meta_game, cmap="RdBu", vmin=-1, vmax=1)
ax[1].set_title("final meta-game $M_{ij}$ (order of addition)")
ax[1].set_xlabel("member j")
ax[1].set_ylabel("member i")
fig.colorbar(im, ax=ax[1], shrink=0.8)
plt.tight_layout()
plt.show()
sigma = np.asarray(run.meta_strategies[0])
print("meta-Nash weights of the members:", np.round(sigma, 3))

# %% [markdown]
# ## PSRO on Kuhn poker
#
# In an extensive-form game the members are realization plans, which mix linearly, so the
# meta-mixture is again a realization plan and its exploitability one best-response sweep. The
# meta-solver is a choice: the exact Nash LP, the uniform mixture (fictitious self-play) or
# projected replicator dynamics (PRD, OpenSpiel's default).

# %%
meta_solvers = {"nash (LP)": "nash", "uniform": "uniform", "prd": psro.prd(iterations=20_000)}
kuhn_runs = {name: psro.run_psro("kuhn_poker", 25, meta_solver=ms)
             for name, ms in meta_solvers.items()}
fig, ax = plt.subplots(1, 2, figsize=(10, 4))
for name, r in kuhn_runs.items():
    ax[0].semilogy(np.maximum(r.exploitability, 1e-16), "o-", ms=3, label=name)
ax[0].set_xlabel("PSRO iteration")
ax[0].set_ylabel("exploitability (NashConv / 2)")
ax[0].set_title("Kuhn poker: meta-solvers")
ax[0].legend(fontsize=8)
nash_run = kuhn_runs["nash (LP)"]
im = ax[1].imshow(nash_run.meta_game, cmap="RdBu")
ax[1].set_title("Kuhn meta-game (player 0's payoff)")
ax[1].set_xlabel("player 1's member")
ax[1].set_ylabel("player 0's member")
fig.colorbar(im, ax=ax[1], shrink=0.8)
plt.tight_layout()
plt.show()
Markdown("Final exploitability: " + ", ".join(
    f"{name} {r.exploitability[-1]:.1e} after {r.iterations} iterations (stop: {r.state.stop})"
    for name, r in kuhn_runs.items()) + ". A *fixpoint* means the new best responses were "
    "already in the population: with a meta-solver other than Nash, PSRO can stop there short "
    "of an equilibrium.")

# %% [markdown]
# ## Approximate best responses: Fusion vs scratch
#
# Large games replace the exact oracle by a *trained* policy. `psro.gradient(steps, lr)`
# trains tabular logits for a fixed number of Adam steps on the exact expected payoff against
# the meta-mixture. Where training starts matters when the budget is small:
#
# * **scratch**: fresh (uniform) parameters for every new member;
# * **Fusion-PSRO** (Lian et al. 2024): the meta-Nash-weighted average of the *parameters* of
#   the population's best members, so each new policy starts from what already works.
#
# Both start deterministically (fresh tabular logits are zero, i.e. uniform), so one run per
# setting says it all. Budgets of 5 and 20 Adam steps per response:

# %%
def gradient_run(game, init, steps, iterations=30):
    oracle = psro.gradient(steps=steps, lr=0.1)
    return psro.run_psro(game, iterations, oracle=oracle, init=init, tol=0.0)


fusion_results = {}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, game in zip(axes, ("spinning_top:10_3_blotto", "kuhn_poker")):
    space = psro.as_psro_game(game)
    for i, init in enumerate(("scratch", "fusion")):
        for steps, style in ((5, "-"), (20, ":")):
            r = gradient_run(space, init, steps)
            fusion_results[game, init, steps] = r
            ax.semilogy(np.maximum(r.exploitability, 1e-16), style, color=f"C{i}",
                        label=f"{init}, {steps} steps")
    ax.set_title(game)
    ax.set_xlabel("PSRO iteration")
    ax.set_ylabel("exploitability")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()


def distinct_members(r):
    return len({tuple(np.round(m, 9)) for m in r.population(0)})


rows = [f"| {game} | {init} | {steps} | {r.exploitability[-1]:.2e} | {distinct_members(r)} |"
        for (game, init, steps), r in fusion_results.items()]
Markdown("| game | init | Adam steps | final exploitability | distinct members (player 0) |\n"
         "|---|---|---|---|---|\n" + "\n".join(rows) +
         "\n\nFrom scratch, a budget-limited oracle returns nearly the same response round "
         "after round (few distinct members), so the population stops growing in useful "
         "directions; fused starts keep moving.")

# %% [markdown]
# ## Teams: H-PSRO against shared roles
#
# In a **two-team** game a team of players faces one adversary. The team may agree on a plan
# before play (a distribution over *joint* pure plans) but cannot talk during it; the best such
# plan against a best-responding adversary is the **TMECor** (Celli and Gatti 2018). Team-PSRO
# grows a population of joint team plans; with **shared** roles (one policy for all teammates,
# parameter sharing) it cannot express plans in which teammates act differently. **H-PSRO**
# (Liu et al. 2024) improves the teammates' plans one after another, each an exact
# single-player best response.
#
# The heterogeneous game: two teammates and an adversary each pick a bit $b$; the team wins
# (+1) iff the teammates play $(b, 1-b)$, otherwise it loses (−1). The gap plotted is the exact
# TMECor gap (team's best response minus adversary's best response, **not** halved).

# %%
het = heterogeneous_team_game()
print(het.describe())
team_runs = {
    "H-PSRO": team_psro(het, variant="h-psro", iterations=20),
    "Team-PSRO (joint)": team_psro(het, variant="team", iterations=20),
    "Team-PSRO (shared roles)": team_psro(het, variant="team", iterations=20, shared=True),
}
exact_value = solve_tmecor(het).value
fig, ax = plt.subplots(figsize=(6.4, 3.4))
for (name, r), (marker, ls, ms) in zip(team_runs.items(),
                                      (("o", "-", 9), ("s", "--", 5), ("^", ":", 7))):
    ax.plot(np.arange(1, len(r.lower) + 1), r.lower, marker=marker, ls=ls, ms=ms, label=name)
ax.axhline(exact_value, color="k", ls="--", lw=1, label="TMECor value")
ax.set_xlabel("iteration")
ax.set_ylabel("team value guaranteed (lower bound)")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.set_title("heterogeneous team game")
ax.legend(fontsize=8)
plt.show()
Markdown("; ".join(
    f"{name}: gap {r.gap[-1]:.2g} after {len(r.gap)} iterations "
    f"({'converged' if r.converged else 'stalled' if r.stalled else 'running'})"
    for name, r in team_runs.items()) + f". The exact TMECor value is {exact_value:.3g}.")

# %% [markdown]
# The same on three-player Kuhn poker (players 0 and 1 against player 2). Both variants
# certify the TMECor value that column generation computes, H-PSRO through sequential
# single-player best responses instead of an enumeration of joint plans.

# %%
kuhn3 = openspiel_team_game("kuhn_poker(players=3)", adversary=2)
k3_value = solve_tmecor(kuhn3).value
k3_runs = {"H-PSRO": team_psro(kuhn3, variant="h-psro", iterations=40),
           "Team-PSRO (joint)": team_psro(kuhn3, variant="team", iterations=40)}
fig, ax = plt.subplots(figsize=(6.4, 3.4))
for i, (name, r) in enumerate(k3_runs.items()):
    it = np.arange(1, len(r.lower) + 1)
    ax.plot(it, r.lower, "-", color=f"C{i}", label=f"{name}: lower bound")
    ax.plot(it, r.upper, "--", color=f"C{i}", label=f"{name}: upper bound")
ax.axhline(k3_value, color="k", lw=1, label="TMECor value (column generation)")
ax.set_ylim(k3_value - 0.5, k3_value + 0.5)
ax.set_xlabel("iteration")
ax.set_ylabel("team value")
ax.set_title("3-player Kuhn poker, adversary = player 2")
ax.legend(fontsize=7)
plt.show()
Markdown(f"TMECor value {k3_value:.6f} (= {k3_value * 24:.3f}/24). " + "; ".join(
    f"{name}: gap {r.gap[-1]:.1e} after {len(r.gap)} iterations, {r.seconds[-1]:.2f} s"
    for name, r in k3_runs.items()) + ".")

# %% [markdown]
# ## Exercises
#
# **Exercise 4.1 (double oracle by hand).** Run double oracle on rock-paper-scissors starting
# from the population {rock} with pen and paper: best response to the meta-mixture, meta-Nash,
# repeat. Enter the pure strategies in the order they join the population, as a list of
# action indices (rock = 0, paper = 1, scissors = 2).

# %%
order_added = None  # e.g. [0, 2, 1]
exercises.check_double_oracle_order(order_added)

# %% [markdown]
# **Exercise 4.2 (why a meta-solver matters).** After the exact PSRO run on Kuhn poker
# (`kuhn_runs["nash (LP)"]`), mix the final population *uniformly* instead of with the
# meta-Nash weights. What is the exploitability of that mixture? (Members are realization
# plans: `r.population(p)` is `[k, S]`; mix them linearly and use `r.game.game.exploitability`.)

# %%
uniform_mixture_exploitability = None  # a number
exercises.check_uniform_population_exploitability(uniform_mixture_exploitability)

# %% [markdown]
# **Exercise 4.3 (shared roles).** In the heterogeneous team game, what is the best value a
# team whose two members must play the *same* (possibly mixed) strategy, drawn jointly, can
# guarantee, and what is the TMECor value? Enter the pair `(shared, tmecor)`.

# %%
team_values = None  # (shared_value, tmecor_value)
exercises.check_heterogeneous_values(team_values)

# %% [markdown]
# ## Solutions

# %%
rps_run = psro.run_psro(gt.games.rock_paper_scissors(), 10, initial=0)
order_sol = [int(np.argmax(member)) for member in rps_run.population(0)]
print("population of RPS double oracle:", order_sol)
assert exercises.check_double_oracle_order(order_sol)

r = kuhn_runs["nash (LP)"]
mixture = tuple(r.population(p).mean(axis=0) for p in range(2))
uniform_value = float(r.game.game.exploitability(mixture))
print(f"uniform mixture of the final population: {uniform_value:.4f} "
      f"(meta-Nash: {r.exploitability[-1]:.1e})")
assert exercises.check_uniform_population_exploitability(uniform_value)

# Shared roles: both teammates play the same bit a, so the team's payoff against b is
# u(a, a, b); the team wins iff (a0, a1) = (b, 1 - b), impossible with a0 = a1.
shared_matrix = np.array([[1.0 if (a, a) == (b, 1 - b) else -1.0 for b in (0, 1)]
                          for a in (0, 1)])
print("team payoff with shared roles, rows a, columns b:\n", shared_matrix)
shared_value = gt.solve_zero_sum(shared_matrix).value
assert exercises.check_heterogeneous_values((shared_value, exact_value))
