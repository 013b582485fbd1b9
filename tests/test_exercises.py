# # Solutions to the exercises
#
# Each exercise's solution, written out as a reader might write it, and
# checked as the engine itself is checked: gradients against central
# differences (`check_gradients`, tests/helpers.py), training against
# main.py's known numbers or the same computation in NumPy. Each solution
# is the functions the exercise names; `python exercises.py mine.py` runs
# these tests on yours instead.

import importlib.util
import os
import re
from functools import cache, reduce

import numpy as np
import pytest
from helpers import check_gradients, derivative_of, numeric_gradient, walk

import main
from graph import Graph
from ops import BaseOp
from session import Session

# ## A reader's own solutions
#
# `python exercises.py mine.py` puts mine.py's path in SOLUTIONS. Every test
# then calls mine.py's functions for its exercise (named below) in place of
# the worked solution in this file, and skips if mine.py lacks one.
SOLUTIONS = {
    "0": ["Node", "evaluate", "gradients"],
    "1": ["model_with_biases"],
    "2": ["tanh"],
    "3": ["model_with_rate"],
    "4": ["model_on_placeholders"],
    "5": ["model_with_momentum"],
    "6": ["hessian_vector_product"],
    "7": ["naive_gradients"],
}


@cache
def load(path):
    spec = importlib.util.spec_from_file_location("solutions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def solution(request, monkeypatch):
    path = os.environ.get("SOLUTIONS")
    if path:
        number = re.match(r"test_exercise_(\d+)_", request.node.name)[1]
        yours = load(path)
        for name in SOLUTIONS[number]:
            if not hasattr(yours, name):
                pytest.skip(f"exercise {number}: {path} has no {name}")
            monkeypatch.setitem(globals(), name, getattr(yours, name))


def kinds(tensors):
    # The kinds of the ops that `tensors` depend on, with their counts.
    found = [t.op.kind for t in walk(tensors) if t.op is not None]
    return {kind: found.count(kind) for kind in set(found)}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_gradients(w0, w1):
    # main.py's loss and its gradients, worked out by hand (as test_xor.py
    # explains line by line).
    h = sigmoid(main.X @ w0)
    o = sigmoid(h @ w1)
    error = main.y.T - o
    grad_z1 = -2 * error / error.size * o * (1 - o)
    grad_z0 = grad_z1 @ w1.T * h * (1 - h)
    return np.mean(error**2), main.X.T @ grad_z0, h.T @ grad_z1


# ## Exercise 0: a scalar engine, from nothing
#
# Graph mode in miniature: nodes that hold a number or an op, an evaluator,
# and a `gradients` that adds new nodes to the graph, so that it can be
# applied to its own answers. Each op is a line of `FORWARD` and a line of
# `BACKWARD` (its vector-Jacobian product, here for one number).


class Node:
    # A variable (`value`) or the output of `op` applied to `inputs`.

    def __init__(self, value=None, op=None, inputs=()):
        self.value, self.op, self.inputs = value, op, inputs

    __add__ = __radd__ = lambda a, b: Node(op="add", inputs=(a, lift(b)))
    __mul__ = __rmul__ = lambda a, b: Node(op="mul", inputs=(a, lift(b)))
    __neg__ = lambda a: Node(op="neg", inputs=(a,))
    __sub__ = lambda a, b: a + -lift(b)
    __rsub__ = lambda a, b: lift(b) + -a
    sigmoid = lambda a: Node(op="sigmoid", inputs=(a,))


def lift(x):
    return x if isinstance(x, Node) else Node(float(x))


FORWARD = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "neg": lambda a: -a,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
}
BACKWARD = {  # (the output node, its gradient) -> one gradient node per input
    "add": lambda y, g: (g, g),
    "mul": lambda y, g: (g * y.inputs[1], g * y.inputs[0]),
    "neg": lambda y, g: (-g,),
    "sigmoid": lambda y, g: (g * y * (1 - y),),
}


def evaluate(node, cache=None):
    # The value of `node`, each node computed once (recursive: fine here).
    cache = {} if cache is None else cache
    if node not in cache:
        if node.op is None:
            cache[node] = node.value
        else:
            values = [evaluate(x, cache) for x in node.inputs]
            cache[node] = FORWARD[node.op](*values)
    return cache[node]


def gradients(y, xs):
    # Nodes for dy/dx, one per x (None where y does not depend on x), by Kahn's
    # algorithm: a node's gradient is passed on once all its uses have sent
    # theirs.
    uses, stack = {y: 0}, [y]
    while stack:
        for x in stack.pop().inputs:
            if x not in uses:
                uses[x] = 0
                stack.append(x)
            uses[x] += 1
    partials, grads, queue = {y: [Node(1.0)]}, {}, [y]
    while queue:
        node = queue.pop()
        grads[node] = grad = reduce(lambda a, b: a + b, partials.pop(node))
        parts = BACKWARD[node.op](node, grad) if node.op else ()
        for x, part in zip(node.inputs, parts):
            partials.setdefault(x, []).append(part)
            uses[x] -= 1
            if uses[x] == 0:
                queue.append(x)
    return [grads.get(x) for x in xs]


def test_exercise_0_scalar_gradients_match_finite_differences():
    def f(a, b):
        return ((a * b + a) * (b - 1)).sigmoid() * b

    a, b = Node(0.3), Node(-1.2)
    ga, gb = gradients(f(a, b), [a, b])
    eps = 1e-6
    for node, grad in [(a, ga), (b, gb)]:
        value = node.value
        node.value = value + eps
        up = evaluate(f(a, b))
        node.value = value - eps
        down = evaluate(f(a, b))
        node.value = value
        assert evaluate(grad) == pytest.approx((up - down) / (2 * eps), rel=1e-7)


def test_exercise_0_gradients_are_nodes_so_they_differentiate_again():
    x, unused = Node(3.0), Node(5.0)
    y = x * x * x
    dy, nothing = gradients(y, [x, unused])
    (d2y,) = gradients(dy, [x])
    assert (evaluate(y), evaluate(dy), evaluate(d2y)) == (27.0, 27.0, 18.0)
    assert nothing is None


# ## Exercise 1: biases, and sum_to in the backward graph


def model_with_biases(graph, w0, b0, w1, b1):
    inputs, targets = graph.tensor(main.X), graph.tensor(main.y)
    activations0 = graph.sigmoid(graph.dot(inputs, w0) + b0)
    activations1 = graph.sigmoid(graph.dot(activations0, w1) + b1)
    return graph.mean(graph.square(graph.transpose(targets) - activations1))


BIASES = [np.array([0.1, -0.2, 0.3, -0.4]), np.array([0.05])]


def test_exercise_1_bias_gradients_match_finite_differences():
    w0, w1 = main.initial_weights()
    check_gradients(
        lambda w0, b0, w1, b1: model_with_biases(w0.graph, w0, b0, w1, b1),
        w0,
        BIASES[0],
        w1,
        BIASES[1],
    )


def test_exercise_1_a_bias_brings_sum_to_into_the_backward_graph():
    graph = Graph()
    w0, w1 = (graph.tensor(w) for w in main.initial_weights())
    b0, b1 = (graph.tensor(b) for b in BIASES)
    loss = model_with_biases(graph, w0, b0, w1, b1)
    g_w0, g_b0, g_w1, g_b1 = graph.gradients(loss, [w0, b0, w1, b1])
    # (4, 4) + (4,): the bias was broadcast over the 4 rows, so its
    # gradient is the (4, 4) one summed back over them.
    assert g_b0.op.kind == "sum_to" and g_b1.op.kind == "sum_to"
    assert kinds([g_b0, g_b1])["sum_to"] == 2
    values = Session(graph).run([g_b0, g_b1])
    assert [np.shape(v) for v in values] == [(4,), (1,)]
    # Without biases nothing broadcasts, and no sum_to is built.
    loss, _, _ = main.build_model(*main.initial_weights())
    weights = [
        t
        for t in walk([loss])
        if t.op is None
        and np.ndim(t.initial_value) == 2
        and np.shape(t.initial_value) in {(2, 4), (4, 1)}
    ]
    assert "sum_to" not in kinds(loss.graph.gradients(loss, weights))


def test_exercise_1_the_biased_network_trains():
    graph = Graph()
    w0, w1 = (graph.tensor(w) for w in main.initial_weights())
    b0, b1 = (graph.tensor(b) for b in BIASES)
    params = [w0, b0, w1, b1]
    loss = model_with_biases(graph, *params)
    grads = graph.gradients(loss, params)
    update = graph.group([graph.assign(p, p - g) for p, g in zip(params, grads)])
    sess = Session(graph)
    losses = [sess.run([update, loss])[1] for _ in range(3000)]
    assert losses[0] > 0.25 and losses[-1] < 0.01
    assert all(
        later <= earlier for earlier, later in zip(losses[500:], losses[501:])
    )


# ## Exercise 2: a tanh op


class TanhOp(BaseOp):
    def compute(self, sess, x):
        return np.tanh(x)

    # tanh'(x) = 1 − tanh²(x): like sigmoid's, it needs only the output y.
    def gradient(self, grad):
        y = self.output
        return [grad * (1 - y * y)]


def tanh(x):
    return TanhOp([x], x.graph).output


@pytest.mark.parametrize("placeholders", [False, True])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_exercise_2_tanh_and_its_gradient(shape, placeholders):
    x = np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape)
    graph = Graph()
    np.testing.assert_allclose(Session(graph).run(tanh(graph.tensor(x))), np.tanh(x))
    check_gradients(tanh, x, placeholders=placeholders)
    # Its gradient is made of ops, so it has a gradient too:
    # tanh''(x) = −2 tanh(x) (1 − tanh²(x)).
    got = check_gradients(derivative_of(tanh), x, placeholders=placeholders)
    np.testing.assert_allclose(
        got[0], -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), atol=1e-12
    )


def test_exercise_2_tanh_inside_a_model():
    check_gradients(
        lambda a, b: tanh(a.graph.dot(a, b)) * b.graph.transpose(a),
        [[0.3, -0.7], [1.2, 0.4]],
        [[0.5, -1.1], [0.8, 0.2]],
    )


# ## Exercise 3: the learning rate as a placeholder


def model_with_rate():
    loss, _, output = main.build_model(*main.initial_weights())
    graph = loss.graph
    w0, w1 = [
        t
        for t in sorted(walk([loss]), key=lambda t: t.number)
        if t.op is None and np.shape(t.initial_value) in {(2, 4), (4, 1)}
    ]
    rate = graph.tensor()
    g0, g1 = graph.gradients(loss, [w0, w1])
    update = graph.group(
        [graph.assign(w0, w0 - rate * g0), graph.assign(w1, w1 - rate * g1)]
    )
    return loss, update, rate, (w0, w1)


def test_exercise_3_a_rate_of_1_is_main_pys_training():
    loss, update, rate, _ = model_with_rate()
    sess = Session(loss.graph)
    losses = [sess.run([update, loss], {rate: 1.0})[1] for _ in range(10_000)]
    assert losses[0] == pytest.approx(0.400740028636, rel=1e-9)
    assert losses[-1] == pytest.approx(0.000823083078, rel=1e-9)


def test_exercise_3_the_rate_can_change_every_epoch():
    loss, update, rate, (w0, w1) = model_with_rate()
    sess = Session(loss.graph)
    w0_now, w1_now = main.initial_weights()
    for epoch in range(200):
        r = 2.0 / (1 + epoch / 50)  # a decaying schedule
        _, value = sess.run([update, loss], {rate: r})
        expected, g0, g1 = numpy_gradients(w0_now, w1_now)
        assert value == pytest.approx(expected, rel=1e-12)
        w0_now, w1_now = w0_now - r * g0, w1_now - r * g1
    np.testing.assert_allclose(sess.run(w0), w0_now, rtol=1e-10)
    # A rate of 0 leaves the weights where they are.
    before = sess.run([w0, w1])
    sess.run(update, {rate: 0.0})
    for now, then in zip(sess.run([w0, w1]), before):
        np.testing.assert_array_equal(now, then)


def test_exercise_3_forgetting_to_feed_the_rate_says_so():
    loss, update, rate, _ = model_with_rate()
    with pytest.raises(ValueError, match=repr(rate)):
        Session(loss.graph).run(update)


# ## Exercise 4: minibatches through feed_dict


def model_on_placeholders(w0, w1):
    graph = Graph()
    inputs, targets = graph.tensor(), graph.tensor()
    w0, w1 = graph.tensor(w0), graph.tensor(w1)
    activations1 = graph.sigmoid(graph.dot(graph.sigmoid(graph.dot(inputs, w0)), w1))
    loss = graph.mean(graph.square(graph.transpose(targets) - activations1))
    g0, g1 = graph.gradients(loss, [w0, w1])
    update = graph.group([graph.assign(w0, w0 - g0), graph.assign(w1, w1 - g1)])
    return inputs, targets, loss, update, (w0, w1)


def test_exercise_4_feeding_all_four_rows_is_main_pys_training():
    inputs, targets, loss, update, _ = model_on_placeholders(*main.initial_weights())
    sess = Session(loss.graph)
    everything = {inputs: main.X, targets: main.y}
    losses = [sess.run([update, loss], everything)[1] for _ in range(10_000)]
    assert losses[0] == pytest.approx(0.400740028636, rel=1e-9)
    assert losses[-1] == pytest.approx(0.000823083078, rel=1e-9)


def test_exercise_4_minibatches_of_two_rows():
    inputs, targets, loss, update, (w0, w1) = model_on_placeholders(
        *main.initial_weights()
    )
    sess = Session(loss.graph)
    rng = np.random.default_rng(0)
    for _ in range(5_000):
        rows = rng.choice(4, size=2, replace=False)
        sess.run(update, {inputs: main.X[rows], targets: main.y[:, rows]})
    # The mean's gradient divided by 2, the batch's size, read at run time;
    # the network has learned XOR from halves of it.
    final = sess.run(loss, {inputs: main.X, targets: main.y})
    assert final < 0.01
    # One step on a batch is the NumPy step on those rows alone.
    before = sess.run([w0, w1])
    step_loss = sess.run(
        [update, loss], {inputs: main.X[:2], targets: main.y[:, :2]}
    )[1]
    h = sigmoid(main.X[:2] @ before[0])
    o = sigmoid(h @ before[1])
    assert step_loss == pytest.approx(np.mean((main.y[:, :2].T - o) ** 2), rel=1e-12)
    # ... and its update is that of the NumPy gradient over those rows.
    error = main.y[:, :2].T - o
    grad_z1 = -2 * error / 2 * o * (1 - o)
    np.testing.assert_allclose(sess.run(w1), before[1] - h.T @ grad_z1, rtol=1e-12)


# ## Exercise 5: momentum, built from assign


def model_with_momentum(momentum):
    graph = Graph()
    start = main.initial_weights()
    weights = [graph.tensor(w) for w in start]
    velocities = [graph.tensor(np.zeros_like(w)) for w in start]
    inputs, targets = graph.tensor(main.X), graph.tensor(main.y)
    activations1 = graph.sigmoid(
        graph.dot(graph.sigmoid(graph.dot(inputs, weights[0])), weights[1])
    )
    loss = graph.mean(graph.square(graph.transpose(targets) - activations1))
    grads = graph.gradients(loss, weights)
    steps = []
    for w, v, g in zip(weights, velocities, grads):
        new_v = momentum * v + g
        # Both assignments read the values from before the run, so the
        # weight's step uses the new velocity tensor, not the variable v.
        steps += [graph.assign(v, new_v), graph.assign(w, w - 0.5 * new_v)]
    return loss, graph.group(steps), weights, velocities


def test_exercise_5_momentum_matches_numpy():
    loss, update, weights, velocities = model_with_momentum(0.9)
    sess = Session(loss.graph)
    w0, w1 = main.initial_weights()
    v0, v1 = np.zeros_like(w0), np.zeros_like(w1)
    for _ in range(300):
        _, value = sess.run([update, loss])
        expected, g0, g1 = numpy_gradients(w0, w1)
        assert value == pytest.approx(expected, rel=1e-10)
        v0, v1 = 0.9 * v0 + g0, 0.9 * v1 + g1
        w0, w1 = w0 - 0.5 * v0, w1 - 0.5 * v1
    np.testing.assert_allclose(sess.run(weights[0]), w0, rtol=1e-9)
    np.testing.assert_allclose(sess.run(velocities[1]), v1, rtol=1e-9, atol=1e-15)


def test_exercise_5_momentum_learns_faster():
    def loss_after(momentum, epochs=1000):
        loss, update, _, _ = model_with_momentum(momentum)
        sess = Session(loss.graph)
        for _ in range(epochs):
            sess.run(update)
        return sess.run(loss)

    assert loss_after(0.9) < loss_after(0.0) / 10


# ## Exercise 6: a Hessian-vector product


def hessian_vector_product(y, x, v):
    # gradients(y, x) is the tensor g = ∇y. gradients differentiates the
    # *sum* of its y, so gradients(g * v, x) is ∇(Σ_j g_j v_j) = H v.
    (g,) = y.graph.gradients(y, [x])
    (hv,) = y.graph.gradients(g * v, [x])
    return hv


def test_exercise_6_a_quadratic_whose_hessian_is_known():
    a = np.array([[2.0, -1.0, 0.5], [0.0, 1.5, -2.0], [1.0, 1.0, 1.0]])
    v = np.array([[1.0], [-2.0], [0.5]])
    graph = Graph()
    x = graph.tensor(np.array([[0.3], [-0.1], [0.8]]))
    y = graph.mean(graph.square(graph.dot(a, x)))  # y = |Ax|² / 3
    hv = Session(graph).run(hessian_vector_product(y, x, v))
    np.testing.assert_allclose(hv, 2 / 3 * a.T @ a @ v, rtol=1e-12)


def test_exercise_6_against_finite_differences_of_the_gradient():
    # H v is the directional derivative of the gradient along v:
    # (∇y(x + εv) − ∇y(x − εv)) / 2ε.
    w0, w1 = main.initial_weights()
    v = np.random.default_rng(2).normal(size=w0.shape)
    graph = Graph()
    x = graph.tensor(w0)
    activations1 = graph.sigmoid(graph.dot(graph.sigmoid(graph.dot(main.X, x)), w1))
    y = graph.mean(graph.square(graph.transpose(main.y) - activations1))
    (g,) = graph.gradients(y, [x])
    hv = hessian_vector_product(y, x, v)
    sess = Session(graph)
    eps = 1e-5
    expected = (sess.run(g, {x: w0 + eps * v}) - sess.run(g, {x: w0 - eps * v})) / (
        2 * eps
    )
    np.testing.assert_allclose(sess.run(hv), expected, rtol=1e-6, atol=1e-9)
    # And each element is a second derivative, checked the standard way.
    check_gradients(
        lambda x: (
            x.graph.gradients(x.graph.mean(x.graph.square(x.graph.sigmoid(x))), [x])[
                0
            ]
            * v[0]
        ),
        w0[0],
    )


# ## Exercise 7: the naive queue, and what it costs


def naive_gradients(y, x):
    # Every partial gradient is passed on as soon as it is made, with no
    # counting of uses: a tensor used twice is walked through twice.
    graph = y.graph
    parts = []
    stack = [(y, graph.broadcast_to(1.0, y))]
    while stack:
        t, grad = stack.pop()
        if t is x:
            parts.append(grad)
        elif t.op is not None:
            for inp, inp_grad in zip(t.op.inputs, t.op.gradient(grad)):
                if inp_grad is not None:
                    stack.append((inp, inp_grad))
    return reduce(graph.add, parts)


def diamonds(levels):
    graph = Graph()
    x, c = graph.tensor(1.1), graph.tensor(0.75)
    t = x
    for _ in range(levels):
        t = t * c + t * c  # t is used twice, along two paths that meet again
    return graph, x, t


def ops_added(differentiate, levels):
    graph, x, t = diamonds(levels)
    before = graph.count
    grad = differentiate(t, x)
    return graph.count - before, Session(graph).run(grad)


def test_exercise_7_both_queues_give_the_same_gradient():
    for levels in range(1, 8):
        _, naive = ops_added(naive_gradients, levels)
        _, counted = ops_added(lambda t, x: t.graph.gradients(t, [x])[0], levels)
        assert naive == pytest.approx(1.5**levels, rel=1e-12)
        assert counted == pytest.approx(1.5**levels, rel=1e-12)
    graph, x, t = diamonds(3)
    sess = Session(graph)
    expected = numeric_gradient(lambda value: sess.run(t, {x: value}), 1.1)
    assert sess.run(naive_gradients(t, x)) == pytest.approx(expected, rel=1e-8)


def test_exercise_7_the_naive_queue_doubles_its_work_at_every_level():
    naive = [ops_added(naive_gradients, n)[0] for n in range(1, 11)]
    counted = [
        ops_added(lambda t, x: t.graph.gradients(t, [x])[0], n)[0]
        for n in range(1, 11)
    ]
    # Counting uses: a fixed number of ops per level.
    assert len({b - a for a, b in zip(counted, counted[1:])}) == 1
    # Passing every part on: each level's work is twice the one before.
    growth = [b - a for a, b in zip(naive, naive[1:])]
    assert all(later == 2 * earlier for earlier, later in zip(growth, growth[1:]))
    assert naive[-1] > 50 * counted[-1]


# That is the end. Back to the start: [main.py](main.html).
