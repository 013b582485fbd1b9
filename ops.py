# # ops.py: what each op computes, and its derivative
#
# Every op is a small class with two methods, and automatic
# differentiation rests on the split between them:
#
# - `compute(sess, *values)`, the **forward** rule, works on NumPy values;
#   the session calls it while running the graph.
# - `gradient(grad)`, the **backward** rule, works on *tensors*, while the
#   graph is built. Given `grad`, the tensor for $\bar y$, the gradient of
#   the final result with respect to the op's output $y$, it returns one
#   tensor per input: the vector-Jacobian product $\bar x$ (graph.py).
#
# Since `gradient` builds ordinary ops, the backward pass is more graph,
# run by the same session and differentiable again: second derivatives
# need no extra code. `a, b` are a binary op's inputs, `x` a unary op's,
# `y` the op's own output.
import re
from contextlib import suppress

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple
from scipy.special import expit


# `BaseOp` holds what all ops share. An op may take *attributes*, settings
# fixed when it is built, such as the axes of a sum.
class BaseOp:
    axis, keepdims = None, False

    # An op whose shapes cannot fit is refused as it is written. The static
    # dtype needs no rule of its own: `compute` runs once on one-element
    # inputs, and NumPy, which decides dtypes from dtypes alone, gives the
    # dtype of every result.
    def __init__(self, inputs, graph, **attributes):
        vars(self).update(attributes, axis=spelled(self, attributes.get("axis")))
        self.graph = graph
        self.inputs = [graph.convert(x) for x in inputs]
        shapes = [x.shape for x in self.inputs]
        try:
            shape = None if None in shapes else self.infer_shape(*shapes)
        except ValueError as error:
            where = self.describe(shapes)
            raise ValueError(f"cannot build {where}: {error}") from None
        self.output = graph.tensor(op=self)
        self.output.shape = shape
        if shape is not None and all(x.dtype is not None for x in self.inputs):
            with suppress(Exception):
                ones = [np.ones((1,) * len(x.shape), x.dtype) for x in self.inputs]
                self.output.dtype = np.result_type(self.compute(None, *ones))

    # An op's kind is its class name in snake case (`SumToOp` is "sum_to");
    # errors name an op by its kind and its inputs' shapes.
    @property
    def kind(self):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__[:-2]).lower()

    def describe(self, shapes):
        args = ", ".join(f"{x} of shape {s}" for x, s in zip(self.inputs, shapes))
        return f"{self.kind}({args})"

    # Most ops are elementwise, and NumPy's broadcasting gives their shape:
    # (4, 1) with (1, 3) gives (4, 3). Others override this.
    def infer_shape(self, *shapes):
        return np.broadcast_shapes(*shapes)

    # An op that would hand an input back unchanged names it here, and
    # `graph.op` builds nothing (`sum_to(x, like)` when shapes and dtypes
    # match).
    @staticmethod
    def unchanged(*inputs):
        return None

    # An op without a gradient (`assign`, `group`) refuses to be
    # differentiated.
    def gradient(self, grad):
        raise ValueError(f"cannot differentiate {self.output}: "
                         f"{self.kind} has no gradient")


# ## Elementwise arithmetic
#
# An elementwise op's Jacobian is diagonal, so its vector-Jacobian product
# is an elementwise product: `grad` times the op's derivative. The four
# binary ops broadcast as NumPy does, and send each input's gradient
# through `sum_to`, back to that input's shape ("Broadcasting" below
# explains why, and when nothing is built).
class AddOp(BaseOp):
    def compute(self, sess, a, b):
        return a + b

    # $∂(a + b)/∂a = ∂(a + b)/∂b = 1$: `grad` passes through to both.
    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.sum_to(grad, a), self.graph.sum_to(grad, b)]


class SubOp(BaseOp):
    def compute(self, sess, a, b):
        return a - b

    # $∂(a - b)/∂a = 1$ and $∂(a - b)/∂b = -1$.
    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.sum_to(grad, a), self.graph.sum_to(-grad, b)]


# `mul` is elementwise; the matrix product is `dot`, below.
class MulOp(BaseOp):
    def compute(self, sess, a, b):
        return a * b

    # The product rule: $∂(ab)/∂a = b$ and $∂(ab)/∂b = a$.
    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.sum_to(grad * b, a), self.graph.sum_to(grad * a, b)]


class DivOp(BaseOp):
    def compute(self, sess, a, b):
        return a / b

    # The quotient rule: $∂(a/b)/∂a = 1/b$ and $∂(a/b)/∂b = -a/b^2$, which
    # is $-y/b$.
    def gradient(self, grad):
        a, b = self.inputs
        y = self.output
        return [self.graph.sum_to(grad / b, a), self.graph.sum_to(-grad * y / b, b)]


class NegOp(BaseOp):
    def compute(self, sess, x):
        return -x

    # $∂(-x)/∂x = -1$.
    def gradient(self, grad):
        return [-grad]


# main.py squares its errors: a miss counts the same either way, and a
# large one more than a small one.
class SquareOp(BaseOp):
    def compute(self, sess, x):
        return np.square(x)

    # $∂(x^2)/∂x = 2x$.
    def gradient(self, grad):
        return [2 * self.inputs[0] * grad]


# ## The sigmoid
#
# $\sigma(x) = 1 / (1 + e^{-x})$ squashes any number into $(0, 1)$.
class SigmoidOp(BaseOp):
    # SciPy's `expit` computes it in one pass. (Written in NumPy, $e^{-x}$
    # overflows for $x < -709$: the answer, 0, is right, with a warning.)
    def compute(self, sess, x):
        return expit(x)

    # $$\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2} = \sigma(x)\,(1 - \sigma(x))$$
    #
    # since $e^{-x} / (1 + e^{-x}) = 1 - \sigma(x)$. It needs only the op's
    # output $y = \sigma(x)$, which the forward pass has computed.
    def gradient(self, grad):
        y = self.output
        return [grad * y * (1 - y)]


# ## Matrix product and transpose
#
# `dot(a, b)` is the matrix product, the heart of every layer.
class DotOp(BaseOp):
    # An (n, k) matrix times a (k, m) one. The gradient below holds for
    # matrices only, so other ranks are refused.
    def compute(self, sess, a, b):
        if a.ndim != 2 or b.ndim != 2:
            raise ValueError("dot multiplies two 2-D matrices")
        return np.dot(a, b)

    # (n, k) times (k, m) gives (n, m).
    def infer_shape(self, a, b):
        if len(a) != 2 or len(b) != 2 or a[1] != b[0]:
            raise ValueError("dot multiplies an (n, k) matrix by a (k, m) matrix")
        return (a[0], b[1])

    # With $y = ab$, $y_{ij} = \sum_l a_{il} b_{lj}$, so
    # $∂y_{ij}/∂a_{il} = b_{lj}$, and the chain rule sums over every $y_{ij}$
    # that $a_{il}$ feeds (row $i$ only):
    #
    # $$\bar a_{il} = \sum_j \bar y_{ij} \, b_{lj} = (\bar y \, b^T)_{il}$$
    #
    # and likewise $\bar b = a^T \bar y$. The shapes agree: $\bar y$ is
    # (n, m), so $\bar y b^T$ is (n, k) like $a$, and $a^T \bar y$ is
    # (k, m) like $b$.
    def gradient(self, grad):
        a, b = self.inputs
        return [self.graph.dot(grad, self.graph.transpose(b)),
                self.graph.dot(self.graph.transpose(a), grad)]


# `transpose` reverses the order of the axes: the rows of a matrix become
# its columns.
class TransposeOp(BaseOp):
    # `.T` is a view: it only changes how NumPy walks the same memory.
    def compute(self, sess, x):
        return x.T

    # An (n, m) matrix becomes (m, n).
    def infer_shape(self, x):
        return x[::-1]

    # Transposing only moves elements, so the gradient moves back the same
    # way: transposed again.
    def gradient(self, grad):
        return [self.graph.transpose(grad)]


# ## Sums and means
#
# main.py's loss is the mean of all its squared errors. `sum` and `mean`
# reduce over every axis, or over those named by `axis` (the digits
# chapter's), keeping them with length 1 if `keepdims`.
class SumOp(BaseOp):
    # A sum keeps its input's dtype, as in TensorFlow (NumPy would widen
    # an int32 sum to int64).
    def compute(self, sess, x):
        return x.sum(self.axis, kept(x), keepdims=self.keepdims)

    # The summed axes are dropped, or kept with length 1.
    def infer_shape(self, x):
        summed = axes(self.axis, len(x))
        if self.keepdims:
            return tuple(1 if i in summed else n for i, n in enumerate(x))
        return tuple(n for i, n in enumerate(x) if i not in summed)

    # $y = x_1 + \dots + x_n$, so $∂y/∂x_i = 1$: every element that went
    # into a sum receives the sum's gradient, copied back by `expand`.
    def gradient(self, grad):
        return [self.graph.expand(grad, self.inputs[0], axis=self.axis,
                                  keepdims=self.keepdims)]


# A mean is a sum divided by $n$, the number of elements in each sum.
class MeanOp(SumOp):
    # A mean of integers is an integer, as in TensorFlow. A mean of no
    # floats is NaN, as in NumPy (dividing by NaN gives it without a
    # warning); of no integers, 0, as in TensorFlow.
    def compute(self, sess, x):
        total = x.sum(self.axis, kept(x), keepdims=self.keepdims)
        n = x.size // max(total.size, 1) or (
            np.nan if total.dtype.kind in "fc" else 1)
        return (total / n).astype(total.dtype, copy=False)

    # $∂y/∂x_i = 1/n$: each element receives an equal share of `grad`,
    # which `spread` hands out. (Passing `grad` on unchanged, a tempting
    # shortcut, would make every training step $n$ times too large.)
    def gradient(self, grad):
        return [self.graph.spread(grad, self.inputs[0], axis=self.axis,
                                  keepdims=self.keepdims)]


# `axes` turns `axis` into axis numbers, refusing one `x` lacks; `spelled`
# takes every spelling TensorFlow takes (an int, a list, a tuple, an
# array) when the op is built; `kept` adds booleans up as integers.
def axes(axis, ndim):
    return normalize_axis_tuple(tuple(range(ndim)) if axis is None else axis, ndim)


def spelled(op, axis):
    array = np.asarray(() if axis is None else axis)
    if array.ndim > 1 or array.size and array.dtype.kind not in "iu":
        raise TypeError(f"cannot build {op.kind}: {axis!r} is not an axis")
    return None if axis is None else tuple(array.reshape(-1).tolist())


kept = lambda x: None if x.dtype == bool else x.dtype


# ## Broadcasting, and summing back
#
# NumPy lets `a + b` add a (2, 3) matrix $a$ and a (3,) vector $b$: $b$ is
# reused for every row, $y_{ij} = a_{ij} + b_j$. Reuse means a sum in the
# chain rule: $\bar b_j = \sum_i \bar y_{ij}$. With
#
# $$\bar y = \left( \begin{array}{ccc} 1 & 2 & 3 \\ 4 & 5 & 6
# \end{array} \right)$$
#
# $$\bar b = (1 + 4,\ 2 + 5,\ 3 + 6) = (5, 7, 9)$$
#
# and $\bar b$ has $b$'s shape, as it must. That summing back is `sum_to`.
#
# Four small ops make a value shaped like their second input, `like`:
# ops, not helpers, since a placeholder's shape is known only at run time.
# Where shapes and dtypes are known and equal, nothing is built (main.py's
# backward pass sums nothing back).
class ToShapeOp(BaseOp):
    def infer_shape(self, x, like):
        return like

    # (A known dtype implies a known shape.)
    @staticmethod
    def unchanged(x, like):
        same = (x.shape, x.dtype) == (like.shape, like.dtype)
        return x if same and x.dtype is not None and like.dtype is not None else None


# `sum_to(x, like)` undoes broadcasting, which adds leading axes and
# stretches axes of length 1: it sums over the first and keeps the second
# as length 1.
class SumToOp(ToShapeOp):
    # `like`'s shape must broadcast to `x`'s.
    def infer_shape(self, x, like):
        if np.broadcast_shapes(x, like) != x:
            raise ValueError(f"cannot sum shape {x} to shape {like}")
        return like

    # Sums keep the dtype; a sum over no axes is skipped: NumPy's flips
    # -0.0 to 0.0.
    def compute(self, sess, x, like):
        shape = self.infer_shape(x.shape, np.shape(like))
        leading = tuple(range(x.ndim - len(shape)))
        x = x.sum(leading, x.dtype) if leading else x
        axes = stretched(x.shape, shape)
        return x.sum(axes, x.dtype, keepdims=True) if axes else x

    # Each element of `x` went into one sum: its gradient is that sum's,
    # copied back. (`like` lends only its shape: None flows to it.)
    def gradient(self, grad):
        return [self.graph.broadcast_to(grad, self.inputs[0]), None]


# Stretched: length 1 in `like`, another in `x`.
stretched = lambda x, like: tuple(i for i, n in enumerate(like) if n == 1 != x[i])


# `broadcast_to(x, like)` copies `x` out to `like`'s shape, the mirror of
# `sum_to`: each is the other's gradient. It also makes the seed of
# `gradients`, ones shaped like `y`.
class BroadcastToOp(ToShapeOp):
    def infer_shape(self, x, like):
        if np.broadcast_shapes(x, like) != like:
            raise ValueError(f"cannot broadcast shape {x} to shape {like}")
        return like

    # `x` in the dtype `x + like` would have, repeated as a read-only view
    # where the shapes differ.
    def compute(self, sess, x, like):
        x, shape = np.asarray(x, np.result_type(x, like)), np.shape(like)
        return x if x.shape == shape else np.broadcast_to(x, shape)

    def gradient(self, grad):
        return [self.graph.sum_to(grad, self.inputs[0]), None]


# The last two undo a reduction. `expand(x, like, axis=…)` copies `x`, a
# sum of `like` over `axis`, back along the summed axes: a (4,) sum of a
# (4, 3) matrix over axis 1 becomes (4, 1), then (4, 3).
class ExpandOp(ToShapeOp):
    def compute(self, sess, x, like):
        if not self.keepdims and self.axis is not None:
            x = np.expand_dims(x, self.axis)
        return np.full(np.shape(like), x)

    # Copies are reuse, whose gradient is a sum over the same axes.
    def gradient(self, grad):
        return [self.graph.sum(grad, self.axis, self.keepdims), None]


# `spread` expands $x / n$: mean's gradient.
class SpreadOp(ExpandOp):
    def compute(self, sess, x, like):
        n = np.size(like) // max(np.size(x), 1) or np.nan
        return super().compute(sess, x / n, like)

    # Its $n$ copies of $x / n$ send back the mean of their gradients.
    def gradient(self, grad):
        return [self.graph.mean(grad, self.axis, self.keepdims), None]


# ## State and grouping
#
# The last two ops change state: a training step updates the weights
# with them. `assign(a, b)` gives the variable `a` the value of `b`.
class AssignOp(BaseOp):
    # Only a variable can be assigned to: not a constant, a placeholder or
    # an op's output.
    def __init__(self, inputs, graph):
        super().__init__(inputs, graph)
        a = self.inputs[0]
        if a.op is not None or a.initial_value is None or a.constant:
            raise ValueError(f"assign needs a variable to write to, not {a}")

    # `compute` checks the new value and returns it; the session writes it
    # when the whole run has succeeded. Another shape is refused, and the
    # value takes the variable's dtype, within its kind.
    def compute(self, sess, a, b):
        if np.shape(b) != a.shape:
            raise ValueError(f"cannot assign a value of shape {np.shape(b)} "
                             f"to {self.inputs[0]} of shape {a.shape}")
        if not np.can_cast(np.result_type(b), a.dtype, "same_kind"):
            raise TypeError(f"cannot assign a value of dtype {np.result_type(b)} "
                            f"to {self.inputs[0]} of dtype {a.dtype}")
        return np.asarray(b, a.dtype)

    # The shape check, while building.
    def infer_shape(self, a, b):
        if a != b:
            raise ValueError(f"cannot assign a value of shape {b} "
                             f"to a variable of shape {a}")
        return a


# `group(inputs)` runs its inputs for their effects, and has no value, no
# shape and no gradient.
class GroupOp(BaseOp):
    def compute(self, sess, *values):
        return None

    def infer_shape(self, *shapes):
        return None


# Next: [session.py](session.html), which runs all of this.
