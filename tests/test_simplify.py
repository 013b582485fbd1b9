"""Steps that can be seen to do nothing are not built (graph.op and `unchanged`)."""

import numpy as np
import pytest
from helpers import check_gradients

from graph import Graph
from main import build_model, initial_weights
from session import Session


def kinds_behind(*tensors):
    """The kinds of every op the tensors depend on, walking back iteratively."""
    seen, stack, kinds = set(), list(tensors), []
    while stack:
        t = stack.pop()
        if t in seen or t.op is None:
            continue
        seen.add(t)
        kinds.append(t.op.kind)
        stack.extend(t.op.inputs)
    return kinds


@pytest.mark.parametrize("build", [lambda x: x * 1, lambda x: 1 * x, lambda x: x / 1,
                                   lambda x: x * 1.0, lambda x: x * np.float64(1)])
def test_multiplying_or_dividing_by_a_constant_one_builds_nothing(build):
    graph = Graph()
    x = graph.tensor(np.arange(3.0))
    before = graph.count
    assert build(x) is x
    assert graph.count == before + 1  # only the constant 1 itself was made


@pytest.mark.parametrize("build", [lambda x: x * 2, lambda x: 1 / x, lambda x: x * np.ones(3)])
def test_other_constants_still_build_an_op(build):
    graph = Graph()
    x = graph.tensor(np.arange(1.0, 4.0))
    result = build(x)
    assert result is not x and result.op is not None


def test_a_variable_holding_one_is_not_treated_as_a_constant():
    # It may be assigned another value later, so the product must be real.
    graph = Graph()
    x, scale = graph.tensor(np.arange(3.0)), graph.tensor(1.0)
    product = x * scale
    assert product.op.kind == "mul"
    sess = Session(graph)
    sess.run(graph.assign(scale, 2.0))
    np.testing.assert_array_equal(sess.run(product), [0.0, 2.0, 4.0])


def test_constants_cannot_be_assigned():
    graph = Graph()
    x = graph.tensor(1.0)
    constant = (x + 1).op.inputs[1]
    with pytest.raises(ValueError, match="constant"):
        graph.assign(constant, 2.0)


def test_a_scalar_seed_is_not_multiplied_in():
    # d(a*b)/da = 1 * b: with the scalar seed being the constant 1, the
    # gradient is b itself, with no op built.
    graph = Graph()
    a, b = graph.tensor(3.0), graph.tensor(5.0)
    grad_a, grad_b = graph.gradients(a * b, [a, b])
    assert grad_a is b and grad_b is a


def test_no_summing_back_when_static_shapes_match():
    loss, update, _ = build_model(*initial_weights())
    kinds = kinds_behind(update)
    assert "sum_to" not in kinds and "broadcast_to" not in kinds
    assert kinds.count("mul") == 6  # two in square's gradient, two in each sigmoid's


def test_summing_back_is_built_when_shapes_differ_or_are_unknown():
    graph = Graph()
    matrix, vector, fed = graph.tensor(np.ones((3, 4))), graph.tensor(np.ones(4)), graph.tensor()
    (grad_vector,) = graph.gradients(graph.mean(matrix * vector), [vector])
    assert "sum_to" in kinds_behind(grad_vector)
    (grad_fed,) = graph.gradients(graph.mean(fed * matrix), [fed])
    assert "sum_to" in kinds_behind(grad_fed)
    # And both are right, whichever path they take.
    check_gradients(lambda m, v: m * v + v, np.ones((3, 4)), np.arange(4.0))
    check_gradients(lambda m, v: m * v + v, np.ones((3, 4)), np.arange(4.0), placeholders=True)
