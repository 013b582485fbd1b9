"""The backward pass stays linear, and nothing depends on recursion depth."""

import collections
import gc
import math
import sys

import pytest

import ops
from graph import Graph
from session import Session

# Every op class `gradients` may call.
OP_CLASSES = [cls for cls in vars(ops).values()
              if isinstance(cls, type) and issubclass(cls, ops.BaseOp) and cls is not ops.BaseOp]


@pytest.fixture
def gradient_calls(monkeypatch):
    """Count, per op, how often its `gradient` method is called."""
    calls = collections.Counter()
    for cls in OP_CLASSES:
        def counted(self, grad, original=cls.gradient):
            calls[self] += 1
            return original(self, grad)

        monkeypatch.setattr(cls, "gradient", counted)
    return calls


# ## Stacked diamonds
#
# A diamond level uses the previous level twice: t = t * t. A backward pass
# that passes on every partial gradient as soon as it arrives differentiates
# everything above a level twice, and the work doubles with every level. One
# that waits for both uses, sums them, and only then moves on, does a fixed
# amount of work per level.


def diamonds(levels, square=lambda t: t * t):
    graph = Graph()
    x = graph.tensor(1.0)
    t = x
    for _ in range(levels):
        t = square(t)
    return graph, x, t


def ops_added_by_gradients(levels, square=lambda t: t * t):
    graph, x, y = diamonds(levels, square)
    before = graph.count  # every tensor the graph makes is counted
    graph.gradients(y, [x])
    return graph.count - before


@pytest.mark.parametrize("square", [lambda t: t * t, lambda t: (t + 1) * (t + 1)],
                         ids=["t*t", "(t+1)*(t+1)"])
def test_ops_added_grow_linearly_with_diamond_levels(square):
    counts = {k: ops_added_by_gradients(k, square) for k in (5, 10, 20, 40)}
    per_level = counts[10] - counts[5]
    assert per_level > 0
    assert counts[20] - counts[10] == 2 * per_level
    assert counts[40] - counts[20] == 4 * per_level
    assert counts[40] <= 10 * 40  # a handful of ops per level, not 2**40


def test_diamond_gradient_value():
    # y = x ** (2 ** k), so dy/dx = 2**k at x = 1, where every level is 1.
    for levels in (5, 40):
        graph, x, y = diamonds(levels)
        grad, = graph.gradients(y, [x])
        assert Session(graph).run(grad) == 2.0 ** levels


def test_each_ops_gradient_is_called_at_most_once(gradient_calls):
    graph, x, y = diamonds(40, lambda t: (t + 1) * (t + 1))
    graph.gradients(y, [x])
    assert len(gradient_calls) == 3 * 40  # two adds and one mul per level
    assert max(gradient_calls.values()) == 1


def test_gradient_called_once_per_gradients_call(gradient_calls):
    graph, x, y = diamonds(10)
    graph.gradients(y, [x])
    graph.gradients(y, [x])
    assert set(gradient_calls.values()) == {2}


def test_only_ops_between_x_and_y_are_differentiated(gradient_calls):
    graph = Graph()
    x, c = graph.tensor(2.0), graph.tensor(3.0)
    constant_branch = graph.sigmoid(c * c)  # y uses it, but it does not depend on x
    square = x * x
    y = square + constant_branch
    graph.gradients(y, [x])
    assert set(gradient_calls) == {square.op, y.op}


def test_shared_subexpression_in_a_wide_graph(gradient_calls):
    # One tensor used by many ops, whose results are then combined.
    graph = Graph()
    x = graph.tensor(0.5)
    shared = graph.sigmoid(x)
    y = shared * 0
    for i in range(50):
        y = y + shared * i
    grad, = graph.gradients(y, [x])
    assert gradient_calls[shared.op] == 1
    s = 1 / (1 + math.exp(-0.5))
    assert Session(graph).run(grad) == pytest.approx(sum(range(50)) * s * (1 - s), rel=1e-12)


# ## A chain 100,000 ops long
#
# Python stops after about 1,000 nested calls, so anything recursive in the
# engine (evaluation, ordering, differentiation) would fail on this chain.


# Python's cycle collector would walk this graph's 300,000 objects again
# and again while they are made and used (half the test's time); there is
# nothing for it to free, and nothing asserted depends on it.
@pytest.fixture
def no_cycle_collector():
    gc.disable()
    yield
    gc.enable()


@pytest.mark.usefixtures("no_cycle_collector")
def test_a_chain_of_100000_ops_runs_and_differentiates(executor):
    limit = sys.getrecursionlimit()
    # Compiling (at once, in the tests) costs 30 to 70 µs an op: the
    # compiled half takes 20,000 links, still 20 times Python's limit.
    length = 100_000 if executor == "walked" else 20_000
    graph = Graph()
    x = graph.tensor(1.0)
    factor, one = graph.tensor(1.0001), graph.tensor(1.0)
    y = x
    for i in range(length):
        y = y * factor if i % 2 else y + one

    # Even steps add 1, odd steps multiply by r, so after n steps
    # y = r**(n/2) x + (r + r**2 + ... + r**(n/2)) and dy/dx = r**(n/2).
    r, half = 1.0001, length // 2
    expected_value = r**half + r * (r**half - 1) / (r - 1)

    grad, = graph.gradients(y, [x])
    value, grad_value = Session(graph).run([y, grad])
    assert value == pytest.approx(expected_value, rel=1e-9)
    assert grad_value == pytest.approx(r**half, rel=1e-9)
    assert sys.getrecursionlimit() == limit
