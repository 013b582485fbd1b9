"""Property tests: hypothesis draws the shapes and the numbers.

Inputs are floats in [-3, 3]. Finite differences are only trustworthy where a
function is smooth, so expressions are written to have no poles or kinks in
that range: a divisor is `b² + 1` (never below 1) instead of `b`. With that,
no example can make a check flake.
"""

import hypothesis.extra.numpy as hnp
import numpy as np
from helpers import UNARY, check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import Graph
from session import Session

# A few dozen examples per test keep the suite fast; no deadline, since the
# first example of a test also pays for imports and warm-up.
quick = settings(deadline=None, max_examples=40)

floats = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


def arrays(shape):
    return hnp.arrays(np.float64, shape, elements=floats)


# Two shapes numpy can broadcast together, such as (3, 1) and (4,).
broadcastable = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)


@st.composite
def broadcast_pair(draw):
    shapes = draw(broadcastable).input_shapes
    return draw(arrays(shapes[0])), draw(arrays(shapes[1]))


@st.composite
def matrix_pair(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    return draw(arrays((n, k))), draw(arrays((k, m)))


any_array = hnp.array_shapes(min_dims=0, max_dims=3, max_side=3).flatmap(arrays)
placeholders = st.booleans()

ELEMENTWISE = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
}


@quick
@given(pair=broadcast_pair(), name=st.sampled_from(list(ELEMENTWISE)))
def test_elementwise_forward_matches_numpy(pair, name):
    a, b = pair
    build, numpy_op = ELEMENTWISE[name]
    graph = Graph()
    value = Session(graph).run(build(graph.tensor(a), graph.tensor(b)))
    expected = numpy_op(a, b)
    assert np.shape(value) == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-15, atol=0)


@quick
@given(pair=broadcast_pair(), name=st.sampled_from(list(ELEMENTWISE)), fed=placeholders)
def test_elementwise_gradients(pair, name, fed):
    build, _ = ELEMENTWISE[name]
    check_gradients(build, *pair, placeholders=fed)




@quick
@given(x=any_array, name=st.sampled_from(list(UNARY)), fed=placeholders)
def test_unary_gradients(x, name, fed):
    check_gradients(UNARY[name], x, placeholders=fed)


@quick
@given(pair=matrix_pair(), fed=placeholders)
def test_dot_gradients(pair, fed):
    check_gradients(lambda a, b: a.graph.dot(a, b), *pair, placeholders=fed)


@quick
@given(pair=broadcast_pair(), fed=placeholders)
def test_composed_expression_gradients(pair, fed):
    # Every elementwise op at once, each input used several times.
    def f(a, b):
        g = a.graph
        return g.sigmoid(a * b - b) / (g.square(a + b) + 1) + g.mean(a) * b

    check_gradients(f, *pair, placeholders=fed)


@quick
@given(pair=broadcast_pair(), alpha=floats, beta=floats)
def test_gradients_are_linear(pair, alpha, beta):
    # ∂(αf + βg) = α∂f + β∂g: a property of any derivative, checked here
    # between gradients of one graph.
    graph = Graph()
    a, b = graph.tensor(pair[0]), graph.tensor(pair[1])
    f, g = graph.sigmoid(a * b), graph.square(a - b)
    combined = graph.gradients(alpha * f + beta * g, [a, b])
    parts = graph.gradients(f, [a, b]) + graph.gradients(g, [a, b])
    sess = Session(graph)
    grad_a, grad_b = sess.run(combined)
    fa, fb, ga, gb = sess.run(parts)
    np.testing.assert_allclose(grad_a, alpha * fa + beta * ga, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_b, alpha * fb + beta * gb, rtol=1e-12, atol=1e-12)
