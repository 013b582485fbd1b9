# # differentiation: TensorFlow's graph mode, from scratch
#
# A small, complete re-implementation of the core of TensorFlow 1, written
# to be read. This page trains a neural network with it; Part I, the next
# four pages, builds the engine it runs on, and Part II extends it.
#
# ## The problem: XOR
#
# XOR is 1 when exactly one of its two inputs is 1:
#
#     x₁  x₂   XOR
#      0   0    0
#      0   1    1
#      1   0    1
#      1   1    0
#
# On the corners of a square, the 1s sit on one diagonal and the 0s on the
# other: no straight line separates them, so a one-layer network cannot
# learn XOR, and one with a hidden layer can. That makes XOR the classic
# first test of an engine like this.
#
# ## The architecture
#
# A **graph** ([graph.py](graph.html), [tensor.py](tensor.html),
# [ops.py](ops.html)) describes a computation without doing it: its nodes
# are *tensors*, which will carry values, and *ops*, which compute a tensor
# from tensors. `graph.sigmoid(graph.dot(a, b))` computes nothing; it adds
# two ops and returns the tensor standing for their result.
#
# A **session** ([session.py](session.html)) evaluates tensors on demand,
# running the ops they need on NumPy arrays, and keeps the variables'
# values (the weights) from one run to the next.
#
# **`graph.gradients`** is the reason for the graph. Given the loss $L$ and
# tensors $x$, it walks backwards from $L$, applying the chain rule op by
# op, and *adds ops to the graph* that compute $∂L/∂x$: the derivative is
# itself a graph, which the session runs like any other. This is how
# `tf.gradients` works.
#
# `X` holds the four inputs, one per row, and `y` their targets.
import numpy as np
from tqdm import tqdm

from graph import Graph
from session import Session

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([[0, 1, 1, 0]], dtype=float)


# The weights start random, from NumPy's random seed 67, so that every
# run, and tf_test.py's TensorFlow twin, starts from the same numbers.
def initial_weights():
    np.random.seed(67)
    return np.random.normal(size=(2, 4)), np.random.normal(size=(4, 1))


# ## The model
#
# Each line of `build_model` adds ops to `graph` and returns the tensor
# that will hold their result. With $\sigma$ the sigmoid,
#
# $$\begin{array}{rcl}
# a_0 &=& \sigma(X W_0) \\
# a_1 &=& \sigma(a_0 W_1) \\
# L &=& \frac{1}{4} \sum_i \left(y_i - a_{1,i}\right)^2
# \end{array}$$
#
# $W_0$ (`weights0`, 2 × 4) maps each input row to four hidden values,
# $W_1$ (`weights1`, 4 × 1) maps those to one output, and the loss is the
# mean squared error. The forward graph, ops in blue, variables in green:
#
# ![The forward graph: dot, sigmoid, dot, sigmoid, then the squared
# error's mean](xor_forward.svg)
def build_model(start0, start1):
    graph = Graph()
    inputs, targets = graph.tensor(X), graph.tensor(y)
    weights0, weights1 = graph.tensor(start0), graph.tensor(start1)

    activations0 = graph.sigmoid(graph.dot(inputs, weights0))
    activations1 = graph.sigmoid(graph.dot(activations0, weights1))
    loss = graph.mean(graph.square(graph.transpose(targets) - activations1))

    # `graph.gradients` extends the same graph with tensors for $∂L/∂W_0$
    # and $∂L/∂W_1$. The update is gradient descent with a learning rate of
    # 1, $W \leftarrow W - ∂L/∂W$; `group` bundles both assignments into
    # one fetch.
    #
    # Drawn again, the graph has grown the orange ops `gradients` added.
    # Read them from the loss down: one link of the chain rule per op,
    # reading forward values on the way (each sigmoid's gradient uses its
    # output), to the weights' gradients; the purple ops are the update.
    #
    # ![The graph after gradients: orange backward ops from the loss to
    # the weights, and the purple update](xor_backward.svg)
    grad0, grad1 = graph.gradients(loss, [weights0, weights1])
    update = graph.group([graph.assign(weights0, weights0 - grad0),
                          graph.assign(weights1, weights1 - grad1)])
    return loss, update, activations1


# ## Training
#
# A session holds the weights' current values, so training is a loop of
# runs. `fit` uses nothing but `sess.run`, which is why TensorFlow's own
# session can drive it unchanged (tf_test.py does).
def train(epochs=10_000):
    loss, update, output = build_model(*initial_weights())
    fit(Session(loss.graph), loss, update, output, epochs)


# Each epoch runs the update and fetches the loss, from *before* that
# update, in one run. (The bar's text changes every 100 epochs.)
def fit(sess, loss, update, output, epochs):
    losses = []
    bar = tqdm(range(epochs))
    for epoch in bar:
        _, value = sess.run([update, loss])
        losses.append(value)
        if epoch % 100 == 0 or epoch == epochs - 1:
            bar.set_description(f"loss {value:.6f}", refresh=False)
    bar.close()

    print(f"loss in the first epoch: {losses[0]:.12f}")
    print(f"loss in the last epoch:  {value:.12f}")
    print(f"loss after training:     {sess.run(loss):.12f}")
    print("\n x1  x2  XOR  network")
    for (x1, x2), target, prediction in zip(X, y[0], sess.run(output)[:, 0]):
        print(f" {x1:.0f}   {x2:.0f}   {target:.0f}    {prediction:.4f}")
    return losses


# ## Is the gradient right?
#
# The definition of a derivative gives a check that shares nothing with
# `gradients`: nudge one element of $x$ by $\epsilon$ both ways,
#
# $$\frac{∂y}{∂x_i} \approx \frac{y(x + \epsilon e_i) - y(x - \epsilon e_i)}
# {2\epsilon}$$
#
# (*central differences*), feeding the nudged values: a feed overrides a
# variable for one run (session.py). At the starting weights the largest
# gap is $2.2 \times 10^{-11}$ for $W_0$ and $3.0 \times 10^{-11}$ for
# $W_1$ (tests/test_xor.py runs it); rules with a factor dropped or a sign
# flipped miss by 0.03 to 0.5. The tests check every op this way.
def gradient_check(sess, y, x, epsilon=1e-6):
    (grad,) = y.graph.gradients(y, [x])
    value = sess.run(x)
    numeric = np.zeros_like(value)
    for i in np.ndindex(value.shape):
        nudge = np.zeros_like(value)
        nudge[i] = epsilon
        up, down = (sess.run(y, {x: value + s}) for s in (nudge, -nudge))
        numeric[i] = (np.sum(up) - np.sum(down)) / (2 * epsilon)
    return np.max(np.abs(sess.run(grad) - numeric))


# ## What a run looks like
#
# `python main.py` takes about a second and prints:
#
#     loss in the first epoch: 0.400740028636
#     loss in the last epoch:  0.000823083078
#     loss after training:     0.000822993085
#
#      x1  x2  XOR  network
#      0   0   0    0.0411
#      0   1   1    0.9718
#      1   0   1    0.9747
#      1   1   0    0.0129
#
# Every answer is within 0.05 of its target. The loss (a logarithmic axis)
# sits on a plateau at 0.25, the loss of answering 0.5 to everything,
# until the hidden layer finds its features; then it falls 300-fold:
#
# ![The loss over 10,000 epochs: a plateau near 0.25, then a steep fall
# to 0.00082](xor_loss.svg)
#
# Over the whole square the network answers near 0 (blue) and near 1
# (red), with two curves at 0.5 that no single straight line could make:
#
# ![The network's output over the unit square, red near (0, 1) and
# (1, 0), blue near (0, 0) and (1, 1)](xor_output.svg)
if __name__ == "__main__":
    train()


# Next: [graph.py](graph.html), where graphs are built and differentiated.
