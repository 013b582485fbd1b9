"""Parity with TensorFlow: each graph, built in both engines, gives the same numbers.

Everything runs in float64, where two correct implementations of these ops
differ only by rounding (about 1e-15 relative). We allow rtol 1e-12: far above
rounding, far below any real mistake in a derivative rule.

TensorFlow is optional, so without it these tests are skipped, except under
CI (CI=true in the environment), where a missing TensorFlow is an
error: CI installs requirements-tf.txt and must really run them.
Run with `-s` to see the largest differences measured.
"""

import os
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import SHAPE_PAIRS

import eager
import main
import tf_test
from graph import Graph
from session import Session

INSTALL = "TensorFlow is not installed: pip install -r requirements-tf.txt"
if tf_test.tf is None:
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(f"CI must run the parity tests. {INSTALL}", pytrace=False)
    pytest.skip(INSTALL, allow_module_level=True)
tf = tf_test.tf

RTOL = 1e-12
# Matrix products and broadcast sums may add terms in another order, so an
# element that nearly cancels to zero can differ by a few units of 1e-16 in
# absolute terms, which is a large relative difference. Inputs are of order 1.
ATOL = 1e-14

# Our op names mapped to their TensorFlow twins, so that one expression can
# be written once and built in either engine.
TF_OPS = SimpleNamespace(
    add=tf.add,
    sub=tf.subtract,
    mul=tf.multiply,
    div=tf.divide,
    neg=tf.negative,
    square=tf.square,
    sigmoid=tf.sigmoid,
    dot=tf.matmul,
    transpose=tf.transpose,
    mean=tf.reduce_mean,
)

# The largest relative difference seen by each kind of check, printed at the
# end of the module.
LARGEST = {}


@pytest.fixture(scope="module", autouse=True)
def report_largest():
    yield
    for what, diff in sorted(LARGEST.items()):
        print(f"largest relative difference, {what}: {diff:.1e}")


def assert_same(ours, theirs, what):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)
    scale = np.maximum(np.abs(theirs), np.finfo(float).tiny)
    diff = float(np.max(np.abs(ours - theirs) / scale, initial=0.0))
    LARGEST[what] = max(LARGEST.get(what, 0.0), diff)


def run_ours(build, inputs):
    """Build `build(graph, *tensors)` in our engine; return the value of its
    output and the gradients of sum(output * weights) for random weights."""
    graph = Graph()
    xs = [graph.tensor(value) for value in inputs]
    output = build(graph, *xs)
    value = Session(graph).run(output)
    weights = np.random.default_rng(1).normal(size=np.shape(value))
    grads = graph.gradients(output * weights, xs)
    return value, Session(graph).run(grads)


def run_tf(build, inputs):
    """The same as run_ours, in TensorFlow, with tf.gradients."""
    graph = tf.Graph()
    with graph.as_default():
        xs = [tf.constant(value, dtype=tf.float64) for value in inputs]
        output = build(TF_OPS, *xs)
        with tf.compat.v1.Session(graph=graph) as sess:
            value = sess.run(output)
            weights = np.random.default_rng(1).normal(size=np.shape(value))
            grads = tf.compat.v1.gradients(output * weights, xs)
            return value, sess.run(grads)


def assert_parity(build, inputs, what):
    ours, our_grads = run_ours(build, inputs)
    theirs, their_grads = run_tf(build, inputs)
    assert_same(ours, theirs, f"{what} forward")
    for ours, theirs in zip(our_grads, their_grads, strict=True):
        assert_same(ours, theirs, f"{what} gradient")


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def away_from_zero(*shape, seed=0):
    """Denominators: magnitudes in [0.5, 2], either sign."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)




@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPE_PAIRS)
def test_binary_op(name, shape_a, shape_b):
    a = normal(*shape_a, seed=1)
    b = away_from_zero(*shape_b, seed=2) if name == "div" else normal(*shape_b, seed=2)
    assert_parity(lambda k, a, b: getattr(k, name)(a, b), [a, b], name)


@pytest.mark.parametrize(
    ("name", "x"),
    [
        ("neg", normal(3, 4)),
        ("square", normal(3, 4)),
        ("sigmoid", normal(3, 4)),
        # Far into both tails, where a careless sigmoid overflows.
        ("sigmoid", np.array([-700.0, -40.0, -5.0, 0.0, 5.0, 40.0, 700.0])),
        ("transpose", normal(3, 4)),
        ("mean", normal(3, 4)),
        ("mean", normal(5)),
    ],
)
def test_unary_op(name, x):
    assert_parity(lambda k, x: getattr(k, name)(x), [x], name)


@pytest.mark.parametrize(("shape_a", "shape_b"), [((3, 4), (4, 5)), ((1, 4), (4, 1))])
def test_dot(shape_a, shape_b):
    a, b = normal(*shape_a, seed=1), normal(*shape_b, seed=2)
    assert_parity(lambda k, a, b: k.dot(a, b), [a, b], "dot")


# One expression through every differentiable op, with broadcasting, Python
# numbers and the operators, and with `a` and `b` each used more than once.
def composed(k, a, b, c, t):
    hidden = k.sigmoid((a * b - a / (1 + b * b)) @ c)
    return k.mean(k.square(hidden - t)) + k.mean(-k.transpose(hidden) * 2)


def test_composed_expression():
    shapes = [(3, 4), (4,), (4, 2), (3, 2)]
    inputs = [normal(*shape, seed=seed) for seed, shape in enumerate(shapes)]
    assert_parity(composed, inputs, "composed")


def test_second_derivatives():
    x = normal(5)
    a, w = normal(3, 4, seed=1), normal(4, 2, seed=2)

    # d²(x³)/dx² = 6x, and a mixed second derivative through sigmoid and dot.
    def second(k, gradients, x, a, w):
        (dx,) = gradients(x * x * x, [x])
        (ddx,) = gradients(dx, [x])
        (dw,) = gradients(k.mean(k.square(k.sigmoid(k.dot(a, w)))), [w])
        return [ddx, *gradients(dw * dw, [a, w])]

    graph = Graph()
    tensors = [graph.tensor(value) for value in (x, a, w)]
    ours = Session(graph).run(second(graph, graph.gradients, *tensors))

    tf_graph = tf.Graph()
    with tf_graph.as_default(), tf.compat.v1.Session(graph=tf_graph) as sess:
        tensors = [tf.constant(value) for value in (x, a, w)]
        theirs = sess.run(second(TF_OPS, tf.compat.v1.gradients, *tensors))

    np.testing.assert_allclose(ours[0], 6 * x, rtol=RTOL)
    for our_value, their_value in zip(ours, theirs, strict=True):
        assert_same(our_value, their_value, "second derivative")


def test_assign_and_group():
    a, b = normal(3, 4, seed=1), normal(4, seed=2)

    graph = Graph()
    u, v = graph.tensor(a), graph.tensor(b)
    double = graph.assign(u, u * 2)
    update = graph.group([double, graph.assign(v, v - 1)])
    sess = Session(graph)
    ours = [sess.run([update, double]) for _ in range(3)]

    tf_graph = tf.Graph()
    with tf_graph.as_default(), tf.compat.v1.Session(graph=tf_graph) as tf_sess:
        tu, tv = tf.compat.v1.Variable(a), tf.compat.v1.Variable(b)
        tf_double = tf.compat.v1.assign(tu, tu * 2)
        tf_update = tf.group(tf_double, tf.compat.v1.assign(tv, tv - 1))
        tf_sess.run(tf.compat.v1.global_variables_initializer())
        theirs = [tf_sess.run([tf_update, tf_double]) for _ in range(3)]
        final = tf_sess.run([tu, tv])

    for (none, value), (tf_none, tf_value) in zip(ours, theirs, strict=True):
        assert none is None and tf_none is None
        assert_same(value, tf_value, "assign")
    assert_same(sess.state[u], final[0], "assign")
    assert_same(sess.state[v], final[1], "assign")


def test_xor_training_matches_tensorflow():
    weights0, weights1 = main.initial_weights()
    epochs = 2_000

    loss, update, output = main.build_model(weights0, weights1)
    sess = Session(loss.graph)
    ours = [sess.run([update, loss])[1] for _ in range(epochs)]
    our_output = sess.run(output)

    tf_graph, init, tf_loss, tf_update, tf_output = tf_test.build_model(weights0, weights1)
    with tf.compat.v1.Session(graph=tf_graph) as tf_sess:
        tf_sess.run(init)
        theirs = [tf_sess.run([tf_update, tf_loss])[1] for _ in range(epochs)]
        their_output = tf_sess.run(tf_output)

    assert_same(ours, theirs, "XOR loss, 2,000 epochs")
    assert_same(our_output, their_output, "XOR output after 2,000 epochs")


# TensorFlow 2's own eager mode against ours: the same XOR steps, each a
# forward pass under a tape, the tape's gradients and the update, compared
# value by value and gradient by gradient.
def test_eager_xor_steps_match_tensorflow_gradient_tape():
    weights0, weights1 = main.initial_weights()
    graph = eager.EagerGraph()
    inputs, targets, w0, w1 = map(graph.tensor, (main.X, main.y, weights0, weights1))
    tf_inputs, tf_targets = tf.constant(main.X), tf.constant(main.y)
    tf_w0, tf_w1 = tf.Variable(weights0), tf.Variable(weights1)
    assert tf.executing_eagerly() and tf_w0.dtype == tf.float64

    for _ in range(50):
        with eager.GradientTape() as tape:
            loss, output = eager.forward(graph, inputs, targets, w0, w1)
        grads = tape.gradient(loss, [w0, w1])
        graph.assign(w0, w0 - grads[0])
        graph.assign(w1, w1 - grads[1])

        with tf.GradientTape() as tf_tape:
            tf_output = tf.sigmoid(tf.sigmoid(tf_inputs @ tf_w0) @ tf_w1)
            tf_loss = tf.reduce_mean(tf.square(tf.transpose(tf_targets) - tf_output))
        tf_grads = tf_tape.gradient(tf_loss, [tf_w0, tf_w1])
        tf_w0.assign_sub(tf_grads[0])
        tf_w1.assign_sub(tf_grads[1])

        assert_same(loss.numpy(), tf_loss.numpy(), "eager XOR loss")
        assert_same(output.numpy(), tf_output.numpy(), "eager XOR output")
        for ours, theirs in zip(grads, tf_grads, strict=True):
            assert_same(ours.numpy(), theirs.numpy(), "eager XOR gradient")
    assert_same(w0.numpy(), tf_w0.numpy(), "eager XOR weights after 50 steps")
    assert_same(w1.numpy(), tf_w1.numpy(), "eager XOR weights after 50 steps")
