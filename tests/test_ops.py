"""Forward values: every op, and every operator, computes what NumPy computes."""

import numpy as np
import pytest

from graph import Graph
from ops import (
    AddOp,
    AssignOp,
    DivOp,
    DotOp,
    GroupOp,
    MeanOp,
    MulOp,
    NegOp,
    SigmoidOp,
    SquareOp,
    SubOp,
    TransposeOp,
)
from session import Session

rng = np.random.default_rng(0)
A = rng.normal(size=(3, 4))
B = rng.normal(size=(3, 4)) + 5  # kept away from 0: B is also a divisor
ROW = rng.normal(size=4) + 5
COLUMN = rng.normal(size=(3, 1)) + 5
M = rng.normal(size=(4, 2))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def evaluate(build, *values):
    """Build `build(graph, *tensors)` from variables holding `values` and
    return the value of the tensor it returns."""
    graph = Graph()
    tensors = [graph.tensor(v) for v in values]
    return Session(graph).run(build(graph, *tensors))


BINARY = [
    ("add", np.add),
    ("sub", np.subtract),
    ("mul", np.multiply),
    ("div", np.divide),
]


@pytest.mark.parametrize("name, numpy_op", BINARY)
@pytest.mark.parametrize(
    "a, b",
    [(2.5, -4.0), (A, B), (A, ROW), (A, COLUMN), (COLUMN, ROW), (3.0, B), (A, 2.0)],
    ids=["scalars", "matrices", "matrix-row", "matrix-column", "column-row",
         "scalar-matrix", "matrix-scalar"],
)
def test_elementwise_binary_ops_broadcast_like_numpy(name, numpy_op, a, b):
    value = evaluate(lambda g, a, b: getattr(g, name)(a, b), a, b)
    np.testing.assert_allclose(value, numpy_op(a, b), rtol=1e-15)
    assert np.shape(value) == np.broadcast_shapes(np.shape(a), np.shape(b))


@pytest.mark.parametrize(
    "name, numpy_op",
    [
        ("neg", np.negative),
        ("square", np.square),
        ("sigmoid", sigmoid),
        ("transpose", np.transpose),
        ("mean", np.mean),
    ],
)
@pytest.mark.parametrize("x", [-1.5, A], ids=["scalar", "matrix"])
def test_unary_ops_match_numpy(name, numpy_op, x):
    value = evaluate(lambda g, x: getattr(g, name)(x), x)
    np.testing.assert_allclose(value, numpy_op(x), rtol=1e-15)
    assert np.shape(value) == np.shape(numpy_op(x))


def test_mean_is_a_scalar():
    assert np.shape(evaluate(lambda g, x: g.mean(x), A)) == ()


def test_dot_is_the_matrix_product():
    value = evaluate(lambda g, a, b: g.dot(a, b), A, M)
    np.testing.assert_allclose(value, A @ M, rtol=1e-15)
    assert value.shape == (3, 2)


def test_assign_returns_the_new_value_and_stores_it():
    graph = Graph()
    w = graph.tensor(np.array([1.0, 2.0]))
    assign = graph.assign(w, w * 3)
    sess = Session(graph)
    np.testing.assert_array_equal(sess.run(assign), [3.0, 6.0])
    np.testing.assert_array_equal(sess.state[w], [3.0, 6.0])
    np.testing.assert_array_equal(sess.run(w), [3.0, 6.0])


def test_group_runs_every_input_and_returns_none():
    graph = Graph()
    v, w = graph.tensor(1.0), graph.tensor(10.0)
    update = graph.group([graph.assign(v, v + 1), graph.assign(w, w * 2)])
    sess = Session(graph)
    assert sess.run(update) is None
    assert sess.run([v, w]) == [2.0, 20.0]


# ## Python operators
#
# Each operator must build the same op as the graph method, with the operands
# in the right order (`1 - t` is not `t - 1`).


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda a, b: a + b, lambda a, b: a + b),
        (lambda a, b: a - b, lambda a, b: a - b),
        (lambda a, b: a * b, lambda a, b: a * b),
        (lambda a, b: a / b, lambda a, b: a / b),
    ],
    ids=["+", "-", "*", "/"],
)
def test_binary_operators_between_tensors(build, expected):
    value = evaluate(lambda g, a, b: build(a, b), A, B)
    np.testing.assert_allclose(value, expected(A, B), rtol=1e-15)


def test_matmul_operator_is_dot():
    graph = Graph()
    a, m = graph.tensor(A), graph.tensor(M)
    product = a @ m
    assert isinstance(product.op, DotOp)
    np.testing.assert_allclose(Session(graph).run(product), A @ M, rtol=1e-15)


def test_unary_minus_is_neg():
    graph = Graph()
    a = graph.tensor(A)
    assert isinstance((-a).op, NegOp)
    np.testing.assert_array_equal(Session(graph).run(-a), -A)


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda t: 2 + t, lambda x: 2 + x),
        (lambda t: 2 * t, lambda x: 2 * x),
        (lambda t: 1 - t, lambda x: 1 - x),
        (lambda t: 1 / t, lambda x: 1 / x),
        (lambda t: t - 1, lambda x: x - 1),
        (lambda t: t / 4, lambda x: x / 4),
    ],
    ids=["2 + t", "2 * t", "1 - t", "1 / t", "t - 1", "t / 4"],
)
def test_operators_with_a_plain_number(build, expected):
    value = evaluate(lambda g, t: build(t), B)
    np.testing.assert_allclose(value, expected(B), rtol=1e-15)


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda array, t: array * t, lambda array, x: array * x),
        (lambda array, t: array - t, lambda array, x: array - x),
        (lambda array, t: array / t, lambda array, x: array / x),
        (lambda array, t: array + t, lambda array, x: array + x),
    ],
    ids=["array * t", "array - t", "array / t", "array + t"],
)
def test_numpy_array_on_the_left_builds_one_op(build, expected):
    # Without care NumPy would apply the operator element by element,
    # returning an array of tensors; we want one op on the whole array.
    graph = Graph()
    t = graph.tensor(B)
    result = build(A, t)
    assert not isinstance(result, np.ndarray)
    np.testing.assert_allclose(Session(graph).run(result), expected(A, B), rtol=1e-15)


def test_numpy_array_matmul_tensor():
    graph = Graph()
    m = graph.tensor(M)
    result = A @ m
    assert isinstance(result.op, DotOp)
    np.testing.assert_allclose(Session(graph).run(result), A @ M, rtol=1e-15)


# ## The shape of the API


@pytest.mark.parametrize(
    "method, op_class, arguments",
    [
        ("add", AddOp, 2),
        ("sub", SubOp, 2),
        ("mul", MulOp, 2),
        ("div", DivOp, 2),
        ("neg", NegOp, 1),
        ("square", SquareOp, 1),
        ("sigmoid", SigmoidOp, 1),
        ("transpose", TransposeOp, 1),
        ("mean", MeanOp, 1),
    ],
)
def test_each_method_adds_one_op_and_returns_its_output(method, op_class, arguments):
    graph = Graph()
    inputs = [graph.tensor(np.ones((2, 2))) for _ in range(arguments)]
    before = graph.count
    output = getattr(graph, method)(*inputs)
    assert graph.count == before + 1  # the output tensor, and nothing else
    assert isinstance(output.op, op_class)
    assert output.op.output is output
    assert output.op.inputs == inputs
    assert output.graph is graph


def test_dot_assign_and_group_build_their_ops():
    graph = Graph()
    a, b = graph.tensor(np.ones((2, 2))), graph.tensor(np.ones((2, 2)))
    assert isinstance(graph.dot(a, b).op, DotOp)
    assign = graph.assign(a, b)
    assert isinstance(assign.op, AssignOp)
    assert isinstance(graph.group([assign]).op, GroupOp)


def test_operators_build_the_same_ops_as_the_methods():
    graph = Graph()
    a, b = graph.tensor(1.0), graph.tensor(2.0)
    assert isinstance((a + b).op, AddOp)
    assert isinstance((a - b).op, SubOp)
    assert isinstance((a * b).op, MulOp)
    assert isinstance((a / b).op, DivOp)
    assert (1 - a).op.inputs[1] is a  # reflected: the tensor is the right operand
    assert (2 / a).op.inputs[1] is a


def test_convert_wraps_plain_values_and_passes_tensors_through():
    graph = Graph()
    t = graph.tensor(1.0)
    assert graph.convert(t) is t
    c = graph.convert(np.array([1.0, 2.0]))
    assert c.op is None and c.graph is graph
    np.testing.assert_array_equal(c.initial_value, [1.0, 2.0])


def test_tensors_compare_and_hash_by_identity():
    # Tensors are dictionary keys everywhere (feeds, state), so == must not
    # become elementwise.
    graph = Graph()
    a, b = graph.tensor(1.0), graph.tensor(1.0)
    assert a == a and a != b
    assert len({a: 1, b: 2}) == 2


def test_repr_is_short_and_names_the_kind():
    graph = Graph()
    p = graph.tensor()
    v = graph.tensor(1.0)
    s = p + v
    assert "placeholder" in repr(p)
    assert "variable" in repr(v)
    assert "add" in repr(s)
    assert len({repr(p), repr(v), repr(s)}) == 3
