# # nn_ops.py: the digits chapter's ops
#
# The XOR network of Part I needs a dozen ops. Reading handwritten digits
# (digits.py) needs a few more: `exp` and `log`, the rectifier `relu`, and
# softmax with its cross-entropy. Each is a class like those of ops.py,
# with a `compute` and a `gradient`, and `Graph` builds them with one line
# each (`graph.relu(x)`, …), so nothing else in the engine changes.
import numpy as np

from ops import BaseOp


# ## Exponential, logarithm and ReLU
#
# Three more functions applied element by element, each with a one-line
# derivative. The first two are the pieces of softmax, further down; the
# third is the hidden layer of digits.py.
class ExpOp(BaseOp):
    # `eˣ`, element by element.
    def compute(self, sess, x):
        return np.exp(x)

    # `∂eˣ/∂x = eˣ`: the derivative is the op's own output `y`, already
    # computed by the forward pass.
    def gradient(self, grad):
        return [grad * self.output]


# The natural logarithm, the inverse of `exp`.
class LogOp(BaseOp):
    # Defined for x > 0; `log 0` is −∞, and NumPy warns.
    def compute(self, sess, x):
        return np.log(x)

    # `∂(log x)/∂x = 1/x`.
    def gradient(self, grad):
        return [grad / self.inputs[0]]


# The rectified linear unit, `relu(x) = max(x, 0)`, passes positive numbers
# through and turns negative ones into 0. Most networks today use it in
# their hidden layers instead of the sigmoid: it costs one comparison, and
# its slope for positive x is 1 however large x grows, where the sigmoid's
# flattens out towards 0 and passes less and less gradient back.
class ReluOp(BaseOp):
    # Python's 0 takes the dtype of `x` (NumPy treats plain numbers so), so a
    # float32 input gives a float32 output.
    def compute(self, sess, x):
        return np.maximum(x, 0)

    # `relu'(x)` is 1 for x > 0 and 0 for x < 0: the gradient passes where
    # the unit is on and stops where it is off. At x = 0 the graph of relu
    # has a corner and no derivative; we take 0 there, as TensorFlow does.
    def gradient(self, grad):
        return [grad * self.graph.step(self.inputs[0])]


# `step(x)`, the Heaviside step function, is that slope: 1 where x > 0, 0
# elsewhere.
class StepOp(BaseOp):
    # `np.heaviside`'s second argument is its value at 0.
    def compute(self, sess, x):
        return np.heaviside(x, 0)

    # A step is flat on either side of 0, so its gradient is 0: zeros shaped
    # like `x`. That makes relu's second derivative 0, as it is everywhere
    # except at the corner.
    def gradient(self, grad):
        return [self.graph.broadcast_to(0.0, self.inputs[0])]


# ## Softmax and cross-entropy
#
# A classifier's last layer gives one number per class, its *logits* `z`:
# the larger `z_k`, the more the network believes in class k. Softmax turns
# a row of logits into probabilities, each positive, together summing to 1:
#
#     softmax(z)_k = e^(z_k) / Σ_j e^(z_j)
#
# For logits (2, 1, 0) that is (e², e, 1) / 11.1 = (0.67, 0.24, 0.09).
#
# Written that way it breaks on large logits: e^1000 overflows to ∞, and
# ∞ / ∞ is NaN. The cure is a shift. Adding the same number c to every
# logit changes nothing, since `e^(z_k + c) = e^(z_k) e^c` and the `e^c`
# cancels between top and bottom. With c = −max(z) every exponent is at
# most 0, so no `e^…` exceeds 1, and the largest is exactly 1, so the sum
# lies between 1 and the number of classes.
#
# The ops below work over the last axis of their input, so that a (batch,
# classes) matrix of logits is handled row by row.
class SoftmaxOp(BaseOp):
    # The shifted formula.
    def compute(self, sess, x):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    # With `y = softmax(z)`, `∂y_k/∂z_j = y_k (δ_kj − y_j)`, where δ_kj is 1
    # for k = j and 0 otherwise: raising one logit raises its own
    # probability and takes from all the others. Summed against the
    # incoming gradient g, `∂/∂z_j = Σ_k g_k y_k (δ_kj − y_j)
    # = y_j (g_j − Σ_k g_k y_k)`, written with the op's own output `y`.
    def gradient(self, grad):
        y = self.output
        return [y * (grad - self.graph.sum(grad * y, axis=-1, keepdims=True))]


# The logarithm of softmax is simpler than softmax itself. With the shifted
# logits `s = z − max(z)`,
#
#     log softmax(z)_k = s_k − log Σ_j e^(s_j)
#
# and since the sum is at least 1, its logarithm is finite. Taking the log
# of a computed softmax instead fails where a probability underflows to 0:
# `log 0` is −∞. `log_softmax` computes it for the two ops that follow.
def log_softmax(x):
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


# `log_softmax` as an op: cross-entropy's gradient needs it.
class LogSoftmaxOp(BaseOp):
    # Computed as above.
    def compute(self, sess, x):
        return log_softmax(x)

    # `y_k = z_k − log Σ_j e^(z_j)`, so `∂y_k/∂z_j = δ_kj − softmax(z)_j`,
    # and the gradient is `g_j − softmax(z)_j Σ_k g_k`. Softmax is `e^y`.
    def gradient(self, grad):
        softmax = self.graph.exp(self.output)
        return [grad - softmax * self.graph.sum(grad, axis=-1, keepdims=True)]


# ### Cross-entropy
#
# Training needs one number that says how wrong the predicted
# probabilities `p = softmax(z)` are. Each example comes with *labels* `l`,
# the probabilities it should get: usually 1 for its class and 0 for the
# others ("one-hot"). Their cross-entropy is
#
#     loss = −Σ_k l_k log p_k
#
# which for one-hot labels is `−log p_right`: 0 when the network gives the
# right class probability 1, and growing without bound as that
# probability falls towards 0. With p = (0.67, 0.24, 0.09) from above and
# the right class first, the loss is −log 0.67 = 0.41; were it the third,
# −log 0.09 = 2.41.
#
# `softmax_cross_entropy_with_logits(labels=l, logits=z)`, named as in
# TensorFlow, fuses softmax and cross-entropy into one op, working from the
# logits through `log_softmax`. The fused op never forms p, so it stays
# exact where `log(softmax(z))` gives −∞, or NaN (the digits chapter
# draws the difference). It computes one loss per row: for (batch,
# classes) logits, a vector of `batch` losses, which a `mean` then averages.
class SoftmaxCrossEntropyWithLogitsOp(BaseOp):
    # A placeholder's shape is checked only now, at run time, by the
    # same rule as `infer_shape` below.
    def compute(self, sess, labels, logits):
        if np.shape(labels) != np.shape(logits) or not np.shape(logits):
            raise ValueError("labels and logits must have the same shape")
        return -(labels * log_softmax(logits)).sum(-1)

    # One loss per row: the shape of the logits without the last axis.
    def infer_shape(self, labels, logits):
        if labels != logits or not logits:
            raise ValueError("labels and logits must have the same shape, "
                             "with at least one axis")
        return logits[:-1]

    # The fused op has a simple gradient too. Write `s = Σ_k l_k` for the
    # sum of the labels and `LSE(z) = log Σ_j e^(z_j)`, whose derivative
    # `∂LSE/∂z_k` is `e^(z_k) / Σ_j e^(z_j) = softmax(z)_k`. Then
    #
    #     loss = −Σ_k l_k (z_k − LSE(z))
    #          = −Σ_k l_k z_k + s · LSE(z)
    #     ∂loss/∂z_k = s · softmax(z)_k − l_k
    #     ∂loss/∂l_k = −(z_k − LSE(z))
    #                = −log softmax(z)_k
    #
    # For labels that sum to 1, as one-hot labels do, the first is
    # `softmax(z) − l`: the predicted probabilities minus the right ones.
    # (TensorFlow's kernel returns `softmax(z) − l` whatever the labels sum
    # to, which is the derivative only when they sum to 1.)
    # The per-row gradient g is first copied along each row by `expand`.
    def gradient(self, grad):
        labels, logits = self.inputs
        grad = self.graph.expand(grad, logits, axis=-1)
        s = self.graph.sum(labels, axis=-1, keepdims=True)
        return [-grad * self.graph.log_softmax(logits),
                grad * (self.graph.softmax(logits) * s - labels)]


# Next: [digits.py](digits.html), which trains a network with them.
