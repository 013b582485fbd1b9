"""End to end: main.py's XOR network, against the same network by hand.

The reference below is the forward and backward pass of main.py's model
written out in NumPy, with every derivative worked out on paper:

    h = σ(X w0)                   hidden layer, (4, 4)
    o = σ(h w1)                   output, (4, 1)
    loss = mean((yᵀ − o)²)        over the n = 4 rows

    ∂loss/∂o  = −2 (yᵀ − o) / n   (the mean's 1/n included)
    ∂loss/∂z1 = ∂loss/∂o · o (1 − o)         where o = σ(z1)
    ∂loss/∂w1 = hᵀ ∂loss/∂z1
    ∂loss/∂h  = ∂loss/∂z1 w1ᵀ
    ∂loss/∂z0 = ∂loss/∂h · h (1 − h)         where h = σ(z0)
    ∂loss/∂w0 = Xᵀ ∂loss/∂z0

and gradient descent with a learning rate of 1. Both computations round
differently, but only in the last digits: they stay within 1e-12 of each
other over the first thousand epochs.
"""

import numpy as np
import pytest
from helpers import ATOL, RTOL, numeric_gradient

import main
from ops import SigmoidOp
from session import Session


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_epoch(w0, w1):
    """One epoch by hand: the loss before the update, and the new weights."""
    h = sigmoid(main.X @ w0)
    o = sigmoid(h @ w1)
    error = main.y.T - o
    loss = np.mean(error**2)

    grad_o = -2 * error / error.size
    grad_z1 = grad_o * o * (1 - o)
    grad_w1 = h.T @ grad_z1
    grad_h = grad_z1 @ w1.T
    grad_z0 = grad_h * h * (1 - h)
    grad_w0 = main.X.T @ grad_z0
    return loss, w0 - grad_w0, w1 - grad_w1


def find_variables(loss, *arrays):
    """The variables of loss's graph that start from these arrays (the
    weights given to main.build_model), found by walking back from loss."""
    variables, seen, stack = [], set(), [loss]
    while stack:
        t = stack.pop()
        if t not in seen:
            seen.add(t)
            if t.op is None and t.initial_value is not None:
                variables.append(t)
            stack.extend(t.op.inputs if t.op else ())
    return [next(t for t in variables if np.array_equal(t.initial_value, array))
            for array in arrays]


def test_initial_weights_are_seeded():
    w0, w1 = main.initial_weights()
    again0, again1 = main.initial_weights()
    assert w0.shape == (2, 4) and w1.shape == (4, 1)
    np.testing.assert_array_equal(w0, again0)
    np.testing.assert_array_equal(w1, again1)


def test_loss_matches_numpy_for_the_first_1000_epochs():
    w0, w1 = main.initial_weights()
    weights = [w0.copy(), w1.copy()]
    loss, update, output = main.build_model(*weights)
    sess = Session(loss.graph)
    for epoch in range(1000):
        _, value = sess.run([update, loss])
        expected, w0, w1 = numpy_epoch(w0, w1)
        assert value == pytest.approx(expected, rel=1e-12), f"epoch {epoch}"

    # The weights after those 1000 updates, and the network's output.
    variable0, variable1 = find_variables(loss, *weights)
    np.testing.assert_allclose(sess.state[variable0], w0, rtol=1e-12)
    np.testing.assert_allclose(sess.state[variable1], w1, rtol=1e-12)
    np.testing.assert_allclose(sess.run(output), sigmoid(sigmoid(main.X @ w0) @ w1),
                               rtol=1e-12)


def test_the_gradients_match_finite_differences_of_the_loss():
    # The model exactly as main.py builds it, at its starting point.
    weights = main.initial_weights()
    loss, _, _ = main.build_model(*weights)
    graph = loss.graph
    variables = find_variables(loss, *weights)
    sess = Session(graph)
    grads = sess.run(graph.gradients(loss, variables))
    for variable, grad, w in zip(variables, grads, weights):
        expected = numeric_gradient(lambda v, variable=variable: sess.run(loss, {variable: v}), w)
        assert grad.shape == w.shape
        np.testing.assert_allclose(grad, expected, rtol=RTOL, atol=ATOL)


def test_ten_thousand_epochs_give_the_published_losses():
    # These numbers come from TensorFlow, PyTorch, JAX, HIPS autograd and
    # hand-derived NumPy, all in float64, all agreeing (issue 2).
    loss, update, _ = main.build_model(*main.initial_weights())
    sess = Session(loss.graph)
    losses = [sess.run([update, loss])[1] for _ in range(10_000)]
    assert losses[0] == pytest.approx(0.400740028636, rel=1e-9)
    assert losses[-1] == pytest.approx(0.000823083078, rel=1e-9)
    assert sess.run(loss) == pytest.approx(0.000822993085, rel=1e-9)


def test_train_prints_the_losses_and_a_table(capsys):
    main.train(epochs=2)
    printed = capsys.readouterr().out
    assert "0.400740028636" in printed
    rows = [line.split() for line in printed.splitlines() if line.strip()[:1] in {"0", "1"}]
    assert [row[:3] for row in rows] == [["0", "0", "0"], ["0", "1", "1"],
                                        ["1", "0", "1"], ["1", "1", "0"]]
    assert all(0 < float(row[3]) < 1 for row in rows)


def test_main_pys_gradient_check_passes_and_catches_a_wrong_rule(monkeypatch):
    weights = main.initial_weights()
    loss, _, _ = main.build_model(*weights)
    sess = Session(loss.graph)
    variables = find_variables(loss, *weights)
    # What main.py's page says: below 1e-10 for both weight matrices.
    assert all(main.gradient_check(sess, loss, v) < 1e-10 for v in variables)
    # The sigmoid's rule without its (1 - y) factor is caught at once.
    monkeypatch.setattr(SigmoidOp, "gradient", lambda op, grad: [grad * op.output])
    assert main.gradient_check(sess, loss, variables[0]) > 1e-3
