"""The one gradient checker every test shares: central finite differences.

A symbolic gradient is only as trustworthy as the rules that built it, so we
never check it against another formula. We check it against the definition of
a derivative instead: nudge one input element by a tiny step `eps` either way
and watch how the output moves,

    ∂f/∂x_i ≈ (f(x + eps·e_i) − f(x − eps·e_i)) / (2·eps).

The error of this estimate shrinks like eps², so in float64 with eps = 1e-6 it
agrees with the true derivative to about 1e-9 for the smooth functions we
test; a tolerance of 1e-6 leaves a wide margin and still catches any wrong
rule (a wrong rule is off by something of order 1, not 1e-6).
"""

import importlib
import os
import shutil

import numpy as np
import pytest

from graph import Graph
from session import Session

EPS = 1e-6
RTOL = ATOL = 1e-6
# float32 keeps about 7 significant digits, and a gradient computed in it
# passes through several rounded ops: agreement to 1e-4 is what a right rule
# gives there, and a wrong rule still misses by order 1.
TOLERANCE = {np.float64: 1e-6, np.float32: 1e-4}


def numeric_gradient(f, x, eps=EPS):
    """The gradient of sum(f(x)) with respect to the array x, by central
    differences: one pair of evaluations of f per element of x."""
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (np.sum(f(x + step)) - np.sum(f(x - step))) / (2 * eps)
    return grad


def check_gradients(build, *values, placeholders=False, dtype=np.float64):
    """Build `y = build(*xs)` from one tensor per value, and assert that every
    gradient `graph.gradients(y, xs)` returns has exactly its x's shape and
    matches central finite differences of y.

    With `placeholders=False` each x is a variable holding its value (so
    every static shape is known); with `placeholders=True` each x is a
    placeholder fed its value (shapes known only at run time). The two take
    different paths through the engine, so tests usually check both.

    The finite differences evaluate the same graph with nudged inputs, fed in
    through feed_dict (a feed overrides a variable too). The forward values
    themselves are checked against NumPy in test_ops.py.

    With `dtype=np.float32` the inputs are float32, every gradient must come
    back float32 (nothing may promote it), and the finite differences are
    still taken in float64, as the reference.

    Returns the gradients' values, for tests that want to look further.
    """
    values = [np.array(v, dtype=dtype) for v in values]
    graph = Graph()
    if placeholders:
        xs = [graph.tensor() for _ in values]
    else:
        xs = [graph.tensor(v) for v in values]
    feed = dict(zip(xs, values))
    y = build(*xs)
    grads = graph.gradients(y, xs)
    assert all(g is not None for g in grads), "y depends on every x here"
    sess = Session(graph)
    got = sess.run(grads, feed)

    # The reference is taken in float64: on the same graph where the xs are
    # placeholders (a feed then sets the dtype), and on a float64 twin where
    # they are variables (a value fed to a variable takes its dtype).
    ref_xs, ref_y, ref_sess = xs, y, sess
    if not placeholders and dtype != np.float64:
        twin = Graph()
        ref_xs = [twin.tensor(v.astype(np.float64)) for v in values]
        ref_y, ref_sess = build(*ref_xs), Session(twin)
    ref_feed = {x: v.astype(np.float64) for x, v in zip(ref_xs, values)}

    for i, (x, value) in enumerate(zip(ref_xs, values)):

        def y_at(nudged, x=x):
            return ref_sess.run(ref_y, {**ref_feed, x: nudged})

        expected = numeric_gradient(y_at, value)
        assert np.shape(got[i]) == value.shape, f"gradient {i} has the wrong shape"
        assert got[i].dtype == dtype, f"gradient {i} is {got[i].dtype}, not {dtype}"
        tolerance = TOLERANCE[dtype]
        np.testing.assert_allclose(got[i], expected, rtol=tolerance, atol=tolerance,
                                   err_msg=f"gradient {i}")
    return got


def derivative_of(f, i=0):
    """Turn `f(*xs) -> y` into `build(*xs) -> ∂sum(y)/∂xs[i]`, a gradient
    tensor, so that `check_gradients` can differentiate it once more."""

    def build(*xs):
        return xs[0].graph.gradients(f(*xs), [xs[i]])[0]

    return build


# Pairs of input shapes for the elementwise binary ops: equal shapes, and each
# way numpy broadcasts (a missing leading axis, axes of length 1 stretched,
# a scalar against anything).
SHAPE_PAIRS = [
    ((), ()),
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((), (3, 4)),
    ((3, 4), ()),
    ((2, 1, 3), (4, 1)),
]
SHAPE_IDS = [f"{a}-{b}" for a, b in SHAPE_PAIRS]


# The unary ops, each as a function of its input tensor.
UNARY = {
    "neg": lambda x: -x,
    "square": lambda x: x.graph.square(x),
    "sigmoid": lambda x: x.graph.sigmoid(x),
    "transpose": lambda x: x.graph.transpose(x),
    "mean": lambda x: x.graph.mean(x),
}


def walk(tensors):
    """Every tensor that `tensors` depend on, themselves included, found
    with a stack of our own (graphs can be deeper than Python's recursion)."""
    seen, stack = set(), list(tensors)
    while stack:
        t = stack.pop()
        if t not in seen:
            seen.add(t)
            stack.extend(t.op.inputs if t.op else ())
    return seen


def kinds_behind(*tensors):
    """The kinds of every op the tensors depend on, one entry per op."""
    return [t.op.kind for t in walk(tensors) if t.op is not None]


# Optional parts. requirements.txt installs what the tutorial and most tests
# need; the pictures, the docs and the TensorFlow comparison need more, each
# from its own requirements file. A test that needs a missing part is skipped
# with one line that says what to install, except in CI (CI=true in the
# environment), which installs every part: there a missing one fails.
def missing(reason):
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(f"CI must have every part: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def need(module, file):
    """Import and return `module`, which `pip install -r file` installs;
    without it, skip (or in CI fail) the test, or the whole test module when
    called at its top."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"{module} is not installed: pip install -r {file}")


def need_dot():
    """Graphviz's dot program, which pip cannot install."""
    if shutil.which("dot") is None:
        missing("Graphviz's dot program is not installed: "
                "apt-get install graphviz, or brew install graphviz")
