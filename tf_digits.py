# # tf_digits.py: the digits network in TensorFlow
#
# digits.py's network once more, now in real TensorFlow, to read beside it
# as tf_test.py is read beside main.py. Only the model is written again:
# the data, the starting weights, the order of the batches and the training
# loop are digits.py's own, so both programs take exactly the same steps,
# and in float64 they print the same losses (the parity tests compare the
# first 200 steps' losses).
#
# TensorFlow is optional: `pip install -r requirements-tf.txt`, then
# `python tf_digits.py`.
import os
import sys
import time

from digits import (
    EPOCHS,
    MOMENTUM,
    RATE,
    Model,
    Run,
    batch_order,
    fit,
    initial_weights,
    load_data,
    report,
)

# As in tf_test.py: quiet TensorFlow's start-up notes (a value set in your
# shell wins), and leave `tf` as None when TensorFlow is not installed.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
try:
    import tensorflow as tf
except ImportError:
    tf = None


# ## The model
#
# `build_model` is the twin of digits.py's, line for line, and returns the
# same `Model` of tensors, so that digits.py's `fit` can drive it. It also
# returns the graph and the initialiser, which TensorFlow needs and our
# engine does not.
def build_model(weights, rate=RATE, momentum=MOMENTUM, dtype="float64"):
    graph = tf.Graph()
    with graph.as_default():
        # Our `graph.tensor()` with no value is a placeholder. TensorFlow's
        # asks for a dtype, and takes a shape, where `None` leaves the batch
        # size open: (None, 64) is any number of rows of 64 pixels.
        images = tf.compat.v1.placeholder(dtype, shape=(None, 64))
        labels = tf.compat.v1.placeholder(dtype, shape=(None, 10))
        variables = [tf.compat.v1.Variable(w, dtype=dtype) for w in weights]
        w0, b0, w1, b1 = variables

        # The forward pass: `tf.nn.relu` is our `relu`, and `+` broadcasts
        # the biases over the rows just as ours does.
        hidden = tf.nn.relu(tf.matmul(images, w0) + b0)
        logits = tf.matmul(hidden, w1) + b1

        # The fused loss has the same name in TensorFlow 2
        # (`softmax_cross_entropy_with_logits_v2` in TensorFlow 1), and
        # `reduce_mean` with no axis is our `mean`.
        losses = tf.nn.softmax_cross_entropy_with_logits(labels=labels,
                                                         logits=logits)
        loss = tf.reduce_mean(losses)

        # `tf.gradients` is our `graph.gradients`. The update is
        # TensorFlow 1's own momentum optimiser: it makes the velocity
        # variables (its "accumulators", starting at zeros) and an op that
        # applies `v ← momentum · v + g; w ← w − rate · v` to each variable,
        # which digits.py builds by hand from `assign` ops. The rate and
        # the momentum go in as tensors of the model's dtype: given Python
        # numbers, the optimiser would store them in float32, where 0.05 is
        # 0.0500000007…, and every step would differ from ours by that.
        gradients = tf.compat.v1.gradients(loss, variables)
        optimizer = tf.compat.v1.train.MomentumOptimizer(
            tf.constant(rate, dtype), tf.constant(momentum, dtype))
        train = optimizer.apply_gradients(zip(gradients, variables))

        # TensorFlow's variables, the optimiser's included, are set to
        # their starting values by running this op once.
        init = tf.compat.v1.global_variables_initializer()
    return graph, init, Model(images, labels, logits, loss, train, variables)


# ## Training
#
# The same loop as digits.py's `train`, with TensorFlow's session. Its
# `run` takes the same fetches and feeds, so `fit`, `predictions` and
# `report` need no change.
def train(epochs=EPOCHS, bar=True):
    data = load_data()
    graph, init, model = build_model(initial_weights())
    sess = tf.compat.v1.Session(graph=graph)
    sess.run(init)
    order = batch_order(len(data.train_images), epochs)
    return Run(data, model, sess, *fit(sess, model, data, order, bar))


# Without TensorFlow there is nothing to train: say how to get it, and
# exit with status 1, so that a script or CI running this one sees it fail.
if __name__ == "__main__":
    if tf is None:
        sys.exit("TensorFlow is not installed: pip install -r requirements-tf.txt")
    else:
        start = time.perf_counter()
        run = train()
        print(f"\ntrained in {time.perf_counter() - start:.1f} s")
        report(run)


# Next, an appendix: [compiler.py](compiler.html), which turns a plan
# that runs often into straight-line code.
