"""The digits chapter (digits.py): its data, weights, batches, model,
momentum update and training loop, and what `python digits.py` prints."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import kinds_behind, numeric_gradient
from sklearn.datasets import load_digits

import digits
from graph import Graph
from session import Session

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data():
    return digits.load_data()


@pytest.fixture(scope="module")
def run():
    """One whole training run, as `python digits.py` makes it."""
    return digits.train(bar=False)


# ## Data, weights, batches


def test_the_data_is_split_stratified_scaled_and_one_hot(data):
    assert data.train_images.shape == (1347, 64) and data.test_images.shape == (450, 64)
    assert data.train_labels.shape == (1347, 10) and data.test_labels.shape == (450, 10)
    for images in (data.train_images, data.test_images):
        assert images.min() == 0.0 and images.max() == 1.0
    for labels in (data.train_labels, data.test_labels):
        assert set(np.unique(labels)) == {0.0, 1.0}
        np.testing.assert_array_equal(labels.sum(1), 1.0)
    # Stratified: each digit's share of the test set is its share of all.
    everything = load_digits()
    counts = np.bincount(data.test_labels.argmax(1), minlength=10)
    expected = np.bincount(everything.target) * 450 / 1797
    assert np.all(np.abs(counts - expected) < 1)
    # Every image is one of the dataset's, divided by 16, with its label.
    originals = {tuple(image): target for image, target
                 in zip(everything.data / 16, everything.target)}
    for image, label in zip(data.test_images[:50], data.test_labels[:50]):
        assert originals[tuple(image)] == label.argmax()


def test_the_split_is_the_same_every_time(data):
    again = digits.load_data()
    for a, b in zip(data, again):
        np.testing.assert_array_equal(a, b)


def test_initial_weights_are_seeded_and_scaled():
    w0, b0, w1, b1 = digits.initial_weights()
    assert (w0.shape, b0.shape, w1.shape, b1.shape) == ((64, 64), (64,), (64, 10), (10,))
    np.testing.assert_array_equal(w0, digits.initial_weights()[0])
    assert not np.array_equal(w0, digits.initial_weights(seed=1)[0])
    assert np.std(w0) == pytest.approx(np.sqrt(2 / 64), rel=0.05)
    assert np.std(w1) == pytest.approx(np.sqrt(1 / 64), rel=0.1)
    assert not b0.any() and not b1.any()


def test_each_epoch_cuts_a_new_shuffle_into_batches_of_32():
    order = digits.batch_order(1347, epochs=3)
    assert len(order) == 3
    for batches in order:
        assert [len(b) for b in batches] == [32] * 42 + [3]
        np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(1347))
    assert not np.array_equal(order[0][0], order[1][0])
    again = digits.batch_order(1347, epochs=3)
    for a, b in zip(order, again):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


# ## The model


def test_the_backward_pass_sums_the_biases_gradients_over_the_batch():
    model = digits.build_model(digits.initial_weights())
    kinds = kinds_behind(model.train)
    assert kinds.count("sum_to") >= 2  # one per bias, at least
    assert "softmax_cross_entropy_with_logits" in kinds and "relu" in kinds
    assert kinds.count("assign") == 8  # a velocity and a weight per variable


def test_a_training_step_computes_softmax_once():
    # The loss needs log p and its gradient needs p: one log_softmax serves
    # both, the gradient reading p off it with an exp, and no softmax of
    # its own is run.
    model = digits.build_model(digits.initial_weights())
    plan = Session(model.loss.graph).planned((model.train, model.loss),
                                             frozenset([model.images, model.labels]))
    kinds = [output.op.kind for _, _, output in plan[2]]
    assert kinds.count("log_softmax") == 1 and kinds.count("exp") == 1
    assert "softmax" not in kinds


def test_the_models_gradients_match_finite_differences(data):
    model = digits.build_model(digits.initial_weights())
    graph = model.loss.graph
    grads = graph.gradients(model.loss, model.variables)
    sess = Session(graph)
    feed = {model.images: data.train_images[:5], model.labels: data.train_labels[:5]}
    got = sess.run(grads, feed)
    for t, g in zip(model.variables, got):
        value = sess.run(t)
        assert g.shape == value.shape
        expected = numeric_gradient(lambda v, t=t: sess.run(model.loss, {**feed, t: v}),
                                    value)
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-7)


def numpy_step(weights, velocities, images, labels, rate, momentum):
    """One training step by hand: forward, backward, momentum update."""
    w0, b0, w1, b1 = weights
    pre = images @ w0 + b0
    hidden = np.maximum(pre, 0)
    logits = hidden @ w1 + b1
    shifted = logits - logits.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    loss = -(labels * log_p).sum(1).mean()
    d_logits = (np.exp(log_p) - labels) / len(images)
    d_hidden = d_logits @ w1.T * (pre > 0)
    grads = [images.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_logits, d_logits.sum(0)]
    velocities = [momentum * v + g for v, g in zip(velocities, grads)]
    weights = [w - rate * v for w, v in zip(weights, velocities)]
    return loss, weights, velocities


def test_training_steps_match_the_same_steps_by_hand(data):
    weights = digits.initial_weights()
    model = digits.build_model(weights)
    sess = Session(model.loss.graph)
    order = digits.batch_order(len(data.train_images), epochs=1)[0]
    velocities = [np.zeros_like(w) for w in weights]
    for batch in order[:10] + order[-1:]:  # the last batch has 3 images
        images, labels = data.train_images[batch], data.train_labels[batch]
        _, loss = sess.run([model.train, model.loss],
                           {model.images: images, model.labels: labels})
        expected, weights, velocities = numpy_step(weights, velocities, images, labels,
                                                   digits.RATE, digits.MOMENTUM)
        assert loss == pytest.approx(expected, rel=1e-12)
        for ours, theirs in zip(sess.run(model.variables), weights):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


def test_momentum_update_is_tensorflow_1s_rule():
    # v ← m·v + g, then w ← w − rate·v, with the new v, for loss = Σ w².
    graph = Graph()
    w = graph.tensor(np.array([1.0, -2.0]))
    (g,) = graph.gradients(graph.sum(graph.square(w)), [w])
    update = digits.momentum_update(graph, [w], [g], rate=0.1, momentum=0.5)
    sess = Session(graph)
    expected, v = np.array([1.0, -2.0]), np.zeros(2)
    for _ in range(4):
        sess.run(update)
        v = 0.5 * v + 2 * expected
        expected = expected - 0.1 * v
        np.testing.assert_allclose(sess.run(w), expected, rtol=1e-15)


# ## Training


def test_training_reaches_97_percent_on_the_test_set(run):
    assert len(run.history) == digits.EPOCHS
    assert len(run.losses) == digits.EPOCHS * 43
    final = run.history[-1]
    assert final.test_accuracy >= 0.97
    assert final.train_loss < run.history[0].train_loss / 10
    # The history's numbers are the model's: measure the test set again.
    loss, accuracy = digits.evaluate(run.sess, run.model, run.data.test_images,
                                     run.data.test_labels)
    assert (loss, accuracy) == (final.test_loss, final.test_accuracy)
    answers = digits.predictions(run)
    assert np.mean(answers == run.data.test_labels.argmax(1)) == final.test_accuracy


def test_training_is_the_same_every_time(run):
    again = digits.train(epochs=2, bar=False)
    assert again.losses == run.losses[: len(again.losses)]
    assert again.history == run.history[:2]


def test_the_script_prints_the_confusion_matrix_and_ends_with_the_accuracy(run):
    result = subprocess.run([sys.executable, "digits.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"test accuracy: \d\d\.\d%", lines[-1])
    assert lines[-1] == f"test accuracy: {run.history[-1].test_accuracy:.1%}"
    rows = [line.split() for line in lines[-11:-1]]
    matrix = np.array([[int(n) for n in row[1:]] for row in rows])
    assert [int(row[0]) for row in rows] == list(range(10))
    assert matrix.sum() == 450
    assert np.trace(matrix) / 450 == pytest.approx(run.history[-1].test_accuracy)
    assert "epoch" in result.stderr  # the progress bar
    # The page shows this output: the same lines, as a block in its prose.
    page = (ROOT / "digits.py").read_text().splitlines()
    start = page.index("#     confusion matrix (row: digit, column: answer)")
    shown = [line.removeprefix("#     ") for line in page[start:start + 13]]
    assert shown == [line.rstrip() for line in lines[-13:]]


def test_a_float32_model_trains_in_float32(data):
    weights = [w.astype(np.float32) for w in digits.initial_weights()]
    model = digits.build_model(weights)
    sess = Session(model.loss.graph)
    feed = {model.images: data.train_images[:32].astype(np.float32),
            model.labels: data.train_labels[:32].astype(np.float32)}
    _, loss = sess.run([model.train, model.loss], feed)
    assert loss.dtype == np.float32
    assert all(w.dtype == np.float32 for w in sess.run(model.variables))
    # Rounded to float32 at every step, the first loss still agrees with
    # float64's to float32's precision.
    reference = digits.build_model(digits.initial_weights())
    expected = Session(reference.loss.graph).run(
        reference.loss, {reference.images: data.train_images[:32],
                         reference.labels: data.train_labels[:32]})
    assert loss == pytest.approx(expected, rel=1e-6)
