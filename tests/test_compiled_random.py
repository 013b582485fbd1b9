"""Random graphs, run walked and compiled: the results must be equal bit for
bit, dtype included, whatever the memory order of the values, their dtypes,
broadcasting, the constants' spelling, the axes of a reduction."""

import numpy as np

import compiler
from compiler import CompiledSession
from graph import Graph
from session import Session

# Every spelling of the axes of a (2-D) reduction.
AXES = [None, 0, 1, -1, -2, (0,), (0, 1), (-1, 0), [1], [0, 1], np.int64(1), np.array([0, -1])]


def layouts(rng, shape, dtype):
    value = rng.normal(size=shape).astype(dtype) if dtype != np.int64 else (
        rng.integers(-3, 4, size=shape))
    return [value, np.asfortranarray(value), np.ascontiguousarray(value.T).T]


def random_graph(rng):
    n, m = rng.integers(1, 6, size=2)
    graph = Graph()
    f64, f32 = (graph.tensor(rng.choice(layouts(rng, (n, m), d)))
                for d in (np.float64, np.float32))
    ints = graph.tensor(rng.choice(layouts(rng, (n, m), np.int64)))
    square = graph.tensor(rng.choice(layouts(rng, (m, m), np.float64)))
    p = graph.tensor()
    pool = [f64, f32, p, graph.sigmoid(ints)]
    partners = [lambda: 0.5, lambda: 2, lambda: np.float32(1.5),
                lambda: np.float64(-0.25), lambda: rng.normal(size=m),
                lambda: rng.normal(size=(n, 1)).astype(np.float32),
                lambda: pool[rng.integers(len(pool))]]
    for _ in range(rng.integers(4, 12)):
        x = pool[rng.integers(len(pool))]
        kind = rng.integers(7)
        if kind == 0:
            b = partners[rng.integers(len(partners))]()
            x = [x + b, x - b, x * b, b * x, b - x][rng.integers(5)]
        elif kind == 1:
            x = [graph.sigmoid, graph.square, graph.neg, graph.softmax][
                rng.integers(4)](x)
        elif kind == 2:
            reduce = [graph.sum, graph.mean][rng.integers(2)]
            x = x - reduce(x, AXES[rng.integers(len(AXES))], keepdims=True)
        elif kind == 3:
            x = graph.dot(x, square)
        elif kind == 4:
            x = graph.transpose(graph.transpose(x) * 3.0)
        elif kind == 5:
            x = graph.sigmoid(x) / (1.0 + graph.square(x))
        else:
            labels = np.eye(m)[rng.integers(m, size=n)]
            x = graph.expand(graph.softmax_cross_entropy_with_logits(
                labels=labels, logits=x), x, axis=1, keepdims=False)
        pool.append(x)
    h = pool[-1]
    axis = AXES[rng.integers(len(AXES))]
    loss = graph.mean(graph.sum(h, axis)) + graph.sum(graph.square(h))
    grads = graph.gradients(loss, [f64, f32, square])
    steps = [graph.assign(v, v - 0.01 * g)
             for v, g in zip([f64, f32, square], grads) if g is not None]
    fetches = [loss, h, graph.sum(ints, axis), *grads, *steps]
    feeds = layouts(rng, (n, m), [np.float64, np.float32][rng.integers(2)])
    return graph, [f for f in fetches if f is not None], p, feeds


def test_random_graphs_compiled_equal_walked_bit_for_bit(monkeypatch):
    monkeypatch.setattr(compiler.CompiledSession, "runs_before_compiling", 1)
    monkeypatch.setattr(compiler.CompiledSession, "strict", True)
    rng = np.random.default_rng(2024)
    for _ in range(250):
        graph, fetches, p, feeds = random_graph(rng)
        walked, compiled = Session(graph), CompiledSession(graph)
        with np.errstate(all="ignore"):
            for feed in feeds * 2:
                expected = walked.run(fetches, {p: feed})
                got = compiled.run(fetches, {p: feed})
                for a, b in zip(got, expected):
                    assert type(a) is type(b) and a.dtype == b.dtype
                    np.testing.assert_array_equal(a, b, strict=True)
        assert compiled.ready, "something ran compiled"
        for t, value in walked.state.items():
            np.testing.assert_array_equal(compiled.state[t], value, strict=True)
