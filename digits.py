# # digits.py: reading handwritten digits
#
# XOR showed that the engine learns; four examples cannot show much more.
# This chapter trains it on real data: 1,797 handwritten digits, each an
# 8 × 8 grid of grey levels, and asks it to say which digit each one is,
# on images it has never seen. It takes a few seconds and gets about 98 in
# 100 right.
#
# ![Forty digits from the training set, four of each, with their
# labels](digits_samples.svg)
#
# The step from XOR is small, but every part of it is new:
#
# - **ten classes**: the network gives ten numbers per image, turned into
#   probabilities by softmax and scored by cross-entropy, fused into one
#   op that stays exact where the textbook formula gives NaN;
# - **biases**, added to every row of a batch, which the backward pass
#   must sum back over the batch;
# - **minibatches**: 32 images per step, fed through placeholders, where
#   XOR ran all four examples through variables;
# - **momentum**, an update rule with memory, built from `assign` ops the
#   way TensorFlow 1's `MomentumOptimizer` is;
# - **held-out data**: a quarter of the images are kept aside and used
#   only to measure, so the accuracy reported is earned, not memorised.
#
# `python digits.py` trains and reports; the pictures on this page are
# drawn from such a run (by digits_pictures.py).
import time
from collections import namedtuple

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from graph import Graph
from session import Session

# Every choice in one place. `SEED` fixes the split, the starting weights
# and the order of the batches, so every run, and the TensorFlow version
# in tf_digits.py, computes exactly the same numbers.
SEED = 0
HIDDEN = 64
RATE = 0.05
MOMENTUM = 0.9
BATCH = 32
EPOCHS = 40

# ## The data
#
# scikit-learn ships the digits inside its package, so nothing is
# downloaded. They come from the UCI "optical recognition of handwritten
# digits" set: forms filled in by 43 people were scanned into 32 × 32
# black-and-white bitmaps, and each 4 × 4 block of pixels was replaced by
# its count of black pixels, a grey level from 0 to 16. Each image is
# therefore 64 numbers, which we divide by 16 so that they lie in [0, 1],
# the range the starting weights below are scaled for.
#
# Each label becomes a *one-hot* row: ten numbers, 1 in the column of the
# right digit and 0 elsewhere, which is the probability distribution the
# network's answer should match. A 3 is (0, 0, 0, 1, 0, 0, 0, 0, 0, 0).
#
# A quarter of the images, 450, become the *test set*. Training never sees
# them; they measure how well the network does on handwriting it has not
# learned. `stratify` keeps the ten digits in the same proportions in both
# parts (about 45 of each in the test set), and `random_state` makes the
# split the same on every run.
Data = namedtuple("Data", "train_images test_images train_labels test_labels")


def load_data():
    digits = load_digits()
    images = digits.images.reshape(-1, 64) / 16
    labels = np.eye(10)[digits.target]
    parts = train_test_split(images, labels, test_size=0.25,
                             stratify=digits.target, random_state=SEED)
    return Data(*parts)


# ## The network
#
# Two layers, as for XOR, now with a bias added to each:
#
#     hidden = relu(images · w0 + b0)       (batch, 64) · (64, 64) + (64,)
#     logits = hidden · w1 + b1             (batch, 64) · (64, 10) + (10,)
#
# A row of `images` is one image's 64 pixels; a row of `logits` its ten
# scores, one per digit, the largest being the network's answer. The
# hidden layer uses relu, `max(x, 0)`, where XOR's used the sigmoid: it
# is cheaper, and its slope does not fade for large inputs (see
# [ops.py](ops.html)).
#
# Without `b0`, every hidden unit would be a function of `images · w0`
# alone, and an all-white image (all zeros) would give every unit exactly
# 0. The bias lets each unit choose its own threshold. It is one vector,
# added to every row of the batch by broadcasting, so in the backward pass
# its gradient is the sum over the batch of the rows' gradients: `sum_to`,
# from ops.py. Because the batch size is only known when a batch is fed,
# that `sum_to` stays in the graph and reads the shapes at run time.
#
# ### Starting weights
#
# The weights start random, scaled so that signals neither grow nor shrink
# as they pass through a layer. A sum of 64 inputs, each times a weight of
# variance v, has 64·v times the inputs' variance, so v = 1/64 keeps it
# the same. Relu then zeroes about half the units, halving the variance,
# so the first layer takes v = 2/64 ("He initialisation"); the second,
# feeding no relu, 1/64. The biases start at 0.
def initial_weights(seed=SEED):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(scale=np.sqrt(2 / 64), size=(64, HIDDEN))
    w1 = rng.normal(scale=np.sqrt(1 / HIDDEN), size=(HIDDEN, 10))
    return w0, np.zeros(HIDDEN), w1, np.zeros(10)


# ### The loss
#
# Softmax turns a row of logits into probabilities, and cross-entropy
# scores them against the one-hot label: the loss of one image is
# `−log p`, where p is the probability the network gives the right digit.
# It is 0 for a confident right answer, 0.69 for a coin flip between two
# digits, 2.3 for a uniform guess among ten, and large for a confident
# wrong answer. The loss of a batch is the mean over its images.
#
# `graph.softmax_cross_entropy_with_logits` computes both steps in one op,
# from the logits. [ops.py](ops.html) derives it; two of its properties
# matter here. Its value never forms the probabilities, so it stays exact
# however large the logits grow. Computed the textbook way, `log` of
# `softmax`, a logit of 1000 makes e^1000 overflow: the probabilities come
# out as NaN, or as 0, whose log is −∞, and the loss is lost:
#
# ![The loss of one row of logits (z, 0, −z) for growing z, computed the
# textbook way and by the fused op: the two agree up to about z = 700,
# where the textbook way turns to infinity and NaN; the fused op goes on
# exactly](digits_naive_loss.svg)
#
# And its gradient with respect to the logits is simply `p − labels`, the
# predicted probabilities minus the right ones, divided by the batch size
# by the mean. Drawn by draw.py, here is the loss for one batch before and
# after `gradients(loss, [logits])`, with the logits and labels as two
# placeholders:
#
# ![The loss op: labels and logits meet in
# softmax_cross_entropy_with_logits, whose mean is the
# loss](digits_loss_forward.svg)
#
# ![The same after gradients: spread shares the seed among the batch's
# rows, expand copies each row's share along its ten logits, and softmax,
# sum, mul and sub form softmax · sum(labels) − labels, times
# it](digits_loss_backward.svg)
#
# The backward pass builds the general form of the gradient,
# `g · (softmax · sum(labels) − labels)`, correct for labels of any sum;
# for one-hot labels `sum(labels)` is 1. The ops that compute the gradient
# with respect to the labels are built too, but no run computes them: the
# labels are fed, and nothing asks for their gradient.
#
# ## The model
#
# `build_model` returns the tensors training needs, by name. The images
# and labels are placeholders, `graph.tensor()` with no value: each run
# feeds them a batch. The graph is built once and serves batches of any
# size: 32 images in a training step, 450 when the test set is measured.
# `variables` are the weights and biases, w0, b0, w1, b1.
Model = namedtuple("Model", "images labels logits loss train variables")


def build_model(weights, rate=RATE, momentum=MOMENTUM):
    graph = Graph()
    images, labels = graph.tensor(), graph.tensor()
    variables = [graph.tensor(w) for w in weights]
    w0, b0, w1, b1 = variables

    hidden = graph.relu(images @ w0 + b0)
    logits = hidden @ w1 + b1
    losses = graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss = graph.mean(losses)

    gradients = graph.gradients(loss, variables)
    train = momentum_update(graph, variables, gradients, rate, momentum)
    return Model(images, labels, logits, loss, train, variables)


# ## Momentum
#
# Plain gradient descent steps against the gradient of the current batch:
# `w ← w − rate · g`. Each batch is a sample of 32 images, so each gradient
# is a noisy estimate of the true one, and where the loss is a long narrow
# valley the steps zig-zag across it instead of going along it.
#
# Momentum gives each variable a *velocity* `v` (TensorFlow calls it the
# accumulator), which remembers past gradients, and steps along it:
#
#     v ← momentum · v + g
#     w ← w − rate · v
#
# With momentum 0.9, `v` is `g + 0.9 g' + 0.81 g'' + …`, a running sum of
# the recent gradients in which each older one counts 0.9 times less.
# Components that keep their sign from step to step add up: along a
# steady slope `v` grows to `g / (1 − 0.9)`, ten times a single gradient.
# Components that flip sign cancel. So the walk speeds up along the
# valley and calms down across it.
#
# In the graph, each velocity is a variable starting at zeros, and the
# update is two assignments per weight. The second reads the first's
# *output*, the new velocity, while `w` is read as it was: a session
# applies a run's assignments only when the run has succeeded, so every
# tensor in the run sees the values the run started with, and an `assign`
# passes on the value it assigns. This is the order of TensorFlow 1's
# `MomentumOptimizer`, which updates the accumulator first and steps with
# the new one. One `group` runs all eight assignments.
def momentum_update(graph, variables, gradients, rate, momentum):
    steps = []
    for w, g in zip(variables, gradients):
        v = graph.tensor(np.zeros(w.shape))
        new_v = graph.assign(v, momentum * v + g)
        steps.append(graph.assign(w, w - rate * new_v))
    return graph.group(steps)


# ## Training
#
# An *epoch* is one pass over the training set. Each epoch shuffles the
# 1,347 training images and cuts them into batches of 32: 42 full batches
# and a last one of 3, which the placeholders take like any other. The
# order is drawn here, once, for every epoch, so that our engine and
# TensorFlow's can be driven through exactly the same batches.
def batch_order(n, epochs=EPOCHS, batch=BATCH, seed=SEED):
    rng = np.random.default_rng(seed)
    return [np.array_split(rng.permutation(n), range(batch, n, batch))
            for _ in range(epochs)]


# `fit` is the training loop, written against nothing but `sess.run`, so
# that tf_digits.py can drive TensorFlow's session with it. Each step feeds
# one batch, runs the update and fetches the loss, computed from the
# weights the step started with. `losses` keeps every step's loss.
#
# After each epoch, both sets are measured with the weights as they are
# (`evaluate`), and the progress bar shows the training loss and the test
# accuracy. `history` keeps the four numbers of every epoch, which the
# curves below plot.
Epoch = namedtuple("Epoch", "train_loss train_accuracy test_loss test_accuracy")


def fit(sess, model, data, order, bar=True):
    history, losses = [], []
    epochs = tqdm(order, unit="epoch", disable=not bar)
    for batches in epochs:
        for batch in batches:
            feed = {model.images: data.train_images[batch],
                    model.labels: data.train_labels[batch]}
            losses.append(sess.run([model.train, model.loss], feed)[1])
        history.append(Epoch(*evaluate(sess, model, data.train_images,
                                       data.train_labels),
                             *evaluate(sess, model, data.test_images,
                                       data.test_labels)))
        epochs.set_postfix_str(f"loss {history[-1].train_loss:.4f}, "
                               f"test accuracy {history[-1].test_accuracy:.1%}")
    return history, losses


# A whole set goes through the graph as one batch. The network's answer
# for an image is the digit with the largest logit (`argmax`); the
# accuracy is the fraction of images where it is the labelled one.
def evaluate(sess, model, images, labels):
    loss, logits = sess.run([model.loss, model.logits],
                            {model.images: images, model.labels: labels})
    return loss, np.mean(logits.argmax(1) == labels.argmax(1))


# `train` puts the pieces together: data, weights, model, session, batch
# order, loop. It returns everything a report or a picture needs.
Run = namedtuple("Run", "data model sess history losses")


def train(epochs=EPOCHS, bar=True):
    data = load_data()
    model = build_model(initial_weights())
    sess = Session(model.loss.graph)
    order = batch_order(len(data.train_images), epochs)
    return Run(data, model, sess, *fit(sess, model, data, order, bar))


# ## Results
#
# RESULTS
#
# ![Loss and accuracy on the training and test sets after each
# epoch](digits_curves.svg)
#
# ![The confusion matrix: the test set's true digits down, the network's
# answers across](digits_confusion.svg)
#
# ![The misclassified test digits](digits_mistakes.svg)
#
# ![The first layer's weights, one 8 × 8 image per hidden
# unit](digits_weights.svg)
def predictions(run):
    logits = run.sess.run(run.model.logits, {run.model.images: run.data.test_images})
    return logits.argmax(1)


# `report` prints the confusion matrix and, last, the accuracy on the test
# set.
def report(run):
    truth, answers = run.data.test_labels.argmax(1), predictions(run)
    print("\nconfusion matrix (rows: true digit, columns: the network's answer)")
    print("     " + "".join(f"{d:4}" for d in range(10)))
    for d, row in enumerate(confusion_matrix(truth, answers, labels=range(10))):
        print(f"{d:4} " + "".join(f"{n:4}" for n in row))
    print(f"test accuracy: {np.mean(answers == truth):.1%}")


# Run as a script, this trains the network and reports, with the time
# taken; imported (by tf_digits.py, digits_pictures.py, the tests and the
# benchmarks), it only defines the pieces.
if __name__ == "__main__":
    start = time.perf_counter()
    run = train()
    print(f"\ntrained in {time.perf_counter() - start:.1f} s")
    report(run)
