# # digits_pictures.py: the digits chapter's pictures
#
# The pictures on digits.py's page, drawn with matplotlib from a real
# training run: `python digits_pictures.py docs` trains the network (a few
# seconds) and writes them as SVG. Each picture is made by a function that
# returns the figure, so that the tests can check that what is drawn is
# what the model computed. (The two pictures of the loss op are graphs,
# drawn by draw.py.)
#
# The SVG files are the same, byte for byte, on every run: matplotlib's
# random ids are seeded by `svg.hashsalt`, the date is left out, and the
# run itself is deterministic.
import sys
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from sklearn.metrics import confusion_matrix  # noqa: E402

import digits  # noqa: E402
from graph import Graph  # noqa: E402
from session import Session  # noqa: E402

matplotlib.rcParams.update({"svg.hashsalt": "digits", "font.size": 8,
                            "axes.titlesize": 8, "figure.dpi": 96})

# Pictures are 5.2 inches (500 pixels) wide, about the widest the prose
# column gets beside the code; in a narrower one the browser scales them.
WIDTH = 5.2


# ## Grids of 8 × 8 images
#
# A grid of digits is drawn as *one* image: the 8 × 8 tiles are laid out
# in a single array, one pixel apart and with room above each row for the
# captions, and the gaps are left empty (NaN, drawn in the background
# colour). One raster image inside the SVG costs far less than an axes per
# digit, and with `interpolation="none"` it holds the array's own pixels,
# which the browser enlarges as crisp squares. `tile` lays them out; `grid`
# draws the array and the captions, and, given its label, a colour bar
# below them, and returns the figure.
def tile(images, columns, row_gap):
    rows = -(-len(images) // columns)
    out = np.full((rows * (8 + row_gap), columns * 9 - 1), np.nan)
    for k, image in enumerate(images):
        y, x = (k // columns) * (8 + row_gap) + row_gap, (k % columns) * 9
        out[y:y + 8, x:x + 8] = np.reshape(image, (8, 8))
    return out


def grid(images, columns, captions=(), cmap="gray_r", limits=(0, 1), row_gap=3,
         gap="#eef1f5", colorbar=None, width=WIDTH):
    array = tile(images, columns, row_gap)
    below = 0.65 if colorbar else 0  # inches under the grid, for the colour bar
    fig = plt.figure(figsize=(width, width * array.shape[0] / array.shape[1] + below))
    share = below / fig.get_figheight()
    ax = fig.add_axes((0, share, 1, 1 - share))
    colours = plt.get_cmap(cmap).with_extremes(bad=gap)
    image = ax.imshow(array, cmap=colours, vmin=limits[0], vmax=limits[1],
                      interpolation="none")
    for k, caption in enumerate(captions):
        if caption:
            y, x = (k // columns) * (8 + row_gap) + row_gap, (k % columns) * 9
            ax.text(x + 3.5, y - 0.7, caption, ha="center", va="bottom")
    ax.axis("off")
    if colorbar:
        bar = fig.add_axes((0.25, 0.58 * share, 0.5, 0.2 * share))
        fig.colorbar(image, cax=bar, orientation="horizontal", label=colorbar)
    return fig


# ## The data: four training images of each digit, one digit per column.
def samples(data, per_digit=4):
    truth = data.train_labels.argmax(1)
    chosen = np.array([np.flatnonzero(truth == d)[:per_digit] for d in range(10)])
    order = chosen.T.flatten()  # row by row: the first of each digit, then the second…
    return grid(data.train_images[order], 10, [str(d) for d in range(10)])


# ## Training: loss and accuracy on both sets after each epoch.
def curves(history):
    epochs = np.arange(1, len(history) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH, 2.2))
    left.plot(epochs, [e.train_loss for e in history], label="training set")
    left.plot(epochs, [e.test_loss for e in history], label="test set")
    left.set(title="loss", xlabel="epoch", yscale="log")
    right.plot(epochs, [100 * e.train_accuracy for e in history], label="training set")
    right.plot(epochs, [100 * e.test_accuracy for e in history], label="test set")
    right.set(title="accuracy (%)", xlabel="epoch", ylim=(85, 100.5))
    right.legend(loc="lower right", frameon=False)
    fig.tight_layout(pad=0.3)
    return fig


# ## The confusion matrix of the test set, each cell with its count.
def confusion(truth, answers):
    matrix = confusion_matrix(truth, answers, labels=range(10))
    fig, ax = plt.subplots(figsize=(3.2, 3.0))
    ax.imshow(matrix, cmap="Blues", vmax=2 * matrix.max(), interpolation="none")
    for (i, j), n in np.ndenumerate(matrix):
        if n:
            ax.text(j, i, str(n), ha="center", va="center",
                    color="black" if i == j else "#c0392b")
    ax.set(xticks=range(10), yticks=range(10), xlabel="the network's answer",
           ylabel="true digit")
    fig.tight_layout(pad=0.3)
    return fig


# ## The test digits the network got wrong, each captioned with its true
# label and the network's answer.
def mistakes(images, truth, answers, columns=8):
    wrong = np.flatnonzero(answers != truth)
    captions = [f"{truth[i]}, said {answers[i]}" for i in wrong]
    return grid(images[wrong], columns, captions, row_gap=4)


# ## The first layer: a hidden unit's 64 weights, as an 8 × 8 image.
# Sixty-four small tiles would hide the strokes, so only the 16 units with
# the largest weights (by their norm, the square root of the sum of their
# squares) are drawn, large, each captioned with its unit's number. Red
# pixels add to the unit's input, blue ones subtract, on one scale shared
# by all units and centred on 0, shown by the colour bar (the few weights
# beyond its ends are drawn at them). `strongest` picks the units.
def strongest(w0, count=16):
    return np.argsort(-np.linalg.norm(w0, axis=0), kind="stable")[:count]


def weights(w0, columns=8):
    units = strongest(w0)
    limit = np.quantile(np.abs(w0), 0.99)
    return grid(w0.T[units], columns, [f"unit {k}" for k in units], cmap="RdBu_r",
                limits=(-limit, limit), row_gap=2, gap="#dddddd", colorbar="weight",
                width=8)


# ## Why the loss is fused: the loss of one row of logits (z, 0, −z) whose
# right class is the middle one, for z from 0 to 1000, computed three ways
# by our engine. The exact loss is z + log(1 + e^−z + e^−2z), about z.
#
# - `−Σ labels · log(softmax(z))`, the formula as written: e^−2z, the third
#   class's probability, underflows to 0 beyond z ≈ 373, its log is −∞,
#   and its label, 0, times −∞ is NaN;
# - `−log(Σ labels · softmax(z))`, the log of the right class's
#   probability alone: it avoids 0 · (−∞), but that probability, e^−z,
#   underflows to 0 beyond z ≈ 745, and −log 0 is ∞;
# - `softmax_cross_entropy_with_logits`, exact all the way.
#
# (Softmax here is our shifted op; the unshifted textbook formula fails
# sooner still, as e^z overflows beyond z ≈ 709.) `naive_losses` returns
# the three curves, computed with NumPy's warnings silenced, since
# producing the failures is the point.
def naive_losses(z=None):
    z = np.linspace(0, 1000, 401) if z is None else z
    graph = Graph()
    logits = graph.tensor(np.stack([z, 0 * z, -z], axis=1))
    labels = np.tile([0.0, 1.0, 0.0], (len(z), 1))
    softmax = graph.softmax(logits)
    as_written = -graph.sum(labels * graph.log(softmax), axis=-1)
    right_only = -graph.log(graph.sum(labels * softmax, axis=-1))
    fused = graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with np.errstate(all="ignore"):
        values = Session(graph).run([as_written, right_only, fused])
    names = ["−Σ labels · log(softmax(z))", "−log(Σ labels · softmax(z))",
             "softmax_cross_entropy_with_logits"]
    return z, dict(zip(names, values))


# Each way is a line while it stays finite; where it breaks, a cross marks
# its last finite value and a note says what follows.
def naive_loss():
    z, losses = naive_losses()
    fig, ax = plt.subplots(figsize=(WIDTH, 2.4))
    for (label, loss), style in zip(losses.items(), ["-", "--", ":"]):
        finite = np.isfinite(loss)
        line, = ax.plot(z[finite], loss[finite], style, label=label, linewidth=1.5)
        if not finite.all():
            last = np.flatnonzero(finite)[-1]
            what = "NaN" if np.isnan(loss[last + 1]) else "∞"
            ax.plot(z[last], loss[last], "x", color=line.get_color())
            ax.annotate(f"{what} from z = {z[last + 1]:g}", (z[last], loss[last]),
                        xytext=(6, -8), textcoords="offset points",
                        color=line.get_color())
    ax.set(xlabel="z, in the logits (z, 0, −z) of a row whose right class is the "
           "middle one", ylabel="loss", xlim=(0, 1050), ylim=(0, 1100))
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout(pad=0.3)
    return fig


# ## All of them, from one run.
def figures(run):
    truth = run.data.test_labels.argmax(1)
    answers = digits.predictions(run)
    return {
        "digits_samples": samples(run.data),
        "digits_curves": curves(run.history),
        "digits_confusion": confusion(truth, answers),
        "digits_mistakes": mistakes(run.data.test_images, truth, answers),
        "digits_weights": weights(run.sess.run(run.model.variables[0])),
        "digits_naive_loss": naive_loss(),
    }


def save(folder, run=None):
    run = run or digits.train(bar=False)
    for name, fig in figures(run).items():
        fig.savefig(Path(folder, f"{name}.svg"), metadata={"Date": None})
        plt.close(fig)


if __name__ == "__main__":
    save(*sys.argv[1:] or ["docs"])
