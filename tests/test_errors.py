"""Mistakes give clear errors, and a failed run changes nothing.

Every test that runs a session first gives it some state, then makes the
mistake, then checks that `sess.state` holds exactly what it held before.
"""

import re

import numpy as np
import pytest

from graph import Graph
from session import Session


def snapshot(sess):
    """A copy of the session's state, to compare with after a failure."""
    return {t: np.array(value, copy=True) for t, value in sess.state.items()}


def assert_state_is(sess, before):
    assert sess.state.keys() == before.keys()
    for t, value in before.items():
        np.testing.assert_array_equal(sess.state[t], value)
        assert np.shape(sess.state[t]) == np.shape(value)


@pytest.fixture
def model():
    """A graph with one variable that a session has already read and
    updated once, so that its state is not just the initial value."""
    graph = Graph()
    w = graph.tensor(np.array([1.0, 2.0]))
    sess = Session(graph)
    sess.run(graph.assign(w, w * 10))
    assert set(sess.state) >= {w}
    return graph, w, sess


# ## Placeholders that were not fed


def test_unfed_placeholder_is_named(model):
    graph, w, sess = model
    p = graph.tensor()
    before = snapshot(sess)
    with pytest.raises(ValueError, match=re.escape(repr(p))):
        sess.run(graph.assign(w, w + p))
    assert_state_is(sess, before)


def test_the_error_names_the_placeholder_that_is_missing():
    graph = Graph()
    p, q = graph.tensor(), graph.tensor()
    with pytest.raises(ValueError, match=re.escape(repr(q))) as error:
        Session(graph).run(p * q, {p: 1.0})
    assert repr(p) not in str(error.value)
    assert re.fullmatch(r"placeholder#\d+", repr(q))


def test_unfed_placeholder_leaves_unread_variables_unread():
    graph = Graph()
    v = graph.tensor(1.0)
    p = graph.tensor()
    sess = Session(graph)
    with pytest.raises(ValueError, match="placeholder"):
        sess.run(v + p)
    assert sess.state == {}


# ## Tensors of another graph


def test_an_op_refuses_an_input_of_another_graph():
    graph, other = Graph(), Graph()
    a, b = graph.tensor(1.0), other.tensor(2.0)
    with pytest.raises(ValueError, match="another graph"):
        a + b
    with pytest.raises(ValueError, match="another graph"):
        graph.mul(b, 3.0)
    with pytest.raises(ValueError, match="another graph"):
        graph.group([a, b])


def test_gradients_refuse_a_tensor_of_another_graph():
    graph, other = Graph(), Graph()
    a, b = graph.tensor(1.0), other.tensor(2.0)
    with pytest.raises(ValueError, match="another graph"):
        graph.gradients(a * 2, [b])


def test_run_refuses_to_fetch_a_tensor_of_another_graph(model):
    graph, w, sess = model
    stranger = Graph().tensor(1.0)
    before = snapshot(sess)
    with pytest.raises(ValueError, match=re.escape(repr(stranger))):
        sess.run([w, stranger])
    assert_state_is(sess, before)


def test_run_refuses_to_feed_a_tensor_of_another_graph(model):
    graph, w, sess = model
    stranger = Graph().tensor()
    before = snapshot(sess)
    with pytest.raises(ValueError, match=re.escape(repr(stranger))):
        sess.run(graph.assign(w, w + 1), {stranger: 1.0})
    assert_state_is(sess, before)


@pytest.mark.parametrize("fetch", [np.ones(2), 1.0, "w"], ids=["array", "float", "str"])
def test_run_refuses_to_fetch_something_that_is_not_a_tensor(model, fetch):
    # An easy slip in main.py's world: fetching the NumPy array X instead of
    # the tensor made from it.
    graph, w, sess = model
    with pytest.raises(TypeError, match=f"cannot fetch .* of type {type(fetch).__name__}"):
        sess.run([w, fetch])


# ## Assignments of the wrong shape


@pytest.mark.parametrize(
    "variable, value",
    [
        (np.zeros(2), np.zeros(3)),
        (0.0, np.zeros(1)),  # a scalar is not a vector of one element
        (np.zeros(1), 5.0),  # nor the other way round
        (np.zeros((2, 3)), np.zeros((3, 2))),
    ],
    ids=["(2,)<-(3,)", "()<-(1,)", "(1,)<-()", "(2,3)<-(3,2)"],
)
def test_assign_of_a_known_wrong_shape_fails_while_building(variable, value):
    graph = Graph()
    w = graph.tensor(variable)
    with pytest.raises(ValueError, match=re.escape(str(np.shape(value)))):
        graph.assign(w, value)


def test_assign_of_a_broadcastable_shape_still_fails():
    # (2,) + (3, 1) broadcasts to (3, 2), which is not w's shape.
    graph = Graph()
    w = graph.tensor(np.zeros(2))
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        graph.assign(w, w + np.zeros((3, 1)))


@pytest.mark.parametrize(
    "variable, fed",
    [(np.zeros(2), np.zeros(3)), (0.0, np.zeros(1)), (np.zeros(1), 5.0)],
    ids=["(2,)<-(3,)", "()<-(1,)", "(1,)<-()"],
)
def test_assign_of_a_fed_wrong_shape_fails_at_run_time(model, variable, fed):
    graph, _, sess = model
    w = graph.tensor(variable)
    p = graph.tensor()
    assign = graph.assign(w, p)
    sess.run(w)  # w is in the state from now on
    before = snapshot(sess)
    with pytest.raises(RuntimeError) as error:
        sess.run(assign, {p: fed})
    message = str(error.value)
    assert repr(assign) in message and "assign" in message
    assert str(np.shape(variable)) in message and str(np.shape(fed)) in message
    assert_state_is(sess, before)


def test_assign_needs_a_variable():
    graph = Graph()
    p, v = graph.tensor(), graph.tensor(1.0)
    with pytest.raises(ValueError, match="variable"):
        graph.assign(p, 1.0)
    with pytest.raises(ValueError, match="variable"):
        graph.assign(v * 2, 1.0)


# ## Errors inside an op


def test_an_error_inside_compute_names_the_op_and_its_input_shapes(model):
    graph, w, sess = model
    a, b = graph.tensor(), graph.tensor()
    product = graph.dot(a, b)
    before = snapshot(sess)
    with pytest.raises(RuntimeError) as error:
        sess.run([graph.assign(w, w + 1), product], {a: np.ones((4, 2)), b: np.ones((3, 1))})
    message = str(error.value)
    assert "dot" in message and repr(product) in message
    assert "(4, 2)" in message and "(3, 1)" in message
    assert error.value.__cause__ is not None  # NumPy's own error is kept
    assert_state_is(sess, before)


def test_an_elementwise_shape_mismatch_at_run_time():
    graph = Graph()
    a, b = graph.tensor(), graph.tensor()
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        Session(graph).run(a + b, {a: np.ones((2, 3)), b: np.ones(4)})


def test_a_known_shape_mismatch_fails_while_building():
    graph = Graph()
    a, b = graph.tensor(np.ones((4, 2))), graph.tensor(np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"dot.*\(4, 2\).*\(3, 1\)"):
        graph.dot(a, b)
    with pytest.raises(ValueError, match=r"add.*\(4, 2\).*\(3, 1\)"):
        a + b


# ## Nothing is half-done


def test_an_assignment_before_the_failure_is_not_applied(model):
    graph, w, sess = model
    p = graph.tensor()
    assign = graph.assign(w, w + 1)
    # The failing op uses the assignment's result, so the assignment has
    # certainly been computed when the failure comes.
    failing = graph.dot(graph.transpose(assign * np.ones((3, 2))), p)
    before = snapshot(sess)
    with pytest.raises(RuntimeError, match="dot"):
        sess.run([assign, failing], {p: np.ones((4, 4))})
    assert_state_is(sess, before)
    # The same run with a good feed does apply it.
    sess.run([assign, failing], {p: np.ones((3, 4))})
    np.testing.assert_array_equal(sess.state[w], before[w] + 1)


def test_a_group_that_fails_halfway_applies_none_of_its_assignments(model):
    graph, w, sess = model
    v = graph.tensor(5.0)
    sess.run(v)
    p = graph.tensor()
    update = graph.group([graph.assign(v, v + 1), graph.assign(w, w + p)])
    before = snapshot(sess)
    with pytest.raises(RuntimeError):
        sess.run(update, {p: np.ones(3)})
    assert_state_is(sess, before)


def test_a_first_read_in_a_failing_run_is_not_kept(model):
    graph, w, sess = model
    fresh = graph.tensor(np.array([3.0, 4.0]))
    p = graph.tensor()
    before = snapshot(sess)
    with pytest.raises(RuntimeError):
        sess.run([fresh * 2, graph.dot(p, p)], {p: np.ones((2, 3))})
    assert fresh not in sess.state
    assert_state_is(sess, before)


# ## Feeds of the wrong shape


@pytest.mark.parametrize("fed", [np.zeros(3), np.zeros((2, 1)), 1.0],
                         ids=["(3,)", "(2, 1)", "scalar"])
def test_feeding_a_variable_the_wrong_shape(model, fed):
    graph, w, sess = model  # w has shape (2,)
    before = snapshot(sess)
    with pytest.raises(ValueError, match=re.escape(repr(w))):
        sess.run(graph.assign(w, w * 2), {w: fed})
    assert_state_is(sess, before)


def test_feeding_an_op_output_the_wrong_shape():
    graph = Graph()
    w = graph.tensor(np.ones((2, 3)))
    middle = graph.sigmoid(w)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        Session(graph).run(middle * 2, {middle: np.ones(3)})


# `if x > 0:` while building cannot know the answer: the tensor refuses to
# be a Python bool, naming itself, instead of counting as True (as any
# object does by default) and silently taking the first branch.
def test_a_tensor_refuses_to_be_a_python_bool():
    graph = Graph()
    x = graph.tensor()
    with pytest.raises(TypeError, match=r"^greater#\d+ is not True or False until run"):
        if x > 0:
            pass
    with pytest.raises(TypeError, match="use graph.cond"):
        bool(x)
