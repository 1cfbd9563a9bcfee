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
# # 3. Extensive form: poker in the sequence form
#
# Card games have hidden information and several moves per player. Written as a matrix game
# over *pure strategies* they explode (a pure strategy picks an action at every information
# set). The **sequence form** (Koller, Megiddo and von Stengel 1994) keeps the size linear in the
# game tree: a strategy is a **realization plan** $x$ over the player's *sequences* of own
# actions, and the expected payoff is still bilinear, $x^\top A y$. This notebook builds Kuhn
# poker in the sequence form from OpenSpiel's rules, checks every number against OpenSpiel,
# and compares CFR+ (average iterate) with MPO (last iterate) on Kuhn and Leduc poker.

# %%
import json
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import exercises
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pyspiel
from IPython.display import Markdown
from open_spiel.python import policy as os_policy
from open_spiel.python.algorithms import expected_game_score
from open_spiel.python.algorithms.exploitability import exploitability as os_exploitability

from gametheory import efg
from gametheory.driver import solve
from gametheory.efg import metrics

CI = os.environ.get("GT_NOTEBOOK_SIZE", "teaching") == "ci"
LEDUC_STEPS = 3000 if CI else 10000

# %% [markdown]
# ## Kuhn poker
#
# Three cards (J, Q, K; OpenSpiel numbers them 0, 1, 2), one card each, ante 1. Player 0 passes
# (`p`) or bets 1 (`b`); after a pass player 1 may pass (showdown for the antes) or bet, and a
# bet is called (`b`, showdown for 2) or folded (`p`). An information set is what a player
# knows: its card and the actions so far, OpenSpiel's *information state string*.

# %%
kuhn = efg.sequence_form_game("kuhn_poker")
for p in range(2):
    print(f"player {p}: infosets {list(kuhn.info.infosets[p])}")
print("sequences per player:", kuhn.num_sequences, "  non-zeros of A:", kuhn.nnz)

# %% [markdown]
# ## Realization plans
#
# A behavioural policy gives $b(a \mid I)$ at each information set $I$. Its realization plan
# multiplies the probabilities of the player's own actions along the way:
# $$x[\varnothing] = 1, \qquad x[\sigma(I, a)] = x[\mathrm{parent}(I)]\; b(a \mid I),$$
# where $\mathrm{parent}(I)$ is the sequence that leads to $I$. The plans of all behavioural
# policies form a polytope described by linear constraints,
# $$x \ge 0, \qquad x[\varnothing] = 1, \qquad \sum_{a} x[\sigma(I, a)] = x[\mathrm{parent}(I)]
# \quad\text{for every } I,$$
# and player 0's expected payoff is $x^\top A y$, where $A[\sigma, \tau]$ sums chance
# probability times payoff over the terminal histories reached by the sequence pair
# $(\sigma, \tau)$. The **treeplex** arrays hold the structure: `parent[I]`, `seq_index[I, k]`
# (the sequence of slot $k$ at $I$) and the legal `mask`.

# %%
tp = kuhn.treeplexes[0]
print("parent sequence of each infoset:", np.asarray(tp.parent))
print("sequence of each (infoset, action):\n", np.asarray(tp.seq_index))

# "Bet with the king, pass otherwise; after pass-bet call with Q or K": a behavioural policy.
bet_king = np.zeros((6, 2))
for i, state in enumerate(kuhn.info.infosets[0]):
    card, history = int(state[0]), state[1:]
    if history == "":
        bet_king[i] = [0.0, 1.0] if card == 2 else [1.0, 0.0]
    else:  # after "pb": call with Q or K
        bet_king[i] = [0.0, 1.0] if card >= 1 else [1.0, 0.0]
uniform_b = efg.uniform_behavioural(kuhn)
x_bet, y_uniform = efg.behavioural_to_plans(kuhn, (jnp.asarray(bet_king), uniform_b[1]))
print("realization plan of the policy:", np.asarray(x_bet))



def sequence_names(game, player):
    """'∅' for the empty sequence, else 'infoset:action' (OpenSpiel: 0 = pass, 1 = bet)."""
    names = ["∅"] * game.num_sequences[player]
    seq = np.asarray(game.treeplexes[player].seq_index)
    for i, state in enumerate(game.info.infosets[player]):
        for k, action in enumerate(game.info.actions[player][i]):
            if action >= 0:
                names[seq[i, k]] = f"{state}:{'pb'[action]}"
    return names


A = kuhn.dense_payoff()
fig, ax = plt.subplots(figsize=(6.4, 5.6))
lim = np.abs(A).max()
im = ax.imshow(A, cmap="RdBu", vmin=-lim, vmax=lim)
ax.set_xticks(range(A.shape[1]), sequence_names(kuhn, 1), rotation=90, fontsize=8)
ax.set_yticks(range(A.shape[0]), sequence_names(kuhn, 0), fontsize=8)
ax.set_xlabel("sequence of player 1 (card, history : action)")
ax.set_ylabel("sequence of player 0")
ax.set_title("Kuhn poker: sequence-form payoff A (player 0)")
fig.colorbar(im, ax=ax, shrink=0.8)
plt.show()

# %% [markdown]
# The bilinear value equals OpenSpiel's expected return of the same behavioural policies:

# %%
openspiel_kuhn = pyspiel.load_game("kuhn_poker")
tab = efg.plans_to_tabular_policy(kuhn, (x_bet, y_uniform))

ours = float(kuhn.value((x_bet, y_uniform)))
theirs = expected_game_score.policy_value(openspiel_kuhn.new_initial_state(),
                                          [tab, tab])[0]
print(f"x^T A y = {ours:.12f}    OpenSpiel policy_value = {theirs:.12f}")

# %% [markdown]
# ## Exact exploitability and the game value
#
# A best response to $y$ maximises $x^\top (A y)$ over the treeplex: one bottom-up sweep
# $V_I = \max_a \big( (Ay)[\sigma(I,a)] + \sum_{J \text{ below } (I, a)} V_J \big)$.
# NashConv is the sum of both players' best-response gains and exploitability is NashConv / 2,
# the number `pyspiel.exploitability` returns. We compare on the uniform policy and on 20 random
# behavioural policies; then the sequence-form LP (scipy HiGHS) gives the game value.

# %%
uniform = efg.uniform_plans(kuhn)
print("uniform policy: ours", float(kuhn.exploitability(uniform)), " OpenSpiel",
      os_exploitability(openspiel_kuhn, efg.plans_to_tabular_policy(kuhn, uniform)))
diffs = []
for seed in range(20):
    b = efg.random_behavioural(jax.random.PRNGKey(seed), kuhn)
    plans = efg.behavioural_to_plans(kuhn, b)
    diffs.append(abs(float(kuhn.exploitability(plans))
                     - os_exploitability(openspiel_kuhn,
                                         efg.plans_to_tabular_policy(kuhn, plans))))
value, (x_star, y_star) = efg.solve_lp(kuhn)
Markdown(f"Over 20 random policies the largest difference from OpenSpiel is "
         f"{max(diffs):.1e}. The LP gives the value of Kuhn poker to player 0, "
         f"{value:.12f} = {Fraction(value).limit_denominator(1000)}, and an equilibrium whose "
         f"exploitability is {float(kuhn.exploitability((x_star, y_star))):.1e}.")

# %% [markdown]
# ## CFR+ and MPO
#
# * **CFR+** (Tammelin 2014) minimises counterfactual regret at every information set with
#   regret matching+, alternating updates and a *linearly weighted average*; the average
#   converges, the current policy does not need to.
# * **MPO** in the sequence form is the dilated-entropy MMD step: at each information set the
#   normal-form rule of notebook 2 with $q(I, a)$ = immediate payoff + continuation value, and
#   the magnet reset when the regularised game is solved. Its *last iterate* converges.
#
# The solvers plug into the same driver; `record_every` sets how often the exploitability of the
# last and the average iterate is computed.

# %%
def run(game, steps):
    return {name: solve(game, efg.EFG_SOLVERS[name](), steps, record_every=max(steps // 50, 1))
            for name in ("cfr_plus", "mpo")}


def plot_runs(runs, title):
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for i, (name, r) in enumerate(runs.items()):
        ax.loglog(r.steps, np.maximum(r.exploitability_last, 1e-16), color=f"C{i}",
                  label=f"{name}, last iterate")
        ax.loglog(r.steps, np.maximum(r.exploitability_avg, 1e-16), "--", color=f"C{i}",
                  label=f"{name}, average")
    ax.set_xlabel("iteration")
    ax.set_ylabel("exploitability (NashConv / 2)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    plt.show()


kuhn_runs = run(kuhn, 3000)
plot_runs(kuhn_runs, "Kuhn poker")
leduc = efg.sequence_form_game("leduc_poker")
print("Leduc:", leduc.num_sequences, "sequences,", leduc.nnz, "non-zeros")
leduc_runs = run(leduc, LEDUC_STEPS)
plot_runs(leduc_runs, "Leduc poker")
leduc_value = efg.solve_lp(leduc)[0]

# %%
rows = []
for game_name, runs in (("Kuhn", kuhn_runs), ("Leduc", leduc_runs)):
    for name, r in runs.items():
        rows.append(f"| {game_name} | {name} | {int(r.steps[-1])} | "
                    f"{float(r.exploitability_last[-1]):.1e} | "
                    f"{float(r.exploitability_avg[-1]):.1e} |")
Markdown("| game | solver | iterations | last iterate | average |\n|---|---|---|---|---|\n"
         + "\n".join(rows)
         + f"\n\nLeduc's value by the sequence-form LP: {leduc_value:.7f}; MPO's last iterate "
           f"plays {float(leduc.value(leduc_runs['mpo'].last)):.7f} against itself.")

# %% [markdown]
# ## Export a policy and check it with OpenSpiel
#
# `plans_to_policy_dict` writes the behavioural policy as `{information state: {action:
# probability}}`, one dict per player, ready for JSON (the command line's
# `gametheory solve leduc_poker --solver mpo --policy-out FILE.json` writes the same). We save
# MPO's last iterate on Leduc, read it back into an OpenSpiel `TabularPolicy` using nothing but
# the JSON file, and let OpenSpiel compute its exploitability.

# %%
policy_dicts = efg.plans_to_policy_dict(leduc, leduc_runs["mpo"].last)
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "leduc_mpo.json"
    path.write_text(json.dumps(policy_dicts))
    loaded = json.loads(path.read_text())
    size_kb = path.stat().st_size / 1024

openspiel_leduc = pyspiel.load_game("leduc_poker")
tabular = os_policy.TabularPolicy(openspiel_leduc)
for table in loaded:
    for state, row in table.items():
        probs = tabular.policy_for_key(state)
        probs[:] = 0.0
        for action, prob in row.items():
            probs[int(action)] = prob
theirs = os_exploitability(openspiel_leduc, tabular)
ours = float(leduc_runs["mpo"].exploitability_last[-1])
Markdown(f"The JSON file ({size_kb:.0f} KiB) holds {sum(len(t) for t in loaded)} information "
         f"states. OpenSpiel's exploitability of the loaded policy: {theirs:.10f}; ours: "
         f"{ours:.10f} (difference {abs(theirs - ours):.1e}).")

# %% [markdown]
# ## Exercises
#
# **Exercise 3.1 (the value of Kuhn poker).** What does player 0 win per hand at equilibrium?
# Enter the exact value as a fraction string such as `"-1/7"` (Kuhn 1950 solved it by hand; here
# you may use `efg.solve_lp`).

# %%
kuhn_value = None  # e.g. "-1/7"
exercises.check_kuhn_value(kuhn_value)

# %% [markdown]
# **Exercise 3.2 (the treeplex constraints).** Write `is_realization_plan(game, player, x,
# atol=1e-9)` that returns `True` exactly when `x` satisfies the constraints above
# ($x \ge 0$, $x[\varnothing] = 1$, and at every information set the children sum to the
# parent), using `game.treeplexes[player].parent`, `.seq_index` and `.mask`. The check tries it
# on valid plans of random policies and on broken ones.

# %%
is_realization_plan = None  # your function
exercises.check_realization_plan_test(is_realization_plan)

# %% [markdown]
# **Exercise 3.3 (a best response).** Player 0 plays the "bet with the king" policy `x_bet`
# above. How much does player 1 (the minimiser) hold player 0 to with a best response? Enter
# player 0's expected payoff $\min_{y} x_{\text{bet}}^\top A y$.

# %%
payoff_against_best_response = None  # a number
exercises.check_kuhn_best_response(payoff_against_best_response, bet_king)

# %% [markdown]
# ## Solutions

# %%
assert exercises.check_kuhn_value(str(Fraction(value).limit_denominator(1000)))


def is_realization_plan_solution(game, player, x, atol=1e-9):
    tp = game.treeplexes[player]
    x = np.asarray(x, dtype=float)
    if x.shape != (tp.num_sequences,) or np.any(x < -atol) or abs(x[0] - 1.0) > atol:
        return False
    children = np.where(np.asarray(tp.mask), x[np.asarray(tp.seq_index)], 0.0).sum(axis=1)
    return bool(np.all(np.abs(children - x[np.asarray(tp.parent)]) <= atol))


assert exercises.check_realization_plan_test(is_realization_plan_solution)

# min_y x^T A y = -(best-response value of player 1), one bottom-up sweep:
br0, br1 = metrics.best_response_values(kuhn, (x_bet, y_uniform))
print("player 1's best-response value:", float(br1))
assert exercises.check_kuhn_best_response(-float(br1), bet_king)
