# # digits.py: reading handwritten digits
#
# XOR showed that the engine learns; four examples cannot show much more.
# This chapter trains it on real data: 1,797 handwritten digits, each an
# 8 × 8 grid of grey levels, and asks it to say which digit each one is,
# on images it has never seen. It trains in under a second and reads 97
# in 100 right.
#
# ![Forty digits from the training set, four of each, with their
# labels](digits_samples.svg)
#
# Five things are new since XOR:
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
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from graph import Graph
from session import Session

# Every choice in one place. `SEED` fixes the split, the starting weights
# and the order of the batches, so every run computes exactly the same
# numbers, and the TensorFlow version in tf_digits.py the same up to
# rounding (at most 1e-15 apart).
SEED = 0
HIDDEN = 64
RATE = 0.05
MOMENTUM = 0.9
BATCH = 32
EPOCHS = 40

# ## The data
#
# scikit-learn ships the digits inside its package, so nothing is
# downloaded. They are the test part of the UCI "optical recognition of
# handwritten digits" set: forms filled in by 13 people, scanned into
# 32 × 32 black-and-white bitmaps, in which each 4 × 4 block of pixels was
# replaced by its count of black pixels, a grey level from 0 to 16. Each
# image is therefore 64 numbers, which we divide by 16 so that they lie in
# [0, 1], the range the starting weights below are scaled for.
#
# Each label becomes a *one-hot* row: ten numbers, 1 in the column of the
# right digit and 0 elsewhere, which is the probability distribution the
# network's answer should match. A 3 is (0, 0, 0, 1, 0, 0, 0, 0, 0, 0).
#
# A quarter of the images, 450, become the *test set*. Training never sees
# them; they measure how well the network reads digits it has not learned.
# (They were written by the same 13 people as the training images, so this
# measures new digits in familiar hands, not new hands.) `stratify` keeps
# the ten digits in the same proportions in both parts, about 45 of each
# in the test set, and `random_state` makes the split the same on every
# run.
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
#     hidden = relu(images · w0 + b0)
#     logits = hidden · w1 + b1
#
# For a batch of n images, `images` is an (n, 64) matrix, one row of 64
# pixels per image. With w0 of shape (64, 64) and b0 of (64,), `hidden` is
# (n, 64): 64 hidden units per image. With w1 of (64, 10) and b1 of (10,),
# `logits` is (n, 10): ten scores per image, one per digit, the largest
# being the network's answer. The hidden layer uses relu, `max(x, 0)`,
# where XOR's used the sigmoid: it is cheaper, and its slope does not fade
# for large inputs (see [nn_ops.py](nn_ops.html)).
#
# `build_model` builds it and returns, by name, the tensors training
# needs. The images and labels are placeholders, `graph.tensor()` with no
# value: each run feeds them a batch. The graph is built once and serves
# batches of any size: 32 images in a training step, 450 when the test set
# is measured. `variables` are the weights and biases, w0, b0, w1, b1.
Model = namedtuple("Model", "images labels logits loss train variables")


def build_model(weights, rate=RATE, momentum=MOMENTUM):
    graph = Graph()
    images, labels = graph.tensor(), graph.tensor()
    variables = [graph.tensor(w) for w in weights]
    w0, b0, w1, b1 = variables

    # Without `b0`, each hidden unit's input would be its weighted sum of
    # the pixels and nothing more: a blank image (all zeros) would give
    # every unit exactly 0. The bias lets each unit choose its own
    # threshold. It is one vector of 64, added by broadcasting to every row
    # of the (n, 64) matrix `images · w0`, so in the backward pass its
    # gradient is the sum of the rows' gradients over the batch: `sum_to`,
    # from ops.py. The batch size is known only when a batch is fed, so
    # that `sum_to` stays in the graph and reads the shapes when it runs.
    hidden = graph.relu(images @ w0 + b0)
    logits = hidden @ w1 + b1

    # ### The loss
    #
    # Softmax turns a row of logits into probabilities, and cross-entropy
    # scores them against the one-hot label: the loss of one image is
    # `−log p`, where p is the probability the network gives the right digit.
    # It is 0 for a confident right answer, 0.69 for a coin flip between two
    # digits, 2.3 for a uniform guess among ten, and large for a confident
    # wrong answer. The loss of a batch is the mean over its images. (The
    # first batch's loss is 2.45: the untrained network is about as good as
    # a uniform guess.)
    #
    # `graph.softmax_cross_entropy_with_logits` computes both steps in one op,
    # from the logits. [nn_ops.py](nn_ops.html) derives it; two of its properties
    # matter here. First, it never forms the probabilities, so it stays exact
    # however large the logits grow (short of the float range itself, about
    # 1e308). Written as the formula reads, `−Σ labels · log(softmax(z))`, it
    # breaks: a probability below about 5e-324, the smallest positive float,
    # rounds to 0, whose log is −∞, and a label of 0 times −∞ is NaN.
    # Taking the log of the right class's probability alone avoids the NaN,
    # but not the 0. In a row of logits (z, 0, −z) whose right class is the
    # middle one, the exact loss is about z:
    #
    # ![The loss of a row of logits (z, 0, −z), computed three ways: written
    # as the formula reads it turns to NaN from z = 375, the log of the right
    # probability alone to infinity from z = 747.5, and the fused op stays
    # exact up to z = 1000](digits_naive_loss.svg)
    #
    # Such logits are not far-fetched: a network that grows confident, or a
    # rate set too high, produces them, and one NaN in a loss turns every
    # weight into NaN at the next step.
    #
    # Second, for one-hot labels its gradient with respect to the logits is
    # simply `p − labels`, the predicted probabilities minus the right ones
    # (the mean then divides it by the batch size). Drawn by draw.py, here is
    # the loss of a batch before and after `gradients(loss, [logits])`, with
    # the logits and labels as two placeholders:
    #
    # ![The loss op: the logits pass through log_softmax, and labels, logits
    # and log-probabilities meet in softmax_cross_entropy_with_logits, whose
    # mean is the loss](digits_loss_forward.svg)
    #
    # ![The same after gradients: spread shares ∂loss/∂loss = 1 among the
    # batch's rows, expand copies each row's share along its ten logits, and exp
    # of the log-probabilities, sum, mul and sub form softmax · sum(labels) −
    # labels, which a last mul scales by it](digits_loss_backward.svg)
    #
    # Read from ∂loss/∂loss = 1 down: `spread` gives each of the batch's
    # losses an equal share of it, `1 / batch` (mean's gradient); `expand`
    # copies each row's share along its ten logits; and the ops on the right
    # build `softmax · sum(labels) − labels`, the general form of the
    # gradient, correct for labels of any sum (for one-hot labels,
    # `sum(labels)` is 1). Their softmax is the `exp` of the forward pass's
    # `log_softmax`, so a training step computes the softmax once, not
    # twice. The ops for the gradient with respect to the labels are built
    # as well, but not drawn and never run: nothing asks for them.
    losses = graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss = graph.mean(losses)

    # `gradients` adds the backward pass for all four variables, and
    # `momentum_update` (below) the training step that applies it.
    gradients = graph.gradients(loss, variables)
    train = momentum_update(graph, variables, gradients, rate, momentum)
    return Model(images, labels, logits, loss, train, variables)


# ### Starting weights
#
# The weights start random, scaled so that signals neither grow nor shrink
# as they pass through a layer, in mean square. A sum of 64 inputs x,
# each times a weight of mean 0 and variance v, has mean square
# 64·v·E[x²], where E[x²] is the inputs' mean square, so v = 1/64 keeps it
# the same. Relu then zeroes about half the units, halving it, so the
# first layer takes v = 2/64 ("He initialisation"); the second, feeding
# no relu, 1/64. The biases start at 0.
def initial_weights(seed=SEED):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(scale=np.sqrt(2 / 64), size=(64, HIDDEN))
    w1 = rng.normal(scale=np.sqrt(1 / HIDDEN), size=(HIDDEN, 10))
    return w0, np.zeros(HIDDEN), w1, np.zeros(10)


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
# With momentum 0.9, `v` is `g + 0.9 g' + 0.81 g'' + …`, where g is this
# step's gradient, g' the last step's, and so on: a running sum of the
# recent gradients, each counting 0.9 times as much as the one after it.
# Where the gradient keeps its sign, the sum builds up: a steady gradient
# of 1 makes `v` 1, 1.9, 2.71, 3.44, … on its way to 1 / (1 − 0.9) = 10,
# so the steps grow tenfold. Where it flips sign from step to step, as
# across a valley, the terms cancel: gradients 1, −1, 1, −1 give `v` 1,
# −0.1, 0.91, −0.18. So the walk speeds up along the valley and calms
# down across it.
#
# In the graph, each velocity is a variable starting at zeros (of its
# weight's shape and dtype), and the update is two assignments per
# weight. The second reads the first's *output*, the new velocity, while
# `w` is read as it was: a session applies a run's assignments only when
# the run has succeeded, so every tensor in the run sees the values the
# run started with, and an `assign` passes on the value it assigns. This
# is the order of TensorFlow 1's `MomentumOptimizer`, which updates the
# accumulator first and steps with the new one. One `group` runs all
# eight assignments.
def momentum_update(graph, variables, gradients, rate, momentum):
    steps = []
    for w, g in zip(variables, gradients):
        v = graph.tensor(np.zeros_like(w.initial_value))
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


#
# (An aside: NumPy's matrix products may use several threads. On matrices
# this small, threads cost more to coordinate than they save, and on a
# busy machine they wait for each other, so training holds NumPy's BLAS
# library to one thread, with threadpoolctl, which scikit-learn uses too.)
def train(epochs=EPOCHS, bar=True):
    data = load_data()
    model = build_model(initial_weights())
    sess = Session(model.loss.graph)
    order = batch_order(len(data.train_images), epochs)
    with threadpool_limits(limits=1, user_api="blas"):
        return Run(data, model, sess, *fit(sess, model, data, order, bar))


# ## Results
#
# `python digits.py` trains for 40 epochs, 1,720 steps, in about 0.4 s on
# a busy 2-core machine, one BLAS thread (1.4 s with Python's start-up
# and imports), and ends with
#
#     confusion matrix (row: digit, column: answer)
#           0  1  2  3  4  5  6  7  8  9
#       0  45  0  0  0  0  0  0  0  0  0
#       1   0 45  0  0  0  0  0  0  1  0
#       2   0  1 43  0  0  0  0  0  0  0
#       3   0  0  0 46  0  0  0  0  0  0
#       4   0  1  0  0 43  0  0  0  1  0
#       5   0  0  0  0  0 45  0  1  0  0
#       6   0  1  0  0  0  0 44  0  0  0
#       7   0  0  0  0  0  0  0 44  0  1
#       8   0  2  0  0  0  1  0  0 40  0
#       9   0  0  0  1  0  1  0  0  0 43
#     test accuracy: 97.3%
#
# 438 of the 450 test images, which the network never trained on, are
# read right. (Seeds 1 to 20, which change the split, the starting weights
# and the batches, end between 96.4% and 98.4%.)
#
# The curves show how it got there. After one epoch the network reads 90%
# of the test set, and by the fifth 97%. Then the two sets part ways. The
# training loss keeps falling, from 0.39 after the first epoch to 0.0065,
# and from epoch 35 every training image is read right; the test loss
# stays near 0.10, and after epoch 20 the test accuracy wanders between
# 96.7% and 98.2%. The network goes on learning its own examples ever more
# surely, which no longer helps with new ones. That gap between the curves
# is *overfitting*, and only the held-out test set shows it.
#
# ![Loss (on a log scale) and accuracy on the training and test sets after
# each epoch: the training loss falls to 0.0065 and its accuracy rises to
# 100%, while the test loss levels off near 0.1 and its accuracy near
# 97.5%](digits_curves.svg)
#
# The confusion matrix counts, for each true digit (a row), the network's
# answers (the columns). The diagonal holds the right answers; everything
# else is a mistake, and says which digits look alike to the network. Its
# favourite wrong answer is 1, given for five images: a 2, a 4, a 6 and two
# 8s.
#
# ![The confusion matrix: the test set's true digits down, the network's
# answers across, the right answers on the diagonal and the twelve
# mistakes off it](digits_confusion.svg)
#
# Here are the twelve, each with its label and the network's answer. At
# 8 × 8 pixels, several are hard to read for a person too.
#
# ![The twelve misclassified test digits, each captioned with its true
# digit and the network's answer](digits_mistakes.svg)
#
# Last, what the first layer learned. Each hidden unit adds up the 64
# pixels with its 64 weights, so its weights can be drawn as an 8 × 8
# image: red where ink turns the unit on, blue where ink turns it off.
# Here are the 16 units with the largest weights. Few look like digits: a
# unit answers to some strokes in some places, and the second layer weighs
# the 64 answers into ten scores.
#
# ![The first layer's weights after training for the 16 units with the
# largest weights, each an 8 × 8 image, red positive and blue negative,
# with a colour bar](digits_weights.svg)
#
# `predictions` gives the network's answer for each test image, the digit
# of its largest logit; the pictures use it too.
def predictions(run):
    logits = run.sess.run(run.model.logits, {run.model.images: run.data.test_images})
    return logits.argmax(1)


# `report` prints the confusion matrix and, last, the accuracy on the test
# set.
def report(run):
    truth, answers = run.data.test_labels.argmax(1), predictions(run)
    print("\nconfusion matrix (row: digit, column: answer)")
    print("    " + "".join(f"{d:3}" for d in range(10)))
    for d, row in enumerate(confusion_matrix(truth, answers, labels=range(10))):
        print(f"{d:3} " + "".join(f"{n:3}" for n in row))
    print(f"test accuracy: {np.mean(answers == truth):.1%}")


# Run as a script, this trains the network and reports, with the time
# taken; imported (by tf_digits.py, digits_pictures.py, the tests and the
# benchmarks), it only defines the pieces.
if __name__ == "__main__":
    start = time.perf_counter()
    run = train()
    print(f"\ntrained in {time.perf_counter() - start:.1f} s")
    report(run)


# Next: [tf_test.py](tf_test.html), main.py's XOR network written with
# real TensorFlow, to read beside it; then [tf_digits.py](tf_digits.html),
# this chapter's network in TensorFlow.
