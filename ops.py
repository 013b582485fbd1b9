# [main](main.html) · [graph](graph.html) · [tensor](tensor.html) ·
# **[ops](ops.html)** · [session](session.html) · [tf_test](tf_test.html)
#
# # ops.py: what each op computes, and its derivative
#
# Every op is a small class with two methods, and the whole of automatic
# differentiation rests on the split between them:
#
# - `compute(sess, *values)` is the **forward** rule. It works on NumPy
#   values, and only the session calls it, while running the graph.
# - `gradient(grad)` is the **backward** rule. It works on *tensors*, while
#   the graph is being built: given the tensor `grad`, the gradient of the
#   final result with respect to this op's output, it returns, for each
#   input, a new tensor for the gradient with respect to that input. This is
#   the chain rule, one link at a time.
#
# Because `gradient` builds ordinary ops instead of computing numbers, the
# backward pass is just more graph. One evaluator, the session, runs both
# passes, and the gradient ops can themselves be differentiated, which gives
# second derivatives for free.
#
# Names follow one convention: `a, b` are the inputs of a binary op, `x` the
# input of a unary one, `grad` the incoming gradient and `y` the op's own
# output.
import re

import numpy as np


class BaseOp:
    # Every input goes through `graph.convert`, so plain numbers and arrays
    # are welcome wherever a tensor is. The output's static shape is worked
    # out *before* the output exists, so an op whose shapes cannot fit is
    # refused while building, and leaves nothing behind.
    def __init__(self, inputs, graph):
        self.graph = graph
        self.inputs = [graph.convert(x) for x in inputs]
        shapes = [x.shape for x in self.inputs]
        shape = None
        if None not in shapes:
            try:
                shape = self.infer_shape(*shapes)
            except ValueError as error:
                raise ValueError(f"cannot build {self.describe(shapes)}: {error}") from None
        self.output = graph.tensor(op=self)
        self.output.shape = shape

    # `AddOp` is called "add", `SumToOp` "sum_to".
    @property
    def kind(self):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__[:-2]).lower()

    # How error messages name an op: its kind and each input with its shape.
    def describe(self, shapes):
        args = ", ".join(f"{x} of shape {s}" for x, s in zip(self.inputs, shapes))
        return f"{self.kind}({args})"

    # Most ops work elementwise, and NumPy broadcasting decides their shape:
    # (4, 1) and (1, 3) give (4, 3). Ops of another shape override this.
    def infer_shape(self, *shapes):
        return np.broadcast_shapes(*shapes)

    # Most ops always compute something new. The few that can be seen, from
    # their inputs alone, to give one input back unchanged say which one
    # here, and `graph.op` then builds nothing.
    @staticmethod
    def unchanged(*inputs):
        return None

    def gradient(self, grad):
        raise ValueError(f"{self.output} ({self.kind}) has no gradient")


# A constant one: multiplying or dividing by it changes nothing. Only
# constants qualify: a variable holding 1 now may hold 2 after an `assign`.
def is_one(t):
    return t.constant and np.ndim(t.initial_value) == 0 and t.initial_value == 1


# Where both shapes are known while building and are equal, `sum_to` and
# `broadcast_to` have nothing to do.
def same_shape(x, like):
    return x if x.shape is not None and x.shape == like.shape else None


# ## Broadcasting, and summing back
#
# NumPy lets `a + b` combine a (4, 3) matrix with a (3,) vector: the vector is
# reused for every row, as if copied four times. Reuse is a sum in the chain
# rule: every copy passes gradient back to the same vector element, so the
# vector's gradient is the (4, 3) gradient *summed over the rows*. Without
# that step a bias vector would receive a gradient of the wrong shape.
#
# `SumToOp(x, like)` is that step, shared by every elementwise op: it sums
# `x` down to the shape of `like`. It is an op rather than a helper function
# because the shapes may be known only when the graph runs (a placeholder
# can be fed any batch size), so it reads `like`'s shape at run time. When
# both shapes are already known and equal while building, `graph.sum_to`
# does not emit it at all.
class SumToOp(BaseOp):
    def compute(self, sess, x, like):
        shape = like.shape
        if x.shape == shape:
            return x
        # Broadcasting added leading axes and stretched axes of length 1; undo
        # both, the first by summing them away, the second keeping the axis.
        x = np.sum(x, axis=tuple(range(x.ndim - len(shape))))
        stretched = tuple(i for i, n in enumerate(shape) if n == 1)
        return np.sum(x, axis=stretched, keepdims=True)

    unchanged = staticmethod(same_shape)

    def infer_shape(self, x, like):
        return like

    # Summing is linear, and each element of `x` was added into one element
    # of the result: its gradient is that element's gradient, copied back out.
    def gradient(self, grad):
        return [self.graph.broadcast_to(grad, self.inputs[0]), None]


# `BroadcastToOp(x, like)` copies `x` out to `like`'s shape. It is the mirror
# image of `SumToOp`, and each is the other's gradient. `gradients` also uses
# it to make its starting seed: ones shaped like `y`.
class BroadcastToOp(BaseOp):
    def compute(self, sess, x, like):
        return np.broadcast_to(x, like.shape)

    unchanged = staticmethod(same_shape)

    def infer_shape(self, x, like):
        return like

    def gradient(self, grad):
        return [self.graph.sum_to(grad, self.inputs[0]), None]


# ## Elementwise arithmetic
#
# For `a + b`, `∂(a + b)/∂a = ∂(a + b)/∂b = 1`: the sum rule passes the
# gradient through unchanged to both inputs, each summed back to its own
# shape.
class AddOp(BaseOp):
    def compute(self, sess, a, b):
        return a + b

    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.sum_to(grad, a), self.graph.sum_to(grad, b)]


# `∂(a − b)/∂a = 1`, `∂(a − b)/∂b = −1`.
class SubOp(BaseOp):
    def compute(self, sess, a, b):
        return a - b

    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.sum_to(grad, a), self.graph.sum_to(-grad, b)]


# The product rule: `∂(ab)/∂a = b` and `∂(ab)/∂b = a`.
class MulOp(BaseOp):
    def compute(self, sess, a, b):
        return a * b

    @staticmethod
    def unchanged(a, b):
        return b if is_one(a) else a if is_one(b) else None

    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.sum_to(grad * b, a), self.graph.sum_to(grad * a, b)]


# The quotient rule: `∂(a/b)/∂a = 1/b` and `∂(a/b)/∂b = −a/b²`. Since
# `a/b²` is the op's own output `y` divided by `b`, the second reuses `y`.
class DivOp(BaseOp):
    def compute(self, sess, a, b):
        return a / b

    @staticmethod
    def unchanged(a, b):
        return a if is_one(b) else None

    def gradient(self, grad):
        a, b = self.inputs
        y = self.output
        return [self.graph.sum_to(grad / b, a), self.graph.sum_to(-grad * y / b, b)]


# `∂(−x)/∂x = −1`.
class NegOp(BaseOp):
    def compute(self, sess, x):
        return -x

    def gradient(self, grad):
        return [-grad]


# `∂(x²)/∂x = 2x`.
class SquareOp(BaseOp):
    def compute(self, sess, x):
        return np.square(x)

    def gradient(self, grad):
        return [2 * self.inputs[0] * grad]


# ## The sigmoid
#
# `σ(x) = 1 / (1 + e^−x)` squashes any number into (0, 1). Written that way
# it overflows for x below about −709, where `e^−x` exceeds the largest
# float: the answer (0) comes out right, with a warning. Instead we use the
# identical `σ(x) = exp(−log(1 + e^−x))`: NumPy's `logaddexp(0, −x)` computes
# `log(1 + e^−x)` without ever forming a huge intermediate, so no finite
# input warns.
#
# The derivative is `σ'(x) = σ(x)(1 − σ(x))`: it needs only the op's output
# `y`, which the forward pass computed already. Reusing it costs two
# multiplications instead of another exponential.
class SigmoidOp(BaseOp):
    def compute(self, sess, x):
        return np.exp(-np.logaddexp(0.0, -x))

    def gradient(self, grad):
        y = self.output
        return [grad * y * (1 - y)]


# ## Matrix product and transpose
#
# For `y = a · b` with `a` of shape (n, k) and `b` of shape (k, m),
# `y[i, j] = Σ_l a[i, l] b[l, j]`, so `∂y[i, j]/∂a[i, l] = b[l, j]`. Summing
# over every output the chain rule gives `grad · bᵀ` for `a` and `aᵀ · grad`
# for `b`. The shapes check it: `grad` is (n, m), so `grad · bᵀ` is
# (n, m)(m, k) = (n, k), exactly `a`'s shape, and `aᵀ · grad` is
# (k, n)(n, m) = (k, m), `b`'s. Those formulas hold for matrices only, so
# `dot` accepts exactly two 2-D inputs.
class DotOp(BaseOp):
    def compute(self, sess, a, b):
        if a.ndim != 2 or b.ndim != 2:
            raise ValueError("dot multiplies two 2-D matrices")
        return np.dot(a, b)

    def infer_shape(self, a, b):
        if len(a) != 2 or len(b) != 2 or a[1] != b[0]:
            raise ValueError("dot multiplies an (n, k) matrix by a (k, m) matrix")
        return (a[0], b[1])

    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.dot(grad, self.graph.transpose(b)),
                self.graph.dot(self.graph.transpose(a), grad)]


# Transposing only moves elements, so the gradient moves back the same way.
class TransposeOp(BaseOp):
    def compute(self, sess, x):
        return x.T

    def infer_shape(self, x):
        return x[::-1]

    def gradient(self, grad):
        return [self.graph.transpose(grad)]


# ## Mean
#
# `mean(x) = (x_1 + … + x_n) / n`, so `∂mean/∂x_i = 1/n` for every element:
# each one receives an equal share, `grad / n`, of the incoming gradient.
# `SpreadOp` hands those shares out.
class MeanOp(BaseOp):
    def compute(self, sess, x):
        return np.sum(x) / x.size

    def infer_shape(self, x):
        return ()

    def gradient(self, grad):
        return [self.graph.spread(grad, self.inputs[0])]


# `SpreadOp(grad, like)` fills `like`'s shape with `grad / n`, n being the
# number of elements. Its gradient with respect to `grad` is
# `Σ_i g_i / n`, the mean of the incoming gradient: mean and spread are each
# other's backward step.
class SpreadOp(BaseOp):
    def compute(self, sess, grad, like):
        return np.full(like.shape, grad / like.size)

    def infer_shape(self, grad, like):
        return like

    def gradient(self, grad):
        return [self.graph.mean(grad), None]


# ## State and grouping
#
# `assign(a, b)` gives variable `a` the value of `b`. It does not write at
# once: the session collects the writes of a run and applies them all when
# the run succeeds, so an error halfway through changes nothing. A value of
# another shape is refused, scalars included, since it would silently
# change the shape of every tensor computed from `a`. Assignment is not a
# mathematical function of its inputs, so it has no gradient.
class AssignOp(BaseOp):
    def __init__(self, inputs, graph):
        super().__init__(inputs, graph)
        a = self.inputs[0]
        if a.op is not None or a.initial_value is None or a.constant:
            raise ValueError(f"assign needs a variable to write to, not {a}")

    def compute(self, sess, a, b):
        if a.shape != b.shape:
            raise ValueError(f"cannot assign a value of shape {b.shape} "
                             f"to {self.inputs[0]} of shape {a.shape}")
        sess.updates[self.inputs[0]] = b
        return b

    def infer_shape(self, a, b):
        if a != b:
            raise ValueError(f"cannot assign a value of shape {b} to a variable of shape {a}")
        return a


# `group` runs all its inputs for their effects (typically assignments) and
# has no value of its own. Its gradient hands `grad` to each input.
class GroupOp(BaseOp):
    def compute(self, sess, *values):
        return None

    def infer_shape(self, *shapes):
        return None

    def gradient(self, grad):
        return [grad] * len(self.inputs)
