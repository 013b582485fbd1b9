"""Gradients: every op's, against finite differences, on every kind of shape.

Each check runs twice: once with the inputs as variables, whose shapes are
known while the graph is built, and once as fed placeholders, whose shapes
are known only when it runs. The engine takes different paths for the two
(with static shapes it leaves out summing back that would do nothing), so
both must be right.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import SHAPE_IDS, SHAPE_PAIRS, UNARY, check_gradients, derivative_of

from graph import Graph
from session import Session

rng = np.random.default_rng(1)

both_paths = pytest.mark.parametrize("placeholders", [False, True],
                                     ids=["variables", "placeholders"])
both_dtypes = pytest.mark.parametrize("dtype", [np.float64, np.float32],
                                      ids=["float64", "float32"])


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def away_from_zero(shape):
    """Values in ±[0.5, 2]: safe divisors, and far from sigmoid's flat tails."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)


@both_dtypes
@both_paths
@pytest.mark.parametrize("a_shape, b_shape", SHAPE_PAIRS, ids=SHAPE_IDS)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_gradients(name, a_shape, b_shape, placeholders, dtype):
    check_gradients(BINARY[name], away_from_zero(a_shape), away_from_zero(b_shape),
                    placeholders=placeholders, dtype=dtype)




@both_dtypes
@both_paths
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", UNARY)
def test_unary_op_gradients(name, shape, placeholders, dtype):
    check_gradients(UNARY[name], away_from_zero(shape), placeholders=placeholders,
                    dtype=dtype)


@both_dtypes
@both_paths
@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4, 2)), ((1, 1), (1, 5)),
                                               ((5, 1), (1, 1))])
def test_dot_gradients(a_shape, b_shape, placeholders, dtype):
    check_gradients(lambda a, b: a.graph.dot(a, b), away_from_zero(a_shape),
                    away_from_zero(b_shape), placeholders=placeholders, dtype=dtype)


@both_paths
def test_gradient_of_a_non_scalar_output_is_that_of_its_sum(placeholders):
    # gradients(y, xs) differentiates sum(y): weighting y's elements
    # differently must show up in the gradient.
    weights = np.arange(12.0).reshape(3, 4)
    check_gradients(lambda x: x * weights, away_from_zero((3, 4)), placeholders=placeholders)


@both_paths
def test_mean_gradient_is_one_over_n(placeholders):
    # The true gradient of a mean: every element gets an equal share 1/n.
    grad, = check_gradients(lambda x: x.graph.mean(x), away_from_zero((3, 4)),
                            placeholders=placeholders)
    np.testing.assert_allclose(grad, np.full((3, 4), 1 / 12), rtol=1e-15)


# ## Tensors used more than once
#
# A tensor used by two ops receives the sum of what both pass back.


@both_paths
def test_variable_used_twice_in_one_op(placeholders):
    x = away_from_zero((3, 4))
    grad, = check_gradients(lambda x: x * x, x, placeholders=placeholders)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-12)


@both_paths
def test_variable_used_by_two_ops(placeholders):
    # y = (a + b)(b + 1): ∂y/∂a = b + 1, ∂y/∂b = (b + 1) + (a + b).
    a, b = away_from_zero((3, 4)), away_from_zero((3, 4))
    grad_a, grad_b = check_gradients(lambda a, b: (a + b) * (b + 1), a, b,
                                     placeholders=placeholders)
    np.testing.assert_allclose(grad_a, b + 1, rtol=1e-12)
    np.testing.assert_allclose(grad_b, a + 2 * b + 1, rtol=1e-12)


@both_paths
def test_broadcast_vector_used_twice(placeholders):
    check_gradients(lambda a, b: (a * b) / (b * b + 1) - b, away_from_zero((3, 4)),
                    away_from_zero((4,)), placeholders=placeholders)


# ## Composed expressions


def mlp_loss(inputs, targets, w, bias, v):
    """A two-layer network's loss: a bias vector is broadcast over the rows."""
    graph = inputs.graph
    hidden = graph.sigmoid(graph.dot(inputs, w) + bias)
    output = graph.dot(hidden, v)
    return graph.mean(graph.square(output - targets))


@both_paths
def test_mlp_loss(placeholders):
    inputs = rng.normal(size=(5, 3))
    targets = rng.normal(size=(5, 2))
    w, bias, v = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2))
    grads = check_gradients(mlp_loss, inputs, targets, w, bias, v, placeholders=placeholders)
    assert grads[3].shape == (4,)  # the bias's gradient is summed over the rows


@both_paths
def test_a_longer_expression_through_every_op(placeholders):
    def f(a, b, c):
        g = a.graph
        h = g.sigmoid(g.dot(a, g.transpose(b)))  # (3, 2)
        return g.mean(-g.square(h - c) / (1 + c * c)) * 3 - 2 * h

    check_gradients(f, away_from_zero((3, 4)), away_from_zero((2, 4)), away_from_zero((1, 2)),
                    placeholders=placeholders)


# ## What `gradients` returns


@pytest.mark.parametrize("shape", [(), (4,), (1, 4), (3, 1), (2, 3, 4)])
@both_paths
def test_gradient_shape_is_exactly_the_shape_of_x(shape, placeholders):
    # A (3, 4) output built from x and a (3, 4) matrix: x was broadcast up, and
    # its gradient must come back down to x's own shape, no more, no less.
    def f(x, big):
        return x * big + x

    x = away_from_zero(shape)
    big_shape = np.broadcast_shapes(shape, (3, 4))
    grad, _ = check_gradients(f, x, away_from_zero(big_shape), placeholders=placeholders)
    assert grad.shape == shape


def test_none_where_y_does_not_depend_on_x():
    graph = Graph()
    a, b, c = graph.tensor(1.0), graph.tensor(2.0), graph.tensor(3.0)
    unused = c * 2  # c feeds another branch, one that does not reach y
    y = a * 3
    grad_a, grad_b, grad_c = graph.gradients(y, [a, b, c])
    assert grad_b is None and grad_c is None
    assert Session(graph).run(grad_a) == 3.0
    assert graph.gradients(unused, [a]) == [None]


@pytest.mark.parametrize("shape", [(), (3,), (3, 4)])
def test_gradient_of_y_with_respect_to_itself_is_ones(shape):
    graph = Graph()
    x = graph.tensor(np.zeros(shape))
    y = graph.sigmoid(x)
    grad, = graph.gradients(y, [y])
    value = Session(graph).run(grad)
    assert np.shape(value) == shape
    np.testing.assert_array_equal(value, np.ones(shape))


def test_gradient_of_a_fed_placeholder_with_respect_to_itself_is_ones():
    graph = Graph()
    p = graph.tensor()
    grad, = graph.gradients(p, [p])
    value = Session(graph).run(grad, {p: np.zeros((2, 5))})
    np.testing.assert_array_equal(value, np.ones((2, 5)))


def test_gradient_with_respect_to_an_intermediate_tensor():
    # x need not be a variable: any tensor between the inputs and y will do.
    graph = Graph()
    x = graph.tensor(np.array([0.5, -1.0]))
    h = graph.sigmoid(x)
    grad_h, grad_x = graph.gradients(h * h, [h, x])
    sess = Session(graph)
    h_value, grad_h_value, grad_x_value = sess.run([h, grad_h, grad_x])
    np.testing.assert_allclose(grad_h_value, 2 * h_value, rtol=1e-15)
    np.testing.assert_allclose(grad_x_value, 2 * h_value * h_value * (1 - h_value), rtol=1e-15)


def test_the_same_x_twice_gets_the_same_gradient():
    graph = Graph()
    x = graph.tensor(np.array([1.0, 2.0]))
    first, second = graph.gradients(x * x, [x, x])
    sess = Session(graph)
    np.testing.assert_array_equal(sess.run(first), [2.0, 4.0])
    np.testing.assert_array_equal(sess.run(second), [2.0, 4.0])


def test_one_gradients_call_for_several_xs_equals_separate_calls():
    graph = Graph()
    a, b = graph.tensor(away_from_zero((3, 4))), graph.tensor(away_from_zero(4))
    y = graph.sigmoid(a * b) * b
    together = graph.gradients(y, [a, b])
    apart = graph.gradients(y, [a]) + graph.gradients(y, [b])
    sess = Session(graph)
    for t, s in zip(sess.run(together), sess.run(apart)):
        np.testing.assert_allclose(t, s, rtol=1e-15)


# ## Second derivatives
#
# Gradients are ordinary graph ops, so `gradients` can differentiate them in
# turn. Each check compares the derivative of a gradient tensor with finite
# differences of that same gradient tensor.


@both_paths
def test_second_derivative_of_x_cubed(placeholders):
    # d(x³)/dx = 3x², d²(x³)/dx² = 6x: 12 and 12 at x = 2.
    graph = Graph()
    x = graph.tensor() if placeholders else graph.tensor(2.0)
    feed = {x: 2.0} if placeholders else {}
    first, = graph.gradients(x * x * x, [x])
    second, = graph.gradients(first, [x])
    assert Session(graph).run([first, second], feed) == pytest.approx([12.0, 12.0], rel=1e-15)
    check_gradients(derivative_of(lambda x: x * x * x), 2.0, placeholders=placeholders)


@both_paths
def test_second_derivative_through_sigmoid(placeholders):
    check_gradients(derivative_of(lambda x: x.graph.sigmoid(x)), away_from_zero((3, 4)),
                    placeholders=placeholders)


@both_paths
@pytest.mark.parametrize("i", [0, 1])
def test_second_derivative_through_a_broadcast(i, placeholders):
    # b is a row broadcast over a's rows; differentiate ∂y/∂a or ∂y/∂b again.
    def f(a, b):
        return a.graph.square(a * b) / (b * b + 1)

    check_gradients(derivative_of(f, i), away_from_zero((3, 4)), away_from_zero((4,)),
                    placeholders=placeholders)


@both_paths
def test_second_derivative_through_dot_and_mean(placeholders):
    def f(a, b):
        g = a.graph
        return g.mean(g.sigmoid(g.dot(a, b)))

    check_gradients(derivative_of(f, 1), away_from_zero((3, 4)), away_from_zero((4, 2)),
                    placeholders=placeholders)


def test_third_derivative_of_x_to_the_fourth():
    graph = Graph()
    x = graph.tensor(1.5)
    d = x * x * x * x
    for _ in range(3):
        d, = graph.gradients(d, [x])
    assert Session(graph).run(d) == pytest.approx(24 * 1.5, rel=1e-14)


# ## Sigmoid at the extremes
#
# Written naively, 1 / (1 + exp(-x)) overflows for x below about -709.


EXTREMES = np.array([-1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0])


def sigmoid_and_gradient(x):
    graph = Graph()
    t = graph.tensor(x)
    y = graph.sigmoid(t)
    grad, = graph.gradients(y, [t])
    return Session(graph).run([y, grad])


def test_sigmoid_does_not_overflow_at_the_extremes():
    with np.errstate(over="raise", invalid="raise"):
        value, grad = sigmoid_and_gradient(EXTREMES)
    assert value[0] == 0.0 and value[-1] == 1.0
    assert value[3] == 0.5
    np.testing.assert_allclose(value[[2, 4]], [1 / (1 + np.exp(50)), 1 / (1 + np.exp(-50))],
                               rtol=1e-14)
    assert np.all(np.isfinite(grad))
    assert grad[0] == 0.0 and grad[-1] == 0.0
    assert grad[3] == 0.25


def test_sigmoid_gives_no_warning_at_all_at_the_extremes():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = sigmoid_and_gradient(EXTREMES)
    assert np.all((value >= 0) & (value <= 1))
    assert np.all(np.isfinite(grad))


def test_sigmoid_gradient_uses_the_ops_own_output():
    # σ'(x) = y(1 − y), where y is the sigmoid op's output: the backward pass
    # reads y rather than computing a second exponential.
    graph = Graph()
    x = graph.tensor(0.3)
    y = graph.sigmoid(x)
    grad, = graph.gradients(y, [x])
    reached, stack = set(), [grad]
    while stack:
        t = stack.pop()
        if t not in reached:
            reached.add(t)
            stack.extend(t.op.inputs if t.op else ())
    assert y in reached
    sigmoids = [t for t in reached if t.op is not None and t.op.kind == "sigmoid"]
    assert sigmoids == [y]


def test_the_worked_example_on_graph_py_prints_what_it_says(capsys):
    # The code block after "In code:" in graph.py's prose, run as written.
    source = (Path(__file__).resolve().parent.parent / "graph.py").read_text()
    block = re.search(r"In code:\n\s*#\n((?:\s*#     .*\n)+)", source)[1]
    lines = [re.sub(r"^\s*#     ", "", line) for line in block.splitlines()]
    code = "\n".join(line for line in lines if line.strip() and not line.startswith(" "))
    expected = next(line.strip() for line in lines if line.startswith(" ")).lstrip("# ")
    exec(code, {"Graph": Graph, "Session": Session})
    assert capsys.readouterr().out.split() == expected.split() == ["3.0", "6.0"]
