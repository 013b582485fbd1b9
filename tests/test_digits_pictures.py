"""The digits chapter's pictures show what the model computed: each
figure's data is checked against the run it was drawn from, and the SVG
files are the same on every run."""

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import need
from sklearn.metrics import confusion_matrix

need("matplotlib", "requirements-docs.txt")

import digits  # noqa: E402
import digits_pictures as pictures  # noqa: E402  (imports matplotlib: after the check)

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["digits_samples", "digits_curves", "digits_confusion", "digits_mistakes",
         "digits_weights", "digits_naive_loss"]


@pytest.fixture(scope="module")
def run():
    return digits.train(bar=False)


@pytest.fixture(scope="module")
def figures(run):
    return pictures.figures(run)


def image_of(fig):
    """The one raster image of a grid figure, with its gaps as NaN."""
    (image,) = fig.axes[0].images
    return np.ma.filled(np.ma.masked_invalid(image.get_array()).astype(float), np.nan)


def tile_at(array, k, columns, row_gap):
    y, x = (k // columns) * (8 + row_gap) + row_gap, (k % columns) * 9
    return array[y:y + 8, x:x + 8]


def captions(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_the_samples_are_training_images_of_each_digit(run, figures):
    array = image_of(figures["digits_samples"])
    truth = run.data.train_labels.argmax(1)
    assert captions(figures["digits_samples"]) == [str(d) for d in range(10)]
    for k in range(40):
        row, d = divmod(k, 10)
        i = np.flatnonzero(truth == d)[row]
        np.testing.assert_array_equal(tile_at(array, k, 10, 3),
                                      run.data.train_images[i].reshape(8, 8))
    # The gaps are empty: one pixel between tiles.
    assert np.isnan(array[3:11, 8]).all()


def test_the_curves_are_the_runs_history(run, figures):
    left, right = figures["digits_curves"].axes
    history = np.array(run.history)
    epochs = np.arange(1, len(history) + 1)
    for line, column in zip(left.lines, [0, 2]):
        np.testing.assert_array_equal(line.get_xdata(), epochs)
        np.testing.assert_array_equal(line.get_ydata(), history[:, column])
    for line, column in zip(right.lines, [1, 3]):
        np.testing.assert_array_equal(line.get_ydata(), 100 * history[:, column])


def test_the_confusion_matrix_is_the_test_sets(run, figures):
    logits = run.sess.run(run.model.logits, {run.model.images: run.data.test_images})
    truth = run.data.test_labels.argmax(1)
    expected = confusion_matrix(truth, logits.argmax(1))
    (ax,) = figures["digits_confusion"].axes
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    counts = [int(t.get_text()) for t in ax.texts]
    assert counts == [n for n in expected.flat if n]
    assert np.trace(expected) / 450 == run.history[-1].test_accuracy


def test_the_mistakes_are_exactly_the_misclassified_test_digits(run, figures):
    truth = run.data.test_labels.argmax(1)
    answers = digits.predictions(run)
    wrong = np.flatnonzero(answers != truth)
    fig = figures["digits_mistakes"]
    assert len(wrong) == round(450 * (1 - run.history[-1].test_accuracy)) > 0
    assert captions(fig) == [f"{truth[i]}, said {answers[i]}" for i in wrong]
    array = image_of(fig)
    for k, i in enumerate(wrong):
        np.testing.assert_array_equal(tile_at(array, k, 8, 4),
                                      run.data.test_images[i].reshape(8, 8))


def test_the_weights_are_the_trained_first_layer_s_strongest_units(run, figures):
    w0 = run.sess.run(run.model.variables[0])
    assert not np.array_equal(w0, digits.initial_weights()[0])
    # The 16 units drawn are those with the largest weights, largest first.
    norms = np.linalg.norm(w0, axis=0)
    units = pictures.strongest(w0)
    assert len(units) == 16
    assert list(norms[units]) == sorted(norms, reverse=True)[:16]
    fig = figures["digits_weights"]
    assert captions(fig) == [f"unit {k}" for k in units]
    array = image_of(fig)
    for k, unit in enumerate(units):
        np.testing.assert_array_equal(tile_at(array, k, 8, 2), w0[:, unit].reshape(8, 8))
    # One colour scale for all, centred on 0, shown by a labelled colour bar.
    image = fig.axes[0].images[0]
    low, high = image.get_clim()
    assert high == -low > 0
    grid, bar = fig.axes
    assert bar.get_xlabel() == "weight"
    assert bar.get_xlim() == (low, high)
    # Tiles are drawn large: each pixel of a tile is at least 8 screen
    # pixels wide at the size the figure is drawn.
    pixel = fig.get_figwidth() * fig.dpi / array.shape[1]
    assert pixel >= 8


def test_the_naive_losses_fail_where_the_fused_one_stays_exact():
    z, losses = pictures.naive_losses()
    as_written, right_only, fused = losses.values()
    # Exact: −log softmax of the middle class, z + log(1 + e^−z + e^−2z).
    np.testing.assert_allclose(fused, z + np.log1p(np.exp(-z) + np.exp(-2 * z)),
                               rtol=1e-15)
    assert fused[-1] == 1000.0
    # 0 · log 0 = NaN once e^−2z underflows (z > 372.5), −log 0 = ∞ once
    # e^−z does (z > 745.1); both agree with the exact loss until then.
    assert np.isnan(as_written[z > 373]).all() and np.isfinite(as_written[z < 372]).all()
    assert np.isposinf(right_only[z > 746]).all() and np.isfinite(right_only[z < 745]).all()
    # Until then they agree with it, while e^−z is a normal float64; beyond
    # z ≈ 708 it is subnormal, with ever fewer digits, and −log(e^−z) drifts
    # before it fails.
    normal = z < 700
    for loss in (as_written, right_only):
        np.testing.assert_allclose(loss[normal & np.isfinite(loss)],
                                   fused[normal & np.isfinite(loss)], rtol=1e-12)
    drift = np.abs(right_only[(z > 708) & (z < 745)] / fused[(z > 708) & (z < 745)] - 1)
    assert drift.max() > 1e-6


def test_the_naive_loss_picture_draws_those_numbers(figures):
    z, losses = pictures.naive_losses()
    (ax,) = figures["digits_naive_loss"].axes
    curves = [line for line in ax.lines if line.get_linestyle() != "None"]
    for line, loss in zip(curves, losses.values(), strict=True):
        finite = np.isfinite(loss)
        np.testing.assert_array_equal(line.get_xdata(), z[finite])
        np.testing.assert_array_equal(line.get_ydata(), loss[finite])
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["NaN from z = 375", "∞ from z = 747.5"]


def test_the_svg_files_are_small_and_the_same_every_time(run, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    pictures.save(first, run)
    pictures.save(second, run)
    for name in NAMES:
        svg = (first / f"{name}.svg").read_bytes()
        assert svg == (second / f"{name}.svg").read_bytes(), name
        assert b"<dc:date>" not in svg
        assert len(svg) < 60_000, name


def test_the_page_shows_every_picture():
    page = (ROOT / "digits.py").read_text()
    for name in [*NAMES, "digits_loss_forward", "digits_loss_backward"]:
        assert re.search(rf"\]\({name}\.svg\)", page), name


def test_draws_the_loss_before_and_after_gradients():
    need("graphviz", "requirements-docs.txt")
    import draw

    drawn = draw.digits_loss_pictures()
    forward = drawn["digits_loss_forward"].source
    backward = drawn["digits_loss_backward"].source
    labelled = lambda kind, source: re.search(rf'label=("{kind}\\n[^"]*"|{kind}) ', source)
    assert labelled("softmax_cross_entropy_with_logits", forward)
    assert labelled("log_softmax", forward)
    assert "spread" not in forward and "expand" not in forward
    for kind in ["broadcast_to", "spread", "expand", "exp", "sum", "mul", "sub"]:
        assert labelled(kind, backward), kind
    # The gradient reads p off the loss's log_softmax: no softmax is drawn.
    assert not labelled("softmax", backward)
    assert "∂loss/∂logits" in backward
