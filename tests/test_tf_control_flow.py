"""Parity with TensorFlow for cond and while_loop: the same graphs built with
tf.cond and tf.while_loop (tf.compat.v1, graph mode, float64) and
differentiated with tf.gradients agree with ours to 1e-12.

Without TensorFlow these tests are skipped, except under CI (CI=true), where
a missing TensorFlow is an error."""

import os
from types import SimpleNamespace

import numpy as np
import pytest

import control_flow as cf
import tf_test
from graph import Graph
from session import Session

if tf_test.tf is None:
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail("CI must run the parity tests: pip install -r requirements-tf.txt",
                    pytrace=False)
    pytest.skip("TensorFlow is not installed: pip install -r requirements-tf.txt",
                allow_module_level=True)
tf = tf_test.tf.compat.v1

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 4))
W = RNG.normal(size=(4, 4)) * 0.5


def both(build, feeds):
    """Build `build(api, x, w, feeds) -> (y, [x, w])` in both engines, fetch y
    and its gradients with respect to x and w, and return both results."""
    results = []
    for engine in ("ours", "tf"):
        if engine == "ours":
            graph = Graph()
            api = Ours(graph)
            x, w = graph.tensor(X), graph.tensor(W)
            placeholders = {k: graph.tensor() for k in feeds}
            y = build(api, x, w, placeholders)
            grads = graph.gradients(y, [x, w])
            sess = Session(graph)
            feed = {placeholders[k]: v for k, v in feeds.items()}
            results.append(sess.run([y, grads], feed))
        else:
            graph = tf.Graph()
            with graph.as_default():
                x, w = tf.Variable(X), tf.Variable(W)
                placeholders = {k: tf.placeholder(tf.bool if v in (True, False)
                                                  and type(v) is bool else tf.int32)
                                for k, v in feeds.items()}
                y = build(TF(), x, w, placeholders)
                grads = tf.gradients(tf.reduce_sum(y), [x, w])
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    feed = {placeholders[k]: v for k, v in feeds.items()}
                    results.append(sess.run([y, grads], feed))
    return results


class Ours:
    def __init__(self, graph):
        self.graph = graph
        self.cond, self.while_loop = graph.cond, graph.while_loop
        self.sigmoid, self.dot, self.sum = graph.sigmoid, graph.dot, graph.sum
        self.tanh = cf.tanh


def TF():
    return SimpleNamespace(cond=tf.cond, while_loop=tf.while_loop, sigmoid=tf.sigmoid,
                           dot=tf.matmul, sum=tf.reduce_sum, tanh=tf.tanh)


def assert_agree(ours, theirs):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("taken", [True, False])
def test_cond(taken):
    def build(api, x, w, fed):
        return api.cond(fed["p"], lambda: api.sigmoid(api.dot(x, w)),
                        lambda: api.dot(x * x, w) - x)
    assert_agree(*both(build, {"p": taken}))


@pytest.mark.parametrize("count", [0, 1, 5])
def test_while_loop(count):
    def build(api, x, w, fed):
        _, h = api.while_loop(lambda i, h: i < fed["n"],
                              lambda i, h: (i + 1, api.tanh(api.dot(h, w) + x)),
                              [0, x])
        return h * h
    assert_agree(*both(build, {"n": count}))


def test_a_cond_inside_a_loop():
    def build(api, x, w, fed):
        def body(i, h):
            s = api.sum(h)
            return i + 1, api.cond(s > 0, lambda: api.sigmoid(api.dot(h, w)),
                                   lambda: h * 0.5 + x)
        return api.while_loop(lambda i, h: i < fed["n"], body, [0, x])[1]
    assert_agree(*both(build, {"n": 6}))


def test_a_loop_inside_a_branch():
    def build(api, x, w, fed):
        def power():
            return api.while_loop(lambda i, h: i < 3,
                                  lambda i, h: (i + 1, api.dot(h, w) * 0.5),
                                  [0, x])[1]
        return api.cond(fed["p"], power, lambda: x * 2.0)
    assert_agree(*both(build, {"p": True}))
