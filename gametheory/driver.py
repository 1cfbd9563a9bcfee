"""Run a solver under ``jax.lax.scan`` and record last- and average-iterate exploitability."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .games import stack_games
from .solvers.base import check_count, check_initial
from .solvers.polish import polish_period

__all__ = [
    "SolveResult",
    "UntilResult",
    "solve",
    "solve_batch",
    "solve_seeds",
    "solve_until",
    "solve_batch_until",
    "random_initial_policies",
    "auto_slots",
    "slot_widths",
]


class SolveResult(NamedTuple):
    last: tuple  # last-iterate policies (probabilities / realization plans)
    average: tuple  # average-iterate policies
    steps: Any  # [R] iteration count at each record
    exploitability_last: Any  # [R] exploitability (NashConv / num_players) of the last iterate
    exploitability_avg: Any  # [R] same for the average iterate
    state: Any  # final solver state (resume with ``solve(..., state=result.state)``)


def _check_steps(steps, record_every):
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    if record_every is None:
        record_every = max(int(steps) // 100, 1)
    if not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise ValueError(f"record_every must be a positive integer; got {record_every!r}.")
    return int(steps), min(int(record_every), int(steps))


def _check_until(tol, max_steps, check_every) -> None:
    if not tol > 0:
        raise ValueError(f"tol must be positive; got {tol!r}.")
    _check_steps(max_steps, check_every)


def _as_batch(games):
    """A list of same-shape games becomes one game with a leading batch axis."""
    return _unnamed(stack_games(games) if isinstance(games, (list, tuple)) else games)


def _unnamed(game):
    """The game with its display name blanked. The name is static pytree metadata, part of
    every jit cache key; blanking it lets games of one type and shape share compiled programs
    (XLA compilation, not the iterations, dominates runs of small games)."""
    if dataclasses.is_dataclass(game) and any(f.name == "name" for f in dataclasses.fields(game)):
        return dataclasses.replace(game, name="")
    return game


def _chunks(steps: int, record_every: int) -> list[int]:
    full, rest = divmod(steps, record_every)
    return [record_every] * full + ([rest] if rest else [])


def _carry_init(game, solver, initial, state):
    if state is None:
        state = solver.init(game, initial)
    policy = solver.policy(game, state)
    total = jax.tree.map(jnp.zeros_like, policy)
    return state, total, jnp.zeros((), jnp.int32)


_carry_init_jit = functools.partial(jax.jit, static_argnames=("solver",))(_carry_init)


def _average(game, solver, carry):
    state, total, count = carry
    if solver.average is not None:
        return solver.average(game, state)
    return jax.tree.map(lambda t: t / jnp.maximum(count, 1), total)


def _polish(game, solver, state):
    """The solver's certified polish (:mod:`gametheory.solvers.polish`), if it has one."""
    return state if solver.polish is None else solver.polish(game, state)


def _advance(game, solver, carry, length: int):
    """``length`` solver updates, accumulating the running sum of the iterates, then a polish
    attempt (the polish runs at record points only: it costs a few linear solves)."""

    def one(carry, _):
        state, total, count = carry
        state = solver.update(game, state)
        total = jax.tree.map(jnp.add, total, solver.policy(game, state))
        return (state, total, count + 1), None

    (state, total, count), _ = jax.lax.scan(one, carry, None, length=length)
    return _polish(game, solver, state), total, count


def _record(game, solver, carry):
    state, _, count = carry
    last = solver.policy(game, state)
    avg = _average(game, solver, carry)
    return count, game.exploitability(last), game.exploitability(avg)


@functools.partial(jax.jit, static_argnames=("solver", "chunks"))
def _run(game, solver, chunks, initial, state):
    carry = _carry_init(game, solver, initial, state)
    n_full = sum(1 for c in chunks if c == chunks[0])

    def chunk(carry, _):
        carry = _advance(game, solver, carry, chunks[0])
        return carry, _record(game, solver, carry)

    carry, records = jax.lax.scan(chunk, carry, None, length=n_full)
    if len(chunks) > n_full:  # a shorter final chunk
        carry = _advance(game, solver, carry, chunks[-1])
        extra = _record(game, solver, carry)
        records = jax.tree.map(lambda r, e: jnp.concatenate([r, e[None]]), records, extra)
    return carry, records


@functools.partial(jax.jit, static_argnames=("solver", "length"))
def _run_chunk(game, solver, carry, length):
    carry = _advance(game, solver, carry, length)
    return carry, _record(game, solver, carry)


def solve(game, solver, steps: int, record_every: int | None = None, initial=None, state=None,
          progress: bool = False, callback=None) -> SolveResult:
    """Run ``steps`` updates of ``solver`` on ``game``; record every ``record_every`` steps.

    Args:
      game: any game with ``gradients``/``exploitability`` (normal form) or a sequence-form game.
      solver: a :class:`~gametheory.solvers.Solver`.
      steps: number of updates.
      record_every: record spacing (default ``steps // 100``); a final shorter chunk is recorded
        too when it does not divide ``steps``.
      initial: initial policies (tuple of probability vectors), default uniform; checked before
        the run (:func:`gametheory.solvers.base.check_initial`), a ``ValueError`` otherwise.
      state: resume from a previous ``SolveResult.state`` instead of ``initial``; the average is
        then taken over the new steps only.
      progress: show a tqdm bar (runs one jitted chunk per record instead of one fused scan).
      callback: ``callback(step, exploitability_last, exploitability_avg, state)`` after each
        record (floats and the solver state; runs chunk by chunk like ``progress``), e.g. to
        keep a partial result or to stop a long run by raising an exception.

    Returns a :class:`SolveResult`; exploitability is NashConv / num_players throughout
    (OpenSpiel's convention: NashConv / 2 for two-player zero-sum games).
    """
    steps, record_every = _check_steps(steps, record_every)
    chunks = tuple(_chunks(steps, record_every))
    initial = check_initial(game, initial)
    game = _unnamed(game)
    if progress or callback is not None:
        from tqdm.auto import tqdm

        carry = _carry_init_jit(game, solver, initial, state)
        rows = []
        with tqdm(total=steps, desc=getattr(solver, "name", "solve"), unit="it",
                  disable=not progress) as bar:
            for length in chunks:
                carry, rec = _run_chunk(game, solver, carry, length)
                rows.append(rec)
                bar.update(length)
                if progress:
                    bar.set_postfix(expl_last=f"{float(rec[1]):.2e}")
                if callback is not None:
                    callback(int(rec[0]), float(rec[1]), float(rec[2]), carry[0])
        # Stacked on the host: the records are already there, and an eager jnp.stack of 100
        # scalars would compile one more program.
        records = jax.tree.map(lambda *r: jnp.asarray(np.stack(jax.device_get(r))), *rows)
    else:
        carry, records = _run(game, solver, chunks, initial, state)
    return _result(game, solver, carry, records)


def _result(game, solver, carry, records) -> SolveResult:
    state = carry[0]
    last = solver.policy(game, state)
    avg = _average(game, solver, carry)
    count, expl_last, expl_avg = records
    return SolveResult(last, avg, count, expl_last, expl_avg, state)


def solve_batch(games, solver, steps: int, record_every: int | None = None,
                initial=None) -> SolveResult:
    """:func:`solve` over a batch of games in one ``vmap``-ed call.

    ``games``: a list of same-shape games or one game whose leaves carry a leading batch axis
    (:func:`gametheory.games.stack_games`). Every field of the result gets that batch axis.
    ``initial``: ``None`` (uniform) or batched initial policies.
    """
    games = _as_batch(games)
    steps, record_every = _check_steps(steps, record_every)
    chunks = tuple(_chunks(steps, record_every))
    initial = check_initial(_take(games, 0), initial)  # batched policies, one game's shapes
    run = jax.vmap(lambda g, init: _run(g, solver, chunks, init, None),
                   in_axes=(0, None if initial is None else 0))
    carry, records = run(games, initial)
    finish = jax.vmap(lambda g, c, r: _result(g, solver, c, r))
    return finish(games, carry, records)


def random_initial_policies(key, game, batch: int | None = None, concentration: float = 1.0):
    """Dirichlet(concentration) initial policies, one per player (with a leading ``batch`` axis)."""
    keys = jax.random.split(key, game.num_players)
    shape = () if batch is None else (batch,)
    return tuple(
        jax.random.dirichlet(k, jnp.full((n,), concentration), shape=shape)
        for k, n in zip(keys, game.num_actions)
    )


def solve_seeds(game, solver, steps: int, seeds, record_every: int | None = None) -> SolveResult:
    """:func:`solve` from one random (Dirichlet(1)) initial policy per seed, vmapped over seeds."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("solve_seeds needs at least one seed.")
    game = _unnamed(game)
    steps, record_every = _check_steps(steps, record_every)
    chunks = tuple(_chunks(steps, record_every))
    initial = jax.vmap(lambda k: random_initial_policies(k, game))(
        jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds)))
    carry, records = jax.vmap(lambda init: _run(game, solver, chunks, init, None))(initial)
    return jax.vmap(lambda c, r: _result(game, solver, c, r))(carry, records)


class UntilResult(NamedTuple):
    last: tuple  # last-iterate policies when stopped
    steps: Any  # [] updates taken
    exploitability: Any  # [] exploitability of the last iterate when stopped
    converged: Any  # [] bool: exploitability <= tol
    state: Any


@functools.partial(jax.jit, static_argnames=("solver", "max_steps", "check_every"))
def _run_until(game, solver, tol, max_steps, check_every, initial):
    state = solver.init(game, initial)

    def expl(state):
        return game.exploitability(solver.policy(game, state))

    def cond(carry):
        state, steps, value = carry
        return (value > tol) & (steps < max_steps)

    period = polish_period(game, check_every)

    def body(carry):
        state, steps, _ = carry
        state = jax.lax.fori_loop(0, check_every, lambda _, s: solver.update(game, s), state)
        steps = steps + check_every
        if solver.polish is not None:  # at most every polish_period steps: it costs more
            state = jax.lax.cond(steps % period == 0, lambda s: _polish(game, solver, s),
                                 lambda s: s, state)
        return state, steps, expl(state)

    state, steps, value = jax.lax.while_loop(
        cond, body, (state, jnp.zeros((), jnp.int32), expl(state)))
    return UntilResult(solver.policy(game, state), steps, value, value <= tol, state)


def solve_until(game, solver, tol: float, max_steps: int = 100_000, check_every: int = 50,
                initial=None) -> UntilResult:
    """Run ``solver`` until the last iterate's exploitability is ``<= tol`` (checked every
    ``check_every`` updates) or ``max_steps`` updates; one ``lax.while_loop``.

    Works under ``jax.vmap`` (see :func:`solve_batch_until`): finished games stop changing while
    the others continue.
    """
    _check_until(tol, max_steps, check_every)
    initial = check_initial(game, initial)
    return _run_until(_unnamed(game), solver, tol, int(max_steps), int(check_every), initial)


def solve_batch_until(games, solver, tol: float, max_steps: int = 100_000,
                      check_every: int = 50, slots: int | str | None = None,
                      progress: bool = False) -> UntilResult:
    """:func:`solve_until` over a batch of same-shape games.

    ``slots=None``: one vmapped ``while_loop`` over the whole batch; every game advances in
    lockstep until the slowest one stops, so the work is ``batch x max(steps)``.

    ``slots=k``: continuous batching. ``k`` games run vmapped; every ``check_every`` updates the
    finished ones are written out and their slots refilled from the queue, and once the queue is
    empty the batch shrinks to the next power of two above the number of running games. The work
    is close to ``sum(steps)``, which matters when steps to the tolerance vary by orders of
    magnitude between games (random 50x50 games: ~10^4 to >10^5). One compilation per slot count
    (:func:`slot_widths` lists them). On a GPU or TPU the batch stops shrinking at
    :data:`ACCELERATOR_SHRINK_BYTES` of payoffs, where narrower batches no longer run faster.
    ``progress`` shows a tqdm bar of finished games (slots mode only).

    ``slots="auto"``: continuous batching with as many slots as fit the games' payoffs in
    :data:`SLOT_BYTES` on a CPU, :data:`ACCELERATOR_SLOT_BYTES` on an accelerator (a power of
    two, at least 1). Wider slots amortise the per-round work
    (host round trip, polish) over more games; beyond a few MB of payoffs the batch no longer
    stays in cache (PDHG on 1024 random 50x50 float64 games, 2 cores: 64 slots of 20 KB each
    gave 1200 games/s, 128 slots 1320-1440, 256 slots 1320-1460, 512 slots 800).

    Every field of the result has the batch axis, in the order of ``games``.
    """
    games = _as_batch(games)
    _check_until(tol, max_steps, check_every)
    if slots is None:
        run = jax.vmap(
            lambda g: _run_until(g, solver, tol, int(max_steps), int(check_every), None))
        return run(games)
    if isinstance(slots, str) and slots == "auto":
        slots = auto_slots(games)
    return _solve_slots(games, solver, float(tol), int(max_steps), int(check_every),
                        check_count(slots, "slots"), progress)


#: The payoff bytes that ``slots="auto"`` keeps in flight on a CPU (about its cache) ...
SLOT_BYTES = 4 << 20
#: ... and on an accelerator, where every slot runs in parallel and more is better.
ACCELERATOR_SLOT_BYTES = 1 << 30


def _platform(leaf) -> str:
    """The platform holding ``leaf`` (the default backend for host arrays)."""
    if isinstance(leaf, jax.Array):
        return next(iter(leaf.devices())).platform
    return jax.default_backend()


def _bytes_per_game(leaves) -> int:
    """Bytes of one game of a batch (the leaves' rows), at least 1."""
    return sum(int(np.prod(v.shape[1:])) * v.dtype.itemsize for v in leaves) or 1


def auto_slots(games) -> int:
    """Slots for continuous batching: the largest power of two whose games' leaves fit in
    :data:`SLOT_BYTES` on a CPU, :data:`ACCELERATOR_SLOT_BYTES` on a GPU or TPU (at least 1, at
    most the batch)."""
    leaves = jax.tree.leaves(games)
    total = int(leaves[0].shape[0])
    budget = SLOT_BYTES if _platform(leaves[0]) == "cpu" else ACCELERATOR_SLOT_BYTES
    fit = max(1, budget // _bytes_per_game(leaves))
    return int(min(total, 1 << int(np.floor(np.log2(fit)))))


#: On an accelerator the batch stops shrinking once its payoffs are below this many bytes.
ACCELERATOR_SHRINK_BYTES = 64 << 20


def _narrowest(games) -> int:
    """The fewest slots continuous batching shrinks to: 1 on a CPU; on an accelerator the
    power of two whose payoffs fill :data:`ACCELERATOR_SHRINK_BYTES`, since below that every
    slot runs in parallel at about the same cost and each narrower width would only add a
    compilation (seconds each)."""
    leaves = jax.tree.leaves(games)
    if _platform(leaves[0]) == "cpu":
        return 1
    fit = max(1, ACCELERATOR_SHRINK_BYTES // _bytes_per_game(leaves))
    return 1 << int(np.ceil(np.log2(fit)))


def slot_widths(games, slots: int | str = "auto") -> list[int]:
    """The slot counts a continuous-batching run of :func:`solve_batch_until` on ``games`` may
    use, widest first: one compilation each (run each once on a slice of the batch to compile
    ahead of a timed call)."""
    total = int(jax.tree.leaves(games)[0].shape[0])
    width = auto_slots(games) if isinstance(slots, str) and slots == "auto" else int(slots)
    width = min(check_count(width, "slots"), total)
    widths, narrowest = [width], _narrowest(games)
    if width // 2 < 1 or width <= narrowest:
        return widths
    power = 1 << int(np.ceil(np.log2(width // 2)))  # widest width after a shrink
    while power >= narrowest:
        if power < width:
            widths.append(power)
        power //= 2
    return widths


def _take(tree, index):
    return jax.tree.map(lambda v: v[index], tree)


def _take_host(tree, index):
    """``tree``'s rows ``index``, gathered in NumPy and put back on the device."""
    return jax.device_put(jax.tree.map(lambda v: np.asarray(v)[index], tree))


@functools.partial(jax.jit, static_argnames=("solver",))
def _slot_init(slot_games, solver):
    return jax.vmap(lambda g: solver.init(g, None))(slot_games)


class _Queue:
    """The games waiting for a slot, put on the device ``width`` at a time with their initial
    solver states (one vmapped ``init`` per block, e.g. one power iteration per game), so a
    round that refills a few slots neither initialises every slot nor copies slots from the
    host."""

    def __init__(self, host_games, solver, width):
        self.games, self.solver, self.width = host_games, solver, width
        self.total = int(jax.tree.leaves(host_games)[0].shape[0])
        self.blocks = {}  # block number -> (games, states) of games [b * width, (b + 1) * width)

    def block(self, number):
        """Games ``[number * width, (number + 1) * width)`` (the last block padded with the last
        game) and their initial states, on the device."""
        if number not in self.blocks:
            self.blocks = {b: v for b, v in self.blocks.items() if b >= number - 1}
            index = np.minimum(np.arange(number * self.width, (number + 1) * self.width),
                               self.total - 1)
            games = _take_host(self.games, index)
            self.blocks[number] = (games, _slot_init(games, self.solver))
        return self.blocks[number]

    def refill(self, slots, games):
        """The ``source`` argument of :func:`_slot_round` that starts ``games`` (ascending
        queue positions, at most ``width`` consecutive ones) in ``slots``: the one or two blocks
        they lie in, and per slot which block and row to take (the round gathers them)."""
        first = int(games[0]) // self.width
        second = min(first + 1, (self.total - 1) // self.width)
        in_second = np.zeros(self.width, bool)
        row = np.zeros(self.width, np.int32)
        in_second[slots] = games // self.width > first
        row[slots] = games % self.width
        return (*self.block(first), *self.block(second), in_second, row)

    def initial_states(self, games):
        """Host copies of the initial states of ``games`` (queue positions)."""
        rows = [jax.tree.map(lambda v: np.asarray(v)[g % self.width],
                             self.block(int(g) // self.width)[1]) for g in games]
        return jax.tree.map(lambda *r: np.stack(r), *rows)


def _no_refill(slot_games, states):
    """A ``source`` for :func:`_slot_round` when no slot is refilled (its rows are unused)."""
    width = int(jax.tree.leaves(slot_games)[0].shape[0])
    return (slot_games, states, slot_games, states, np.zeros(width, bool),
            np.zeros(width, np.int32))


def _where_rows(mask):
    """``jnp.where(mask, new, old)`` with ``mask`` over the leading axis of the leaves."""
    return lambda new, old: jnp.where(mask.reshape(mask.shape + (1,) * (new.ndim - 1)), new, old)


@functools.partial(jax.jit, static_argnames=("solver", "check_every"))
def _slot_round(slot_games, solver, check_every, states, fresh, source, due):
    """Start the ``fresh`` slots on new games (gathered from the queue's blocks in ``source``,
    see :meth:`_Queue.refill`), then ``check_every`` updates on all, then the polish on the
    slots ``due`` for one (skipped when none is). Returns the slots' games, states, policies
    and exploitabilities.

    Only the slots' games and one or two blocks of as many queued games are passed, so the
    compiled program depends on the number of slots, not on the size of the batch (a warm-up
    on ``slots`` games compiles what a larger batch uses)."""
    first_games, first_states, second_games, second_states, in_second, row = source

    def gather(first, second):
        return jax.tree.map(lambda a, b: _where_rows(in_second)(b[row], a[row]), first, second)

    slot_games = jax.tree.map(_where_rows(fresh), gather(first_games, second_games), slot_games)
    states = jax.tree.map(_where_rows(fresh), gather(first_states, second_states), states)

    def run(game, state):
        return jax.lax.fori_loop(0, check_every, lambda _, s: solver.update(game, s), state)

    def measure(game, state):
        policy = solver.policy(game, state)
        return policy, game.exploitability(policy)

    def polish(states):
        polished = jax.vmap(lambda g, s: solver.polish(g, s))(slot_games, states)
        return jax.tree.map(_where_rows(due), polished, states)

    states = jax.vmap(run)(slot_games, states)
    if solver.polish is not None:
        states = jax.lax.cond(jnp.any(due), polish, lambda s: s, states)
    policies, expl = jax.vmap(measure)(slot_games, states)
    return slot_games, states, policies, expl


def _solve_slots(games, solver, tol, max_steps, check_every, slots, progress):
    total = int(jax.tree.leaves(games)[0].shape[0])
    width = min(slots, total)
    period = polish_period(games, check_every)
    narrowest = _narrowest(games)
    index = np.arange(width)  # game held by each slot
    running = np.ones(width, bool)
    fresh = np.zeros(width, bool)  # slots to restart on a newly queued game
    steps = np.zeros(width, np.int64)
    queued = width  # next game to start
    # Games go to the device a block at a time and slots are refilled inside the round; the
    # rare regathers (when the batch shrinks) run on the host (NumPy): a jitted gather would
    # compile anew for every batch size and pair of widths, in the middle of the run.
    host_games = jax.tree.map(np.asarray, games)
    queue = _Queue(host_games, solver, width)
    slot_games, states = queue.block(0)  # the first `width` games
    out = None  # per-game host arrays: (policies, exploitability, states)
    out_steps = np.zeros(total, np.int64)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=getattr(solver, "name", "solve"), unit="game")
    while running.any():
        due = running & ((steps + check_every) % period == 0)
        source = (queue.refill(np.flatnonzero(fresh), index[fresh]) if fresh.any()
                  else _no_refill(slot_games, states))
        slot_games, states, policies, expl = _slot_round(
            slot_games, solver, check_every, states, jnp.asarray(fresh), source,
            jnp.asarray(due))
        expl = np.asarray(expl)
        steps += check_every * running
        done = running & ((expl <= tol) | (steps >= max_steps))
        fresh[:] = False
        if done.any():
            where = np.flatnonzero(done)
            got = jax.tree.map(lambda v: np.asarray(v)[where], (policies, expl, states))
            if out is None:
                out = jax.tree.map(lambda v: np.zeros((total,) + v.shape[1:], v.dtype), got)
            for tree_out, tree_got in zip(jax.tree.leaves(out), jax.tree.leaves(got)):
                tree_out[index[where]] = tree_got
            out_steps[index[where]] = steps[where]
            if bar is not None:
                bar.update(len(where))
            for slot in where:
                if queued < total:
                    index[slot], steps[slot], fresh[slot] = queued, 0, True
                    queued += 1
                else:
                    running[slot] = False
        live = np.flatnonzero(running)
        if queued == total and 0 < len(live) <= width // 2 and width > narrowest:
            # Shrink to the next power of two; pad with copies of a running slot. Slots just
            # refilled start here, on the host (the queue's blocks have the old width).
            width = max(narrowest, 1 << int(np.ceil(np.log2(len(live)))))
            keep = np.concatenate([live, np.full(width - len(live), live[0])])
            index, steps, fresh = index[keep], steps[keep], fresh[keep]
            host_states = jax.tree.map(lambda v: np.array(v)[keep], states)
            if fresh.any():
                starts = queue.initial_states(index[fresh])
                for leaf, start in zip(jax.tree.leaves(host_states), jax.tree.leaves(starts)):
                    leaf[fresh] = start
                fresh[:] = False
            states = jax.device_put(host_states)
            slot_games = _take_host(host_games, index)
            running = np.arange(width) < len(live)
    if bar is not None:
        bar.close()
    policies, expl, states = out
    return UntilResult(*jax.device_put((policies, out_steps, expl, expl <= tol, states)))
