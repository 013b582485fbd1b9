"""The digits chapter's ops: exp, log, relu, sum and mean over axes, softmax,
log_softmax and softmax_cross_entropy_with_logits.

Values are checked against NumPy written out by hand; gradients and second
derivatives against central finite differences (helpers.check_gradients),
with the inputs as variables and as placeholders. Then the cases the
chapter relies on: biases broadcast over a batch, one graph fed batches of
different sizes, float32 kept float32, and logits of ±1000.
"""

import re
import warnings

import numpy as np
import pytest
from helpers import check_gradients, derivative_of, numeric_gradient

from graph import Graph
from session import Session

rng = np.random.default_rng(11)

both_paths = pytest.mark.parametrize("placeholders", [False, True],
                                     ids=["variables", "placeholders"])

X = rng.normal(size=(2, 3, 4))
# Every (axis, keepdims) a user may write: none, one, negative, several,
# several with a negative one, and the empty tuple (sum over no axis).
AXES = [None, 0, 1, -1, (0, 2), (0, -1), (), (0, 1, 2)]


def evaluate(build, *values):
    graph = Graph()
    tensors = [graph.tensor(v) for v in values]
    return Session(graph).run(build(graph, *tensors))


def numpy_log_softmax(z):
    shifted = z - z.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def away_from_zero(shape):
    return rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1, 1], size=shape)


def distributions(shape):
    """Rows of positive numbers summing to 1, like soft labels."""
    p = rng.uniform(0.1, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


# ## Values


@pytest.mark.parametrize("name, numpy_op, x", [
    ("exp", np.exp, X),
    ("log", np.log, np.abs(X) + 0.1),
    ("relu", lambda x: np.where(x > 0, x, 0.0), X),
    ("softmax", lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True), X),
    ("log_softmax", lambda z: z - np.log(np.exp(z).sum(-1, keepdims=True)), X),
])
def test_elementwise_and_softmax_values(name, numpy_op, x):
    value = evaluate(lambda g, x: getattr(g, name)(x), x)
    np.testing.assert_allclose(value, numpy_op(x), rtol=1e-14)
    assert value.shape == x.shape


def test_relu_is_zero_at_zero_and_below():
    value = evaluate(lambda g, x: g.relu(x), np.array([-2.0, -0.0, 0.0, 3.0]))
    np.testing.assert_array_equal(value, [0.0, 0.0, 0.0, 3.0])


def test_softmax_rows_are_probabilities():
    value = evaluate(lambda g, x: g.softmax(x), rng.normal(size=(5, 10)) * 30)
    assert np.all(value >= 0)
    np.testing.assert_allclose(value.sum(-1), 1.0, rtol=1e-15)


# Integer logits are shifted in integers, then exponentiated as floats, as
# NumPy does; an empty last axis gives empty results.
def test_softmax_takes_integer_logits_and_an_empty_axis():
    graph = Graph()
    x = graph.tensor()
    ys = [graph.softmax(x), graph.log_softmax(x)]
    logits = np.array([[2, 1, 0], [0, 0, 0]])
    softmax, log_softmax = Session(graph).run(ys, {x: logits})
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(softmax, expected, rtol=1e-15)
    np.testing.assert_allclose(log_softmax, np.log(expected), rtol=1e-15)
    for value in Session(graph).run(ys, {x: np.zeros((4, 0))}):
        assert value.shape == (4, 0)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_over_axes_match_numpy(name, axis, keepdims):
    graph = Graph()
    x = graph.tensor(X)
    y = getattr(graph, name)(x, axis=axis, keepdims=keepdims)
    value = Session(graph).run(y)
    expected = getattr(np, name)(X, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(value, expected, rtol=1e-14)
    assert np.shape(value) == expected.shape
    # The static shape, worked out while building, is the same.
    assert y.shape == expected.shape


def test_sum_and_mean_take_axis_and_keepdims_by_position():
    value = evaluate(lambda g, x: g.sum(x, 1, True) + g.mean(x, -1), X[0])
    np.testing.assert_allclose(value, X[0].sum(1, keepdims=True) + X[0].mean(-1))


def test_mean_without_an_axis_keeps_its_meaning():
    # One number: the sum over the count of every element.
    value = evaluate(lambda g, x: g.mean(x), X)
    assert np.ndim(value) == 0
    assert value == X.sum() / X.size


@pytest.mark.parametrize("shape", [(10,), (4, 10), (2, 3, 10)])
def test_cross_entropy_is_one_loss_per_row(shape):
    labels, logits = distributions(shape), rng.normal(size=shape) * 5
    graph = Graph()
    loss = graph.softmax_cross_entropy_with_logits(labels=graph.tensor(labels),
                                                   logits=graph.tensor(logits))
    value = Session(graph).run(loss)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(value, -(labels * np.log(p)).sum(-1), rtol=1e-13)
    assert value.shape == shape[:-1] == loss.shape


def test_cross_entropy_of_one_hot_labels_is_minus_log_p():
    # The worked example of ops.py: logits (2, 1, 0), p = (0.67, 0.24, 0.09).
    logits = np.array([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0]])
    labels = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    value = evaluate(lambda g, y, z: g.softmax_cross_entropy_with_logits(labels=y, logits=z),
                     labels, logits)
    p = np.exp([2.0, 1.0, 0.0]) / np.exp([2.0, 1.0, 0.0]).sum()
    np.testing.assert_allclose(value, [-np.log(p[0]), -np.log(p[2])], rtol=1e-15)
    assert value == pytest.approx([0.41, 2.41], abs=0.01)


# ## Gradients, against finite differences


UNARY = {
    "exp": lambda x: x.graph.exp(x),
    "log": lambda x: x.graph.log(x * x + 0.5),  # kept away from log's pole
    "relu": lambda x: x.graph.relu(x),  # inputs are kept away from 0
    # softmax's rows sum to 1, whose gradient is 0: weight the elements.
    "softmax": lambda x: x.graph.softmax(x) * np.arange(1.0, 1 + x.shape[-1]),
    "log_softmax": lambda x: x.graph.log_softmax(x) * np.arange(1.0, 1 + x.shape[-1]),
}


@both_paths
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", UNARY)
def test_unary_gradients(name, shape, placeholders):
    build = UNARY[name]
    if placeholders:  # a placeholder has no static shape to read the weights from
        def build(x, name=name, n=shape[-1]):
            weights = np.arange(1.0, 1 + n)
            y = getattr(x.graph, name)(x if name != "log" else x * x + 0.5)
            return y * weights if name in ("softmax", "log_softmax") else y
    check_gradients(build, away_from_zero(shape), placeholders=placeholders)


@both_paths
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_gradients(name, axis, keepdims, placeholders):
    # Squared afterwards, so that each element's gradient depends on the
    # others in its sum, and weighted, so that a wrong axis shows.
    shape = np.sum(X, axis=axis, keepdims=keepdims).shape
    weights = np.arange(1.0, 1 + np.prod(shape)).reshape(shape)

    def f(x):
        y = getattr(x.graph, name)(x, axis=axis, keepdims=keepdims)
        return x.graph.square(y) * weights

    check_gradients(f, X, placeholders=placeholders)


@both_paths
@pytest.mark.parametrize("shape", [(6,), (3, 6), (2, 3, 6)])
def test_cross_entropy_gradients_for_labels_and_logits(shape, placeholders):
    # Labels whose rows do not sum to 1, so that the general form
    # grad · (softmax · sum(labels) − labels) is what is checked.
    def f(labels, logits):
        loss = labels.graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return loss * (1 + np.arange(np.prod(shape[:-1])).reshape(shape[:-1]))

    labels = rng.uniform(0.0, 1.0, size=shape)
    assert not np.allclose(labels.sum(-1), 1)
    check_gradients(f, labels, rng.normal(size=shape) * 3, placeholders=placeholders)


@both_paths
def test_cross_entropy_gradients_with_a_very_negative_logit(placeholders):
    # Labels that do not sum to 1, and a row whose first logit is 1000 below
    # the others: its probability underflows to 0, its log-probability does
    # not, and neither gradient may lose it.
    def f(labels, logits):
        loss = labels.graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return loss * np.array([1.0, 2.0, 3.0])

    labels = rng.uniform(0.1, 1.0, size=(3, 5))
    logits = rng.normal(size=(3, 5))
    logits[1, 0] = -1000.0
    got = check_gradients(f, labels, logits, placeholders=placeholders)
    assert got[0][1, 0] == pytest.approx(2 * (1000 + np.log(np.exp(logits[1, 1:]).sum())))
    assert got[1][1, 0] == -2 * labels[1, 0]


@both_paths
def test_cross_entropy_gradients_beside_a_log_softmax_of_ones_own(placeholders):
    # The loss's log p gets no gradient of its own: the logits' gradient is
    # already the whole derivative. Another log_softmax of the same logits,
    # written by the user (and computed once with the loss's by the
    # compiler), is differentiated as usual, and nothing is counted twice.
    def f(labels, logits):
        g = labels.graph
        loss = g.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return loss + g.sum(g.log_softmax(logits) * np.arange(1.0, 6.0), axis=-1)

    check_gradients(f, rng.uniform(size=(3, 5)), rng.normal(size=(3, 5)) * 3,
                    placeholders=placeholders)


def test_cross_entropy_gradient_is_softmax_minus_labels():
    # For labels that sum to 1, ∂loss/∂z = softmax(z) − labels.
    labels, logits = distributions((4, 5)), rng.normal(size=(4, 5))
    graph = Graph()
    y, z = graph.tensor(labels), graph.tensor(logits)
    loss = graph.softmax_cross_entropy_with_logits(labels=y, logits=z)
    dy, dz = graph.gradients(loss, [y, z])
    dy, dz = Session(graph).run([dy, dz])
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(dz, p - labels, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(dy, -np.log(p), rtol=1e-13)


@both_paths
@pytest.mark.parametrize("name", ["exp", "log", "softmax", "log_softmax"])
def test_second_derivatives_of_unary_ops(name, placeholders):
    def f(x):
        y = getattr(x.graph, name)(x * x + 0.5 if name == "log" else x)
        return y * y * np.arange(1.0, 5.0)

    check_gradients(derivative_of(f), away_from_zero((3, 4)), placeholders=placeholders)


@both_paths
def test_second_derivative_of_relu(placeholders):
    # relu(x)·x is x² for x > 0 and 0 below: second derivative 2 and 0. The
    # relu's own second derivative (from `step`) is 0.
    def f(x):
        return x.graph.relu(x) * x

    got = check_gradients(derivative_of(f), away_from_zero((3, 4)),
                          placeholders=placeholders)
    assert set(np.unique(got[0])) <= {0.0, 2.0}
    graph = Graph()
    x = graph.tensor(away_from_zero((5,)))
    (first,) = graph.gradients(graph.relu(x), [x])
    (second,) = graph.gradients(first * 1.0, [x])
    np.testing.assert_array_equal(Session(graph).run(second), np.zeros(5))


@both_paths
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 1, (0, -1)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_second_derivatives_of_sum_and_mean(name, axis, keepdims, placeholders):
    def f(x):
        g = x.graph
        y = getattr(g, name)(g.exp(x * 0.5), axis=axis, keepdims=keepdims)
        return g.sum(y * y)

    check_gradients(derivative_of(f), X, placeholders=placeholders)


@both_paths
@pytest.mark.parametrize("i", [0, 1], ids=["labels", "logits"])
def test_second_derivatives_of_cross_entropy(i, placeholders):
    def f(labels, logits):
        loss = labels.graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return loss * loss

    check_gradients(derivative_of(f, i), rng.uniform(size=(3, 5)),
                    rng.normal(size=(3, 5)), placeholders=placeholders)


def test_sum_and_mean_gradients_are_each_others_mirrors():
    # sum's gradient is an expand, whose gradient is a sum with the same
    # attributes; mean's is a spread, whose gradient is a mean.
    graph = Graph()
    x = graph.tensor()
    for name, mirror in [("sum", "expand"), ("mean", "spread")]:
        y = getattr(graph, name)(x, axis=(0, -1), keepdims=False)
        g = graph.tensor()
        (dx,) = y.op.gradient(g)
        assert dx.op.kind == mirror
        assert (dx.op.axis, dx.op.keepdims) == ((0, -1), False)
        (dg, none) = dx.op.gradient(x)
        assert dg.op.kind == name and none is None
        assert (dg.op.axis, dg.op.keepdims) == ((0, -1), False)


# ## A layer with a bias, and batches of changing size


@both_paths
def test_bias_broadcast_over_the_batch(placeholders):
    # relu(x·w + b) for a batch of rows: b, of shape (hidden,), is added to
    # every row, so its gradient is summed over the batch (sum_to).
    def f(x, w, b, v, c, labels):
        g = x.graph
        logits = g.relu(x @ w + b) @ v + c
        return g.mean(g.softmax_cross_entropy_with_logits(labels=labels, logits=logits))

    labels = np.eye(3)[[0, 2, 1, 1, 0]]
    check_gradients(f, rng.normal(size=(5, 4)), rng.normal(size=(4, 6)),
                    rng.normal(size=6), rng.normal(size=(6, 3)), rng.normal(size=3),
                    labels, placeholders=placeholders)


def test_one_graph_serves_batches_of_any_size():
    # Placeholders for the batch, variables for the weights: the graph and
    # its backward pass are built once, then fed 5, 1, 8 and 5 rows.
    w0, b0 = rng.normal(size=(4, 6)), rng.normal(size=6)
    w1, b1 = rng.normal(size=(6, 3)), rng.normal(size=3)
    graph = Graph()
    images, labels = graph.tensor(), graph.tensor()
    weights = [graph.tensor(w) for w in (w0, b0, w1, b1)]
    v0, c0, v1, c1 = weights
    logits = graph.relu(images @ v0 + c0) @ v1 + c1
    loss = graph.mean(graph.softmax_cross_entropy_with_logits(labels=labels,
                                                              logits=logits))
    grads = graph.gradients(loss, weights)
    sess = Session(graph)

    for n in [5, 1, 8, 5]:
        x, y = rng.normal(size=(n, 4)), np.eye(3)[rng.integers(0, 3, size=n)]
        feed = {images: x, labels: y}
        value, *got = sess.run([loss, *grads], feed)
        z = np.maximum(x @ w0 + b0, 0) @ w1 + b1
        assert value == pytest.approx(-(y * numpy_log_softmax(z)).sum(-1).mean(), rel=1e-13)
        for t, g, w in zip(weights, got, (w0, b0, w1, b1)):
            assert g.shape == w.shape
            expected = numeric_gradient(
                lambda v, t=t, feed=feed: sess.run(loss, {**feed, t: v}), w)
            np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-6)


# ## float32 stays float32


F32 = rng.normal(size=(3, 4)).astype(np.float32)
OPS_32 = {
    "exp": lambda g, x: g.exp(x),
    "log": lambda g, x: g.log(x * x),
    "relu": lambda g, x: g.relu(x),
    "sum": lambda g, x: g.sum(x, axis=1),
    "mean": lambda g, x: g.mean(x, axis=0, keepdims=True),
    "mean_all": lambda g, x: g.mean(x),
    "softmax": lambda g, x: g.softmax(x),
    "log_softmax": lambda g, x: g.log_softmax(x),
    "cross_entropy": lambda g, x: g.softmax_cross_entropy_with_logits(labels=x * x,
                                                                      logits=x),
}


@pytest.mark.parametrize("name", OPS_32)
def test_float32_in_float32_out_forwards_and_backwards(name):
    graph = Graph()
    x = graph.tensor()
    y = OPS_32[name](graph, x)
    # The backward rules, applied to a float32 gradient fed in by hand.
    grad = graph.tensor()
    dx = [d for d in y.op.gradient(grad) if d is not None]
    sess = Session(graph)
    feed = {x: F32, grad: np.ones_like(sess.run(y, {x: F32}))}
    for value in sess.run([y, *dx], feed):
        assert value.dtype == np.float32


@pytest.mark.parametrize("name", OPS_32)
def test_float32_gradients_through_graph_gradients(name):
    graph = Graph()
    x = graph.tensor(F32)
    y = OPS_32[name](graph, x)
    (dx,) = graph.gradients(y, [x])
    (ddx,) = graph.gradients(graph.sum(dx * x), [x])
    for value in Session(graph).run([dx, ddx]):
        assert value.dtype == np.float32


def test_logits_given_as_a_value_take_the_labels_dtype():
    # As any op's inputs do: the loss of float32 labels stays float32, and
    # its log_softmax reads the same constant as the loss.
    graph = Graph()
    labels = graph.tensor(np.eye(3, dtype=np.float32))
    logits = rng.normal(size=(3, 3))
    loss = graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert loss.dtype == np.float32
    _, z, log_p = loss.op.inputs
    assert log_p.op.inputs == [z]
    value = Session(graph).run(loss)
    assert value.dtype == np.float32
    expected = -numpy_log_softmax(logits.astype(np.float32)).diagonal()
    np.testing.assert_allclose(value, expected, rtol=1e-6)


# ## Logits of ±1000


LOGITS = np.array([[1000.0, 0.0, -1000.0]] * 3)
LABELS = np.eye(3)


def loss_and_gradients(labels, logits):
    graph = Graph()
    y, z = graph.tensor(labels), graph.tensor(logits)
    loss = graph.softmax_cross_entropy_with_logits(labels=y, logits=z)
    dy, dz = graph.gradients(loss, [y, z])
    return Session(graph).run([loss, dy, dz, graph.softmax(z), graph.log_softmax(z)])


def test_logits_of_1000_give_exact_losses_and_gradients_with_no_warning():
    # NumPy warns on overflow, division by zero and invalid operations; all
    # of them raise here, and any Python warning is an error. Underflow is
    # left alone: e^(−2000) rounds to 0, which is the right answer to within
    # float64's precision, and NumPy ignores underflow unless asked.
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dl, dz, softmax, log_softmax = loss_and_gradients(LABELS, LOGITS)
    # −log softmax of (1000, 0, −1000) is (0, 1000, 2000), exactly.
    np.testing.assert_array_equal(loss, [0.0, 1000.0, 2000.0])
    np.testing.assert_array_equal(softmax, [[1.0, 0.0, 0.0]] * 3)
    np.testing.assert_array_equal(log_softmax, [[0.0, -1000.0, -2000.0]] * 3)
    np.testing.assert_array_equal(dz, softmax - LABELS)
    np.testing.assert_array_equal(dl, -log_softmax)


def test_log_of_softmax_written_naively_fails_where_the_fused_op_does_not():
    # The composition log(softmax(z)) takes log 0 = −∞, with a warning
    # (an error here).
    graph = Graph()
    z = graph.tensor(LOGITS)
    naive = -graph.sum(LABELS * graph.log(graph.softmax(z)), axis=-1)
    with np.errstate(divide="raise"), pytest.raises(RuntimeError, match="log"):
        Session(graph).run(naive)
    with np.errstate(all="ignore"):
        value = Session(graph).run(naive)
    # Even the first row, whose right class has probability 1, is lost:
    # its zero labels times −∞ are NaN.
    assert np.all(np.isnan(value))


# ## Mistakes


def test_labels_and_logits_of_different_shapes_are_refused_when_built():
    graph = Graph()
    with pytest.raises(ValueError, match=r"softmax_cross_entropy_with_logits.*\(3, 4\)"):
        graph.softmax_cross_entropy_with_logits(labels=np.ones((3, 4)), logits=np.ones((3, 5)))
    with pytest.raises(ValueError, match="at least one axis"):
        graph.softmax_cross_entropy_with_logits(labels=1.0, logits=2.0)


def test_labels_and_logits_of_different_shapes_are_refused_when_run():
    graph = Graph()
    labels, logits = graph.tensor(), graph.tensor()
    loss = graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with pytest.raises(RuntimeError, match=re.escape(repr(loss)) + ".*same shape"):
        Session(graph).run(loss, {labels: np.ones((2, 3)), logits: np.ones((2, 4))})


def test_labels_and_logits_must_be_named():
    graph = Graph()
    with pytest.raises(TypeError):
        graph.softmax_cross_entropy_with_logits(np.ones(3), np.ones(3))


@pytest.mark.parametrize("axis", [2, -3, (0, 0)], ids=str)
def test_an_axis_the_input_lacks_is_refused_when_built(axis):
    graph = Graph()
    x = graph.tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=rf"cannot build sum\({re.escape(repr(x))}"):
        graph.sum(x, axis=axis)


def test_an_axis_the_fed_input_lacks_is_named_when_run():
    graph = Graph()
    x = graph.tensor()
    y = graph.mean(x, axis=2)
    with pytest.raises(RuntimeError, match=re.escape(repr(y)) + r".*\(3, 4\)"):
        Session(graph).run(y, {x: np.ones((3, 4))})


# ## Eagerly


def test_the_new_ops_run_eagerly_with_the_same_values_and_gradients():
    from eager import EagerGraph, GradientTape

    logits, labels = rng.normal(size=(4, 5)) * 3, distributions((4, 5))

    def build(g, z):
        losses = g.softmax_cross_entropy_with_logits(labels=labels, logits=g.relu(z))
        return g.mean(losses) + g.sum(g.log_softmax(z) * g.exp(-z * z), axis=-1,
                                      keepdims=True)

    graph = Graph()
    z = graph.tensor(logits)
    y = build(graph, z)
    expected = Session(graph).run([y, graph.gradients(y, z)[0]])

    eager = EagerGraph()
    z = eager.tensor(logits)
    with GradientTape() as tape:
        y = build(eager, z)
    (dz,) = tape.gradient(y, [z])
    np.testing.assert_allclose(y.numpy(), expected[0], rtol=1e-15)
    np.testing.assert_allclose(dz.numpy(), expected[1], rtol=1e-15)
