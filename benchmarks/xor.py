"""Time one training step of main.py's XOR model, ours against NumPy and others.

A step is what main.py does 10,000 times: `sess.run([update, loss])`, that is
the forward pass, the backward pass and the weight update, with the loss
fetched. The same step is written by hand in NumPy twice: plainly, and the
lean way (the floor for any engine that calls NumPy once per operation
without reusing buffers), and, when they are installed, in
TensorFlow's compat.v1 Session, PyTorch eager mode and JAX with the whole
step jitted. Everything runs in float64 from the same initial weights.

The eager step (eager.py: the forward pass under a GradientTape, the tape's
gradients, two assignments) is timed against the eager steps of PyTorch and
of TensorFlow 2 (`tf.GradientTape`, with no `tf.function`).

The contenders take turns: each round times a batch of steps of every one of
them, so a slow patch of a shared machine hits all of them alike, and
every contender is built afresh for each block of rounds (see
`in_blocks`). We report each one's median time per step, and the medians
over rounds of its ratios to both NumPy steps in the same round and, when
PyTorch ran, to its eager step, the yardstick for ours.

    python benchmarks/xor.py [--blocks 5] [--rounds 6] [--steps 300]
"""

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compiler import CompiledSession  # noqa: E402
from main import X, build_model, initial_weights, y  # noqa: E402
from session import Session  # noqa: E402


# Ours, walked (session.py's `Session`, as main.py runs it) and compiled
# (compiler.py's `CompiledSession`, which compiles the plan after its first
# few runs, during the warm-up).
def ours(session_class):
    loss, update, _ = build_model(*initial_weights())
    sess = session_class(loss.graph)
    return lambda: sess.run([update, loss])[1]


# Ours, compiled, through `make_callable`: the fetch's key made once.
def ours_callable():
    loss, update, _ = build_model(*initial_weights())
    call = CompiledSession(loss.graph).make_callable([update, loss])
    return lambda: call()[1]


def ours_eager():
    import eager

    graph = eager.EagerGraph()
    tensors = [graph.tensor(value) for value in (X, y, *initial_weights())]
    return lambda: eager.step(graph, *tensors).numpy()


# The whole step by hand: the forward pass, the chain rule worked out on
# paper, and the update. About 25 NumPy calls.
def numpy_by_hand():
    w0, w1 = initial_weights()
    weights = [w0, w1]
    targets = y.T

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def step():
        w0, w1 = weights
        a0 = sigmoid(X @ w0)
        a1 = sigmoid(a0 @ w1)
        diff = targets - a1
        loss = np.mean(diff * diff)
        d1 = (-2 / diff.size) * diff * a1 * (1 - a1)
        d0 = (d1 @ w1.T) * a0 * (1 - a0)
        weights[0] = w0 - X.T @ d0
        weights[1] = w1 - a0.T @ d1
        return loss

    return step


# The same step written the lean way, as a careful NumPy programmer would
# for arrays this small: `np.dot` (cheaper than `@` to call), `x.sum() /
# x.size` (cheaper than `np.mean`), constants as 0-d float arrays (a
# Python number costs NumPy a conversion on every call), and the
# transposes of the fixed data made once, outside the loop. No buffers
# are reused.
def numpy_lean():
    w0, w1 = initial_weights()
    weights = [w0, w1]
    targets, inputs_t = y.T.copy(), X.T.copy()
    one, scale = np.array(1.0), np.array(-2.0 / targets.size)
    dot, exp = np.dot, np.exp

    def step():
        w0, w1 = weights
        a0 = one / (one + exp(-dot(X, w0)))
        a1 = one / (one + exp(-dot(a0, w1)))
        diff = targets - a1
        squares = diff * diff
        loss = squares.sum() / squares.size
        d1 = scale * diff * a1 * (one - a1)
        d0 = dot(d1, w1.T) * a0 * (one - a0)
        weights[0] = w0 - dot(inputs_t, d0)
        weights[1] = w1 - dot(a0.T, d1)
        return loss

    return step


def tensorflow():
    import tensorflow as tf  # noqa: F401  (without it, the row is skipped)

    import tf_test

    graph, init, loss, update, _ = tf_test.build_model(*initial_weights())
    sess = tf_test.tf.compat.v1.Session(graph=graph)
    sess.run(init)
    return lambda: sess.run([update, loss])[1]


def tensorflow_eager():
    import tf_test  # imports TensorFlow quietly, or leaves tf as None

    tf = tf_test.tf
    if tf is None:
        raise ImportError("tensorflow is not installed", name="tensorflow")
    inputs, targets = tf.constant(X), tf.constant(y.T)
    w0, w1 = (tf.Variable(w) for w in initial_weights())

    def step():
        with tf.GradientTape() as tape:
            a1 = tf.sigmoid(tf.sigmoid(inputs @ w0) @ w1)
            loss = tf.reduce_mean(tf.square(targets - a1))
        g0, g1 = tape.gradient(loss, [w0, w1])
        w0.assign_sub(g0)
        w1.assign_sub(g1)
        return float(loss)

    return step


def pytorch():
    import torch

    torch.set_num_threads(1)
    inputs, targets = torch.tensor(X), torch.tensor(y.T)
    w0, w1 = (torch.tensor(w, requires_grad=True) for w in initial_weights())

    def step():
        a1 = torch.sigmoid(torch.sigmoid(inputs @ w0) @ w1)
        loss = torch.mean(torch.square(targets - a1))
        g0, g1 = torch.autograd.grad(loss, [w0, w1])
        with torch.no_grad():
            w0.sub_(g0)
            w1.sub_(g1)
        return loss.item()

    return step


def jax_jit():
    import jax

    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    inputs, targets = jnp.asarray(X), jnp.asarray(y.T)

    def loss_fn(weights):
        w0, w1 = weights
        a1 = jax.nn.sigmoid(jax.nn.sigmoid(inputs @ w0) @ w1)
        return jnp.mean(jnp.square(targets - a1))

    @jax.jit
    def update(weights):
        loss, grads = jax.value_and_grad(loss_fn)(weights)
        return [w - g for w, g in zip(weights, grads)], loss

    weights = [jnp.asarray(w) for w in initial_weights()]

    def step():
        nonlocal weights
        weights, loss = update(weights)
        return float(loss)

    return step


# Where each peer framework comes from. A contender whose framework is
# missing is reported as skipped, with what to install, not left out quietly.
INSTALL = {"torch": "requirements-peers.txt", "jax": "requirements-peers.txt",
           "tensorflow": "requirements-tf.txt"}


def skipped(name, error):
    module = error.name or str(error)
    print(f"skipped {name}: {module} not installed "
          f"(pip install -r {INSTALL.get(module, 'requirements.txt')})")


CONTENDERS = {
    "ours, compiled": partial(ours, CompiledSession),
    "ours, make_callable": ours_callable,
    "ours, walked": partial(ours, Session),
    "ours eager": ours_eager,
    "numpy by hand": numpy_by_hand,
    "numpy lean": numpy_lean,
    "tensorflow compat.v1": tensorflow,
    "tensorflow 2 eager": tensorflow_eager,
    "pytorch eager": pytorch,
    "jax jit": jax_jit,
}


# Each round times every contender once, in turn, so that a slow spell of
# a shared machine falls on all of them: µs per step, one list per step.
# Each round starts one contender further on, so that none always runs
# right after the same one (a peer's threads may still be winding down).
def interleaved(steps, rounds, n):
    times, keys = {key: [] for key in steps}, list(steps)
    for r in range(rounds):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            step = steps[key]
            start = time.perf_counter()
            for _ in range(n):
                step()
            times[key].append((time.perf_counter() - start) / n * 1e6)
    return times


# Where a contender's arrays land in memory moves its time by a few
# percent, and the one built first tends to land worst (at digits' batch
# 32, any of ours built first ran up to 6% slower than the same step
# built later). So the contenders are built afresh for each of `blocks`
# blocks of rounds, each block starting its building at a different one:
# no contender keeps one placement throughout. `build(name, make)`
# returns a warmed-up step, or None for one that cannot run here, which
# later blocks skip. The times of all blocks, one list per step.
def in_blocks(makers, build, blocks, rounds, n):
    names, times = list(makers), {}
    for b in range(blocks):
        steps, start = {}, b * len(names) // blocks
        for name in names[start:] + names[:start]:
            steps[name] = build(name, makers[name])
        names = [name for name in names if steps[name] is not None]
        for name, ts in interleaved({k: steps[k] for k in names}, rounds, n).items():
            times.setdefault(name, []).extend(ts)
    return {name: times[name] for name in names}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6, help="per block")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()

    def build(name, make):
        try:
            step = make()
        except ImportError as error:
            skipped(name, error)
            return None
        # Every contender must be computing the same thing: the first loss
        # of this model is 0.400740028636.
        first = step()
        assert abs(first - 0.400740028636) < 1e-9, (name, first)
        for _ in range(args.steps):  # warm up (and let JAX compile)
            step()
        return step

    times = in_blocks(CONTENDERS, build, args.blocks, args.rounds, args.steps)

    # Each ratio is taken within a round, then the median over rounds: a
    # slow spell slows both sides of a ratio alike, and leaves it be.
    def ratios(to):
        return {name: statistics.median(t / b for t, b in zip(ts, times[to]))
                for name, ts in times.items()}

    columns = {"× NumPy": ratios("numpy by hand"), "× lean": ratios("numpy lean")}
    if "pytorch eager" in times:  # the eager step's goal: ≤ 1.0× PyTorch
        columns["× PyTorch"] = ratios("pytorch eager")
    print(f"{args.blocks} blocks of {args.rounds} rounds of {args.steps} steps; median time")
    print("per step, and the medians over rounds of the ratios to the steps timed in the")
    print("same round\n")
    # A column is as wide as its heading.
    print(f"| {'step':22} | {'µs per step':>11} |" + "".join(f" {c} |" for c in columns))
    print(f"| {'-' * 22} | {'-' * 11}:|" + "".join(f" {'-' * len(c)}:|" for c in columns))
    for name, ts in times.items():
        print(f"| {name:22} | {statistics.median(ts):11.1f} |"
              + "".join(f" {r[name]:{len(c)}.2f} |" for c, r in columns.items()))


if __name__ == "__main__":
    main()
