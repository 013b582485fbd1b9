"""Session semantics: what `run` returns, where values come from, and when
state changes."""

import numpy as np
import pytest

from graph import Graph
from session import Session


def test_a_list_gives_a_list_and_a_tensor_gives_its_value():
    graph = Graph()
    a = graph.tensor(2.0)
    b = a * 3
    sess = Session(graph)
    assert sess.run([a, b]) == [2.0, 6.0]
    assert sess.run([b]) == [6.0]
    assert sess.run(b) == 6.0
    assert sess.run([]) == []


def test_fetching_the_same_tensor_twice():
    graph = Graph()
    a = graph.tensor(2.0)
    assert Session(graph).run([a * 3, a, a]) == [6.0, 2.0, 2.0]


def test_placeholder_takes_the_fed_value():
    graph = Graph()
    p = graph.tensor()
    y = p * 2
    sess = Session(graph)
    np.testing.assert_array_equal(sess.run(y, {p: [1.0, 2.0]}), [2.0, 4.0])
    # A placeholder's shape is not fixed: each run may feed another one.
    np.testing.assert_array_equal(sess.run(y, {p: np.ones((2, 3))}), np.full((2, 3), 2.0))
    assert p not in sess.state


def test_a_feed_overrides_an_op_for_that_run_only():
    graph = Graph()
    x = graph.tensor(1.0)
    middle = x + 1
    y = middle * 10
    sess = Session(graph)
    assert sess.run(y, {middle: 5.0}) == 50.0
    assert sess.run(y) == 20.0


def test_a_fed_op_is_not_computed():
    graph = Graph()
    p = graph.tensor()  # never fed: only its consumer is
    middle = p + 1
    y = middle * 10
    assert Session(graph).run(y, {middle: 5.0}) == 50.0


def test_a_feed_overrides_a_variable_for_that_run_only():
    graph = Graph()
    w = graph.tensor(1.0)
    y = w * 10
    sess = Session(graph)
    assert sess.run([w, y], {w: 4.0}) == [4.0, 40.0]
    assert w not in sess.state  # a feed is not a read of the variable
    assert sess.run([w, y]) == [1.0, 10.0]
    assert sess.run(y, {w: 7.0}) == 70.0
    assert sess.state[w] == 1.0


def test_a_feed_overrides_an_assigned_value():
    graph = Graph()
    w = graph.tensor(1.0)
    assign = graph.assign(w, w + 1)
    sess = Session(graph)
    sess.run(assign)
    assert sess.run(w * 10, {w: 0.5}) == 5.0
    assert sess.run(w) == 2.0


def test_each_tensor_is_computed_once_per_run():
    graph = Graph()
    x = graph.tensor(np.array([1.0, 2.0]))
    shared = graph.sigmoid(x)
    y = shared * shared + shared / (shared + 1)
    calls = []
    original = shared.op.compute

    def counted(*args):
        calls.append(1)
        return original(*args)

    # The session keeps a plan per (fetches, feeds) that holds each op's
    # compute method, so the wrapper must be in place before the first run.
    shared.op.compute = counted
    sess = Session(graph)
    sess.run([y, shared, y * 2])
    assert len(calls) == 1
    sess.run([y, shared, y * 2])
    assert len(calls) == 2  # once per run: values are not kept between runs


def test_values_are_recomputed_in_every_run():
    graph = Graph()
    p = graph.tensor()
    y = graph.square(p)
    sess = Session(graph)
    assert sess.run(y, {p: 3.0}) == 9.0
    assert sess.run(y, {p: 4.0}) == 16.0


def test_first_read_copies_the_initial_value_into_the_state():
    initial = np.array([1.0, 2.0])
    graph = Graph()
    w = graph.tensor(initial)
    sess = Session(graph)
    assert w not in sess.state
    np.testing.assert_array_equal(sess.run(w), [1.0, 2.0])
    assert w in sess.state
    initial[0] = 100.0  # the caller's array is not the state
    np.testing.assert_array_equal(sess.run(w), [1.0, 2.0])
    np.testing.assert_array_equal(sess.state[w], [1.0, 2.0])


def test_only_what_a_run_needs_is_read():
    graph = Graph()
    v, w = graph.tensor(1.0), graph.tensor(2.0)
    sess = Session(graph)
    sess.run(v * 2)
    assert v in sess.state and w not in sess.state


def test_assign_takes_effect_after_the_run():
    graph = Graph()
    w = graph.tensor(1.0)
    assign = graph.assign(w, w + 1)
    sess = Session(graph)
    # In the run that assigns, w is still read as its old value...
    assert sess.run([assign, w, w * 10]) == [2.0, 1.0, 10.0]
    # ...and from the next run on, as the new one.
    assert sess.state[w] == 2.0
    assert sess.run([w, w * 10]) == [2.0, 20.0]
    sess.run(assign)
    assert sess.run(w) == 3.0


def test_assign_from_a_placeholder():
    graph = Graph()
    w = graph.tensor(np.zeros(3))
    p = graph.tensor()
    assign = graph.assign(w, p)
    sess = Session(graph)
    sess.run(assign, {p: [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(sess.run(w), [1.0, 2.0, 3.0])


def test_group_returns_none_and_applies_every_assignment():
    graph = Graph()
    v, w = graph.tensor(1.0), graph.tensor(2.0)
    update = graph.group([graph.assign(v, v + w), graph.assign(w, v * w)])
    sess = Session(graph)
    result, = sess.run([update])
    assert result is None
    assert sess.run(update) is None
    # Both assignments of a run read the values from before it: first run
    # (1, 2) -> (3, 2); second run (3, 2) -> (5, 6).
    assert sess.run([v, w]) == [5.0, 6.0]


def test_sessions_of_one_graph_have_separate_state():
    graph = Graph()
    w = graph.tensor(1.0)
    assign = graph.assign(w, w * 2)
    first, second = Session(graph), Session(graph)
    first.run(assign)
    first.run(assign)
    assert first.run(w) == 4.0
    assert second.run(w) == 1.0


def test_gradient_descent_step_by_step():
    # Minimise (w − 3)²: each step w ← w − 0.25·2(w − 3) halves the distance to 3.
    graph = Graph()
    w = graph.tensor(1.0)
    loss = graph.square(w - 3)
    grad, = graph.gradients(loss, [w])
    step = graph.assign(w, w - 0.25 * grad)
    sess = Session(graph)
    for expected in [2.0, 2.5, 2.75, 2.875]:
        sess.run(step)
        assert sess.run(w) == pytest.approx(expected, rel=1e-15)


def test_changing_a_fetched_array_does_not_change_the_state():
    graph = Graph()
    w = graph.tensor(np.zeros(3))
    sess = Session(graph)
    fetched = sess.run(w)
    fetched += 5
    np.testing.assert_array_equal(sess.state[w], np.zeros(3))
    np.testing.assert_array_equal(sess.run(w), np.zeros(3))


def test_changing_a_fed_array_after_the_run_does_not_change_the_state():
    graph = Graph()
    w, p = graph.tensor(np.zeros(3)), graph.tensor()
    sess = Session(graph)
    value = np.ones(3)
    sess.run(graph.assign(w, p), {p: value})
    value += 5
    np.testing.assert_array_equal(sess.state[w], np.ones(3))


# ## The simple evaluator at the top of session.py


def test_the_recursive_evaluator_agrees_with_the_session_on_small_graphs():
    from main import build_model, initial_weights
    from session import evaluate

    loss, update, output = build_model(*initial_weights())
    graph = loss.graph
    w0 = update.op.inputs[0].op.inputs[0]
    (grad,) = graph.gradients(loss, w0)
    p = graph.tensor()
    fed = graph.sigmoid(p * output) + p
    sess = Session(graph)
    for t in [loss, output, grad]:
        np.testing.assert_array_equal(evaluate(t, {}, sess.state), sess.run(t))
    feed = {p: np.array([[0.5], [-1.0], [2.0], [0.0]])}
    np.testing.assert_array_equal(evaluate(fed, feed, sess.state), sess.run(fed, feed))
    # After a training step both read the new weights from the session's state.
    sess.run(update)
    np.testing.assert_array_equal(evaluate(loss, {}, sess.state), sess.run(loss))


def test_the_recursive_evaluator_computes_a_shared_tensor_once():
    from session import evaluate

    graph = Graph()
    x = graph.tensor(np.array([1.0, 2.0]))
    shared = graph.sigmoid(x)
    calls = []
    original = shared.op.compute
    shared.op.compute = lambda *args: calls.append(1) or original(*args)
    y = shared * shared + shared
    np.testing.assert_allclose(evaluate(y, {}, {}), Session(graph).run(y))
    assert len(calls) == 2  # once by evaluate, once by the session


def test_the_recursive_evaluator_fails_on_a_deep_chain_where_the_session_does_not():
    from session import evaluate

    graph = Graph()
    x = graph.tensor(1.0)
    t = x
    for _ in range(2000):
        t = t + 1
    with pytest.raises(RecursionError):
        evaluate(t, {}, {})
    assert Session(graph).run(t) == 2001.0
