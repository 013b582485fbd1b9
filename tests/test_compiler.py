"""The compiled path (compiler.py): when a plan is compiled, what the code
looks like, and that it changes nothing but speed.

Every other test runs under both executors already (conftest.py); these pin
what is particular to compiling.
"""

import re
import sys
import threading

import numpy as np
import pytest

import compiler
from compiler import CompiledSession
from graph import Graph
from main import build_model, initial_weights
from ops import BaseOp
from session import Session


@pytest.fixture
def compile_at_once(monkeypatch):
    monkeypatch.setattr(compiler.Compiler, "runs_before_compiling", 0)


def xor_losses(steps, compile):
    loss, update, _ = build_model(*initial_weights())
    sess = (CompiledSession if compile else Session)(loss.graph)
    losses = [sess.run([update, loss])[1] for _ in range(steps)]
    return losses, sess


def test_xor_losses_equal_the_walks_for_2000_steps(compile_at_once):
    walked, _ = xor_losses(2000, compile=False)
    compiled, sess = xor_losses(2000, compile=True)
    assert sess.compiler.ready, "the step ran compiled"
    np.testing.assert_allclose(compiled, walked, rtol=1e-13, atol=0)
    assert compiled[0] == pytest.approx(0.400740028636, rel=1e-11)


def test_a_plan_is_compiled_once_it_has_run_enough_times(monkeypatch):
    monkeypatch.setattr(compiler.Compiler, "runs_before_compiling", 3)
    graph = Graph()
    w = graph.tensor(np.ones(3))
    y = w * 2
    sess = CompiledSession(graph)
    for _ in range(3):
        sess.run([y])
        assert not sess.compiler.ready
    sess.run([y])
    assert len(sess.compiler.ready) == 1
    np.testing.assert_array_equal(sess.run([y])[0], [2.0, 2.0, 2.0])


def test_compile_false_walks():
    sess = Session(Graph())
    assert not hasattr(sess, "compiler")


def test_the_code_can_be_printed_and_reads_like_the_model():
    loss, update, _ = build_model(*initial_weights())
    sess = CompiledSession(loss.graph)
    source = sess.compiler.source([update, loss])
    compile(source, "<printed>", "exec")
    # Inlined: NumPy calls, no compute calls; the seed and mean's spread
    # are computed once; the weights are read and written under the lock.
    assert source.count("np_dot(") == 5 and "(sess" not in source
    assert "broadcast_to" in source and "computed once" in source
    assert re.search(r"state\[VARIABLE_\d+\] = assign_\d+", source)
    assert "BUFFER_" in source
    # dot's and assign's checks read only shapes and dtypes: decided once.
    assert "raise" not in source
    # The new weights are float64 already: assign's cast is left out.
    assert "np_asarray(" not in source


def test_assign_still_casts_a_value_of_another_dtype(compile_at_once):
    graph = Graph()
    w = graph.tensor(np.zeros(3, np.float32))
    step = graph.assign(w, w + np.ones(3))  # float64 + float32 is float64
    sess = CompiledSession(graph)
    for _ in range(3):
        sess.run(step)
    assert "np_asarray(" in sess.compiler.source(step)
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
    assert ".compute(sess" not in sess.compiler.source(y)  # a bound method, hoisted
    assert "CUMULATIVE_1(sess, variable_0)" in sess.compiler.source(y)
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
    assert sess.compiler.ready
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
    assert "BUFFER_" in sess.compiler.source([step, hidden, doubled, grad])
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

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(0.005)
    assert "BUFFER_" in sess.compiler.source(out, {p: 0.0})
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
    source = compiled.compiler.source([step, loss], {p: batches[0]})
    assert "placeholder_0.shape != (4, 3)" in source
    for batch in batches:
        got, expected = compiled.run([step, loss], {p: batch}), walked.run(
            [step, loss], {p: batch})
        np.testing.assert_array_equal(got[0], expected[0])
        assert got[1] == expected[1] and type(got[1]) is type(expected[1])
    np.testing.assert_array_equal(compiled.state[w], walked.state[w])
