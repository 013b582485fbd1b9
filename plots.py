# # plots.py: pictures of a training run
#
# main.py's page shows what training does: the loss falling over the
# 10,000 epochs, and what the trained network has learned, its output over
# the whole unit square. This module draws both with
# [matplotlib](https://matplotlib.org) from a real run of main.py's model.
# Run `python plots.py docs` to redraw them; `python make_docs.py` does it
# with the other pictures.
#
# Each plotting function returns its figure and the data it drew, so that
# the tests can check the pictures against the numbers main.py prints.
import contextlib
import io
import sys
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

import main
from graph import Graph
from session import Session


# ## The run
#
# Training exactly as `python main.py` trains, with its printing silenced.
# `fit` returns the loss of every epoch. The trained weights are the
# variables that the update assigns to: it groups one assignment per
# weight matrix, whose first input is that matrix.
def training_run(epochs=10_000):
    loss, update, output = main.build_model(*main.initial_weights())
    sess = Session(loss.graph)
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        losses = main.fit(sess, loss, update, output, epochs)
    weights = sess.run([assign.op.inputs[0] for assign in update.op.inputs])
    return losses, weights, sess.run(output)


# The trained network, run on any number of points: main.py's forward pass
# again, with the points as a placeholder (main.py's inputs are a variable
# of fixed shape, four rows).
def network(weights0, weights1, points):
    graph = Graph()
    inputs = graph.tensor()
    activations0 = graph.sigmoid(graph.dot(inputs, weights0))
    activations1 = graph.sigmoid(graph.dot(activations0, weights1))
    return Session(graph).run(activations1, {inputs: points})[:, 0]


# ## The loss curve
#
# The loss falls by a factor of about 500 over training: on a linear axis
# everything after the first thousand epochs would look like zero, so the
# loss axis is logarithmic. Epochs are counted from 1, and the first and
# last losses are marked with the values main.py prints (to 6 digits).
def plot_loss(losses):
    figure = Figure(figsize=(5.2, 2.8))
    axes = figure.subplots()
    epochs = np.arange(1, len(losses) + 1)
    (line,) = axes.semilogy(epochs, losses, color="#1f5fa8")
    ends = [(1, losses[0], "left"), (len(losses), losses[-1], "right")]
    for epoch, value, align in ends:
        axes.plot(epoch, value, "o", color="#1f5fa8", clip_on=False)
        axes.annotate(f"{value:.6f}", (epoch, value), xytext=(0, 7),
                      textcoords="offset points", ha=align, va="bottom")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (log scale)")
    axes.set_xlim(0, len(losses))
    axes.grid(True, which="major", color="#dddddd")
    figure.tight_layout()
    return figure, (line.get_xdata(), line.get_ydata())


# ## What the network learned
#
# The network's output at every point of a grid over the unit square, in
# colour from blue (0) to red (1), with the line where it crosses 0.5: on
# one side the network says 0, on the other 1. The four XOR inputs sit at
# the corners, each marked with its target. The grid's first and last
# lines run along the square's edges, so its corners *are* the four
# inputs.
def plot_output(weights0, weights1, size=101):
    grid = np.linspace(0.0, 1.0, size)
    x1, x2 = np.meshgrid(grid, grid)
    points = np.column_stack([x1.ravel(), x2.ravel()])
    output = network(weights0, weights1, points).reshape(x1.shape)

    figure = Figure(figsize=(5.2, 4.2))
    axes = figure.subplots()
    levels = np.linspace(0, 1, 11)
    filled = axes.contourf(x1, x2, output, levels=levels, cmap="RdBu_r")
    axes.contour(x1, x2, output, levels=[0.5], colors="black", linewidths=1.5)
    for (a, b), target in zip(main.X, main.y[0]):
        axes.plot(a, b, "o", markersize=16, clip_on=False,
                  color="#b2182b" if target else "#2166ac", markeredgecolor="white")
        axes.annotate(f"{target:.0f}", (a, b), ha="center", va="center",
                      color="white", fontsize=11, fontweight="bold",
                      annotation_clip=False)
    axes.set_xlabel("x₁")
    axes.set_ylabel("x₂")
    axes.set_xlim(-0.07, 1.07)
    axes.set_ylim(-0.07, 1.07)
    axes.set_aspect("equal")
    figure.colorbar(filled, label="network output")
    figure.tight_layout()
    return figure, (x1, x2, output)


# ## Saving
#
# SVG, made reproducible: matplotlib's defaults (whatever the local
# matplotlibrc says), a fixed salt for the ids it gives to shapes (by
# default they are random) and no date in the metadata. The same run then
# gives the same file, byte for byte. `run` is a `training_run()` made
# before, or None to make one.
def save(folder, run=None):
    losses, (weights0, weights1), _ = run or training_run()
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams["svg.hashsalt"] = "differentiation"
        pictures = {"xor_loss": plot_loss(losses)[0],
                    "xor_output": plot_output(weights0, weights1)[0]}
        for name, figure in pictures.items():
            figure.savefig(Path(folder, f"{name}.svg"), format="svg",
                           metadata={"Date": None})


if __name__ == "__main__":
    save(*sys.argv[1:] or ["docs"])
