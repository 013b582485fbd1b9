"""cond and while_loop: values, which ops run, gradients against central
differences, nesting, and long loops. conftest.py runs this module under
both executors, the walked Session and the CompiledSession."""

import numpy as np
import pytest
from helpers import TOLERANCE, check_gradients, numeric_gradient

from control_flow import take
from graph import Graph
from session import Session


def check_with_feeds(graph, y, xs, values, feeds, dtype=np.float64):
    """Like helpers.check_gradients, for a graph already built, with extra
    feeds (a predicate, an iteration count) held fixed."""
    values = [np.asarray(v, dtype) for v in values]
    grads = graph.gradients(y, xs)
    sess = Session(graph)
    base = {**feeds, **dict(zip(xs, values))}
    got = sess.run(grads, base)
    for x, value, grad in zip(xs, values, got):
        # A float32 variable takes its feeds in float32, so the differences
        # are taken in float32 too, with a step large enough for its rounding.
        eps = 1e-2 if dtype == np.float32 else 1e-6
        expected = numeric_gradient(lambda v, x=x: sess.run(y, {**base, x: v}), value, eps)
        assert np.shape(grad) == value.shape
        assert grad.dtype == dtype
        tol = TOLERANCE[dtype]
        np.testing.assert_allclose(grad, expected, rtol=tol, atol=tol)
    return got


# ## Comparisons


def test_comparisons_give_booleans_and_no_gradient():
    graph = Graph()
    a, b = graph.tensor(np.array([1.0, 2.0, 3.0])), graph.tensor(2.0)
    sess = Session(graph)
    got = sess.run([a > b, a < b, a >= b, a <= b, graph.greater(2.5, a)])
    assert [list(v) for v in got] == [
        [False, False, True], [True, False, False], [False, True, True],
        [True, True, False], [True, True, False]]
    assert got[0].dtype == np.bool_
    # Nothing flows back through a comparison: both gradients are None,
    # even through arithmetic on the boolean.
    assert graph.gradients((a > b) * a, [b]) == [None]
    assert graph.gradients(graph.less(a, b), [a, b]) == [None, None]


def test_equality_stays_identity():
    graph = Graph()
    a = graph.tensor(1.0)
    assert (a == a) is True and (a == graph.tensor(1.0)) is False
    assert {a: 1}[a] == 1


# ## cond


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cond_takes_the_fed_branch(dtype):
    graph = Graph()
    p, x = graph.tensor(), graph.tensor()
    y = graph.cond(p, lambda: x * 2.0, lambda: -x)
    sess = Session(graph)
    value = np.array([1.5, -3.0], dtype)
    got_true, got_false = sess.run(y, {p: True, x: value}), sess.run(y, {p: False, x: value})
    np.testing.assert_array_equal(got_true, value * 2)
    np.testing.assert_array_equal(got_false, -value)
    assert got_true.dtype == got_false.dtype == dtype


def test_cond_returns_the_branches_structure():
    graph = Graph()
    p, x = graph.tensor(), graph.tensor(3.0)
    a, (b, c) = graph.cond(p, lambda: (x, [x + 1, 2.0]), lambda: (-x, [x * x, x]))
    sess = Session(graph)
    assert sess.run([a, b, c], {p: True}) == [3.0, 4.0, 2.0]
    assert sess.run([a, b, c], {p: False}) == [-3.0, 9.0, 3.0]
    with pytest.raises(ValueError, match="same structure"):
        graph.cond(p, lambda: (x, x), lambda: x)


def test_only_the_taken_branch_runs():
    graph = Graph()
    p, a = graph.tensor(), graph.tensor()
    v = graph.tensor(np.array([1.0, 2.0]))
    # The false branch would raise (dot of a 1-D value) and assign: neither
    # happens when the true branch is taken.
    y = graph.cond(p, lambda: a + 1.0,
                   lambda: graph.assign(v, graph.dot(a, a)) + 0.0)
    sess = Session(graph)
    np.testing.assert_array_equal(sess.run(y, {p: True, a: [5.0, 6.0]}), [6.0, 7.0])
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    # Taken, the branch's dot raises, naming the op inside the branch and the
    # cond that ran it, and nothing is written.
    with pytest.raises(RuntimeError, match=r"cond#\d+ failed.*dot#\d+ failed"):
        sess.run(y, {p: False, a: [5.0, 6.0]})
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_an_assign_in_the_taken_branch_joins_the_runs_writes():
    graph = Graph()
    p, v = graph.tensor(), graph.tensor(np.array([1.0, 2.0]))
    y = graph.cond(p, lambda: graph.assign(v, v * 10.0), lambda: v + 0.0)
    q = graph.tensor()
    bad = y + graph.dot(q, q)
    sess = Session(graph)
    np.testing.assert_array_equal(sess.run(y, {p: False}), [1.0, 2.0])
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    # A run that fails after the cond writes nothing.
    with pytest.raises(RuntimeError):
        sess.run(bad, {p: True, q: np.ones(3)})
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
    np.testing.assert_array_equal(sess.run(y, {p: True}), [10.0, 20.0])
    np.testing.assert_array_equal(sess.run(v), [10.0, 20.0])


def test_the_predicate_must_be_a_boolean_scalar():
    graph = Graph()
    p = graph.tensor()
    y = graph.cond(p, lambda: 1.0, lambda: 2.0)
    with pytest.raises(RuntimeError, match=r"cond#\d+ failed.*boolean scalar"):
        Session(graph).run(y, {p: np.array([True, False])})


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("taken", [True, False])
def test_cond_gradients_match_finite_differences(dtype, taken):
    graph = Graph()
    p = graph.tensor()
    x, w = graph.tensor(), graph.tensor(np.zeros((2, 3), dtype))
    y = graph.cond(p, lambda: graph.sigmoid(graph.dot(x, w)),
                   lambda: graph.square(graph.dot(x, w)) + w * 3.0)
    check_with_feeds(graph, y, [x, w],
                     [[[0.5, -1.0], [2.0, 0.3]], np.arange(6).reshape(2, 3) / 7],
                     {p: taken}, dtype)


@pytest.mark.parametrize("placeholders", [False, True])
def test_cond_on_a_computed_predicate(placeholders):
    # The predicate depends on x, but nothing flows back through it: the
    # gradient is that of the branch taken.
    def build(x, w):
        g = x.graph
        return g.cond(g.sum(x) > 0, lambda: x * w * w, lambda: g.sigmoid(x - w))

    check_gradients(build, [1.0, 2.0], [0.5, -1.5], placeholders=placeholders)
    check_gradients(build, [-1.0, 0.2], [0.5, -1.5], placeholders=placeholders)


def test_unconnected_gradients_are_none():
    graph = Graph()
    p, x, w, u = graph.tensor(), graph.tensor(2.0), graph.tensor(3.0), graph.tensor(4.0)
    y = graph.cond(p, lambda: x * 2.0, lambda: x * w)
    assert graph.gradients(y, [u])[0] is None
    dx, dw = graph.gradients(y, [x, w])
    sess = Session(graph)
    # w is used by one branch only: zero when the other runs.
    assert sess.run([dx, dw], {p: True}) == [2.0, 0.0]
    assert sess.run([dx, dw], {p: False}) == [3.0, 2.0]
    i, z = graph.while_loop(lambda i, z: i < 3, lambda i, z: (i + 1, z * x), [0, 1.0])
    assert graph.gradients(z, [u, w]) == [None, None]
    # (The granularity is the whole op: the counter i does not depend on x,
    # but the loop does, so its gradient is zero rather than None.)
    assert Session(graph).run(graph.gradients(i, [x])[0]) == 0.0


# ## while_loop


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_while_loop_runs_a_fed_number_of_times(dtype):
    graph = Graph()
    n, x = graph.tensor(), graph.tensor()
    i, y = graph.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x),
                            [0, graph.tensor(np.ones(2, dtype))])
    sess = Session(graph)
    value = np.array([2.0, -0.5], dtype)
    for count in (0, 1, 5):
        got_i, got_y = sess.run([i, y], {n: count, x: value})
        assert got_i == count
        np.testing.assert_allclose(got_y, value ** count)
        assert got_y.dtype == dtype


def test_maximum_iterations_stops_the_loop():
    graph = Graph()
    m = graph.tensor()
    (i,) = graph.while_loop(lambda i: i < 100, lambda i: [i + 1], [0],
                            maximum_iterations=m)
    (j,) = graph.while_loop(lambda j: j < 4, lambda j: [j + 1], [0],
                            maximum_iterations=10)
    sess = Session(graph)
    assert sess.run([i, j], {m: 7}) == [7, 4]


def test_a_single_loop_variable_and_the_structure():
    graph = Graph()
    x = graph.tensor(3.0)
    y = graph.while_loop(lambda y: y < 100.0, lambda y: y * y, x)
    a, (b, c) = graph.while_loop(lambda a, bc: a < 3, lambda a, bc: (a + 1, (bc[1], bc[0])),
                                 (0, (x, 1.0)))
    assert Session(graph).run([y, a, b, c]) == [6561.0, 3, 1.0, 3.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_while_loop_gradients_match_finite_differences(dtype):
    # An Elman cell run a fed number of times: gradients with respect to the
    # initial state (a loop variable) and the weights (captured).
    graph = Graph()
    n = graph.tensor()
    h0, w, b = graph.tensor(), graph.tensor(), graph.tensor()

    def body(i, h):
        return i + 1, graph.sigmoid(graph.dot(h, w) + b)

    _, h = graph.while_loop(lambda i, h: i < n, body, [0, h0])
    loss = graph.mean(graph.square(h - 0.25))
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(2, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)]
    for count in (1, 4):
        check_with_feeds(graph, loss, [h0, w, b], values, {n: count}, dtype)


def test_zero_iterations_pass_the_gradient_through():
    graph = Graph()
    n, x, w = graph.tensor(), graph.tensor(), graph.tensor(np.array([2.0, 3.0]))
    _, y = graph.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * w), [0, x])
    dx, dw = graph.gradients(y * y, [x, w])
    got = Session(graph).run([dx, dw], {n: 0, x: np.array([1.0, -1.0])})
    np.testing.assert_array_equal(got[0], [2.0, -2.0])
    np.testing.assert_array_equal(got[1], [0.0, 0.0])


def test_assign_inside_a_loop_is_refused():
    graph = Graph()
    v = graph.tensor(1.0)
    with pytest.raises(ValueError, match=r"assign#\d+ assigns inside the loop"):
        graph.while_loop(lambda i: i < 3, lambda i: graph.assign(v, i * 1.0) + i, [0.0])


def test_an_error_in_the_body_names_the_op():
    graph = Graph()
    a = graph.tensor()
    (y,) = graph.while_loop(lambda y: graph.sum(y) < 10.0,
                            lambda y: [graph.dot(y, y)], [a])
    with pytest.raises(RuntimeError, match=r"while#\d+ failed.*dot#\d+ failed.*2-D"):
        Session(graph).run(y, {a: [1.0, 2.0]})


def test_the_body_is_built_once():
    graph = Graph()
    n, x = graph.tensor(), graph.tensor(1.5)
    _, y = graph.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x), [0, 1.0])
    (dx,) = graph.gradients(y, [x])
    size = graph.count
    sess = Session(graph)
    for count in (3, 300):
        got_y, got_dx = sess.run([y, dx], {n: count})
        np.testing.assert_allclose(got_y, 1.5 ** count)
        np.testing.assert_allclose(got_dx, count * 1.5 ** (count - 1))
    assert graph.count == size


def test_ten_thousand_iterations_and_their_gradient():
    # y ← y + x·y/n, 10,000 times: y = (1 + x/n)^n, dy/dx = y / (1 + x/n).
    # Without recursion, so Python's limit of 1,000 calls does not matter.
    graph = Graph()
    n, x = 10_000, graph.tensor(0.5)
    _, y = graph.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y + x * y / n),
                            [0, 1.0])
    (dx,) = graph.gradients(y, [x])
    got_y, got_dx = Session(graph).run([y, dx])
    np.testing.assert_allclose(got_y, (1 + 0.5 / n) ** n, rtol=1e-10)
    np.testing.assert_allclose(got_dx, (1 + 0.5 / n) ** (n - 1), rtol=1e-10)


# ## Nesting


def test_a_cond_inside_a_loop_body():
    # Collatz-like: halve when above 1, else add x; differentiated through
    # both branches, each iteration taking its own.
    graph = Graph()
    n, x = graph.tensor(), graph.tensor()

    def body(i, y):
        return i + 1, graph.cond(y > 1.0, lambda: y * 0.5, lambda: y + x)

    _, y = graph.while_loop(lambda i, y: i < n, body, [0, x])
    got = check_with_feeds(graph, y * y, [x], [0.75], {n: 6})
    # x=0.75: 0.75 → 1.5 → 0.75 → 1.5 → 0.75 → 1.5 → 0.75, y = x·(2x)/2·…
    assert Session(graph).run(y, {n: 6, x: 0.75}) == 0.75
    assert np.isfinite(got[0])


def test_a_loop_inside_a_branch():
    graph = Graph()
    p, n, x = graph.tensor(), graph.tensor(), graph.tensor()

    def power():
        _, y = graph.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x), [0, 1.0])
        return y

    y = graph.cond(p, power, lambda: graph.sigmoid(x))
    sess = Session(graph)
    assert sess.run(y, {p: True, n: 3, x: 1.5}) == 1.5 ** 3
    check_with_feeds(graph, y, [x], [1.5], {p: True, n: 3})
    check_with_feeds(graph, y, [x], [1.5], {p: False, n: 3})


def test_nested_loops():
    graph = Graph()
    x = graph.tensor(1.1)

    def outer(i, y):
        _, z = graph.while_loop(lambda j, z: j < 3, lambda j, z: (j + 1, z * x), [0, y])
        return i + 1, z

    _, y = graph.while_loop(lambda i, y: i < 2, outer, [0, 1.0])
    (dx,) = graph.gradients(y, [x])
    got_y, got_dx = Session(graph).run([y, dx])
    np.testing.assert_allclose([got_y, got_dx], [1.1 ** 6, 6 * 1.1 ** 5], rtol=1e-12)


# ## The chapter's example


def test_the_recurrent_network_equals_it_unrolled():
    # The loop and the network unrolled in Python, trained from the same
    # weights on the same batches of fed lengths, give the same losses.
    import control_flow

    looped = control_flow.train(steps=40, report=0)
    unrolled = control_flow.train(steps=40, unrolled=True, report=0)
    np.testing.assert_allclose(looped, unrolled, rtol=0, atol=1e-12)
    assert looped[-1] < looped[0] / 4  # and it learns


def test_take_keeps_an_integer_index_beside_a_float_sequence():
    # A Python int beside a float tensor would take its dtype, and NumPy
    # refuses a float index: take converts its index on its own.
    graph = Graph()
    x = graph.tensor(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(Session(graph).run(take(x, 1)), [2.0, 3.0])
