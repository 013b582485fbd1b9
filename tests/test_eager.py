"""eager.py: an EagerGraph computes as it builds; a GradientTape differentiates.

The tape reuses graph.py's `gradients` and ops.py's `gradient` rules, so its
gradients must equal graph mode's: the same ops, computed in the same order,
give the same numbers (we allow rtol 1e-14, a few units of rounding). They are
also checked against finite differences, which trust none of our rules.
"""

import collections
import gc
import re
import sys
import threading

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


# An eager tensor holds its value, so Python's `if` and `while` can ask it
# directly, as in TensorFlow 2; an array of several numbers refuses.
def test_an_eager_tensor_is_a_python_bool_of_its_value():
    graph = EagerGraph()
    x = graph.tensor(3.0)
    assert (x > 0) and not (x < 0)
    with GradientTape() as tape:
        y = x
        for _ in range(5):  # (a tensor that counted as True would stop at once)
            if y > 100:
                break
            y = y * y
    assert tape.gradient(y, x).numpy() == 17496.0
    with pytest.raises(ValueError, match="ambiguous"):
        bool(graph.tensor(np.ones(2)) > 0)


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
    assert (b.op.kind, b.initial_value, b.shape, b.constant) == ("add", None, (2,), False)
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


# Eager tensors carry graph mode's dtypes and shapes, read from their
# values: the same tensors built both ways, ints, booleans and numbers
# among them, and a float32 gradient.
def test_eager_dtypes_and_shapes_equal_graph_modes():
    def build(k, x, i):
        ys = [x * i, x / i, i / 2, i * 2, k.sum(i), k.mean(i, axis=0),
              k.sigmoid(i), k.sum(x, axis=[0, 1]), k.softmax(x), k.step(x),
              k.dot(x, k.transpose(x)), x > 0, k.sum(i > 3), 1 - x, k.add(2.0, 3)]
        return [*ys, k.mean(k.sigmoid(x) * 0.5)]

    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    i = np.arange(1, 7, dtype=np.int32).reshape(2, 3)
    graph = Graph()
    theirs = build(graph, graph.tensor(x), graph.tensor(i))
    (dx,) = graph.gradients(theirs[-1], [theirs[0].op.inputs[0]])
    values = Session(graph).run([*theirs, dx])
    eager = EagerGraph()
    xt = eager.tensor(x)
    with GradientTape() as tape:
        ours = build(eager, xt, eager.tensor(i))
    ours.append(tape.gradient(ours[-1], xt))
    for mine, t, value in zip(ours, [*theirs, dx], values, strict=True):
        assert (mine.dtype, mine.shape) == (t.dtype, t.shape), t
        assert mine.numpy().dtype == np.result_type(value), t
        np.testing.assert_array_equal(mine.numpy(), value, err_msg=str(t))


# A number takes the dtype of the tensor it meets, as in graph mode, and
# the cached constant is one per number and dtype: the 2 of `n * 2`, for
# an int32 `n`, is not the 2 of `x * 2`, for a float32 `x`, or `x * 2`
# would become float64.
def test_a_number_takes_the_dtype_of_the_tensor_it_meets():
    graph = EagerGraph()
    n = graph.tensor(np.arange(3, dtype=np.int32))
    x = graph.tensor(np.ones(3, np.float32))
    two_n, two_x = (n * 2).op.inputs[1], (x * 2).op.inputs[1]
    assert (two_n.dtype, two_x.dtype) == (np.int32, np.float32)
    assert (x * 2).dtype == np.float32 and (x * 2).op.inputs[1] is two_x
    assert (n * 2).dtype == np.int32 and (n * 2).op.inputs[1] is two_n
    with np.errstate(divide="ignore"):
        infinity = 1 / (x * -0.0)
    assert infinity.dtype == np.float32 and infinity.numpy()[0] == -np.inf
    # A number that meets no tensor has NumPy's own dtype, as in graph mode.
    assert graph.sum(3.0).dtype == np.float64 and graph.sum(3).dtype == np.int64
    message = f"float64 does not convert to int32, the dtype of [{n}]"
    with pytest.raises(TypeError, match=re.escape(message)):
        n * 0.5


# Gradients with respect to integers and booleans are None, as in graph
# mode; and a comparison, which has no gradient, is never differentiated.
@pytest.mark.parametrize("value", [3, np.arange(3, dtype=np.int32), np.array([True, False])],
                         ids=["int", "int32", "bool"])
def test_tape_gradients_with_respect_to_integers_or_booleans_are_none(value):
    graph = EagerGraph()
    x, f = graph.tensor(value), graph.tensor(2.0)
    with GradientTape() as tape:
        y = x * x * f
        total = graph.sum(x * f)
    assert tape.gradient(y, [x, f])[0] is None
    assert tape.gradient(total, f).numpy() == np.sum(value)


def test_a_tape_passes_comparisons_by_as_graph_mode_does():
    def build(k, x):
        return k.sum(x * (x > 0) + x * (x * 2.0 > 0) + x * x)

    values = [np.array([1.5, -0.5, 2.0])]
    for ours, theirs in zip(eager_mode(build, values), graph_mode(build, values),
                            strict=True):
        np.testing.assert_array_equal(ours, theirs)


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
    # The two scripts run side by side, each on a core of its own.
    processes = [subprocess.Popen([sys.executable, name], cwd=root, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                 for name in ("eager.py", "main.py")]
    runs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    assert "loss in the first epoch: 0.400740028636" in runs[0]
    assert runs[0] == runs[1]


# ## Tapes and threads (issue 17, item 8)
#
# TensorFlow keeps the tapes that are recording per thread: an op records
# on the tapes its own thread opened, and on no other thread's. Here four
# threads each train a tiny cube under tapes of their own, switching
# every microsecond; each tape must hold exactly its two ops, and every
# gradient must be 3x² for its own x.
@pytest.fixture
def frequent_switches():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_threads_record_on_their_own_tapes(frequent_switches):
    graph = EagerGraph()
    wrong = []

    def work(value):
        try:
            x = graph.tensor(value)
            for _ in range(300):
                with GradientTape() as tape:
                    y = x * x * x
                dy = tape.gradient(y, x)
                if len(tape.record) != 2 or dy is None or dy.numpy() != 3 * value**2:
                    wrong.append((value, len(tape.record), dy and dy.numpy()))
                graph.assign(x, x * 1.0)
        except Exception as error:  # a thread's exception would be lost
            wrong.append(error)

    threads = [threading.Thread(target=work, args=(v,)) for v in (2.0, 3.0, 5.0, 7.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


# Whole XOR steps on several threads, each on its own copy of the weights
# in one shared graph: every thread's losses equal main.py's, to the bit.
def test_xor_steps_on_several_threads_equal_main_py(frequent_switches):
    loss, update, _ = main.build_model(*main.initial_weights())
    sess = Session(loss.graph)
    expected = [sess.run([update, loss])[1] for _ in range(40)]
    graph = EagerGraph()
    results = {}
    # (The weights are drawn here, once: NumPy's global random state is
    # not for threads to seed at once.)
    values = (main.X, main.y, *main.initial_weights())

    def work(name):
        tensors = [graph.tensor(v) for v in values]
        try:
            results[name] = [step(graph, *tensors).numpy() for _ in range(40)]
        except Exception as error:
            results[name] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: expected for i in range(4)}


# ## Entering a tape again (item 9)
#
# A tape entered twice goes on recording where it left off, as
# TensorFlow's does: the two blocks are one computation. Here y = x³ and
# z = y + y = 2x³, so ∂z/∂x = 6x² = 24 at x = 2.
def test_a_tape_entered_again_keeps_what_it_recorded():
    graph = EagerGraph()
    x = graph.tensor(2.0)
    tape = GradientTape()
    with tape:
        y = x * x * x
    with tape:
        z = y + y
    assert tape.gradient(z, x).numpy() == 24.0
    assert tape.gradient(y, x).numpy() == 12.0
    # A tape that is recording cannot be entered again before it closes.
    with tape:
        with pytest.raises(ValueError, match="already recording"):
            with tape:
                pass
        w = z * x
    assert tape.gradient(w, x).numpy() == 4 * 2 * 2.0**3


# ## Structures of sources (item 10)
#
# `tape.gradient(y, sources)` answers in the shape of `sources`, as
# TensorFlow's does: a tensor for a tensor, a list for a list, a tuple
# for a tuple, a dict (of the same type) for a dict, a namedtuple for a
# namedtuple, nested as deep as the sources are. Here y = w·b + b², so
# ∂y/∂w = b = 3 and ∂y/∂b = w + 2b = 8.
Pair = collections.namedtuple("Pair", "first second")


def value(structure):
    """The structure with each tensor replaced by its value."""
    if isinstance(structure, dict):
        return {k: value(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(value(v) for v in structure)
    return structure.numpy()


def test_tape_gradients_take_the_structure_of_the_sources():
    graph = EagerGraph()
    w, b = graph.tensor(2.0), graph.tensor(3.0)
    with GradientTape() as tape:
        y = w * b + b * b
    assert value(tape.gradient(y, w)) == 3.0
    assert value(tape.gradient(y, [w, b])) == [3.0, 8.0]
    assert value(tape.gradient(y, (w, b))) == (3.0, 8.0)
    assert value(tape.gradient(y, {"w": w, "b": b})) == {"w": 3.0, "b": 8.0}
    nested = tape.gradient(y, {"layer": (w, [b]), "again": [w]})
    assert value(nested) == {"layer": (3.0, [8.0]), "again": [3.0]}
    pair = tape.gradient(y, Pair(w, b))
    assert type(pair) is Pair and (pair.first.numpy(), pair.second.numpy()) == (3.0, 8.0)
    ordered = tape.gradient(y, collections.OrderedDict(b=b))
    assert type(ordered) is collections.OrderedDict and ordered["b"].numpy() == 8.0


# What is not a tensor nor a list, tuple or dict of them is refused with a
# TypeError, rather than iterated: a dict's keys, or a string's letters,
# would otherwise become constants, and their gradients None.
@pytest.mark.parametrize("sources", ["w", ["w"], {"w"}, 2.0, [2.0], None])
def test_tape_refuses_sources_that_are_not_tensors(sources):
    graph = EagerGraph()
    w = graph.tensor(2.0)
    with GradientTape() as tape:
        y = w * w
    with pytest.raises(TypeError, match="a tensor, or a list, tuple or dict of tensors"):
        tape.gradient(y, sources)


# The same structures serve graph mode's `group`, which runs every tensor
# in them, dict values included, as `tf.group` does; and `gradients`,
# which lists one gradient per tensor, in the same order.
def test_group_and_gradients_take_structures_and_refuse_the_rest():
    graph = Graph()
    v, w = graph.tensor(1.0), graph.tensor(10.0)
    update = graph.group({"v": graph.assign(v, v + 1), "more": [graph.assign(w, w * 2)]})
    sess = Session(graph)
    sess.run(update)
    assert sess.run([v, w]) == [2.0, 20.0]
    y = v * w
    assert sess.run(graph.gradients(y, {"v": v, "w": (w,)})) == [20.0, 2.0]
    for wrong in ["v", {"v"}, [v, "w"], 2.0]:
        with pytest.raises(TypeError, match="a tensor, or a list, tuple or dict of tensors"):
            graph.group(wrong)
        with pytest.raises(TypeError, match="a tensor, or a list, tuple or dict of tensors"):
            graph.gradients(y, wrong)


# ## What eager mode leaves out, and what it must not
#
# Eager ops form no reference cycles (an eager op keeps no link to its
# output), so Python frees a step's ops and tensors as soon as the step
# is done, and the garbage collector finds nothing to do.
def test_eager_steps_leave_no_reference_cycles():
    graph = EagerGraph()
    tensors = [graph.tensor(v) for v in (main.X, main.y, *main.initial_weights())]
    step(graph, *tensors)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(20):
            step(graph, *tensors)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


# Shape inference is left out, so `compute` must refuse whatever
# `infer_shape` refuses, and the error must be graph mode's own.
MISFITS = {
    "add": lambda k, a: k.add(a, np.ones(4)),
    "dot": lambda k, a: k.dot(a, a),
    "sum": lambda k, a: k.sum(a, axis=2),
    "duplicate axes": lambda k, a: k.mean(a, axis=(0, 0)),
    "sum_to": lambda k, a: k.sum_to(a, np.ones(4)),
    "broadcast_to": lambda k, a: k.broadcast_to(a, np.ones((2, 4))),
    "assign": lambda k, a: k.assign(a, np.ones((3, 2))),
    "softmax cross-entropy": lambda k, a: k.softmax_cross_entropy_with_logits(
        labels=np.ones((2, 4)), logits=a),
    "softmax cross-entropy of a scalar": lambda k, a: (
        k.softmax_cross_entropy_with_logits(labels=1.0, logits=k.mean(a))),
}


@pytest.mark.parametrize("name", MISFITS)
def test_eager_refuses_what_graph_mode_refuses_with_its_message(name):
    def error(graph):
        a = graph.tensor(np.ones((2, 3)))
        with pytest.raises(ValueError, match="cannot build") as caught:
            MISFITS[name](graph, a)
        return re.sub(r"#\d+", "#", str(caught.value))

    assert error(EagerGraph()) == error(Graph())


# Two checks made while building, not by `compute`: an assign's target
# must be a variable, and an axis must be spelled as TensorFlow spells one.
# Eager mode refuses both with graph mode's message, and writes nothing.
@pytest.mark.parametrize("name", ["an op's output", "a constant", "an axis"])
def test_eager_refuses_what_graph_mode_refuses_as_it_builds(name):
    def error(graph):
        a = graph.tensor(np.ones((2, 3)))
        build = {"an op's output": lambda: graph.assign(a * 2, a),
                 "a constant": lambda: graph.assign(graph.convert(np.ones((2, 3))), a),
                 "an axis": lambda: graph.sum(a, axis=[0, 1.5])}[name]
        with pytest.raises((ValueError, TypeError)) as caught:
            build()
        return type(caught.value), re.sub(r"#\d+", "#", str(caught.value))

    assert error(EagerGraph()) == error(Graph())


def test_an_eager_graph_differentiates_only_with_a_tape():
    graph = EagerGraph()
    x = graph.tensor(3.0)
    with pytest.raises(RuntimeError, match="GradientTape"):
        graph.gradients(x * x, [x])


# A number written into an expression becomes one constant, reused; zero
# is the exception, as 0.0 and -0.0 are equal but divide differently.
def test_a_number_is_one_constant_and_zero_keeps_its_sign():
    graph = EagerGraph()
    x = graph.tensor(np.array([1.0, -2.0]))
    assert (x * 2).op.inputs[1] is (x * 2).op.inputs[1]
    assert (x * 2).op.inputs[1] is not (x * 2.0).op.inputs[1]
    with np.errstate(divide="ignore"):
        negative, positive = (1 / (x * -0.0)).numpy(), (1 / (x * 0.0)).numpy()
    np.testing.assert_array_equal(negative, [-np.inf, np.inf])
    np.testing.assert_array_equal(positive, [np.inf, -np.inf])


# Read backwards, the tape differentiates each op once: a chain of n links
# y = (y + y) · 0.5, each using y twice, takes a number of gradient ops
# that grows like n, not 2ⁿ. The chain is far deeper than Python's
# recursion limit, and the gradient is exact: y = x, so ∂y/∂x = 1.
def test_a_tape_differentiates_each_op_once_to_any_depth():
    graph = EagerGraph()
    x = graph.tensor(3.0)
    counts = {}
    for n in (10, 20, 3000):
        with GradientTape() as outer:
            with GradientTape() as tape:
                y = x
                for _ in range(n):
                    y = (y + y) * 0.5
            before = len(outer.record)
            dy = tape.gradient(y, x)
        counts[n] = len(outer.record) - before
        assert y.numpy() == 3.0 and dy.numpy() == 1.0
    assert counts[20] - counts[10] == (counts[3000] - counts[20]) / 298
