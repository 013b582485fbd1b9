"""eager.py: an EagerGraph computes as it builds; a GradientTape differentiates.

The tape reuses graph.py's `gradients` and ops.py's `gradient` rules, so its
gradients must equal graph mode's: the same ops, computed in the same order,
give the same numbers (we allow rtol 1e-14, a few units of rounding). They are
also checked against finite differences, which trust none of our rules.
"""

import numpy as np
import pytest
from helpers import ATOL, RTOL, SHAPE_IDS, SHAPE_PAIRS, numeric_gradient

import main
from eager import EagerGraph, EagerTensor, GradientTape, forward, step
from graph import Graph
from session import Session

SAME = {"rtol": 1e-14, "atol": 0}


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# One expression through every differentiable op, with broadcasting, Python
# numbers, the operators, and `a` and `b` each used more than once. It takes
# the graph as `k`, so the same function builds it in either mode.
def composed(k, a, b, c, t):
    hidden = k.sigmoid((a * b - a / (1 + b * b)) @ c)
    return k.mean(k.square(hidden - t)) + k.mean(-k.transpose(hidden) * 2)


COMPOSED = [normal(3, 4, seed=1), normal(4, seed=2), normal(4, 2, seed=3),
            normal(3, 2, seed=4)]


def graph_mode(build, values):
    """The value of build(graph, *xs) and its gradients, in graph mode."""
    graph = Graph()
    xs = [graph.tensor(v) for v in values]
    out = build(graph, *xs)
    return Session(graph).run([out, *graph.gradients(out, xs)])


def eager_mode(build, values):
    """The same, with an EagerGraph and a tape."""
    graph = EagerGraph()
    xs = [graph.tensor(v) for v in values]
    with GradientTape() as tape:
        out = build(graph, *xs)
    return [out.numpy(), *[g.numpy() for g in tape.gradient(out, xs)]]


def test_the_pages_first_example():
    graph = EagerGraph()
    x = graph.tensor(3.0)
    with GradientTape() as tape:
        y = x * x * x
    assert y.numpy() == 27.0
    assert tape.gradient(y, x).numpy() == 27.0


# The page's two small examples of what each style can do: a Python loop
# that decides on values, under a tape, and a gradient built for a
# placeholder before any value exists.
def test_a_tape_follows_python_control_flow():
    graph = EagerGraph()
    x = graph.tensor(3.0)
    with GradientTape() as tape:
        y = x
        while y.numpy() < 100:  # 3, 9, 81, 6561: y = x⁸
            y = y * y
    assert y.numpy() == 3.0**8
    assert tape.gradient(y, x).numpy() == 8 * 3.0**7 == 17496.0


def test_a_graph_differentiates_before_it_runs():
    graph = Graph()
    x = graph.tensor()
    (dy,) = graph.gradients(x * x, [x])
    assert Session(graph).run(dy, {x: 3.0}) == 6.0


def test_composed_expression_equals_graph_mode():
    ours = eager_mode(composed, COMPOSED)
    theirs = graph_mode(composed, COMPOSED)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, **SAME, err_msg=f"result {i}")


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPE_PAIRS, ids=SHAPE_IDS)
def test_broadcasting_ops_equal_graph_mode(name, shape_a, shape_b):
    # The square makes the output's gradient depend on its value.
    def build(k, a, b):
        return k.square(getattr(k, name)(a, b))

    values = [normal(*shape_a, seed=1), 1.5 + np.abs(normal(*shape_b, seed=2))]
    for a, b in zip(eager_mode(build, values), graph_mode(build, values), strict=True):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, **SAME)


def test_composed_expression_against_finite_differences():
    grads = eager_mode(composed, COMPOSED)[1:]
    for i, value in enumerate(COMPOSED):

        def f(nudged, i=i):
            graph = EagerGraph()
            values = [nudged if j == i else v for j, v in enumerate(COMPOSED)]
            return composed(graph, *map(graph.tensor, values)).numpy()

        np.testing.assert_allclose(grads[i], numeric_gradient(f, value),
                                   rtol=RTOL, atol=ATOL, err_msg=f"gradient {i}")


def test_values_are_computed_when_built():
    graph = EagerGraph()
    a = graph.tensor(np.array([1.0, 2.0]))
    b = a * 3 + 1
    assert isinstance(b, EagerTensor)
    np.testing.assert_array_equal(b.numpy(), [4.0, 7.0])
    # numpy() gives a copy: changing it changes nothing in the graph.
    b.numpy()[0] = 100.0
    np.testing.assert_array_equal(b.numpy(), [4.0, 7.0])
    assert isinstance(graph.mean(b).numpy(), np.float64)


def test_assign_takes_effect_at_once():
    graph = EagerGraph()
    w = graph.tensor(np.array([1.0, 2.0]))
    old = w * 2
    graph.assign(w, w - 0.5)
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.5])
    np.testing.assert_array_equal((w * 2).numpy(), [1.0, 3.0])
    # What was computed from the old value keeps it.
    np.testing.assert_array_equal(old.numpy(), [2.0, 4.0])
    with pytest.raises(ValueError, match="shape"):
        graph.assign(w, np.zeros(3))
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.5])


# A float32 model stays float32, forward and backward, in both modes.
def test_eager_keeps_graph_mode_dtypes():
    def build(k, a, b):
        return k.mean(k.sigmoid(a @ b) * 2.0 - 1)

    values = [normal(3, 4).astype(np.float32), normal(4, 2, seed=1).astype(np.float32)]
    ours, theirs = eager_mode(build, values), graph_mode(build, values)
    assert [np.asarray(v).dtype for v in ours] == [np.asarray(v).dtype for v in theirs]
    assert {np.asarray(v).dtype for v in ours} == {np.dtype(np.float32)}


def test_errors_name_the_op():
    graph = EagerGraph()
    with pytest.raises(ValueError, match="placeholder"):
        graph.tensor()
    a, b = graph.tensor(np.ones((2, 3))), graph.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cannot build dot"):
        a @ b
    with pytest.raises(ValueError, match="another graph"):
        a + EagerGraph().tensor(1.0)
    # An error in `compute` names the op, as a session's does; nothing is
    # assigned.
    counter = graph.tensor(np.zeros((2, 3), np.int32))
    with pytest.raises(RuntimeError, match=rf"assign#\d+ failed in assign\({counter} "
                       r"of shape \(2, 3\).*dtype"):
        graph.assign(counter, b)
    np.testing.assert_array_equal(counter.numpy(), np.zeros((2, 3)))
    # A value that cannot take the dtype of the tensor it meets is refused
    # as the op is built, naming that tensor.
    with pytest.raises(TypeError, match=r"<U4 does not convert to float64, the "
                       r"dtype of \[variable#2\]"):
        graph.assign(b, np.full((2, 3), "text"))
    np.testing.assert_array_equal(b.numpy(), np.ones((2, 3)))
    with GradientTape() as tape:
        b = a * 2
    with pytest.raises(TypeError, match="eager tensor, not 2.0"):
        tape.gradient(2.0, a)


def test_ops_built_before_the_tape_are_constants():
    graph = EagerGraph()
    x = graph.tensor(np.array([1.0, 2.0, 3.0]))
    h = x * x  # not recorded
    with GradientTape() as tape:
        y = h * x
    dx, dh = tape.gradient(y, [x, h])
    # Through the tape, y = h·x with h a constant: ∂y/∂x = h, not 3x².
    np.testing.assert_array_equal(dx.numpy(), [1.0, 4.0, 9.0])
    np.testing.assert_array_equal(dh.numpy(), [1.0, 2.0, 3.0])
    # Nor do ops built after the tape closed count.
    z = y * x
    assert tape.gradient(z, x) is None


def test_none_for_what_y_does_not_depend_on():
    graph = EagerGraph()
    x, unused = graph.tensor(2.0), graph.tensor(5.0)
    with GradientTape() as tape:
        y = x * 3
        other = unused * 2
    assert tape.gradient(y, unused) is None
    assert tape.gradient(y, other) is None
    dx, dunused = tape.gradient(y, [x, unused])
    assert dx.numpy() == 3.0 and dunused is None
    # A single x gives a single tensor; a list gives a list.
    assert isinstance(tape.gradient(y, x), EagerTensor)
    assert isinstance(tape.gradient(y, [x]), list)


def test_nested_tapes_give_second_derivatives():
    graph = EagerGraph()
    x = graph.tensor(np.array([-1.5, 0.5, 2.0]))
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert isinstance(d2y, EagerTensor)
    np.testing.assert_allclose(dy.numpy(), 3 * x.numpy() ** 2, rtol=1e-15)
    np.testing.assert_allclose(d2y.numpy(), 6 * x.numpy(), rtol=1e-15)
    # The inner tape did not record its own gradient ops, having closed.
    assert inner.gradient(dy, x) is None

    # A tape asked for gradients while still open records them itself.
    with GradientTape() as tape:
        y = x * x * x
        dy = tape.gradient(y, x)
    np.testing.assert_allclose(tape.gradient(dy, x).numpy(), 6 * x.numpy(), rtol=1e-15)


# A mixed second derivative through sigmoid and dot: ∂/∂a of sum((∂L/∂w)²),
# with L = mean(σ(a·w)²). Eager and graph mode agree, and finite differences
# of the eager first derivative agree with both.
def test_nested_tapes_equal_graph_mode_and_finite_differences():
    a, w = normal(3, 4, seed=1), normal(4, 2, seed=2)

    def loss(k, a, w):
        return k.mean(k.square(k.sigmoid(a @ w)))

    graph = EagerGraph()
    at, wt = graph.tensor(a), graph.tensor(w)
    with GradientTape() as outer:
        with GradientTape() as inner:
            out = loss(graph, at, wt)
        dw = inner.gradient(out, wt)
        square = dw * dw
    da, dw2 = outer.gradient(square, [at, wt])

    g = Graph()
    ag, wg = g.tensor(a), g.tensor(w)
    (dwg,) = g.gradients(loss(g, ag, wg), [wg])
    expected = Session(g).run(g.gradients(dwg * dwg, [ag, wg]))
    np.testing.assert_allclose(da.numpy(), expected[0], **SAME)
    np.testing.assert_allclose(dw2.numpy(), expected[1], **SAME)

    def first(a_value):
        graph = EagerGraph()
        at, wt = graph.tensor(a_value), graph.tensor(w)
        with GradientTape() as tape:
            out = loss(graph, at, wt)
        return np.square(tape.gradient(out, wt).numpy())

    np.testing.assert_allclose(da.numpy(), numeric_gradient(first, a),
                               rtol=RTOL, atol=ATOL)


def test_xor_losses_equal_main_py():
    epochs = 300
    loss, update, output = main.build_model(*main.initial_weights())
    sess = Session(loss.graph)
    theirs = [sess.run([update, loss])[1] for _ in range(epochs)]

    graph = EagerGraph()
    tensors = [graph.tensor(v) for v in (main.X, main.y, *main.initial_weights())]
    ours = [step(graph, *tensors).numpy() for _ in range(epochs)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)

    after, eager_output = forward(graph, *tensors)
    np.testing.assert_allclose(after.numpy(), sess.run(loss), rtol=1e-12)
    np.testing.assert_allclose(eager_output.numpy(), sess.run(output), rtol=1e-12)


def test_python_eager_py_prints_main_py_numbers():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    runs = [subprocess.run([sys.executable, name], cwd=root, capture_output=True,
                           text=True, check=True).stdout
            for name in ("eager.py", "main.py")]
    assert "loss in the first epoch: 0.400740028636" in runs[0]
    assert runs[0] == runs[1]
