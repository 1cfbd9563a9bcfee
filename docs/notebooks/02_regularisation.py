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
# # 2. Regularisation and magnets
#
# Notebook 1 showed that a magnet makes the last iterate converge. This one looks at *what* it
# converges to and how the toolkit turns that into a Nash solver:
#
# 1. MMD with a fixed magnet converges to the **quantal response equilibrium** (QRE) of its
#    temperature; the temperature trades speed for bias.
# 2. Moving the magnet (slowly, or by resets) removes the bias; resetting it to the iterate
#    each time the regularised game is solved is a **proximal-point** method (MPO, COMAL).
# 3. Step sizes are read **relative to the game's payoff scale**, and resets are triggered by
#    **measured progress**, so one default serves many games.
# 4. A first-order method approaches an equilibrium; a **certified polish** finishes the job
#    exactly when the supports are found (PDHG and MPO on matrix games).
#
# Exploitability is NashConv / 2 throughout.

# %%
import os

import jax

jax.config.update("jax_enable_x64", True)

import exercises
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown
from simplex_plot import plot_path, simplex_axes, to_plane

import gametheory as gt
from gametheory import metrics

CI = os.environ.get("GT_NOTEBOOK_SIZE", "teaching") == "ci"
STEPS = 3000 if CI else 8000

# %% [markdown]
# ## 1. The QRE and its temperature
#
# MMD with magnet $\rho$ and temperature $\alpha$ solves the *regularised* game in which each
# player maximises $x^\top A y - \alpha\,\mathrm{KL}(x \| \rho)$. Its equilibrium satisfies
# $$x \propto \rho\, e^{A y / \alpha}, \qquad y \propto \rho\, e^{-A^\top x / \alpha},$$
# a *quantal* (softmax) response to the opponent instead of a best response. As
# $\alpha \to 0$ it tends to a Nash equilibrium; for $\alpha > 0$ it is biased. The regularised
# NashConv (`gametheory.metrics.regularized_gap`) is zero exactly at the QRE.
#
# The perturbed RPS game of the MMD paper (payoffs rescaled to $[0, 1]$) has a non-uniform
# equilibrium. With `scale=1.0` the temperature is in the paper's absolute units.

# %%
prps = gt.games.perturbed_rps()
print("A =\n", np.round(np.asarray(prps.payoffs), 4))
nash = gt.solve_zero_sum(prps)
print("Nash equilibrium (LP):", np.round(nash.row, 6))

qre_run = gt.solve(prps, gt.solvers.mmd(lr=0.1, temp=0.1, scale=1.0), STEPS)
qre = np.asarray(qre_run.last[0])
print("MMD last iterate at temperature 0.1:", np.round(qre, 8))
print("regularised NashConv:", float(metrics.regularized_gap(prps, qre_run.last, 0.1)))
print("exploitability of the QRE:", float(qre_run.exploitability_last[-1]))

# %% [markdown]
# The QRE moves towards the Nash equilibrium as the temperature falls. We solve a range of
# temperatures with MMD in its mirror-prox form (`extragradient=True`, stable for steps up to
# $1/\max|A_{ij}|$ whatever the temperature) and plot the path and the bias.

# %%
temps = np.geomspace(0.003, 1.0, 7 if CI else 10)
qres, qre_expl = [], []
for t in temps:
    r = gt.solve(prps, gt.solvers.mmd(lr=1.0, temp=float(t), scale=1.0, extragradient=True),
                 4000)
    qres.append(np.asarray(r.last[0]))
    qre_expl.append(float(r.exploitability_last[-1]))
qres = np.array(qres)

fig, ax = plt.subplots(1, 2, figsize=(9.5, 3.9))
simplex_axes(ax[0], labels=("rock", "paper", "scissors"), title="QRE as the temperature falls")
plot_path(ax[0], qres, color="C0", lw=1.2, marker=".", start=False)
for t, p, dy in ((temps[0], qres[0], 6), (temps[-1], qres[-1], -12)):
    ax[0].annotate(f"α = {t:.3g}", to_plane(p), fontsize=8, xytext=(6, dy),
                   textcoords="offset points")
ax[0].plot(*to_plane(nash.row), "k*", ms=9)
ax[1].loglog(temps, qre_expl, "o-")
ax[1].set_xlabel("temperature α")
ax[1].set_ylabel("exploitability of the QRE")
ax[1].set_title("bias of the regularised equilibrium")
plt.tight_layout()
plt.show()
slope = np.polyfit(np.log(temps[:4]), np.log(qre_expl[:4]), 1)[0]
Markdown(f"At small temperatures the bias falls linearly: the fitted log-log slope over the "
         f"four smallest temperatures is {slope:.2f}; at α = {temps[0]:.3g} the QRE is "
         f"{qre_expl[0]:.1e} exploitable, at α = {temps[-1]:.3g} it is {qre_expl[-1]:.2f}.")

# %% [markdown]
# But a small temperature is slow: MMD's last iterate converges linearly at a rate of about
# $1 - \eta\alpha$ per step, so $\alpha \to 0$ trades bias for time. The next section removes the
# bias without making $\alpha$ small.
#
# ## 2. Moving the magnet
#
# Three ways to move $\rho$ (Sokota et al. 2023, Sec. 4.2; Wang et al. 2024; Liu et al. 2024):
#
# * **moving magnet**: after every step $\rho' \propto \rho^{1-\beta} \pi'^{\beta}$ (`magnet_lr=β`);
# * **magnet reset (MPO)**: $\rho \leftarrow \pi$ every $K$ steps (`magnet_every=K`) or when
#   progress stalls;
# * **proximal point (COMAL)**: solve $\pi_{k+1} = \arg\max_\pi\, \langle \pi, q(\pi) \rangle -
#   \tau\,\mathrm{KL}(\pi\|\pi_k)$, i.e. $\pi_{k+1} \propto \pi_k\, e^{q(\pi_{k+1})/\tau}$, with an
#   inner solver, then move the reference. The proximal-point iteration converges to a Nash
#   equilibrium for *any* $\tau > 0$ (Rockafellar 1976); a magnet reset is one inexact
#   proximal step.
#
# We compare them on the COMAL preference game from the paper's start.

# %%
comal = gt.games.comal_3x3()
pi0 = ([0.6, 0.3, 0.1],) * 2
magnets = {
    "fixed magnet (QRE)": gt.solvers.mmd(lr=0.5, temp=0.2),
    "moving magnet, β = 0.05": gt.solvers.mmd(lr=0.5, temp=0.2, magnet_lr=0.05),
    "reset every 100 steps": gt.solvers.mmd(lr=0.5, temp=0.2, magnet="initial",
                                            magnet_every=100),
    "COMAL, 100 inner INPO steps": gt.solvers.comal(lr=0.5, tau=0.2, inner_steps=100,
                                                    inner="inpo", polish=False),
}
magnet_runs = {k: gt.solve(comal, s, STEPS, initial=pi0) for k, s in magnets.items()}
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, r in magnet_runs.items():
    ax.semilogy(r.steps, np.maximum(r.exploitability_last, 1e-16), label=name,
                ls="--" if name.startswith("COMAL") else "-")
ax.set_xlabel("iteration")
ax.set_ylabel("exploitability (last iterate)")
ax.set_title("COMAL 3x3: moving the magnet removes the bias")
ax.legend(fontsize=8)
plt.show()
for name, r in magnet_runs.items():
    print(f"{name:28s} {float(r.exploitability_last[-1]):.2e}")

# %% [markdown]
# The reset schedule and COMAL with INPO inner steps are the *same iteration*: INPO's closed
# form is the MMD step with magnet $\pi_k$, and COMAL moves its reference exactly when MPO
# resets its magnet. The two runs agree to round-off:

# %%
same = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
           for a, b in zip(magnet_runs["reset every 100 steps"].last,
                           magnet_runs["COMAL, 100 inner INPO steps"].last))
print(f"largest difference between the two last iterates: {same:.1e}")


# %% [markdown]
# The proximal-point picture: the sequence of magnets (COMAL's references $\pi_k$) marches to
# the equilibrium, while each block of inner steps spirals to the regularised equilibrium
# around the current magnet.

# %%
def record(game, solver, steps, initial):
    """Every iterate and every magnet of an MMD-family solver without polish."""

    @jax.jit
    def run():
        state = solver.init(game, tuple(jnp.asarray(p) for p in initial))

        def one(state, _):
            state = solver.update(game, state)
            return state, (jnp.exp(state.logits[0]), jnp.exp(state.magnet_logits[0]),
                           state.restart.since)

        return jax.lax.scan(one, state, None, length=steps)[1]

    return tuple(np.asarray(a) for a in run())


path, magnet_path, _ = record(comal, magnets["reset every 100 steps"], 1500, pi0)
fig, ax = plt.subplots(figsize=(4.4, 4.0))
simplex_axes(ax, title="iterates (line) and magnets (dots)")
plot_path(ax, path, color="C2", lw=0.6)
resets = to_plane(magnet_path[::100])
ax.plot(resets[:, 0], resets[:, 1], "o", color="C3", ms=4)
ax.plot(*to_plane(gt.solve_zero_sum(comal).row), "k*", ms=9)
plt.show()

# %% [markdown]
# ## 3. Scale-free steps
#
# A step size only makes sense for one payoff scale: multiply every payoff by 1000 and the same
# `lr` is a thousand times too large. Every first-order solver therefore measures the game at
# `init` (`gametheory/solvers/scale.py`): the **payoff scale** $S = (\max u - \min u)/2$, and
# reads its parameters relative to it, $\eta = \mathtt{lr}/S$ and $\alpha = \mathtt{temp}\cdot S$.
# Then $\eta\alpha$ and $\eta\, q / S$ are dimensionless and the iterates do not depend on the
# payoff unit. `scale=1.0` switches this off (the papers' absolute units).

# %%
big = gt.games.matrix_game(1000.0 * np.asarray(gt.games.biased_rps().payoffs), name="biased×1000")
small = gt.games.biased_rps()
S_small, S_big = float(small.payoff_scale()), float(big.payoff_scale())
print("payoff scale S:", S_small, "and", S_big)
start = ([0.6, 0.3, 0.1], [0.2, 0.5, 0.3])
scale_runs = {}
for name, game in (("biased RPS", small), ("biased RPS ×1000", big)):
    for scale in ("game", 1.0):
        solver = gt.solvers.mpo(lr=1.0, temp=0.01, scale=scale, polish=False)
        scale_runs[name, scale] = gt.solve(game, solver, STEPS, initial=start)
fig, ax = plt.subplots(figsize=(7.6, 3.6))
for (name, scale), r in scale_runs.items():
    unit = S_big / S_small if "1000" in name else 1.0
    ax.semilogy(r.steps, np.maximum(np.asarray(r.exploitability_last) / unit, 1e-17),
                "-" if scale == "game" else ":", lw=2.5 if "1000" not in name else 1.5,
                label=f"{name}, scale={scale!r}")
ax.set_xlabel("iteration")
ax.set_ylabel("exploitability / 1000 for the ×1000 game")
ax.set_title("mpo(lr=1, temp=0.01): relative vs absolute units")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
plt.tight_layout()
plt.show()
gap = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
          for a, b in zip(scale_runs["biased RPS", "game"].last,
                          scale_runs["biased RPS ×1000", "game"].last))
Markdown(
    f"With `scale=\"game\"` the two games give the same iterates (largest difference "
    f"{gap:.1e}). In absolute units (`scale=1.0`), `lr=1` on the ×1000 game is a relative "
    f"step of {1.0 * S_big:.0f}, far outside the stable range, and the run ends at "
    f"{float(scale_runs['biased RPS ×1000', 1.0].exploitability_last[-1]) / 1000:.2f} per "
    f"payoff unit. On the original game (S = {S_small}) the same absolute numbers are a "
    f"relative step of {1.0 * S_small} and a relative temperature of {0.01 / S_small:.2g}: "
    f"another method, which ends at "
    f"{float(scale_runs['biased RPS', 1.0].exploitability_last[-1]):.1e} instead of "
    f"{float(scale_runs['biased RPS', 'game'].exploitability_last[-1]):.1e}.")

# %% [markdown]
# ### How large a step?
#
# The mirror-prox step (`extragradient=True`, the default of `mpo` and `comal`) is safe for
# $\eta \le 1/\max|A_{ij}|$ (Nemirovski 2004); since $S \le \max|A_{ij}|$ that is `lr <= 1` in
# relative units for games whose payoffs are centred, and the default is `mpo(lr=1.0)`. A
# larger step is faster on many random games, where it is still stable, but not on a purely
# rotational game such as RPS: there `lr=2` makes the plain iterate cycle. The certified polish
# (section 4) would still report an exact answer, but the dynamics themselves do not converge.

# %%
rps = gt.games.rock_paper_scissors()
lr_runs = {lr: gt.solve(rps, gt.solvers.mpo(lr=lr, polish=False), STEPS, initial=start)
           for lr in (0.5, 1.0, 2.0)}
polished = gt.solve(rps, gt.solvers.mpo(), STEPS, initial=start)
fig, ax = plt.subplots(figsize=(8.4, 3.4))
for lr, r in lr_runs.items():
    ax.semilogy(r.steps, np.maximum(r.exploitability_last, 1e-16), label=f"mpo(lr={lr}), no polish")
ax.semilogy(polished.steps, np.maximum(polished.exploitability_last, 1e-16), "k--",
            label="mpo() defaults\n(lr=1, polish)")
ax.set_xlabel("iteration")
ax.set_ylabel("exploitability")
ax.set_title("RPS: the step size of mirror prox")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
plt.tight_layout()
plt.show()
for lr, r in lr_runs.items():
    print(f"lr = {lr}: final exploitability {float(r.exploitability_last[-1]):.1e}")
print(f"defaults with polish: {float(polished.exploitability_last[-1]):.1e}")

# %% [markdown]
# ### Adaptive resets
#
# When should the magnet move? Too early and the regularised game is not solved; too late and
# steps are wasted. `gametheory/solvers/restarts.py` borrows the restart rule of restarted
# PDHG for linear programming (PDLP / cuPDLPx): with $r$ the length of the last step (the
# fixed-point residual of the regularised game) and $r_0$ the largest residual since the last
# reset, reset when
#
# * $r \le 0.2\, r_0$ (sufficient decay), or
# * $r \le 0.5\, r_0$ and $r$ went up (necessary decay, stalled), or
# * the steps since the last reset reach $0.36\,t$ (artificial, bounds the number of resets
#   by $O(\log t)$),
#
# and never before $3/(\mathtt{lr}\cdot\mathtt{temp})$ steps, three time constants of the
# regularised game. `reset_every="adaptive"` (the default) uses it; a fixed period has to be
# tuned per game.

# %%
adaptive = gt.solvers.mpo(lr=1.0, temp=0.01, polish=False)
fixed = gt.solvers.mpo(lr=1.0, temp=0.01, reset_every=100, polish=False)
a_path, _, a_since = record(comal, adaptive, STEPS, pi0)
f_path, _, _ = record(comal, fixed, STEPS, pi0)
game_expl = jax.jit(jax.vmap(lambda p: comal.exploitability((p, p))))
a_expl, f_expl = np.asarray(game_expl(a_path)), np.asarray(game_expl(f_path))
reset_steps = np.flatnonzero(a_since == 0) + 1
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.semilogy(np.arange(1, STEPS + 1), np.maximum(a_expl, 1e-16), label="adaptive resets")
ax.semilogy(np.arange(1, STEPS + 1), np.maximum(f_expl, 1e-16), label="reset every 100 steps")
for s in reset_steps:
    ax.axvline(s, color="C0", lw=0.5, alpha=0.4)
ax.set_xlabel("iteration")
ax.set_ylabel("exploitability")
ax.set_title("MPO(lr=1, temp=0.01) on COMAL 3x3; thin lines: adaptive resets")
ax.legend(fontsize=8)
plt.show()
first_below = lambda e: int(np.argmax(e < 1e-10)) + 1 if np.any(e < 1e-10) else None
Markdown(f"The adaptive rule reset the magnet {len(reset_steps)} times in {STEPS} steps "
         f"(first at step {reset_steps[0]}); it reached exploitability 1e-10 at step "
         f"{first_below(a_expl)}, the fixed period of 100 steps at step {first_below(f_expl)}.")

# %% [markdown]
# Is one fixed period good everywhere?
# `gt.solve_batch_until` runs a batch of games until each reaches a tolerance; we count the
# steps to $10^{-8}$ on eight random 10x10 games and on the COMAL game for several periods.

# %%
random_games = [gt.games.random_zero_sum(10, seed=s) for s in range(8)]
periods = (25, 100, 400, "adaptive")
to_tol = {}
for every in periods:
    solver = gt.solvers.mpo(lr=1.0, temp=0.01, reset_every=every, polish=False)
    batch = gt.solve_batch_until(random_games, solver, tol=1e-8, max_steps=20000,
                                 check_every=25)
    single = gt.solve_until(comal, solver, tol=1e-8, max_steps=20000, check_every=25,
                            initial=pi0)
    to_tol[every] = (np.asarray(batch.steps), int(single.steps))

fig, ax = plt.subplots(figsize=(6.4, 3.4))
xs = np.arange(len(periods))
ax.bar(xs - 0.2, [np.median(v[0]) for v in to_tol.values()], 0.4,
       label="random 10x10 (median of 8)")
ax.bar(xs + 0.2, [v[1] for v in to_tol.values()], 0.4, label="COMAL 3x3")
ax.set_xticks(xs, [f"every {p}" if p != "adaptive" else "adaptive" for p in periods])
ax.set_yscale("log")
ax.set_ylabel("steps to exploitability 1e-8")
ax.set_title("magnet resets: fixed periods vs the adaptive rule")
ax.legend(fontsize=8)
plt.show()
best_random = min(np.median(v[0]) for v in to_tol.values())
best_comal = min(v[1] for v in to_tol.values())
worst_random = max(np.median(v[0]) for v in to_tol.values())
worst_comal = max(v[1] for v in to_tol.values())
Markdown(
    f"No fixed period wins everywhere, and a bad one costs a lot (the worst period takes "
    f"{worst_random / best_random:.1f}x the best on the random games and "
    f"{worst_comal / best_comal:.1f}x on COMAL). The adaptive rule, tuned on neither, needs "
    f"{np.median(to_tol['adaptive'][0]) / best_random:.1f}x and "
    f"{to_tol['adaptive'][1] / best_comal:.1f}x the best period's steps.")

# %% [markdown]
# ## 4. PDHG and the certified polish
#
# A zero-sum matrix game is a bilinear saddle point over two simplices, and the
# primal-dual hybrid gradient method solves it with Euclidean projections:
# $$x^+ = \Pi_\Delta(x + \tau A y), \qquad y^+ = \Pi_\Delta\big(y - \sigma A^\top (2x^+ - x)\big),
# \qquad \tau\sigma\|A\|_2^2 < 1.$$
# `gt.solvers.pdhg` adds Halpern averaging with reflection, adaptive restarts on the exact
# NashConv and PDLP's primal weight (`gametheory/solvers/pdhg.py`); its step is relative to
# $\|A\|_2$, measured by power iteration.
#
# Projected iterates find the equilibrium's supports after finitely many steps. The **polish**
# (`gametheory/solvers/polish.py`) uses that: it guesses the supports $I, J$ from the iterate
# and solves the equalising linear systems
# $$\textstyle\sum_{j \in J} A_{ij} y_j = v \ (i \in I), \quad \sum_j y_j = 1, \qquad
# \sum_{i \in I} A_{ij} x_i = v \ (j \in J), \quad \sum_i x_i = 1.$$
# The candidate is accepted only if its full NashConv is below $10^{-9}S$ *and* below the
# iterate's: a certificate, not a heuristic. The driver tries it at every record.

# %%
rand = gt.games.random_zero_sum(30, 20, seed=4)
lp = gt.solve_zero_sum(rand)
pdhg_runs = {
    "PDHG": gt.solve(rand, gt.solvers.pdhg(polish=False), STEPS, record_every=25),
    "PDHG + polish": gt.solve(rand, gt.solvers.pdhg(), STEPS, record_every=25),
    "MPO (defaults, no polish)": gt.solve(rand, gt.solvers.mpo(polish=False), STEPS,
                                          record_every=25),
    "MPO + polish (defaults)": gt.solve(rand, gt.solvers.mpo(), STEPS, record_every=25),
}
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, r in pdhg_runs.items():
    ax.semilogy(r.steps, np.maximum(r.exploitability_last, 1e-17), label=name,
                ls="--" if "polish" in name else "-")
ax.set_xlabel("iteration")
ax.set_ylabel("exploitability")
ax.set_title("random 30x20 zero-sum game")
ax.legend(fontsize=8)
plt.show()
for name, r in pdhg_runs.items():
    x, y = (np.asarray(p) for p in r.last)
    print(f"{name:26s} exploitability {float(r.exploitability_last[-1]):.1e}   "
          f"value {x @ np.asarray(rand.payoffs) @ y:.12f}")
print(f"{'LP (HiGHS)':26s} value {lp.value:.12f}, supports {int(np.sum(lp.row > 1e-9))} "
      f"and {int(np.sum(lp.col > 1e-9))}")

# %% [markdown]
# ## Exercises
#
# **Exercise 2.1 (a QRE).** Compute the QRE of perturbed RPS (`gt.games.perturbed_rps()`) at
# temperature $\alpha = 0.05$ in absolute units (uniform magnet) and enter the row strategy.
# The check accepts a regularised NashConv below $10^{-8}$.

# %%
qre_005 = None  # [p_rock, p_paper, p_scissors]
exercises.check_perturbed_rps_qre(qre_005, temp=0.05)

# %% [markdown]
# **Exercise 2.2 (units).** `gt.solvers.mmd(lr=0.1, temp=0.1)` on the game `big` above
# (biased RPS ×1000) takes absolute steps. Which absolute `(lr, temp)` give
# `gt.solvers.mmd(lr=..., temp=..., scale=1.0)` the same iterates? Enter the pair.

# %%
absolute_units = None  # (lr, temp)
exercises.check_absolute_units(absolute_units, big, lr=0.1, temp=0.1)

# %% [markdown]
# **Exercise 2.3 (the equalising system).** The game $A = \begin{pmatrix} 3 & -1 \\ -2 & 1
# \end{pmatrix}$ has a fully mixed equilibrium. Solve the polish's equalising systems for it
# (by hand or with `np.linalg.solve`) and enter $(x, y)$.

# %%
mixed_2x2 = None  # ([x1, x2], [y1, y2])
exercises.check_two_by_two(mixed_2x2)

# %% [markdown]
# ## Solutions

# %%
qre_sol = gt.solve(prps, gt.solvers.mmd(lr=1.0, temp=0.05, scale=1.0, extragradient=True),
                   4000)
assert exercises.check_perturbed_rps_qre(np.asarray(qre_sol.last[0]).tolist(), temp=0.05)

S = float(big.payoff_scale())
assert exercises.check_absolute_units((0.1 / S, 0.1 * S), big, lr=0.1, temp=0.1)

A = np.array([[3.0, -1.0], [-2.0, 1.0]])
# Row: x^T A[:, 0] = x^T A[:, 1] and x1 + x2 = 1; column: A[0] y = A[1] y and y1 + y2 = 1.
x_sol = np.linalg.solve(np.array([A[:, 0] - A[:, 1], [1.0, 1.0]]), [0.0, 1.0])
y_sol = np.linalg.solve(np.array([A[0] - A[1], [1.0, 1.0]]), [0.0, 1.0])
print("x =", x_sol, "y =", y_sol)
assert exercises.check_two_by_two((x_sol.tolist(), y_sol.tolist()))
