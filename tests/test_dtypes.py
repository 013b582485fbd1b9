"""Values and dtypes (SPEC "Values and dtypes"): a tensor knows its static dtype;
values that are not tensors take the dtype of the tensor they meet; a fed value
lasts one run; gradients with respect to integers are None; reductions keep
their dtype; empty arrays, odd axis spellings and plain numbers work."""

import re
import warnings

import numpy as np
import pytest
from helpers import check_gradients, derivative_of

from graph import Graph
from session import Session

F32 = np.dtype(np.float32)


def run(t, feed=None):
    return Session(t.graph).run(t, feed)


# ## Static dtypes


def test_a_tensor_knows_its_static_dtype_where_it_is_known():
    graph = Graph()
    w, n, p = graph.tensor(np.ones(3, np.float32)), graph.tensor(3), graph.tensor()
    assert (w.dtype, n.dtype, p.dtype) == (F32, np.dtype(np.int64), None)
    assert (p * 2.0).dtype is None  # known only when p is fed
    assert graph.sigmoid(graph.tensor(np.arange(3, dtype=np.int32))).dtype == np.float64
    assert graph.group([w]).dtype is None


def test_every_static_dtype_is_the_dtype_the_run_gives():
    graph = Graph()
    x = graph.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    i = graph.tensor(np.arange(1, 7, dtype=np.int32).reshape(2, 3))
    tensors = [x * i, x / i, i / 2, i * 2, graph.sum(i), graph.mean(i, axis=0),
               graph.sigmoid(i), graph.sum(x, axis=[0, 1]), graph.softmax(x),
               graph.step(x), graph.dot(x, graph.transpose(x)), graph.mean(x)]
    (dx,) = graph.gradients(graph.mean(graph.sigmoid(x) * 0.5), [x])
    tensors.append(dx)
    values = Session(graph).run(tensors)
    for t, value in zip(tensors, values):
        assert t.dtype is not None and t.dtype == np.result_type(value), t


# ## Values take the dtype of the tensor they meet (item 17)


@pytest.mark.parametrize("constant", [0.2, np.float64(0.2), np.array(0.2), np.full(3, 0.2)],
                         ids=["number", "np.float64", "0-d array", "array"])
def test_numpy_constants_keep_a_float32_model_float32(constant):
    graph = Graph()
    x = graph.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    ys = [x * constant, constant * x, x - constant, constant / x]
    (grad,) = graph.gradients(graph.sum(ys[0] + ys[1] + ys[2] + ys[3]), [x])
    values = Session(graph).run([*ys, grad])
    assert [v.dtype for v in values] == [F32] * 5
    assert [t.dtype for t in [*ys, grad]] == [F32] * 5
    np.testing.assert_allclose(values[0], [0.2, 0.4, 0.6], rtol=1e-6)
    np.testing.assert_allclose(values[4], 0.4 + 1 - 0.2 / np.array([1, 4, 9]), rtol=1e-6)


def test_where_no_dtype_is_known_values_keep_numpys_own():
    graph = Graph()
    p = graph.tensor()
    fed = {p: np.ones(2, np.float32)}
    # A plain number stays a number, and takes the fed dtype when it runs.
    assert run(p * 0.5, fed).dtype == F32
    # A NumPy value keeps its own dtype, and NumPy promotes.
    assert run(p * np.float64(0.5), fed).dtype == np.float64
    # A value that meets no tensor is an array of NumPy's dtype for it.
    two = graph.add(2.0, 3)
    assert two.dtype == np.float64 and run(two) == 5.0
    assert graph.convert(3).dtype == np.int64


def test_a_value_that_cannot_take_the_dtype_is_refused_naming_the_tensor():
    graph = Graph()
    n = graph.tensor(np.zeros(2, np.int32))
    message = f"float64 does not convert to int32, the dtype of [{n}]"
    with pytest.raises(TypeError, match=re.escape(message)):
        n * 0.5
    with pytest.raises(TypeError, match="<U1 does not convert to int32"):
        graph.assign(n, ["a", "b"])
    assert run(n + 2).dtype == np.int32  # an int converts


# ## A fed value lasts one run (item 4)


@pytest.mark.parametrize("fed", [np.array([1, 2, 3]), np.array([1, 2, 3], np.float32)],
                         ids=["int", "float32"])
def test_feeding_a_variable_converts_to_its_dtype_for_one_run(fed):
    graph = Graph()
    w = graph.tensor(np.zeros(3))
    step = graph.assign(w, w + 1)
    sess = Session(graph)
    assert sess.run(w, {w: fed}).dtype == np.float64
    for _ in range(3):
        sess.run(step, {w: fed})
        assert sess.state[w].dtype == np.float64
    sess.run(step)  # unfed: from the stored value
    assert sess.state[w].dtype == np.float64
    np.testing.assert_array_equal(sess.run(w), [3.0, 4.0, 5.0])


def test_a_feed_that_cannot_take_the_variables_dtype_is_refused_and_writes_nothing():
    graph = Graph()
    n = graph.tensor(np.zeros(2, np.int32))
    sess = Session(graph)
    with pytest.raises(TypeError, match=rf"cannot feed {n}: float64 does not convert to int32"):
        sess.run(graph.assign(n, n + 1), {n: [0.5, 1.5]})
    assert n not in sess.state


# ## Gradients with respect to integers and booleans (item 15)


@pytest.mark.parametrize("value", [3, np.arange(3, dtype=np.int32), np.array([True, False])],
                         ids=["int", "int32", "bool"])
def test_gradients_with_respect_to_integers_or_booleans_are_none(value):
    graph = Graph()
    x, f = graph.tensor(value), graph.tensor(2.0)
    assert graph.gradients(x * x * f, [x, f])[0] is None
    (df,) = graph.gradients(graph.sum(x * f), [f])
    assert run(df) == np.sum(value)


# ## Reductions keep their dtype (item 16)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint16, np.float16, np.float32])
def test_sums_and_means_keep_their_inputs_dtype(dtype):
    graph = Graph()
    x = graph.tensor(np.array([[1, 2], [3, 5]], dtype))
    for t, expected in [(graph.sum(x), 11), (graph.sum(x, axis=0), [4, 7]),
                        (graph.mean(x, axis=1), [1.5, 4] if dtype in (np.float16, np.float32)
                         else [1, 4])]:
        value = run(t)
        assert value.dtype == dtype and t.dtype == dtype
        np.testing.assert_array_equal(value, expected)


def test_booleans_are_counted_as_integers():
    graph = Graph()
    mask = graph.tensor(np.array([True, True, False]))
    assert run(graph.sum(mask)) == 2 and run(graph.sum(mask)).dtype.kind == "i"


# ## Empty reductions (item 11)


@pytest.mark.parametrize("placeholders", [False, True])
def test_empty_means_and_their_gradients(placeholders):
    graph = Graph()
    value = np.ones((0, 3))
    x = graph.tensor() if placeholders else graph.tensor(value)
    feed = {x: value} if placeholders else None
    rows, columns = graph.mean(x, axis=1), graph.mean(x, axis=0, keepdims=True)
    grads = [graph.gradients(y, [x])[0] for y in (rows, columns, graph.mean(x))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = Session(graph).run([rows, columns, graph.mean(x), *grads], feed)
    assert got[0].shape == (0,)
    np.testing.assert_array_equal(got[1], np.full((1, 3), np.nan))
    assert np.isnan(got[2])
    assert [g.shape for g in got[3:]] == [(0, 3)] * 3


# A mean of no integers is 0, as in TensorFlow (NumPy's NaN has no integer
# form: it used to come out as the most negative int64, with a warning).
@pytest.mark.parametrize("placeholders", [False, True])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8])
def test_a_mean_of_no_integers_is_zero(placeholders, dtype):
    graph = Graph()
    value = np.ones((0, 3), dtype)
    x = graph.tensor() if placeholders else graph.tensor(value)
    feed = {x: value} if placeholders else None
    means = [graph.mean(x), graph.mean(x, axis=0), graph.mean(x, axis=0, keepdims=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = Session(graph).run(means, feed)
    for mean, shape in zip(got, [(), (3,), (1, 3)]):
        assert mean.dtype == dtype
        np.testing.assert_array_equal(mean, np.zeros(shape, dtype))


def test_softmax_and_cross_entropy_over_an_empty_last_axis():
    graph = Graph()
    logits = graph.tensor(np.ones((2, 0)))
    labels = graph.tensor(np.ones((2, 0)))
    loss = graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    (grad,) = graph.gradients(graph.sum(loss), [logits])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = Session(graph).run([graph.softmax(logits), graph.log_softmax(logits), loss, grad])
    assert [v.shape for v in got] == [(2, 0), (2, 0), (2,), (2, 0)]
    np.testing.assert_array_equal(got[2], [0.0, 0.0])


# ## Axis spellings (item 12)


@pytest.mark.parametrize("axis", [None, 1, -1, (0, 1), [0, 1], [0, -1], np.int64(1),
                                  np.array(1), np.array([0, 1]), [], ()], ids=repr)
@pytest.mark.parametrize("name", ["sum", "mean"])
@pytest.mark.parametrize("placeholders", [False, True])
def test_every_axis_spelling_tensorflow_takes_works(name, axis, placeholders):
    value = np.arange(1.0, 7.0).reshape(2, 3)
    graph = Graph()
    x = graph.tensor() if placeholders else graph.tensor(value)
    y = getattr(graph, name)(x, axis=axis)
    expected = getattr(np, name)(value, axis=None if axis is None else tuple(
        np.reshape(axis, -1).tolist()))
    np.testing.assert_allclose(run(y, {x: value} if placeholders else None), expected)
    # And its gradient (expand or spread takes the same axis).
    check_gradients(lambda x: getattr(x.graph, name)(x, axis=axis) * 2.0, value,
                    placeholders=placeholders)


@pytest.mark.parametrize("axis", [1.5, [0, 1.5], "1", [[0]], True, np.array([0.0])],
                         ids=repr)
@pytest.mark.parametrize("placeholders", [False, True])
def test_other_axes_are_refused_when_built_naming_the_op(axis, placeholders):
    graph = Graph()
    x = graph.tensor() if placeholders else graph.tensor(np.ones((2, 3)))
    for build, kind in [(graph.sum, "sum"), (graph.mean, "mean"),
                        (lambda x, axis: graph.expand(graph.tensor(1.0), x, axis=axis),
                         "expand")]:
        with pytest.raises(TypeError, match=rf"cannot build {kind}: .* is not an axis"):
            build(x, axis=axis)


# ## Plain numbers (item 13)


def test_ops_on_plain_numbers():
    graph = Graph()
    for t in [graph.sum(3.0), graph.mean(3.0), graph.transpose(3.0), graph.sum(3.0, axis=[])]:
        value = run(t)
        assert value == 3.0 and value.dtype == np.float64 == t.dtype
    for build in [graph.softmax, graph.log_softmax]:
        with pytest.raises(ValueError, match=r"cannot build (log_)?softmax\(constant#\d+ "
                           r"of shape \(\)\): .*at least one axis"):
            build(2.0)


# ## relu's gradient at NaN (item 14)


def test_relus_gradient_at_nan_is_zero():
    graph = Graph()
    x = graph.tensor(np.array([np.nan, -1.0, 0.0, 2.0]))
    (grad,) = graph.gradients(graph.sum(graph.relu(x)), [x])
    np.testing.assert_array_equal(run(grad), [0.0, 0.0, 0.0, 1.0])


# ## Mutations the rest of the suite missed (item 18)


def test_broadcast_to_sends_its_gradient_back_to_xs_shape():
    like, weights = np.ones((2, 3)), np.arange(6.0).reshape(2, 3)
    for f in [lambda x: x, lambda x: x.graph.sigmoid(x), lambda x: x * x]:
        check_gradients(lambda x, f=f: x.graph.broadcast_to(f(x), like) * weights,
                        np.array([0.5, -1.0, 2.0]))
    # Third derivatives pass through broadcast_to and its mirror sum_to.
    cube = lambda x: x.graph.broadcast_to(x * x * x, like)  # noqa: E731
    check_gradients(derivative_of(derivative_of(cube)), np.array([0.5, -1.0, 2.0]))


def test_broadcast_to_refuses_an_impossible_broadcast_when_built():
    graph = Graph()
    # (2, 3) and (3,) broadcast together, to (2, 3), but (2, 3) cannot
    # become (3,).
    x, like = graph.tensor(np.ones((2, 3))), graph.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"cannot build broadcast_to.*\(2, 3\).*\(3,\)"):
        graph.broadcast_to(x, like)


def test_assign_has_the_static_shape_of_its_variable():
    graph = Graph()
    w = graph.tensor(np.ones((2, 3)))
    assert graph.assign(w, w * 2).shape == (2, 3)


def test_gradients_refuse_a_y_of_another_graph():
    graph, other = Graph(), Graph()
    x = graph.tensor(1.0)
    with pytest.raises(ValueError, match="another graph"):
        graph.gradients(other.tensor(2.0) * 3, [x])


def test_a_boolean_use_does_not_hold_back_the_gradient():
    # x is used twice, once through a comparison, whose boolean output is
    # never live and so never reports: x must not wait for it.
    def build(x):
        return x * (x > 0) + x * x

    check_gradients(build, [1.5, -0.5, 2.0])
    check_gradients(build, [1.5, -0.5, 2.0], placeholders=True)


def test_a_float_used_only_through_a_comparison_is_released_at_once():
    # s is a float on a path from x, but its one use is a comparison: it
    # waits for nothing, and must report to x, or x waits for ever.
    def build(x):
        return x * (x * 2.0 > 0)

    grads = check_gradients(build, [1.5, -0.5, 2.0])
    np.testing.assert_array_equal(grads[0], [1.0, 0.0, 1.0])


def test_a_number_out_of_the_dtypes_range_is_refused_not_wrapped():
    # NumPy's array casts wrap (1000 as int8 is -24); a value is converted
    # from what was written, and refused, naming the tensor it meets.
    graph = Graph()
    x = graph.tensor(np.array([1, 2], np.int8))
    with pytest.raises(TypeError, match=r"1000 out of bounds for int8.*variable#1"):
        x + 1000
    assert list(Session(graph).run(x + 100)) == [101, 102]
    with pytest.raises(TypeError, match=r"cannot feed variable#1: .*300"):
        Session(graph).run(x * 1, {x: [1, 300]})
    assert x.dtype == np.int8


def test_softmax_of_a_fed_scalar_says_it_needs_an_axis():
    graph = Graph()
    p = graph.tensor()
    for op in (graph.softmax, graph.log_softmax):
        with pytest.raises(RuntimeError, match="needs at least one axis"):
            Session(graph).run(op(p), {p: 2.0})
