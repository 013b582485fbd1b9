# # ops.py: what each op computes, and its derivative
#
# Every op is a small class with two methods, and the whole of automatic
# differentiation rests on the split between them:
#
# - `compute(sess, *values)` is the **forward** rule. It works on NumPy
#   values, and only the session calls it, while running the graph.
# - `gradient(grad)` is the **backward** rule. It works on *tensors*, while
#   the graph is being built. Given `grad`, the tensor for the gradient of
#   the final result with respect to this op's output, it returns one
#   tensor per input: the gradient with respect to that input. This is the
#   chain rule, one link at a time. (The tensor is usually a new op's
#   output, but not always: `add` passes `grad` itself on.)
#
# Because `gradient` builds ordinary ops instead of computing numbers, the
# backward pass is just more graph. One evaluator, the session, runs both
# passes. And since gradient ops are ops like any other, they can be
# differentiated in turn: second derivatives need no extra code.
#
#     x = graph.tensor(3.0)
#     (dy,) = graph.gradients(x * x * x, x)
#     (d2y,) = graph.gradients(dy, x)
#     sess.run([dy, d2y])   # 3x² = 27, 6x = 18
#
# The names follow one convention: `a, b` are the inputs of a binary op, `x`
# the input of a unary one, `grad` the incoming gradient and `y` the op's
# own output (on this page, never main.py's targets).
import re
from contextlib import suppress

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple


# `BaseOp` holds what all ops share: inputs, an output, a static shape, a
# name for error messages.
class BaseOp:
    # Besides its inputs, an op may take *attributes*: settings fixed when
    # it is built, such as the axes a sum runs over (TensorFlow calls them
    # attrs too). The ops that take some, sums and means and their mirrors,
    # read them as `self.axis` and `self.keepdims`; these are the defaults.
    axis, keepdims = None, False

    # Every input goes through `graph.convert`, so plain numbers and arrays
    # are welcome wherever a tensor is. The output's static shape is worked
    # out *before* the output tensor is made, so an op whose shapes cannot
    # fit is refused as it is written, naming the shapes. So is an `axis`
    # that is not spelled as TensorFlow spells one (`spelled`, below).
    #
    # The static dtype takes no rule of its own: the op's `compute` runs
    # once on inputs of one element each (ones of the inputs' dtypes and
    # ranks), and NumPy's dtype for that result is the dtype of every
    # result. NumPy decides dtypes from dtypes alone, never from values or
    # sizes. An op that cannot run so (one that needs a session) leaves it
    # unknown.
    def __init__(self, inputs, graph, **attributes):
        vars(self).update(attributes, axis=spelled(self, attributes.get("axis")))
        self.graph = graph
        self.inputs = [graph.convert(x) for x in inputs]
        shapes = [x.shape for x in self.inputs]
        shape = None
        if None not in shapes:
            try:
                shape = self.infer_shape(*shapes)
            except ValueError as error:
                where = self.describe(shapes)
                raise ValueError(f"cannot build {where}: {error}") from None
        self.output = graph.tensor(op=self)
        self.output.shape = shape
        if shape is not None and all(x.dtype is not None for x in self.inputs):
            with suppress(Exception):
                ones = [np.ones((1,) * len(x.shape), x.dtype) for x in self.inputs]
                self.output.dtype = np.result_type(self.compute(None, *ones))

    # An op's kind is its class name in snake case: `AddOp` is "add",
    # `SumToOp` "sum_to". Error messages name an op by its kind and its
    # inputs' shapes.
    @property
    def kind(self):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__[:-2]).lower()

    def describe(self, shapes):
        args = ", ".join(f"{x} of shape {s}" for x, s in zip(self.inputs, shapes))
        return f"{self.kind}({args})"

    # Most ops work elementwise, and NumPy's broadcasting rule gives their
    # output shape: (4, 1) with (1, 3) gives (4, 3), and (3,) with a scalar
    # gives (3,). Ops of another shape say so by overriding this. (Equal
    # shapes, the usual case, skip NumPy's general rule, which takes a
    # microsecond: eager.py builds ops at every step and feels it.)
    def infer_shape(self, *shapes):
        if len(set(shapes)) == 1:
            return shapes[0]
        return np.broadcast_shapes(*shapes)

    # Some ops can be seen, from their inputs alone, to hand one input back
    # unchanged: `sum_to(x, like)` is `x` when both shapes are known and
    # equal. Such an op names that input here, and `graph.op` then builds
    # nothing. Most ops always compute something new.
    @staticmethod
    def unchanged(*inputs):
        return None

    # An op without a gradient (`assign`, `group`) refuses to be
    # differentiated, while `gradients` is building the backward pass.
    def gradient(self, grad):
        raise ValueError(f"cannot differentiate {self.output}: "
                         f"{self.kind} has no gradient")


# ## Elementwise arithmetic
#
# An elementwise op's Jacobian is diagonal, so its vector-Jacobian product
# is an elementwise product: `grad` times the op's derivative. The four
# binary ops broadcast as NumPy does, and send each input's gradient
# through `sum_to`, back to that input's shape ("Broadcasting" below
# explains why; where nothing was broadcast, it is not even built).
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
    # is $-y/b$ with $y$ the op's own output.
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
    # Written so, $e^{-x}$ overflows (with a warning) for $x$ below about
    # $-709$. The same function as $\exp(-\log(1 + e^{-x}))$, with NumPy's
    # `logaddexp(0, -x)` for the logarithm, never forms $e^{-x}$ when it
    # would be huge.
    def compute(self, sess, x):
        return np.exp(-np.logaddexp(0.0, -x))

    # $\sigma' = \frac{e^{-x}}{(1 + e^{-x})^2} = \sigma (1 - \sigma)$,
    # since $\frac{e^{-x}}{1 + e^{-x}} = 1 - \sigma$. It needs only the
    # op's output $y = \sigma(x)$, which the forward pass has computed.
    def gradient(self, grad):
        y = self.output
        return [grad * y * (1 - y)]


# ## Matrix product and transpose
#
# `dot(a, b)` is the matrix product, the heart of every layer: main.py's
# `inputs · weights0` turns 4 rows of 2 inputs into 4 rows of 4 hidden
# values.
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
    # that $a_{il}$ feeds (row $i$ only), with $g$ the incoming gradient:
    #
    # $$\bar a_{il} = \sum_j g_{ij} \, b_{lj} = (g \, b^T)_{il}$$
    #
    # and likewise $\bar b = a^T g$. The shapes agree: $g$ is (n, m), so
    # $g b^T$ is (n, k) like $a$, and $a^T g$ is (k, m) like $b$.
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


# ## Sums and means over axes
#
# `sum(x, axis)` adds up the elements of `x` along some of its axes: all of
# them with no `axis` (a single number), or those named by `axis`, one
# number or a tuple, negative numbers counting from the end as in NumPy.
# Summing a (4, 3) matrix over axis 1 adds across each row and gives 4
# numbers, shape (4,); `keepdims=True` keeps the summed axis with length 1,
# (4, 1), ready to broadcast against the matrix. `mean` is the same sum
# divided by the number of elements added: main.py's loss is the mean of
# all the squared errors.
class SumOp(BaseOp):
    # NumPy's own `sum`, with the op's attributes, in x's dtype: a sum
    # keeps its input's dtype, as in TensorFlow, where NumPy would widen an
    # int32 sum to int64 (`kept`, below, says what booleans become).
    def compute(self, sess, x):
        return x.sum(self.axis, kept(x), keepdims=self.keepdims)

    # The summed axes are dropped from the shape, or kept with length 1.
    # `axes` (below) also refuses an axis that `x` does not have, so the
    # mistake is caught as the op is built.
    def infer_shape(self, x):
        summed = axes(self.axis, len(x))
        if self.keepdims:
            return tuple(1 if i in summed else n for i, n in enumerate(x))
        return tuple(n for i, n in enumerate(x) if i not in summed)

    # `y = x_1 + … + x_n` along the summed axes, so `∂y/∂x_i = 1`: every
    # element that went into a sum receives that sum's gradient, copied back
    # along the summed axes by `expand`.
    def gradient(self, grad):
        return [self.graph.expand(grad, self.inputs[0], axis=self.axis,
                                  keepdims=self.keepdims)]


# A mean is a sum with a division, so it shares the sum's shapes.
class MeanOp(SumOp):
    # `mean = (x_1 + … + x_n) / n`, n being how many elements went into
    # each element of the sum: x's size over the sum's. NumPy's own
    # `np.mean` computes the same, but takes three times as long on small
    # arrays. A mean of nothing, n = 0, is 0 / 0: NaN, as in NumPy and
    # TensorFlow. Dividing by NaN instead gives the same NaN without
    # NumPy's warning. (A sum of nothing has no elements to divide; its n
    # does not matter.) The mean keeps the sum's dtype too: a mean of
    # integers is an integer, rounded towards 0, as in TensorFlow.
    def compute(self, sess, x):
        total = x.sum(self.axis, kept(x), keepdims=self.keepdims)
        n = x.size // max(total.size, 1) or np.nan
        return (total / n).astype(total.dtype, copy=False)

    # `∂mean/∂x_i = 1/n` for every element: each receives an equal share,
    # `grad / n`, of the incoming gradient, which `spread` hands out.
    # Passing `grad` on unchanged, a tempting shortcut, would make every
    # step of training n times too large.
    def gradient(self, grad):
        return [self.graph.spread(grad, self.inputs[0], axis=self.axis,
                                  keepdims=self.keepdims)]


# `axes` turns `axis` into a tuple of axis numbers, each from 0 to ndim − 1,
# and refuses one out of range or named twice. No `axis` means all of them.
def axes(axis, ndim):
    return normalize_axis_tuple(tuple(range(ndim)) if axis is None else axis, ndim)


# `axis` is spelled as TensorFlow takes it: None, an integer, or a list,
# tuple or array of integers, NumPy's included. `spelled` turns each into
# None or a tuple of ints, which NumPy takes too, and refuses anything else
# as the op is built. (Whether x has those axes is checked once its shape
# is known, by `axes`.)
def spelled(op, axis):
    array = np.asarray(() if axis is None else axis)
    if array.ndim > 1 or array.size and array.dtype.kind not in "iu":
        raise TypeError(f"cannot build {op.kind}: {axis!r} is not an axis")
    return None if axis is None else tuple(array.reshape(-1).tolist())


# Booleans, which TensorFlow will not add, are counted as NumPy counts
# them, as integers; every other dtype is kept.
kept = lambda x: None if x.dtype == bool else x.dtype


# ## Broadcasting, and summing back
#
# NumPy lets `a + b` combine a (4, 3) matrix `a` with a (3,) vector `b`: the
# vector is reused for every row, as if copied four times. In the chain rule
# reuse means a sum. Each copy passes gradient back to the same element of
# `b`, so `b`'s gradient is the (4, 3) gradient *summed over the rows*, of
# shape (3,). Without that step a bias vector would receive a gradient of
# the wrong shape.
#
# Four small ops move values between a shape and a broadcast version of it.
# They share a base class: each produces a value shaped like its second
# input, `like`, and does nothing at all when its first input, `x`, already
# has that shape. If both shapes are known and equal while building, the op
# is not built: in a model where no op broadcasts, like main.py's, the
# backward pass sums nothing back.
#
# They are ops, not helper functions, because shapes may become known only
# when the graph runs (a placeholder can be fed any batch size). They read
# `like`'s shape at run time.
class ToShapeOp(BaseOp):
    # The output takes `like`'s shape.
    def infer_shape(self, x, like):
        return like

    # With both shapes and dtypes known and equal there is nothing to do.
    # (A known dtype implies a known shape. NumPy takes `dtype == None` to
    # mean float64, so unknown dtypes are checked for with `is`.)
    @staticmethod
    def unchanged(x, like):
        same = (x.shape, x.dtype) == (like.shape, like.dtype)
        return x if same and x.dtype is not None and like.dtype is not None else None


# `sum_to(x, like)` undoes broadcasting. Broadcasting adds leading axes and
# stretches axes of length 1; summing removes the first kind and collapses
# the second back to length 1.
class SumToOp(ToShapeOp):
    # Summing can only undo a broadcast: `like`'s shape must be one that
    # broadcasts to `x`'s. Anything else is a mistake in whatever built the
    # op, refused when it is built if the shapes are known, and when it runs
    # otherwise, rather than answered with a value of the wrong shape.
    def infer_shape(self, x, like):
        if np.broadcast_shapes(x, like) != x:
            raise ValueError(f"cannot sum shape {x} to shape {like}")
        return like

    # Shapes known only at run time may turn out equal too. (`like` may be
    # a plain number, such as the 2 of `x * 2`, whose gradient an eager
    # tape computes too: `np.shape` reads its shape all the same.)
    def compute(self, sess, x, like):
        shape = np.shape(like)
        if x.shape == shape:
            return x
        self.infer_shape(x.shape, shape)
        x = np.sum(x, axis=tuple(range(x.ndim - len(shape))))
        stretched = tuple(i for i, n in enumerate(shape) if n == 1)
        return np.sum(x, axis=stretched, keepdims=True)

    # Each element of `x` was added into exactly one element of the result,
    # with weight 1, so its gradient is that element's gradient: copy the
    # incoming gradient back out to `x`'s shape. (`like` only lends its
    # shape; its gradient is None, meaning none flows to it.)
    def gradient(self, grad):
        return [self.graph.broadcast_to(grad, self.inputs[0]), None]


# `broadcast_to(x, like)` copies `x` out to `like`'s shape. It is the mirror
# image of `sum_to`, and each is the other's gradient. `gradients` also uses
# it for its seed, ones shaped like `y`.
class BroadcastToOp(ToShapeOp):
    # The mirror image of `sum_to`'s rule: `x`'s shape must broadcast to
    # `like`'s.
    def infer_shape(self, x, like):
        if np.broadcast_shapes(x, like) != like:
            raise ValueError(f"cannot broadcast shape {x} to shape {like}")
        return like

    # NumPy makes the copies without copying: the result is a read-only
    # view that repeats `x`'s memory. Its dtype is the one `x + like` would
    # have, so the seed's 1.0, left a plain number where `y`'s dtype is
    # known only at run time (tensor.py), becomes float32 ones for a
    # float32 `y`.
    def compute(self, sess, x, like):
        x, shape = np.asarray(x, np.result_type(x, like)), np.shape(like)
        return x if x.shape == shape else np.broadcast_to(x, shape)

    # Copies are reuse, and the gradient of reuse is a sum.
    def gradient(self, grad):
        return [self.graph.sum_to(grad, self.inputs[0]), None]


# The last two undo a *reduction*: a sum or a mean over some axes (see
# "Sums and means over axes" above). `expand(x, like, axis=…, keepdims=…)`
# takes `x`, the sum of `like` over `axis`, and copies each of its elements
# back along the axes that were summed away. Summing a (4, 3) matrix over
# axis 1 gives 4 numbers, shape (4,). Unless the sum kept the summed axes
# as axes of length 1 (`keepdims=True`), they first come back that way,
# (4, 1); then an ordinary broadcast copies each number across its row,
# (4, 3).
class ExpandOp(ToShapeOp):
    # `np.expand_dims` counts its axes in the result, `like`'s shape, which
    # is how `axis` counts them, negative numbers included. (With no `axis`
    # every axis was summed: `x` is a single number, which broadcasts as it
    # is.) `np.full` then fills an array of `like`'s shape with `x`,
    # broadcasting it; on small arrays it takes a third of the time of
    # `np.broadcast_to`.
    def compute(self, sess, x, like):
        if not self.keepdims and self.axis is not None:
            x = np.expand_dims(x, self.axis)
        return np.full(np.shape(like), x)

    # Copies are reuse, whose gradient is a sum, here over the same axes:
    # `sum` and `expand` are each other's backward step, as `sum_to` and
    # `broadcast_to` are.
    def gradient(self, grad):
        return [self.graph.sum(grad, self.axis, self.keepdims), None]


# `spread` is the same for a mean: it expands `x / n`, where n is the number
# of elements that each element of `x` averages. That is mean's gradient (see
# `MeanOp` above). With no `axis`, `x` is one number and n the size of
# `like`.
class SpreadOp(ExpandOp):
    # Of `like`'s value only the shape is used: n is its size over the
    # size of `x`, the mean it came from.
    # As in `MeanOp`, a mean of nothing divides by NaN.
    def compute(self, sess, x, like):
        n = np.size(like) // max(np.size(x), 1) or np.nan
        return super().compute(sess, x / n, like)

    # Each output element is `x / n`, so the gradient with respect to an
    # element of `x` is the sum of the gradients of its n copies divided by
    # n: their mean. Mean and spread are each other's backward step.
    def gradient(self, grad):
        return [self.graph.mean(grad, self.axis, self.keepdims), None]


# ## State and grouping
#
# The last two ops change state rather than compute: they are how a
# training step updates the weights.
class AssignOp(BaseOp):
    # `assign(a, b)` gives variable `a` the value of `b`. The target must be a
    # variable: the value of a placeholder or of an op's output comes from
    # elsewhere, and a constant is meant to stay what it is.
    def __init__(self, inputs, graph):
        super().__init__(inputs, graph)
        a = self.inputs[0]
        if a.op is not None or a.initial_value is None or a.constant:
            raise ValueError(f"assign needs a variable to write to, not {a}")

    # `compute` only checks the new value and returns it; the session
    # writes it into its state when the whole run has succeeded. A value of
    # another shape is refused, scalars included: it would silently change
    # the shape of everything computed from `a`. The variable's dtype is
    # fixed too: a value that casts to it within its kind (an int, or a
    # float64 into float32) is stored in that dtype, anything else (a
    # string, a float into an int) is refused. (The checks read only shapes
    # and dtypes, which lets compiler.py make them once, not every run.)
    def compute(self, sess, a, b):
        if np.shape(b) != a.shape:
            raise ValueError(f"cannot assign a value of shape {np.shape(b)} "
                             f"to {self.inputs[0]} of shape {a.shape}")
        if not np.can_cast(np.result_type(b), a.dtype, "same_kind"):
            raise TypeError(f"cannot assign a value of dtype {np.result_type(b)} "
                            f"to {self.inputs[0]} of dtype {a.dtype}")
        return np.asarray(b, a.dtype)

    # The same check, made while building where both shapes are known.
    def infer_shape(self, a, b):
        if a != b:
            raise ValueError(f"cannot assign a value of shape {b} "
                             f"to a variable of shape {a}")
        return a


# `group(inputs)` bundles several tensors into one, so that a single fetch
# runs them all.
class GroupOp(BaseOp):
    # `group` runs all its inputs, for their effects (typically
    # assignments), and has no value of its own.
    def compute(self, sess, *values):
        return None

    # Having no value, it has no shape: `None`, like an unknown one. Nor
    # has it a gradient: there is nothing to differentiate.
    def infer_shape(self, *shapes):
        return None


# Next: [session.py](session.html), which runs all of this.
