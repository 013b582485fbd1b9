# # nn_ops.py: the digits chapter's ops
#
# Part I's XOR network needs a dozen ops. Reading handwritten digits
# (digits.py) needs a few more: `exp` and `log`, the rectifier `relu`, and
# softmax with its cross-entropy. Each is a class like those of
# [ops.py](ops.html), with a `compute` and a `gradient`, and `Graph` builds
# each with one line (`graph.relu(x)`, …): nothing else in the engine
# changes. As there, `y` is an op's own output and `grad` the incoming
# gradient.
import numpy as np

from ops import BaseOp


# ## Exponential, logarithm and ReLU
#
# Three more functions applied element by element, each with a one-line
# derivative. The first two are the pieces of softmax, further down; the
# third is the hidden layer of digits.py.
class ExpOp(BaseOp):
    # $e^x$, element by element.
    def compute(self, sess, x):
        return np.exp(x)

    # $\frac{d}{dx} e^x = e^x$: the derivative is the op's own output.
    def gradient(self, grad):
        return [grad * self.output]


# The natural logarithm, the inverse of `exp`.
class LogOp(BaseOp):
    # Defined for $x > 0$; $\log 0 = -\infty$, and NumPy warns.
    def compute(self, sess, x):
        return np.log(x)

    # $\frac{d}{dx} \log x = 1/x$.
    def gradient(self, grad):
        return [grad / self.inputs[0]]


# The rectified linear unit, $\mathrm{relu}(x) = \max(x, 0)$, passes
# positive numbers and turns negative ones into 0. Most networks use it in
# their hidden layers instead of the sigmoid: it costs one comparison, and
# its slope for positive $x$ is 1 however large $x$ grows, where the
# sigmoid's flattens towards 0 and passes less and less gradient back.
class ReluOp(BaseOp):
    # (Python's 0 takes the dtype of `x`.)
    def compute(self, sess, x):
        return np.maximum(x, 0)

    # $\mathrm{relu}'(x)$ is 1 for $x > 0$ and 0 for $x < 0$: the gradient
    # passes where the unit is on and stops where it is off. At the corner,
    # $x = 0$, there is no derivative; we take 0, as TensorFlow does.
    def gradient(self, grad):
        return [grad * self.graph.step(self.inputs[0])]


# `step(x)`, the Heaviside step function, is that slope: 1 where $x > 0$,
# 0 elsewhere.
class StepOp(BaseOp):
    # `x > 0` is False at 0, and at NaN too: relu passes no gradient where
    # its input is NaN, as in TensorFlow.
    def compute(self, sess, x):
        return (x > 0).astype(x.dtype)

    # A step is flat on either side of 0, so its gradient is zeros shaped
    # like `x`, and relu's second derivative is 0, as it is off the corner.
    def gradient(self, grad):
        return [self.graph.broadcast_to(0.0, self.inputs[0])]


# ## Softmax and cross-entropy
#
# A classifier's last layer gives one number per class, its *logits* $z$:
# the larger $z_k$, the more the network believes in class $k$. Softmax
# turns a row of logits into probabilities, positive and summing to 1:
#
# $$\mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}$$
#
# For logits $(2, 1, 0)$ that is $(e^2, e, 1) / 11.1 = (0.67, 0.24, 0.09)$.
#
# Written that way it breaks on large logits: $e^{1000}$ overflows to
# $\infty$, and $\infty / \infty$ is NaN. The cure is a shift: adding the
# same $c$ to every logit changes nothing, since the $e^c$ in
# $e^{z_k + c} = e^{z_k} e^c$ cancels between top and bottom. With
# $c = -\max_j z_j$ no exponent is above 0 and the largest term is 1, so
# the sum lies between 1 and the number of classes.
#
# These ops work over the last axis, so a (batch, classes) matrix of
# logits is handled row by row.
#
# An empty last axis has no maximum and needs no shift: the results are
# empty, as in TensorFlow. A single number fed at run time is refused, as
# it is at build time.
class SoftmaxOp(BaseOp):
    def compute(self, sess, x):
        if not x.ndim:
            raise ValueError(f"{self.kind} needs at least one axis")
        e = np.exp(x - x.max(-1, keepdims=True) if x.shape[-1] else x)
        return e / e.sum(-1, keepdims=True)

    # Softmax needs an axis to work over: a single number is refused, as
    # TensorFlow refuses it.
    def infer_shape(self, x):
        if not x:
            raise ValueError(f"{self.kind} needs at least one axis")
        return x

    # With $y = \mathrm{softmax}(z)$, $∂y_k/∂z_j = y_k (\delta_{kj} - y_j)$,
    # where $\delta_{kj}$ is 1 for $k = j$ and 0 otherwise: raising one
    # logit raises its own probability and takes from the others. The
    # vector-Jacobian product with the incoming $g$ is
    #
    # $$\begin{array}{rcl}
    # \bar z_j &=& \sum_k g_k y_k (\delta_{kj} - y_j) \\
    #           &=& y_j \Big(g_j - \sum_k g_k y_k\Big)
    # \end{array}$$
    def gradient(self, grad):
        y = self.output
        return [y * (grad - self.graph.sum(grad * y, axis=-1, keepdims=True))]


# The logarithm of softmax is simpler than softmax itself. With the
# shifted logits $s = z - \max_j z_j$,
#
# $$\log \mathrm{softmax}(z)_k = s_k - \log \sum_j e^{s_j}$$
#
# and the sum is at least 1, so its logarithm is finite. The log of a
# computed softmax fails where a probability underflows to 0, whose log is
# $-\infty$. `log_softmax` is an op of its own: cross-entropy's gradient
# needs it.
class LogSoftmaxOp(SoftmaxOp):
    # Shifted as above. The sums of an empty last axis are 0, whose
    # logarithm NumPy would warn about; they are given a sum of 1 instead
    # (any other sum is at least $e^0 = 1$, from the largest logit).
    def compute(self, sess, x):
        if not x.ndim:
            raise ValueError(f"{self.kind} needs at least one axis")
        s = x - x.max(-1, keepdims=True) if x.shape[-1] else x
        total = np.exp(s).sum(-1, keepdims=True)
        return s - np.log(total if x.shape[-1] else total + 1)

    # $y_k = z_k - \log \sum_j e^{z_j}$, so
    # $∂y_k/∂z_j = \delta_{kj} - \mathrm{softmax}(z)_j$, and
    # $\bar z_j = g_j - \mathrm{softmax}(z)_j \sum_k g_k$, with softmax
    # recovered as $e^y$.
    def gradient(self, grad):
        softmax = self.graph.exp(self.output)
        return [grad - softmax * self.graph.sum(grad, axis=-1, keepdims=True)]


# ### Cross-entropy
#
# Training needs one number that says how wrong the predicted
# probabilities $p = \mathrm{softmax}(z)$ are. Each example comes with
# *labels* $q$, the probabilities it should get: usually 1 for its class
# and 0 for the others ("one-hot"). Their cross-entropy is
#
# $$H(q, p) = -\sum_k q_k \log p_k$$
#
# which for one-hot labels is $-\log p_\text{right}$: 0 when the right
# class gets probability 1, growing without bound as it falls towards 0.
# With $p = (0.665, 0.245, 0.090)$ and the first class right, the loss is
# $-\log 0.665 = 0.41$; were the third right, $-\log 0.090 = 2.41$.
#
# `softmax_cross_entropy_with_logits(labels=q, logits=z)`, as TensorFlow
# names it, fuses the two into one op. It is built (by the function at
# the end of this page) with a third input, $\log p$, a `log_softmax` op
# of the logits, and the loss is $-\sum_k q_k (\log p)_k$. The loss never
# forms $p$, so it stays exact where `log(softmax(z))` gives $-\infty$ or
# NaN (the digits chapter draws the difference). It gives one loss per
# row, which a `mean` then averages.
#
# Why an input, and not `log_softmax` called inside `compute`? The
# gradient below needs $p$ too. A gradient is built as ops on tensors, and
# cannot see a value made inside another op's `compute`: had the loss
# computed $\log p$ there, the backward pass would build a softmax of its
# own, and every training step would compute the shift, the exponentials
# and the row sums twice. With $\log p$ a tensor, the gradient reads $p$
# off it as $e^{\log p}$, one `exp`.
class SoftmaxCrossEntropyWithLogitsOp(BaseOp):
    # A placeholder's shape is checked only now, at run time, by the
    # same rule as `infer_shape` below. The sum over $k$ is NumPy's
    # `vecdot`, a dot product along the last axis: one call, where a
    # product and then a sum would make two passes.
    def compute(self, sess, labels, logits, log_p):
        if np.shape(labels) != np.shape(logits) or not np.shape(logits):
            raise ValueError("labels and logits must have the same shape")
        return -np.vecdot(labels, log_p)

    # One loss per row: the shape of the logits without the last axis.
    def infer_shape(self, labels, logits, log_p):
        if labels != logits or not logits:
            raise ValueError("labels and logits must have the same shape, "
                             "with at least one axis")
        return logits[:-1]

    # The fused op has a simple gradient too. Write $s = \sum_k q_k$ for the
    # labels' sum and $\mathrm{LSE}(z) = \log \sum_j e^{z_j}$, whose
    # derivative $∂\mathrm{LSE}/∂z_k$ is $\mathrm{softmax}(z)_k$. Then
    #
    # $$\begin{array}{rcl}
    # H &=& -\sum_k q_k (z_k - \mathrm{LSE}(z)) \\
    #   &=& -\sum_k q_k z_k + s \, \mathrm{LSE}(z) \\
    # ∂H/∂z_k &=& s \, \mathrm{softmax}(z)_k - q_k \\
    # ∂H/∂q_k &=& -\log \mathrm{softmax}(z)_k
    # \end{array}$$
    #
    # For labels that sum to 1, as one-hot labels do, the first is
    # $p - q$: the predicted probabilities minus the right ones.
    # (TensorFlow's kernel returns $p - q$ whatever the labels sum to, the
    # derivative only when they sum to 1.) The per-row gradient is first
    # copied along each row by `expand`, and $p$ is $e^{\log p}$.
    #
    # $\log p$ gets no gradient (None), though the loss reads it. In the
    # graph the loss reaches the logits along two paths, this op's own
    # `logits` input and $\log p$, an op of the logits, and `gradients`
    # adds what comes back along each. The logits' entry, $∂H/∂z$ above, is
    # already the whole derivative, taken through $\log p$. Were $\log p$
    # given its own, $-\bar H q$, `log_softmax`'s rule would turn it into
    # $\bar H (s p - q)$ and send it to the logits a second time: twice the
    # gradient. (Built from $\log p$, the gradient can itself be
    # differentiated: second derivatives pass through `log_softmax`'s rule.)
    def gradient(self, grad):
        labels, logits, log_p = self.inputs
        grad = self.graph.expand(grad, logits, axis=-1)
        s = self.graph.sum(labels, axis=-1, keepdims=True)
        return [-grad * log_p, grad * (self.graph.exp(log_p) * s - labels), None]


# The graph's `softmax_cross_entropy_with_logits` is this function: it
# builds $\log p$, then the loss op on it. Logits given as a
# value become one constant for both ops, converted as any op converts
# its inputs (to the labels' dtype, if the labels are a tensor of known
# dtype).
def softmax_cross_entropy_with_logits(graph, *, labels, logits):
    logits = graph.convert(logits, labels)
    log_p = graph.log_softmax(logits)
    return graph.op(SoftmaxCrossEntropyWithLogitsOp, labels, logits, log_p)


# Next: [digits.py](digits.html), which trains a network with them.
