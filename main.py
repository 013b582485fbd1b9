# # differentiation: TensorFlow's graph mode, from scratch
#
# This is a small, complete re-implementation of the core of TensorFlow 1,
# written to be read. This page trains a neural network with it; the pages
# after it build the machinery, one file each, in the order you need them.
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
# Plot the four inputs as the corners of a square: the two 1s sit on one
# diagonal and the two 0s on the other. No straight line separates them, so
# a one-layer network, which can only draw such a line, cannot learn XOR.
# Two layers can: the first maps the four points into a space of four
# hidden values where they *are* separable, and the second draws the line
# there. Learning XOR is the smallest problem that needs a hidden layer,
# which makes it the classic first test of an engine like this.
#
# ## The architecture
#
# The engine has three parts, which the next pages build.
#
# A **graph** ([graph.py](graph.html), [tensor.py](tensor.html),
# [ops.py](ops.html)) describes a computation without doing it. Its nodes
# are *tensors*, which will carry values, and *ops*, which compute an output
# tensor from input tensors. Writing `graph.sigmoid(graph.dot(a, b))`
# computes nothing; it adds two ops to the graph and returns a tensor that
# stands for their result.
#
# A **session** ([session.py](session.html)) evaluates tensors on demand.
# It works out which ops a requested tensor needs, runs them in order on
# NumPy arrays, and keeps the current values of the variables, such as a
# network's weights, from one run to the next.
#
# **Gradients** (`graph.gradients`, in [graph.py](graph.html)) is the
# reason for the graph. Given a tensor, such as the loss L, and some
# tensors `xs`, it walks the graph backwards from L, applying the chain
# rule one op at a time, and *adds new ops to the graph* that compute
# ∂L/∂x for each x. The
# derivative is itself a graph: the session runs it like any other, and it
# can even be differentiated again. This is how `tf.gradients` works. The
# alternative, PyTorch's and TensorFlow 2's, is to record the operations
# as they run and replay the record backwards; [eager.py](eager.html)
# builds it from the same ops.
#
# In the code, `graph` is a `Graph` object, and `graph.gradients` its
# method. `X` holds the four inputs, one per row, and `y` their targets.
import numpy as np
from tqdm import tqdm

from graph import Graph
from session import Session

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([[0, 1, 1, 0]], dtype=float)


# The weights start random; fixing NumPy's random seed at 67 makes every
# run, and the TensorFlow version in tf_test.py, start from the same
# numbers.
def initial_weights():
    np.random.seed(67)
    return np.random.normal(size=(2, 4)), np.random.normal(size=(4, 1))


# ## The model
#
# Building the model computes nothing. Each line adds ops to `graph` and
# returns the tensor that will hold their result:
#
# - the inputs, targets and weights are variables, tensors with a value;
# - the hidden layer: `activations0 = σ(inputs · weights0)`, four sigmoid
#   units for each of the four input rows;
# - the output: `activations1 = σ(activations0 · weights1)`, one number per
#   input row, which should approach its XOR target;
# - the loss: the mean of the squared differences from the targets, a single
#   number that is 0 only when every output is exactly right.
#
# Drawn by draw.py, with data flowing downwards, the forward graph is a
# short chain of ops (blue) over four variables (green cylinders, each
# with its shape):
#
# ![The XOR model's forward graph: inputs and weights0 meet in a dot,
# then a sigmoid, a dot with weights1 and a second sigmoid, activations1;
# its difference from the transposed targets is squared and averaged into
# the loss](xor_forward.svg)
def build_model(start0, start1):
    graph = Graph()
    inputs, targets = graph.tensor(X), graph.tensor(y)
    weights0, weights1 = graph.tensor(start0), graph.tensor(start1)

    activations0 = graph.sigmoid(graph.dot(inputs, weights0))
    activations1 = graph.sigmoid(graph.dot(activations0, weights1))
    loss = graph.mean(graph.square(graph.transpose(targets) - activations1))

    # `graph.gradients` then extends the same graph with the backward pass:
    # two tensors whose values will be ∂loss/∂weights0 and ∂loss/∂weights1,
    # each shaped like its weights. The update subtracts them from the
    # weights, which is gradient descent with a learning rate of 1, and
    # `group` bundles both assignments into one tensor, so that one fetch
    # runs them both.
    #
    # Drawn again afterwards, the graph has grown a second, larger part.
    # The orange, dashed ops are the ones `gradients` added. They start at
    # the loss and work back towards the weights, reading forward values on
    # the way: each sigmoid's gradient uses that sigmoid's own output. Read
    # them from the loss downwards: first ∂loss/∂loss = 1 (the grey 1 made
    # into a `broadcast_to`), then one link of the chain rule per op, down
    # to the two ops labelled ∂loss/∂weights1 and ∂loss/∂weights0. The
    # purple ops below them are the update. The other grey numbers are
    # constants a gradient rule mixed in (the 2 of square's `2x`, the 1 of
    # sigmoid's `1 − σ`).
    #
    # ![The same graph after gradients and the update: orange backward
    # ops lead from the loss to two purple subtractions and assignments,
    # one per weight matrix, grouped into one op](xor_backward.svg)
    grad0, grad1 = graph.gradients(loss, [weights0, weights1])
    update = graph.group([graph.assign(weights0, weights0 - grad0),
                          graph.assign(weights1, weights1 - grad1)])
    return loss, update, activations1


# ## Training
#
# A session holds the weights' current values, so training is a loop of
# runs. `fit` is written against nothing but `sess.run`, which is why
# TensorFlow's session can drive it unchanged (tf_test.py does).
def train(epochs=10_000):
    loss, update, output = build_model(*initial_weights())
    fit(Session(loss.graph), loss, update, output, epochs)


# Each epoch runs the update and fetches the loss in the same run, so the
# loss shown is the one computed from the weights *before* that epoch's
# update. At the end come the losses at both ends of training and the
# network's answer for each input beside its target. `fit` returns the
# loss of every epoch, for the plot below. (The bar's text changes only
# every 100 epochs: formatting it costs more than an epoch.)
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


# ## What a run looks like
#
# Run as a script, this trains the network; imported (by tf_test.py, the
# tests and the benchmarks), it only defines the model. `python main.py`
# takes about a second and prints:
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
# Every answer is within 0.05 of its target: the network has learned XOR.
#
# Here is the loss of every epoch of that run. In the first 20 epochs it
# drops from 0.40 to 0.25, the loss of answering 0.5 to everything, and
# stays there for a few hundred epochs; then the hidden layer finds its
# features, and the loss falls tenfold by epoch 1,000 and keeps creeping
# down. The axis is logarithmic: on a linear one, everything after the
# fall would look like zero.
#
# ![The loss over 10,000 epochs on a logarithmic axis: 0.40 at the first
# epoch, a plateau near 0.25, a steep fall after a few hundred epochs,
# then a slow decline to 0.00082 at the last](xor_loss.svg)
#
# And here is what the trained network computes, not only at the four
# inputs but at every point of the square between them: blue where it
# answers near 0, red near 1, and black lines where it crosses 0.5. Two
# curves fence off the corners of the two 0s and leave the two 1s in the
# band between them, a separation no single straight line could make.
#
# ![The network's output over the unit square: red near the corners (0, 1)
# and (1, 0), whose target is 1, blue near (0, 0) and (1, 1), whose target
# is 0, separated by two curved lines where the output is 0.5](xor_output.svg)
if __name__ == "__main__":
    train()


# Next: [graph.py](graph.html), where graphs are built and differentiated.
