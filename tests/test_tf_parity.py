"""Parity with TensorFlow: each graph, built in both engines, gives the same numbers.

Everything runs in float64, where two correct implementations of these ops
differ only by rounding (about 1e-15 relative). We allow rtol 1e-12: far above
rounding, far below any real mistake in a derivative rule.

TensorFlow is optional, so without it these tests are skipped (helpers.need),
except under CI (CI=true in the environment), where a missing TensorFlow is
an error: CI installs requirements-tf.txt and must really run them.
Run with `-s` to see the largest differences measured.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from helpers import SHAPE_PAIRS, need

import digits
import eager
import main
import tf_digits
import tf_test
from graph import Graph
from session import Session

# tf_test has imported TensorFlow, quietly, if it is there.
tf = need("tensorflow", "requirements-tf.txt")

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
    exp=tf.exp,
    log=tf.math.log,
    relu=tf.nn.relu,
    sum=tf.reduce_sum,
    softmax=tf.nn.softmax,
    log_softmax=tf.nn.log_softmax,
    softmax_cross_entropy_with_logits=tf.nn.softmax_cross_entropy_with_logits,
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


# ## The digits chapter's ops
#
# exp, log, relu, sums and means over axes, softmax, log_softmax and the
# fused cross-entropy, each with its gradient, and second derivatives.


def positive(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.2, 3.0, size=shape)


def distributions(*shape, seed=0):
    """Rows of labels that sum to 1. TensorFlow's kernel returns
    softmax − labels as the gradient for the logits whatever the labels sum
    to, which is the derivative only for labels summing to 1; ours is the
    general `softmax · sum(labels) − labels` (checked against finite
    differences in test_new_ops.py), and the two agree on such labels."""
    p = np.random.default_rng(seed).uniform(0.0, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


EXTREME_LOGITS = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0],
                           [0.5, -0.25, 2.0]])


@pytest.mark.parametrize(
    ("name", "x"),
    [
        ("exp", normal(3, 4)),
        ("log", positive(3, 4)),
        ("relu", away_from_zero(3, 4)),
        ("softmax", normal(3, 4) * 3),
        ("softmax", normal(2, 3, 5)),
        ("softmax", EXTREME_LOGITS),
        ("log_softmax", normal(3, 4) * 3),
        ("log_softmax", EXTREME_LOGITS),
    ],
)
def test_new_unary_op(name, x):
    assert_parity(lambda k, x: getattr(k, name)(x), [x], name)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (1, -1)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_over_axes(name, axis, keepdims):
    def build(k, x):
        return getattr(k, name)(x, axis=axis, keepdims=keepdims)

    assert_parity(build, [normal(2, 3, 4)], f"{name} over axes")


@pytest.mark.parametrize(
    ("labels", "logits"),
    [
        (distributions(10), normal(10) * 3),
        (distributions(4, 10, seed=1), normal(4, 10, seed=2) * 3),
        (np.eye(10)[[3, 1, 4, 1, 5]], normal(5, 10, seed=3) * 3),
        (distributions(2, 3, 5, seed=4), normal(2, 3, 5, seed=5)),
        (np.eye(3), EXTREME_LOGITS),
    ],
    ids=["vector", "matrix", "one-hot", "3-d", "extreme"],
)
def test_softmax_cross_entropy_with_logits(labels, logits):
    def build(k, labels, logits):
        return k.softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    assert_parity(build, [labels, logits], "softmax_cross_entropy_with_logits")


# A small classifier, relu(x·w + b)·v + c, with broadcast biases, its
# mean cross-entropy, the gradients, and the gradient of their squared sum
# with respect to the logits' weights: second derivatives through relu,
# softmax, cross-entropy, sums and means.
def test_second_derivatives_of_the_new_ops():
    x, w, b = normal(5, 4), normal(4, 6, seed=1), normal(6, seed=2)
    v, c = normal(6, 3, seed=3), normal(3, seed=4)
    labels = distributions(5, 3, seed=5)

    def second(k, gradients, x, w, b, v, c):
        logits = k.relu(k.dot(x, w) + b) @ v + c
        loss = k.mean(k.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        grads = gradients(loss, [w, b, v, c])
        total = k.sum(k.square(grads[2])) + k.mean(grads[3] * grads[3], axis=0)
        soft = k.sum(k.log(k.softmax(logits) + 1) * k.exp(-logits), axis=-1, keepdims=True)
        return [*grads, *gradients(total, [v, c]), *gradients(k.mean(soft), [x, v])]

    values = [x, w, b, v, c]
    graph = Graph()
    ours = Session(graph).run(second(graph, graph.gradients,
                                     *[graph.tensor(a) for a in values]))
    tf_graph = tf.Graph()
    with tf_graph.as_default(), tf.compat.v1.Session(graph=tf_graph) as sess:
        tensors = [tf.constant(a) for a in values]
        theirs = sess.run(second(TF_OPS, tf.compat.v1.gradients, *tensors))
    for our_value, their_value in zip(ours, theirs, strict=True):
        assert_same(our_value, their_value, "second derivative, new ops")


# The digits chapter's training, step for step: the same data, weights and
# batches through digits.py's model and tf_digits.py's, both driven by
# digits.fit. Thousands of additions per step, in different orders, and
# 200 steps each building on the last, let rounding differences grow a
# little, so the losses are compared to rtol 1e-10 (measured: about 1e-14).
def test_digits_training_matches_tensorflow():
    data = digits.load_data()
    weights = digits.initial_weights()
    order = digits.batch_order(len(data.train_images), epochs=5)  # 5 × 43 steps

    model = digits.build_model(weights)
    our_history, ours = digits.fit(Session(model.loss.graph), model, data, order,
                                   bar=False)
    graph, init, tf_model = tf_digits.build_model(weights)
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        their_history, theirs = digits.fit(sess, tf_model, data, order, bar=False)
        their_weights = sess.run(tf_model.variables)

    assert len(ours) == len(theirs) == 215
    np.testing.assert_allclose(ours[:200], theirs[:200], rtol=1e-10)
    diff = np.max(np.abs(np.subtract(ours[:200], theirs[:200])) / np.abs(theirs[:200]))
    LARGEST["digits loss, 200 steps (rtol 1e-10)"] = diff
    np.testing.assert_allclose(our_history, their_history, rtol=1e-10)
    for ours, theirs in zip(Session(model.loss.graph).run(model.variables),
                            their_weights, strict=True):
        assert ours.shape == theirs.shape


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


# ## Values and dtypes
#
# Where TensorFlow's behaviour is the reference for a dtype, an empty array
# or a gradient's absence, each engine runs the same small graph.


def tf_run(build):
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        return sess.run(build())


def test_numpy_constants_take_the_dtype_of_the_tensor_they_meet_as_in_tensorflow():
    value = np.array([1.0, 2.0, 3.0], np.float32)
    for constant in [np.float64(0.2), np.array(0.2), np.full(3, 0.2)]:
        graph = Graph()
        x = graph.tensor(value)
        y = x * constant
        (grad,) = graph.gradients(graph.sum(y * y), [x])
        ours = Session(graph).run([y, grad])

        def build(constant=constant):
            x = tf.constant(value)
            y = x * constant
            return [y, tf.compat.v1.gradients(tf.reduce_sum(y * y), [x])[0]]

        theirs = tf_run(build)
        assert [v.dtype for v in ours] == [v.dtype for v in theirs] == [np.float32] * 2
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_an_int32_sum_and_mean_stay_int32_as_in_tensorflow():
    value = np.array([[1, 2], [-3, 6]], np.int32)
    graph = Graph()
    x = graph.tensor(value)
    ours = Session(graph).run([graph.sum(x), graph.sum(x, axis=0), graph.mean(x, axis=1)])
    theirs = tf_run(lambda: [tf.reduce_sum(value), tf.reduce_sum(value, axis=0),
                             tf.reduce_mean(value, axis=1)])
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype == np.int32
        np.testing.assert_array_equal(a, b)


def test_gradients_with_respect_to_an_integer_are_none_as_in_tensorflow():
    graph = Graph()
    x = graph.tensor(np.int32(3))
    ours = graph.gradients(x * x, [x])

    def build():
        x = tf.constant(3)
        return [g is None for g in tf.compat.v1.gradients(x * x, [x])]

    assert ours == [None] and tf_run(lambda: tf.constant(build())).tolist() == [True]


def test_relus_gradient_at_nan_is_zero_as_in_tensorflow():
    value = np.array([np.nan, -1.0, 0.0, 2.0])
    graph = Graph()
    x = graph.tensor(value)
    (ours,) = Session(graph).run(graph.gradients(graph.sum(graph.relu(x)), [x]))

    def build():
        x = tf.constant(value)
        return tf.compat.v1.gradients(tf.reduce_sum(tf.nn.relu(x)), [x])[0]

    np.testing.assert_array_equal(ours, tf_run(build))


@pytest.mark.parametrize("axis", [0, 1, None])
def test_an_empty_mean_is_empty_or_nan_as_in_tensorflow(axis):
    value = np.ones((0, 3))
    graph = Graph()
    ours = Session(graph).run(graph.mean(graph.tensor(value), axis=axis))
    theirs = tf_run(lambda: tf.reduce_mean(tf.constant(value), axis=axis))
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_array_equal(ours, theirs)
