"""Steps that can be seen to do nothing are not built (graph.op and `unchanged`)."""

import numpy as np
import pytest
from helpers import check_gradients, kinds_behind

from graph import Graph
from main import build_model, initial_weights


def test_constants_cannot_be_assigned():
    graph = Graph()
    x = graph.tensor(1.0)
    constant = (x + 1).op.inputs[1]
    with pytest.raises(ValueError, match="constant"):
        graph.assign(constant, 2.0)


def test_no_summing_back_when_static_shapes_match():
    loss, update, _ = build_model(*initial_weights())
    kinds = kinds_behind(update)
    # Nor is a seed built: the loss is a scalar of known dtype, so its seed
    # is the constant 1.0, already in that dtype.
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
