"""Time one training step of digits.py's network, ours against NumPy and others.

A step is what digits.py does 1,720 times: feed a batch of images and
labels, run the forward pass (64 → 64 relu → 10, with biases), the fused
softmax cross-entropy, the backward pass and the momentum update, and fetch
the loss. It is timed at batch 32 (digits.py's) and at batch 256. The same
step is written by hand in NumPy and, when they are installed, in
TensorFlow's compat.v1 Session (tf_digits.py's model, with its
MomentumOptimizer), PyTorch eager mode (torch.optim.SGD with momentum, the
same rule) and JAX with the whole step jitted. Everything runs in float64,
from the same initial weights, on the same batch.

Every contender computes on one thread: at batch 256, NumPy's BLAS would
otherwise start threads for each matrix product, which on a small shared
machine wait for each other far longer than the product takes.

The contenders take turns: each round times a run of steps of every one of
them at both batch sizes, so a slow patch of a shared machine hits all of
them alike, and each is built afresh for every block of rounds
(benchmarks/xor.py's `in_blocks`). We report each one's median time per
step, and the median over rounds of its ratio to NumPy's step at the same
batch size in the same round.

    python benchmarks/digits.py [--blocks 5] [--rounds 4] [--steps 200]
"""

import argparse
import os
import statistics
import sys
from functools import partial
from pathlib import Path

# Before NumPy, TensorFlow or JAX start their thread pools.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xor import in_blocks, skipped  # noqa: E402  (benchmarks/xor.py)

import digits  # noqa: E402
from compiler import CompiledSession  # noqa: E402
from session import Session  # noqa: E402

SIZES = [32, 256]


# Ours, walked (session.py's `Session`) and compiled (compiler.py's
# `CompiledSession`, which compiles the plan during the warm-up).
def ours(session_class, images, labels):
    model = digits.build_model(digits.initial_weights())
    sess = session_class(model.loss.graph)
    fetches = [model.train, model.loss]
    feed = {model.images: images, model.labels: labels}
    return lambda: sess.run(fetches, feed)[1]


# Ours, compiled, through `make_callable`: the fetch's key made once.
def ours_callable(images, labels):
    model = digits.build_model(digits.initial_weights())
    call = CompiledSession(model.loss.graph).make_callable(
        [model.train, model.loss], [model.images, model.labels])
    return lambda: call(images, labels)[1]


# The whole step by hand: the forward pass, the chain rule worked out on
# paper (the fused loss's gradient is softmax − labels, over the batch
# size), and the momentum update. About 40 NumPy calls. That gradient is
# the derivative only for labels that sum to 1; `exact` multiplies the
# softmax by the labels' row sums first, the derivative for any labels,
# as ours computes it (nn_ops.py): two NumPy calls more.
def numpy_by_hand(images, labels, exact=False):
    weights = list(digits.initial_weights())
    velocities = [np.zeros_like(w) for w in weights]
    rate, momentum, n = digits.RATE, digits.MOMENTUM, len(images)

    def step():
        w0, b0, w1, b1 = weights
        pre = images @ w0 + b0
        hidden = np.maximum(pre, 0)
        logits = hidden @ w1 + b1
        shifted = logits - logits.max(1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(1, keepdims=True)
        loss = (labels * (np.log(total) - shifted)).sum() / n
        p = exp / total * labels.sum(1, keepdims=True) if exact else exp / total
        d_logits = (p - labels) / n
        d_hidden = (d_logits @ w1.T) * (pre > 0)
        grads = [images.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_logits,
                 d_logits.sum(0)]
        for i, g in enumerate(grads):
            velocities[i] = momentum * velocities[i] + g
            weights[i] = weights[i] - rate * velocities[i]
        return loss

    return step


def tensorflow(images, labels):
    import tensorflow as tf  # without it, the row is skipped

    import tf_digits

    graph, init, model = tf_digits.build_model(digits.initial_weights())
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1,
                                      inter_op_parallelism_threads=1)
    sess = tf.compat.v1.Session(graph=graph, config=config)
    sess.run(init)
    fetches = [model.train, model.loss]
    feed = {model.images: images, model.labels: labels}
    return lambda: sess.run(fetches, feed)[1]


def pytorch(images, labels):
    import torch

    torch.set_num_threads(1)
    x, y = torch.tensor(images), torch.tensor(labels)
    weights = [torch.tensor(w, requires_grad=True) for w in digits.initial_weights()]
    w0, b0, w1, b1 = weights
    optimizer = torch.optim.SGD(weights, lr=digits.RATE, momentum=digits.MOMENTUM)

    def step():
        logits = torch.relu(x @ w0 + b0) @ w1 + b1
        loss = torch.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def jax_jit(images, labels):
    import jax

    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    x, y = jnp.asarray(images), jnp.asarray(labels)
    rate, momentum = digits.RATE, digits.MOMENTUM

    def loss_fn(weights):
        w0, b0, w1, b1 = weights
        logits = jax.nn.relu(x @ w0 + b0) @ w1 + b1
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits), axis=-1))

    @jax.jit
    def update(weights, velocities):
        loss, grads = jax.value_and_grad(loss_fn)(weights)
        velocities = [momentum * v + g for v, g in zip(velocities, grads)]
        weights = [w - rate * v for w, v in zip(weights, velocities)]
        return weights, velocities, loss

    state = [[jnp.asarray(w) for w in digits.initial_weights()], None]
    state[1] = [jnp.zeros_like(w) for w in state[0]]

    def step():
        state[0], state[1], loss = update(*state)
        return float(loss)

    return step


CONTENDERS = {
    "ours, compiled": partial(ours, CompiledSession),
    "ours, make_callable": ours_callable,
    "ours, walked": partial(ours, Session),
    "numpy by hand": numpy_by_hand,
    "numpy by hand, exact": partial(numpy_by_hand, exact=True),
    "tensorflow compat.v1": tensorflow,
    "pytorch eager": pytorch,
    "jax jit": jax_jit,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4, help="per block")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()

    data = digits.load_data()
    order = np.random.default_rng(0).permutation(len(data.train_images))
    makers = {}
    for size in SIZES:
        images, labels = data.train_images[order[:size]], data.train_labels[order[:size]]
        for name, make in CONTENDERS.items():
            makers[name, size] = partial(make, images, labels)

    # Every contender must be computing the same thing: the same first
    # loss, and the same second (after one update), as the first built.
    references = {}

    def build(key, make):
        try:
            step = make()
        except ImportError as error:
            if key[1] == SIZES[0]:
                skipped(key[0], error)
            return None
        losses = [step(), step()]
        reference = references.setdefault(key[1], losses)
        assert np.allclose(losses, reference, rtol=1e-9, atol=0), (key, losses)
        for _ in range(args.steps):  # warm up (and let JAX compile)
            step()
        return step

    times = in_blocks(makers, build, args.blocks, args.rounds, args.steps)

    names = list(dict.fromkeys(name for name, _ in times))
    print(f"{args.blocks} blocks of {args.rounds} rounds of {args.steps} steps; median time per")
    print("step, and the median over rounds of the ratio to the NumPy step of the same batch")
    print("size in the same round\n")
    header = "".join(f" µs, batch {s} | × NumPy |" for s in SIZES)
    print(f"| {'step':22} |{header}")
    print(f"| {'-' * 22} |" + " -----------:| -------:|" * len(SIZES))
    for name in names:
        cells = ""
        for size in SIZES:
            ts, base = times[name, size], times["numpy by hand", size]
            ratio = statistics.median(t / b for t, b in zip(ts, base))
            cells += f" {statistics.median(ts):11.1f} | {ratio:7.2f} |"
        print(f"| {name:22} |{cells}")


if __name__ == "__main__":
    main()
