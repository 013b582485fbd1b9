# **[main](main.html)** · [graph](graph.html) · [tensor](tensor.html) ·
# [ops](ops.html) · [session](session.html) · [tf_test](tf_test.html)
#
# # differentiation: TensorFlow's graph mode, from scratch
#
# This is a small, complete re-implementation of the core of TensorFlow 1:
# you describe a computation as a graph, a session runs it, and
# `gradients` differentiates it *symbolically*, by adding the backward pass
# to the graph as more ops. This page trains a neural network with it; the
# pages after it build the machinery, one file each.
#
# ## The problem: XOR
#
# XOR is 1 when exactly one of its two inputs is 1:
#
# | x₁ | x₂ | XOR |
# |----|----|-----|
# | 0  | 0  | 0   |
# | 0  | 1  | 1   |
# | 1  | 0  | 1   |
# | 1  | 1  | 0   |
#
# No single straight line separates the 1s from the 0s, so a one-layer
# network, which can only draw such a line, cannot learn it. Two layers can:
# the first maps the four points into a space where they *are* separable,
# and the second draws the line there.
import numpy as np
from tqdm import tqdm

from graph import Graph
from session import Session

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([[0, 1, 1, 0]], dtype=float)


# The weights start random; seed 67 makes every run, and the TensorFlow
# version in tf_test.py, start from the same numbers.
def initial_weights():
    np.random.seed(67)
    return np.random.normal(size=(2, 4)), np.random.normal(size=(4, 1))


# ## The model
#
# Building the model computes nothing. Each line adds ops to `graph` and
# returns the tensor that will hold their result:
#
# - the hidden layer: `activations0 = σ(X · weights0)`, four sigmoid units;
# - the output: `activations1 = σ(activations0 · weights1)`, one per input row;
# - the loss: the mean squared difference from the targets.
#
# `graph.gradients` then extends the same graph with the backward pass: two
# tensors whose values will be ∂loss/∂weights0 and ∂loss/∂weights1. The
# update subtracts them from the weights (gradient descent, with a learning
# rate of 1), and `group` bundles both assignments into one tensor to run.
def build_model(weights0, weights1):
    graph = Graph()
    inputs, targets = graph.tensor(X), graph.tensor(y)
    w0, w1 = graph.tensor(weights0), graph.tensor(weights1)

    activations0 = graph.sigmoid(graph.dot(inputs, w0))
    activations1 = graph.sigmoid(graph.dot(activations0, w1))
    loss = graph.mean(graph.square(graph.transpose(targets) - activations1))

    g0, g1 = graph.gradients(loss, [w0, w1])
    update = graph.group([graph.assign(w0, w0 - g0), graph.assign(w1, w1 - g1)])
    return loss, update, activations1


# ## Training
#
# A session holds the weights' current values. Each epoch runs the update
# and fetches the loss in the same run, so the loss shown is the one
# computed from the weights *before* that epoch's update. The bar's text is
# refreshed every 100 epochs: formatting it costs more than an epoch does.
def train(epochs=10_000):
    loss, update, output = build_model(*initial_weights())
    sess = Session(loss.graph)
    bar = tqdm(range(epochs))
    for epoch in bar:
        _, value = sess.run([update, loss])
        if epoch == 0:
            first = value
        if epoch % 100 == 0 or epoch == epochs - 1:
            bar.set_description(f"loss {value:.6f}", refresh=False)
    bar.close()

    print(f"loss in the first epoch: {first:.12f}")
    print(f"loss in the last epoch:  {value:.12f}")
    print(f"loss after training:     {sess.run(loss):.12f}")
    print("\n x1  x2  XOR  network")
    for (x1, x2), target, prediction in zip(X, y[0], sess.run(output)[:, 0]):
        print(f" {x1:.0f}   {x2:.0f}   {target:.0f}    {prediction:.4f}")


if __name__ == "__main__":
    train()
