"""The compiled path (compiler.py): when a plan is compiled, what the code
looks like, and that it changes nothing but speed.

Every other test runs under both executors already (conftest.py); these pin
what is particular to compiling.
"""

import collections
import re
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import compiler
import session
from compiler import CompiledSession
from graph import Graph
from main import build_model, initial_weights
from ops import BaseOp
from session import Session


@pytest.fixture
def compile_at_once(monkeypatch):
    monkeypatch.setattr(compiler.CompiledSession, "runs_before_compiling", 0)


def xor_losses(steps, compile):
    loss, update, _ = build_model(*initial_weights())
    sess = (CompiledSession if compile else Session)(loss.graph)
    losses = [sess.run([update, loss])[1] for _ in range(steps)]
    return losses, sess


def test_xor_losses_equal_the_walks_for_2000_steps(compile_at_once):
    walked, _ = xor_losses(2000, compile=False)
    compiled, sess = xor_losses(2000, compile=True)
    assert sess.ready, "the step ran compiled"
    np.testing.assert_allclose(compiled, walked, rtol=1e-13, atol=0)
    assert compiled[0] == pytest.approx(0.400740028636, rel=1e-11)


def test_a_plan_is_compiled_once_it_has_run_enough_times(monkeypatch):
    monkeypatch.setattr(compiler.CompiledSession, "runs_before_compiling", 3)
    graph = Graph()
    w = graph.tensor(np.ones(3))
    y = w * 2
    sess = CompiledSession(graph)
    for _ in range(3):
        sess.run([y])
        assert not sess.ready
    sess.run([y])
    assert len(sess.ready) == 1
    np.testing.assert_array_equal(sess.run([y])[0], [2.0, 2.0, 2.0])


def test_compile_false_walks():
    sess = Session(Graph())
    assert not hasattr(sess, "ready") and not hasattr(sess, "source")


def test_the_code_can_be_printed_and_reads_like_the_model():
    loss, update, _ = build_model(*initial_weights())
    sess = CompiledSession(loss.graph)
    source = sess.source([update, loss])
    compile(source, "<printed>", "exec")
    # Inlined: NumPy calls, no compute calls; mean's spread is folded into
    # a constant (the seed of a scalar loss is a constant, no op), and the
    # minus of sub's gradient into it, so that nothing is negated; the
    # weights are read and written under the lock.
    assert source.count("np_dot(") == 5 and "(sess" not in source
    assert "spread" not in source and "np_negative(" not in source
    # Mean's count is decided, and its cast to the dtype it has left out.
    assert "astype" not in source and re.search(r"mean_\d+ = total\d+ / 4\n", source)
    assert re.search(r"state\[VARIABLE_\d+\] = (SEEN\[\d\] = )?assign_\d+", source)
    assert "BUFFER_" in source
    # dot's and assign's checks read only shapes and dtypes: decided once.
    # (What raises is only the signature's check, on entry.)
    assert source.count("raise") == source.count("raise Missed") == 1
    # The new weights are float64 already: assign's cast is left out.
    assert "np_asarray(" not in source


def test_assign_still_casts_a_value_of_another_dtype(compile_at_once):
    graph = Graph()
    w = graph.tensor(np.zeros(3, np.float32))
    step = graph.assign(w, w + graph.tensor(np.ones(3)))  # a float64 variable
    sess = CompiledSession(graph)
    for _ in range(3):
        sess.run(step)
    assert "np_asarray(" in sess.source(step)
    assert sess.state[w].dtype == np.float32
    np.testing.assert_array_equal(sess.run(w), [3.0, 3.0, 3.0])


def test_an_op_the_compiler_cannot_inline_is_called(compile_at_once):
    class CumulativeOp(BaseOp):
        # A loop: not the shape the compiler copies.
        def compute(self, sess, x):
            total, out = 0.0, []
            for v in x:
                total += v
                out.append(total)
            return np.array(out)

    graph = Graph()
    x = graph.tensor(np.array([1.0, 2.0, 3.0]))
    y = CumulativeOp([x], graph).output * 2
    sess = CompiledSession(graph)
    assert ".compute(sess" not in sess.source(y)  # a bound method, hoisted
    assert "CUMULATIVE_1(sess, variable_0)" in sess.source(y)
    np.testing.assert_array_equal(sess.run(y), [2.0, 6.0, 12.0])


def test_a_run_time_error_is_the_walks_and_changes_nothing(compile_at_once):
    graph = Graph()
    w = graph.tensor(np.ones((2, 2)))
    a = graph.tensor()
    product = graph.dot(a, w)
    step = graph.assign(w, w + 1)
    sess = CompiledSession(graph)
    for _ in range(3):
        sess.run([step, product], {a: np.ones((1, 2))})
    assert sess.ready
    before = sess.state[w].copy()
    with pytest.raises(RuntimeError) as error:
        sess.run([step, product], {a: np.ones((3, 5))})
    message = str(error.value)
    assert repr(product) in message and "(3, 5)" in message and "(2, 2)" in message
    np.testing.assert_array_equal(sess.state[w], before)


def test_buffers_never_hold_a_value_that_is_fetched_or_kept(compile_at_once):
    graph = Graph()
    w = graph.tensor(np.linspace(0.0, 1.0, 6).reshape(2, 3))
    hidden = graph.sigmoid(w * 3.0 - 1.0)
    doubled = hidden * 2.0
    loss = graph.mean(graph.square(doubled))
    (grad,) = graph.gradients(loss, w)
    step = graph.assign(w, w - grad)
    sess = CompiledSession(graph)
    first = sess.run([step, hidden, doubled, grad])
    kept = sess.state[w]
    copies = [np.copy(v) for v in first[1:]], np.copy(kept)
    assert "BUFFER_" in sess.source([step, hidden, doubled, grad])
    for _ in range(3):
        sess.run([step, hidden, doubled, grad])
    for value, copy in zip(first[1:], copies[0]):
        np.testing.assert_array_equal(value, copy)
    np.testing.assert_array_equal(kept, copies[1])


def test_a_feed_of_another_dtype_gives_the_walks_dtype(compile_at_once):
    graph = Graph()
    p = graph.tensor()
    w = graph.tensor(np.ones(3, np.float32))
    y = graph.sigmoid(p * 2.0 + w) * 3
    sess, walk = CompiledSession(graph), Session(graph)
    for feed in [np.ones(3), np.ones(3, np.float32), np.ones(3, np.int32),
                 np.ones(3, np.float16)]:
        got, expected = sess.run(y, {p: feed}), walk.run(y, {p: feed})
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_threads_running_one_compiled_plan_get_their_own_values(compile_at_once,
                                                                 monkeypatch):
    # The plan has buffers; a thread that finds them in use walks the plan.
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)
    sys.setswitchinterval(1e-6)
    try:
        graph = Graph()
        p = graph.tensor()
        w = graph.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
        out = graph.mean(graph.square(graph.sigmoid(w * 2.0) - 0.5) * 3.0) + p
        sess = CompiledSession(graph)
        expected = Session(graph).run(out, {p: 0.0})
        errors = []

        def work(offset):
            for _ in range(300):
                value = sess.run(out, {p: offset})
                if value != expected + offset:
                    errors.append(value)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(0.005)
    assert "BUFFER_" in sess.source(out, {p: 0.0})
    assert not errors


def test_a_plan_is_compiled_for_the_shapes_and_dtypes_fed_and_walks_for_others(
        compile_at_once):
    graph = Graph()
    p, w = graph.tensor(), graph.tensor(np.ones((3, 2)))
    loss = graph.mean(graph.sigmoid(graph.dot(p, w)))
    (grad,) = graph.gradients(loss, w)
    step = graph.assign(w, w - grad)
    compiled, walked = CompiledSession(graph), Session(graph)
    batches = [np.ones((4, 3)), np.full((2, 3), 0.5), np.ones((4, 3), np.float32),
               np.arange(12.0).reshape(4, 3)]
    source = compiled.source([step, loss], {p: batches[0]})
    assert "placeholder_0.shape != (4, 3)" in source
    for batch in batches:
        got, expected = compiled.run([step, loss], {p: batch}), walked.run(
            [step, loss], {p: batch})
        np.testing.assert_array_equal(got[0], expected[0])
        assert got[1] == expected[1] and type(got[1]) is type(expected[1])
    np.testing.assert_array_equal(compiled.state[w], walked.state[w])


# Issue 17: each kind of fault the compiled path had, as a test.

def test_constants_are_told_apart_by_value_not_by_how_they_print(compile_at_once):
    graph = Graph()
    w = graph.tensor(np.array([1.0, 2.0, 3.0]))
    y = w * 1e20 + w * 1e-20 + w * -0.0 + w * 0.0
    np.testing.assert_array_equal(CompiledSession(graph).run(y), Session(graph).run(y))


def random_matrix(rows, columns, order):
    return np.asarray(np.random.default_rng(5).normal(size=(rows, columns)),
                      order=order)


@pytest.mark.parametrize("order", ["C", "F"])
def test_results_keep_the_walks_memory_order_to_the_last_bit(compile_at_once, order):
    graph = Graph()
    w = graph.tensor(random_matrix(60, 50, order))
    v = graph.tensor(random_matrix(60, 7, "F"))
    p = graph.tensor()
    fetches = [graph.sum(graph.transpose(w) * 2, axis=0),
               graph.dot(graph.sigmoid(graph.transpose(w)), v),
               graph.sum(graph.sigmoid(p) * 3.0, axis=1)]
    compiled, walked = CompiledSession(graph), Session(graph)
    for feed in [random_matrix(50, 60, "C"), random_matrix(50, 60, "F"),
                 random_matrix(60, 50, "C").T, random_matrix(50, 60, "F")]:
        got, expected = (s.run(fetches, {p: feed}) for s in (compiled, walked))
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
    assert compiled.ready


def counting_walks(monkeypatch):
    walks = []
    walk = session.Session.run

    def counted(self, fetches, feed_dict=None):
        walks.append(1)
        return walk(self, fetches, feed_dict)

    monkeypatch.setattr(session.Session, "run", counted)
    return walks


def test_a_failed_run_does_not_stop_a_plan_compiling(monkeypatch):
    monkeypatch.setattr(compiler.CompiledSession, "runs_before_compiling", 2)
    walks = counting_walks(monkeypatch)
    graph = Graph()
    p, w = graph.tensor(), graph.tensor(np.ones((2, 2)))
    step = graph.assign(w, w + graph.sum(graph.dot(p, w)))
    sess = CompiledSession(graph)
    good, bad = {p: np.ones((1, 2))}, {p: np.ones((1, 3))}
    sess.run(step, good)
    sess.run(step, good)
    with pytest.raises(RuntimeError):
        sess.run(step, bad)  # the third run, which would compile
    for _ in range(3):
        sess.run(step, good)
    walks.clear()
    value = sess.run(step, good)
    assert not walks, "the plan ran compiled"
    walked = Session(graph)
    for _ in range(6):
        expected = walked.run(step, good)
    np.testing.assert_array_equal(value, expected)


def test_each_feed_signature_is_compiled_so_a_short_last_batch_costs_nothing(
        monkeypatch):
    monkeypatch.setattr(compiler.CompiledSession, "runs_before_compiling", 2)
    walks = counting_walks(monkeypatch)
    graph = Graph()
    p, w = graph.tensor(), graph.tensor(np.ones((3, 2)))
    loss = graph.mean(graph.sigmoid(graph.dot(p, w)))
    (grad,) = graph.gradients(loss, w)
    step = graph.assign(w, w - grad)
    sess, walked = CompiledSession(graph), Session(graph)
    batches = [np.ones((4, 3)), np.ones((4, 3)), np.full((2, 3), 0.5)]
    for epoch in range(6):
        walks.clear()
        for batch in batches:
            got = sess.run([step, loss], {p: batch})
        assert not walks or epoch < 3
    for batch in batches * 6:
        expected = walked.run([step, loss], {p: batch})
    assert got[1] == expected[1]
    np.testing.assert_array_equal(sess.state[w], walked.state[w])


def test_threads_sharing_more_compiled_fetches_than_are_kept(compile_at_once,
                                                             monkeypatch):
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)
    graph = Graph()
    w = graph.tensor(np.arange(4.0))
    fetches = [[w * float(k)] for k in range(200)]
    sess = CompiledSession(graph)
    errors = []

    def work(start):
        try:
            for _ in range(10):
                for k in range(200):
                    k = (k + start) % 200
                    (value,) = sess.run(fetches[k])
                    if not np.array_equal(value, np.arange(4.0) * k):
                        errors.append(value)
        except Exception as error:
            errors.append(error)

    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(31 * k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(0.005)
    assert not errors


Pair = collections.namedtuple("Pair", "first second")


class Refusing(dict):
    def __setitem__(self, key, value):
        raise TypeError("this dict takes no items")


@pytest.mark.parametrize("compile", [False, True])
def test_any_fetch_structure_comes_back_and_a_run_that_raises_writes_nothing(
        compile_at_once, compile):
    graph = Graph()
    w = graph.tensor(np.zeros(2))
    step = graph.assign(w, w + 1)
    sess = (CompiledSession if compile else Session)(graph)
    fetch = collections.defaultdict(list, {"step": step, "more": [
        collections.OrderedDict(w=w), collections.Counter(a=step),
        Pair(step, (w,))]})
    got = sess.run(fetch)
    assert type(got) is collections.defaultdict and got.default_factory is list
    more = got["more"]
    assert type(more[0]) is collections.OrderedDict
    assert type(more[1]) is collections.Counter and type(more[2]) is Pair
    np.testing.assert_array_equal(got["step"], [1.0, 1.0])
    np.testing.assert_array_equal(more[2].second[0], [0.0, 0.0])  # read before
    np.testing.assert_array_equal(sess.state[w], [1.0, 1.0])
    for _ in range(3):
        with pytest.raises(TypeError, match="no items"):
            sess.run({"fine": step, "refused": Refusing(a=step)})
    np.testing.assert_array_equal(sess.state[w], [1.0, 1.0])


def test_a_compiled_step_keeps_no_more_memory_than_its_buffers(compile_at_once):
    megabytes = 2**20
    graph = Graph()
    w = graph.tensor(np.linspace(0.0, 1.0, 4 * megabytes))  # 32 MB
    loss = graph.mean(graph.square(graph.sigmoid(w) - 0.5))
    (grad,) = graph.gradients(loss, w)
    step = graph.assign(w, w - 0.1 * grad)
    kept = []
    tracemalloc.start()
    try:
        for kind in (Session, CompiledSession):
            before = tracemalloc.get_traced_memory()[0]
            sess = kind(graph)
            for _ in range(2):
                sess.run([step, loss])
            kept.append(tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()
    assert sess.ready
    # Four buffers of 32 MB, all needed at once (when `square` runs, the
    # sigmoid, the difference, twice it and the square are all alive), and
    # nothing else: not mean's `spread`, 32 MB of one number.
    assert kept[1] - kept[0] < 4 * 32 * megabytes + megabytes


def test_make_callable_runs_one_fetch_as_run_does(compile_at_once):
    graph = Graph()
    p, w = graph.tensor(), graph.tensor(np.ones((2, 2)))
    loss = graph.sum(graph.dot(p, w))
    step = graph.assign(w, w * 2.0)
    sess, walked = CompiledSession(graph), Session(graph)
    call = sess.make_callable([step, loss], [p])
    for batch in [np.ones((1, 2)), np.ones((3, 2)), np.ones((1, 2))]:
        got, expected = call(batch), walked.run([step, loss], {p: batch})
        np.testing.assert_array_equal(got[0], expected[0])
        assert got[1] == expected[1] and type(got[1]) is type(expected[1])
    assert sess.ready
    with pytest.raises(TypeError, match="expected 1 value"):
        call()
    before = sess.state[w].copy()
    with pytest.raises(RuntimeError, match=repr(loss.op.inputs[0])):
        call(np.ones((1, 3)))
    np.testing.assert_array_equal(sess.state[w], before)
    assert sess.make_callable(loss, [p])(np.ones((1, 2))) == walked.run(
        loss, {p: np.ones((1, 2))})


# `simplify` rewrites a plan into one the walk can follow too: walking both
# gives the same bits, with fewer steps.
def walk_plan(sess, plan, feed_dict):
    values = {**plan[0], **compiler.inputs(sess, plan, feed_dict)}
    sess.walk(plan[2], values)
    return values


def simplified(sess, fetches, feed_dict):
    plan = sess.planned(tuple(fetches), frozenset(feed_dict))
    examples = compiler.try_out(sess, plan, feed_dict)
    return plan, compiler.simplify(plan, examples, tuple(fetches))


def test_identical_ops_on_identical_inputs_are_computed_once():
    graph = Graph()
    x, w = graph.tensor(), graph.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
    first = graph.softmax(graph.dot(x, w))
    second = graph.softmax(graph.dot(x, w))  # the same again, built twice
    loss = graph.mean(first * second + graph.sum(w, 0))
    grads = graph.gradients(loss, [w])
    sess = Session(graph)
    feed = {x: np.random.default_rng(0).standard_normal((5, 3))}
    fetches = [loss, second, *grads]
    plan, simple = simplified(sess, fetches, feed)
    # (The second softmax is fetched: a step hands it the first's value.)
    kinds = [type(c.__self__).__name__ for c, _, _ in simple[2]]
    assert kinds.count("SoftmaxOp") == 1 and kinds.count("Same") == 1
    # The two paths back to w became one too: one dot forward, one back.
    assert kinds.count("DotOp") == 2
    assert len(simple[2]) < len(plan[2]) - 2
    walked, simply = walk_plan(sess, plan, feed), walk_plan(sess, simple, feed)
    for t in fetches:
        assert walked[t].tobytes() == simply[t].tobytes()


def test_sum_to_is_decided_once_the_batch_size_is_known():
    import digits

    model = digits.build_model(digits.initial_weights())
    rng = np.random.default_rng(1)
    feed = {model.images: rng.random((8, 64)),
            model.labels: np.eye(10)[rng.integers(0, 10, 8)]}
    sess = Session(model.loss.graph)
    fetches = [model.loss, *(output for _, output in sess.planned(
        (model.train,), frozenset(feed))[3])]
    plan, simple = simplified(sess, fetches, feed)
    kinds = lambda steps: [o.op.kind for _, _, o in steps]
    assert kinds(plan[2]).count("sum_to") == 4
    # The logits' and the hidden layer's gradients had nothing to sum; each
    # bias gradient is one sum over the batch, its axes written in.
    assert kinds(simple[2]).count("sum_to") == 2
    lines = CompiledSession(model.loss.graph).source(fetches, feed).splitlines()
    sums = [line for line in lines if "np_add_reduce(" in line]
    assert sum(line.endswith(", (0,), FLOAT64)") for line in sums) == 2
    walked, simply = walk_plan(sess, plan, feed), walk_plan(sess, simple, feed)
    for t in fetches:
        assert np.asarray(walked[t]).tobytes() == np.asarray(simply[t]).tobytes()


def test_a_fed_array_is_copied_only_where_the_state_could_keep_it(compile_at_once):
    graph = Graph()
    p, v = graph.tensor(), graph.tensor(np.zeros(3))
    keep, total = graph.assign(v, p), graph.sum(p * 2.0)
    sess = CompiledSession(graph)
    fed = np.arange(3.0)
    for _ in range(3):
        assert sess.run(total, {p: fed}) == 6.0
        sess.run(keep, {p: fed})
    copies = lambda fetch: "placeholder_0 = feed_dict[" not in sess.source(
        fetch, {p: fed})
    assert copies(keep) and not copies(total)
    fed[:] = 7.0  # the caller's array changes; the state's copy does not
    assert sess.state[v].tolist() == [0.0, 1.0, 2.0]
    assert sess.run(total, {p: fed}) == 42.0


def test_a_negated_product_with_a_constant_takes_the_sign_into_the_constant():
    graph = Graph()
    x = graph.tensor()
    product = 3.0 * x
    alone, kept = -(product * 0.5), -product  # the second also reads `product`
    sess = Session(graph)
    rng = np.random.default_rng(2)
    values = rng.standard_normal((4, 3)) * np.array([1.0, 1e300, 1e-310])
    feed = {x: values}
    for fetches in ([alone], [kept, product]):
        plan, simple = simplified(sess, fetches, feed)
        kinds = [type(c.__self__).__name__ for c, _, _ in simple[2]]
        assert "NegOp" not in kinds
        # Two products either way: 3x and (-0.5)(3x), whose product by 0.5
        # only the negation read and is gone; or 3x, fetched, and (-3)x.
        assert kinds.count("MulOp") == 2
        walked, simply = walk_plan(sess, plan, feed), walk_plan(sess, simple, feed)
        for t in fetches:
            assert walked[t].tobytes() == simply[t].tobytes()
    plan, simple = simplified(sess, [alone], feed)
    assert len(simple[2]) == len(plan[2]) - 1


def test_a_variable_missing_from_the_state_is_walked_and_put_back(compile_at_once):
    graph = Graph()
    w = graph.tensor(np.ones(3))
    step = graph.assign(w, w * 2.0)
    sess, walked = CompiledSession(graph), Session(graph)
    for _ in range(3):
        sess.run(step)
        walked.run(step)
    assert sess.ready
    sess.state.clear()
    walked.state.clear()
    np.testing.assert_array_equal(sess.run(step), walked.run(step))
    np.testing.assert_array_equal(sess.state[w], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(sess.run(step), [4.0, 4.0, 4.0])


def test_a_variable_laid_out_anew_after_compiling_is_noticed(compile_at_once):
    # The compiled step wrote `w` last; then another fetch assigns it an
    # array in the other memory order, and the step must see that.
    graph = Graph()
    w = graph.tensor(random_matrix(60, 50, "C"))
    u = graph.tensor(random_matrix(50, 60, "C"))
    total = graph.sum(w * 2.0, axis=0)  # adds along memory: order matters
    step = graph.assign(w, w * 1.0001)
    relayout = graph.assign(w, graph.transpose(u))  # Fortran-ordered
    compiled, walked = CompiledSession(graph), Session(graph)
    for fetches in [[step, total]] * 3 + [[relayout]] + [[step, total]] * 3:
        got, expected = compiled.run(fetches), walked.run(fetches)
        assert [a.tobytes() for a in got] == [b.tobytes() for b in expected]
        assert compiled.state[w].strides == walked.state[w].strides
    assert compiled.ready


def test_a_step_that_lays_its_variable_out_anew_is_checked_every_time(
        compile_at_once):
    graph = Graph()
    w = graph.tensor(random_matrix(60, 50, "C"))
    u = graph.tensor(random_matrix(50, 60, "C"))
    total = graph.sum(w * 2.0, axis=0)
    step = graph.assign(w, graph.transpose(u) * graph.sum(w))  # Fortran order
    compiled, walked = CompiledSession(graph), Session(graph)
    for sess in (compiled, walked):
        sess.run([u, total])  # w and u in the state: [step, total] compiles for C
    for _ in range(5):
        got, expected = compiled.run([step, total]), walked.run([step, total])
        assert [a.tobytes() for a in got] == [b.tobytes() for b in expected]
    assert compiled.ready


def test_a_run_that_misses_the_signature_and_raises_is_walked_once(monkeypatch):
    monkeypatch.setattr(compiler.CompiledSession, "runs_before_compiling", 0)
    graph = Graph()
    a, w = graph.tensor(), graph.tensor(np.ones((2, 2)))
    product = graph.dot(a, w)
    walks = counting_walks(monkeypatch)
    sess = CompiledSession(graph)
    sess.run(w)
    for _ in range(2):
        sess.run(product, {a: np.ones((1, 2))})
    assert sess.ready
    before = len(walks)
    with pytest.raises(RuntimeError, match=r"\(3, 5\)"):
        sess.run(product, {a: np.ones((3, 5))})  # another signature, and wrong
    assert len(walks) - before == 1


# A compiled op whose check must stay in the code: it passes while
# compiling, and raises later on `bad`, with `match` in the message.
def check_stays(op_class, bad, match):
    graph = Graph()
    p = graph.tensor()
    y = op_class([p], graph).output
    sess = CompiledSession(graph)
    for _ in range(3):
        np.testing.assert_array_equal(sess.run(y, {p: np.ones(3)}), [2.0] * 3)
    assert sess.ready
    with pytest.raises(RuntimeError, match=match):
        sess.run(y, {p: bad})


def test_a_check_on_a_local_decided_from_shapes_still_raises(compile_at_once):
    # `n` is decided (3, from the shape); the check also reads the values,
    # so it must stay in the code.
    class NoNegativeTripleOp(BaseOp):
        def compute(self, sess, x):
            n = x.shape[0]
            if n == 3 and (x < 0).any():
                raise ValueError("three rows must not be negative")
            return x * 2

    check_stays(NoNegativeTripleOp, -np.ones(3), "must not be negative")


def test_a_check_on_a_local_computed_from_values_stays(compile_at_once):
    # `total` is a Python number made from the values: it differs from run
    # to run, so the check that reads it must stay in the code.
    class SmallTotalOp(BaseOp):
        def compute(self, sess, x):
            total = float(x.sum())
            if total > 100:
                raise ValueError("the total is too large")
            return x * 2

    check_stays(SmallTotalOp, np.full(3, 50.0), "too large")


def test_a_constant_of_one_value_becomes_one_number_of_the_results_dtype(
        compile_at_once):
    graph = Graph()
    x = graph.tensor()
    one_value = [x * np.full((5, 1), 0.1), x / np.full((5, 4), 3.0, np.float32),
                 0.1 - x, x * 3]
    others = [x + np.array([[1.0], [2.0], [1.0], [1.0], [1.0]]),  # two values
              x * np.full((2, 5, 4), 0.5),  # it makes the result larger
              x * np.array([0.0, -0.0, 0.0, 0.0])]  # two zeros, told apart
    fetches = one_value + others
    rng = np.random.default_rng(3)
    for dtype in (np.float64, np.float32, np.int64):
        feed = {x: (rng.standard_normal((5, 4)) * 10).astype(dtype)}
        plan, simple = simplified(Session(graph), fetches, feed)
        made = [v for k, v in simple[0].items() if type(k) is tuple]
        walked, simply = walk_plan(Session(graph), plan, feed), walk_plan(
            Session(graph), simple, feed)
        assert [(np.shape(v), v.dtype) for v in made] == [
            ((), walked[t].dtype) for t in one_value]
        sess = CompiledSession(graph)
        for _ in range(2):
            compiled = sess.run(fetches, feed)
        for t, value in zip(fetches, compiled):
            assert simply[t].dtype == value.dtype == walked[t].dtype
            assert simply[t].tobytes() == value.tobytes() == walked[t].tobytes()


def test_a_branch_decided_by_shapes_is_written_alone(compile_at_once):
    graph = Graph()
    x = graph.tensor()
    y = graph.log_softmax(x)
    for shape in [(4, 3), (4, 0)]:
        feed = {x: np.random.default_rng(4).standard_normal(shape)}
        sess = CompiledSession(graph)
        line = next(s for s in sess.source(y, feed).splitlines() if "np_log(" in s)
        assert " if " not in line
        sess.run(y, feed)
        assert sess.run(y, feed).tobytes() == Session(graph).run(y, feed).tobytes()
        assert sess.run(y, feed).shape == shape


# NumPy lays a result out as its operands lie: a Fortran-ordered feed times
# a C-ordered array gives a C-ordered result, times a number a Fortran-
# ordered one, and a sum adds in memory order. A constant made one number
# must leave the result's order, and so every later sum, as it was.
def test_a_constant_made_one_number_keeps_the_results_memory_order(
        compile_at_once, monkeypatch):
    monkeypatch.setattr(CompiledSession, "strict", True)
    graph = Graph()
    x = graph.tensor()
    y = x * np.full((64, 64), 0.1)
    fetches = [y, graph.sum(y), graph.sum(graph.transpose(x + np.full((64, 64), 0.5)))]
    feed = {x: np.asfortranarray(np.random.default_rng(5).standard_normal((64, 64)))}
    walked, sess = Session(graph).run(fetches, feed), CompiledSession(graph)
    for _ in range(2):
        compiled = sess.run(fetches, feed)
    assert compiled[0].strides == walked[0].strides
    for a, b in zip(compiled, walked):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


# Which branch a cond takes, or how many turns a loop makes, decides the
# dtype and shape of what it gives: the code compiled in one run must not
# take them as fixed.
def test_what_cond_and_while_loop_give_is_not_fixed_by_the_run_that_compiled(
        compile_at_once, monkeypatch):
    monkeypatch.setattr(CompiledSession, "strict", True)
    graph = Graph()
    p, x, n = graph.tensor(), graph.tensor(), graph.tensor()
    empty = graph.tensor(np.zeros((2, 0)))
    fetches = [graph.cond(p, lambda: x * 2.5, lambda: x) + 1,  # dtypes differ
               graph.sum(graph.cond(p, lambda: x, lambda: graph.sum(x, 0, keepdims=True))
                         * 2.0),  # shapes differ
               graph.while_loop(lambda v: graph.sum(v) < n, lambda v: v * 2.5, x) + 1,
               graph.log_softmax(graph.cond(p, lambda: empty, lambda: x * 1.0))]
    ints = np.arange(6, dtype=np.int32).reshape(2, 3)
    sess = CompiledSession(graph)
    for feed in [{p: True, x: ints, n: 100}] * 2 + [{p: False, x: ints, n: 0}]:
        compiled, walked = sess.run(fetches, feed), Session(graph).run(fetches, feed)
        for a, b in zip(compiled, walked):
            assert (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes())
    assert sess.ready


# A number that the result's dtype cannot hold, or that cannot be negated,
# is left as it was, and the plan still compiles.
def test_a_constant_that_cannot_be_made_one_number_stays(compile_at_once, monkeypatch):
    monkeypatch.setattr(CompiledSession, "strict", True)
    graph = Graph()
    x = graph.tensor()
    cases = [(x * 1, np.array([2**70, 3], object)),
             (x + np.timedelta64(1, "D"), np.array(["2020-01-01"], "datetime64[D]")),
             (-(x * np.array([True, False, True])), np.ones(3))]
    for y, value in cases:
        sess = CompiledSession(graph)
        for _ in range(2):
            compiled = sess.run(y, {x: value})
        walked = Session(graph).run(y, {x: value})
        assert sess.ready and compiled.dtype == walked.dtype
        assert compiled.tolist() == walked.tolist()
        assert np.signbit(compiled.astype(float)).tolist() == np.signbit(
            walked.astype(float)).tolist()
