# # tf_test.py: the same network in TensorFlow
#
# This page trains main.py's XOR network a second time, now with real
# TensorFlow, so the two can be read side by side. It uses `tf.compat.v1`, the
# graph-mode API that TensorFlow 2 still ships, because that is the API our
# engine copies: build a graph first, then ask a session to run pieces of it.
# Nearly every line below has a counterpart in main.py, and the comments name
# it; where TensorFlow needs a step that our engine does not, they say so.
#
# TensorFlow is an optional dependency. Install it with
# `pip install -r requirements-tf.txt`, then run `python tf_test.py`. Started
# from the same weights, it prints the same losses as `python main.py`.
#
# Only the model is written again. The data, the starting weights (drawn by
# NumPy with the seed fixed at 67, not by TensorFlow's own random ops) and
# the training loop are main.py's own, so both programs start from exactly
# the same point and report in exactly the same way.
import os
import sys

from main import X, fit, initial_weights, y

# > An aside: these two settings only silence TensorFlow's start-up notes,
# > and must be made before it is imported. Your shell's values win.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

# Importing TensorFlow is the one step that may fail. Rather than crash, we
# leave `tf` as None and explain at the bottom of the page how to install it;
# the parity tests check the same name and skip themselves.
try:
    import tensorflow as tf
except ImportError:
    tf = None

# ## The model
#
# `build_model` is the TensorFlow twin of `build_model` in main.py. It takes
# the starting weights and a dtype and returns the graph together with the
# tensors we run. The tests call this same function, so the script and the
# tests cannot describe two different models.
#
# The default dtype is float64, the precision NumPy gives our engine. With
# both sides in float64 the losses agree to about 1e-14. Pass `"float32"`, the
# dtype of the classic TensorFlow examples, and each rounding error is some
# hundreds of millions of times larger: after 10,000 epochs the loss agrees
# with float64's to about five significant digits only.
def build_model(weights0, weights1, dtype="float64"):
    # Our engine keeps one `Graph` per model, and so does TensorFlow. Making a
    # `tf.Graph` explicitly and building inside `as_default()` keeps this
    # model away from TensorFlow's global state, so importing this module
    # changes nothing for anyone else.
    graph = tf.Graph()
    with graph.as_default():
        # Our engine makes X a variable that nothing assigns to, a tensor
        # whose value is known when the graph is built. TensorFlow's nearest
        # equivalent is `tf.constant`. (Data fed on every run would be a
        # `tf.compat.v1.placeholder`, our `graph.tensor()` with no value.)
        inputs = tf.constant(X, dtype=dtype)
        targets = tf.constant(y, dtype=dtype)

        # The weights are variables: tensors whose value lives in the session
        # and survives from one run to the next. In our engine that is
        # `graph.tensor(weights0)`, whose value the session copies into
        # `sess.state` the first time it is read.
        w0 = tf.compat.v1.Variable(weights0, dtype=dtype)
        w1 = tf.compat.v1.Variable(weights1, dtype=dtype)

        # The forward pass, op for op: `tf.matmul` is our `dot` (the `@`
        # operator), `tf.sigmoid` our `sigmoid`.
        activations0 = tf.sigmoid(tf.matmul(inputs, w0))
        activations1 = tf.sigmoid(tf.matmul(activations0, w1))

        # The loss is the mean squared error. `tf.reduce_mean` with no axis
        # averages every element to a scalar, exactly like our `mean`.
        loss = tf.reduce_mean(tf.square(tf.transpose(targets) - activations1))

        # `tf.compat.v1.gradients` (TensorFlow 1's `tf.gradients`) is our
        # `graph.gradients`. It walks back from the loss and adds the ops that
        # compute ∂loss/∂w to this same graph, then hands back one gradient
        # tensor per variable. Nothing is computed yet.
        grad0, grad1 = tf.compat.v1.gradients(loss, [w0, w1])

        # One step of gradient descent with a learning rate of 1. `assign`
        # (TensorFlow 1's `tf.assign`, kept under `tf.compat.v1`) is our
        # `graph.assign`: an op that, when run, writes a new value into the
        # variable. `tf.group` is our `graph.group`: an op with no value of its
        # own that runs both assignments whenever it is run.
        update = tf.group(
            tf.compat.v1.assign(w0, w0 - grad0),
            tf.compat.v1.assign(w1, w1 - grad1),
        )

        # Here the engines differ. TensorFlow does not read a variable's
        # starting value on its own; a session must first run this op, which
        # assigns every variable its initial value. Our session does that
        # quietly on the first read.
        init = tf.compat.v1.global_variables_initializer()

    return graph, init, loss, update, activations1


# ## Training
#
# A `tf.compat.v1.Session` is our `Session`: it holds the variables' values,
# and `run` evaluates the tensors it is given, computing each op they need
# once per call. The two are alike enough that main.py's `fit`, the loop of
# `sess.run([update, loss])` with its progress bar and final report, drives
# this one unchanged. Running `update` trains; fetching `loss` in the same
# call reports the loss of the weights the epoch started from.
def train(epochs=10_000):
    graph, init, loss, update, output = build_model(*initial_weights())
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        fit(sess, loss, update, output, epochs)


# Without TensorFlow there is nothing to train: say how to get it, and
# exit with status 1, so that a script or CI running this one sees it fail.
if __name__ == "__main__":
    if tf is None:
        sys.exit("TensorFlow is not installed: pip install -r requirements-tf.txt")
    else:
        train()


# To see how each of these TensorFlow calls works inside, go back to
# [main](main.html) and read on from there. Next:
# [tf_digits.py](tf_digits.html), the digits chapter in TensorFlow.
