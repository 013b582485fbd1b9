# # graph.py: building the graph, and differentiating it
#
# A `Graph` owns tensors and the ops that connect them. Building one
# computes nothing: `graph.add(a, b)` only records that some tensor will be
# `a + b`, and returns that tensor. The arithmetic happens later, in a
# session (session.py). Keeping *what to compute* apart from *computing it*
# is what makes this page's main act possible: `gradients` reads the
# recorded computation and writes its derivative, as more graph.
#
# Three kinds of objects make up a graph, each in a file of its own:
#
# - tensors (tensor.py), the nodes that carry values: placeholders to be
#   fed, variables with a value, and the outputs of ops;
# - ops (ops.py), the nodes that compute: an op takes input tensors and
#   makes one output tensor, and knows its own derivative;
# - the graph, this file, which makes both and holds the algorithm that
#   ties the ops' derivatives together.
from collections import deque
from functools import reduce

from nn_ops import (
    ExpOp,
    LogOp,
    LogSoftmaxOp,
    ReluOp,
    SoftmaxCrossEntropyWithLogitsOp,
    SoftmaxOp,
    StepOp,
)
from ops import (
    AddOp,
    AssignOp,
    BroadcastToOp,
    DivOp,
    DotOp,
    ExpandOp,
    GroupOp,
    MeanOp,
    MulOp,
    NegOp,
    SigmoidOp,
    SpreadOp,
    SquareOp,
    SubOp,
    SumOp,
    SumToOp,
    TransposeOp,
)
from session import flatten
from tensor import Tensor


# A graph keeps no list of its nodes: every tensor knows its op, and every
# op its inputs, so the graph behind any tensor can be found by walking back
# from it.
class Graph:
    # Its only state is a counter, which numbers its tensors so that error
    # messages can tell them apart.
    def __init__(self):
        self.count = 0

    # ## Tensors
    #
    # With neither argument the new tensor is a placeholder; with a value, a
    # variable; with an op, that op's output (only ops pass one).
    def tensor(self, initial_value=None, op=None):
        return Tensor(initial_value, op, self)

    # Every op passes its inputs through `convert`, which is why `x + 1`
    # works: the 1 becomes a constant, a tensor with a value that nothing
    # will assign to. A tensor of another graph is refused here, when the
    # mistake is made, rather than later at run time.
    def convert(self, value):
        if not isinstance(value, Tensor):
            constant = self.tensor(value)
            constant.constant = True
            return constant
        if value.graph is not self:
            raise ValueError(f"{value} belongs to another graph")
        return value

    # ## Building ops
    #
    # Every op is built by `op`. It first asks the op's class whether, given
    # these inputs, the op would hand one of them straight back: summing a
    # gradient back to the shape it already has leaves it as it is. Then no
    # op is built at all. `gradients` would write such steps all the time.
    #
    # Keyword arguments are the op's attributes, such as the axes of a sum,
    # and pass straight on to the op.
    def op(self, op_class, *inputs, **attributes):
        inputs = [self.convert(x) for x in inputs]
        unchanged = op_class.unchanged(*inputs)
        if unchanged is not None:
            return unchanged
        return op_class(inputs, self, **attributes).output

    # The public op-building methods, one line each, return the output
    # tensor of their op. The last two of this group appear only in
    # backward passes: `sum_to` and `broadcast_to` move a tensor between a
    # broadcast shape and the shape it came from. ops.py explains them all.
    add = lambda self, a, b: self.op(AddOp, a, b)
    sub = lambda self, a, b: self.op(SubOp, a, b)
    mul = lambda self, a, b: self.op(MulOp, a, b)
    div = lambda self, a, b: self.op(DivOp, a, b)
    neg = lambda self, x: self.op(NegOp, x)
    square = lambda self, x: self.op(SquareOp, x)
    sigmoid = lambda self, x: self.op(SigmoidOp, x)
    dot = lambda self, a, b: self.op(DotOp, a, b)
    transpose = lambda self, x: self.op(TransposeOp, x)
    assign = lambda self, a, b: self.op(AssignOp, a, b)
    sum_to = lambda self, x, like: self.op(SumToOp, x, like)
    broadcast_to = lambda self, x, like: self.op(BroadcastToOp, x, like)

    # The ops of the digits chapter: three more elementwise functions, and
    # `step`, relu's slope, which only relu's gradient uses.
    exp = lambda self, x: self.op(ExpOp, x)
    log = lambda self, x: self.op(LogOp, x)
    relu = lambda self, x: self.op(ReluOp, x)
    step = lambda self, x: self.op(StepOp, x)

    # Sums over some axes, or over all of them when `axis` is None.
    def sum(self, x, axis=None, keepdims=False):
        return self.op(SumOp, x, axis=axis, keepdims=keepdims)

    # A mean is such a sum divided by the number of elements added.
    def mean(self, x, axis=None, keepdims=False):
        return self.op(MeanOp, x, axis=axis, keepdims=keepdims)

    # Their mirror images, `expand` and `spread`, copy a sum, or a share of
    # a mean, back out to the shape it came from. They appear in backward
    # passes, and take the same attributes. Then softmax and its logarithm,
    # over the last axis.
    expand = lambda self, x, like, **attrs: self.op(ExpandOp, x, like, **attrs)
    spread = lambda self, x, like, **attrs: self.op(SpreadOp, x, like, **attrs)
    softmax = lambda self, x: self.op(SoftmaxOp, x)
    log_softmax = lambda self, x: self.op(LogSoftmaxOp, x)

    # The loss that fuses softmax with cross-entropy. Its arguments must be
    # named, as in TensorFlow: a loss with labels and logits swapped would
    # still run, and be wrong.
    def softmax_cross_entropy_with_logits(self, *, labels, logits):
        return self.op(SoftmaxCrossEntropyWithLogitsOp, labels, logits)

    # `group` takes one tensor, or a list, tuple or dict of them nested as
    # deep as you like (session.py's `flatten` lists them), as TensorFlow's
    # does; `gradients` below takes its `xs` the same way. Anything else, a
    # string say, is refused rather than looped over.
    def group(self, inputs):
        return self.op(GroupOp, *flatten(inputs))

    # ## Gradients
    #
    # `gradients(y, xs)` returns, for each tensor x in `xs`, a tensor whose
    # value will be the gradient of `sum(y)` with respect to x: for each
    # element of x, how fast the sum of `y`'s elements changes as that
    # element changes. For a scalar loss L, as in main.py, that is simply
    # ∂L/∂x. It has exactly x's shape. Where `y` does not depend on x the
    # answer is None, as in TensorFlow.
    #
    # ### The chain rule
    #
    # If L depends on x only through u = f(x), then
    #
    #     ∂L/∂x = ∂L/∂u · ∂u/∂x
    #
    # and if x is used by several ops, u₁ = f₁(x), u₂ = f₂(x), …, its
    # uses add up:
    #
    #     ∂L/∂x = ∂L/∂u₁ · ∂u₁/∂x + ∂L/∂u₂ · ∂u₂/∂x + …
    #
    # That is all of backpropagation. Each op knows one factor, the
    # derivative of its output with respect to its inputs (∂u/∂x: ops.py).
    # The other factor, ∂L/∂u, arrives from the ops after it: it is the
    # `grad` that `op.gradient(grad)` receives, and what that method returns
    # for each input is the product, one term of the sum above.
    #
    # ### A worked example
    #
    # Take `y = (a + b) * (b + 1)` at a = 1, b = 2, and call the two
    # factors u = a + b = 3 and v = b + 1 = 3, so y = u · v = 9. Going
    # backwards from y:
    #
    #     ∂y/∂y = 1                  the seed
    #     ∂y/∂u = ∂y/∂y · v = 3      mul's rule
    #     ∂y/∂v = ∂y/∂y · u = 3      mul's rule
    #     ∂y/∂a = ∂y/∂u · 1 = 3      add's rule
    #     ∂y/∂b = ∂y/∂u · 1          b is used
    #           + ∂y/∂v · 1          twice: its
    #           = 3 + 3 = 6          uses add up
    #
    # Differentiating `(a + b)(b + 1)` by hand agrees: ∂y/∂a = b + 1 = 3
    # and ∂y/∂b = (b + 1) + (a + b) = 6.
    #
    # Here is the graph after `gradients(y, [a, b])`. The forward ops are
    # blue; the orange, dashed ops are the ones `gradients` added, four for
    # the table's five lines. `broadcast_to` makes the seed: ones shaped
    # like `y` (its dotted edge carries only `y`'s shape). The two orange `mul`s
    # compute ∂y/∂u = 1 · v and ∂y/∂v = 1 · u. The adds' gradients build
    # nothing, because an add passes its `grad` on unchanged: the first
    # `mul` is already ∂y/∂a. `b` hears from both adds, so the orange
    # `add` sums their two 3s into ∂y/∂b = 6.
    #
    # ![y = (a + b) * (b + 1) and its gradients: the forward ops in blue,
    # and in orange a broadcast_to, two muls and an add](example_gradient.svg)
    #
    # ### Why backwards
    #
    # The same products could be formed from the inputs forwards, carrying
    # ∂u/∂a along with every value u. But that gives the derivatives with
    # respect to *one* input per pass: a network with a million weights
    # would need a million passes. Going backwards from a scalar loss gives
    # the derivatives with respect to every input in one pass, at a cost of
    # a small multiple of the forward pass. That is why training uses
    # reverse accumulation.
    #
    # ### Uses must add up first
    #
    # The naive way to run the chain rule backwards is a queue of (tensor,
    # partial gradient) pairs, each forwarded as soon as it is made:
    #
    #     queue = deque([(y, seed)])
    #     while queue:
    #         t, grad = queue.popleft()
    #         if t in grads:
    #             grads[t] = grads[t] + grad
    #         else:
    #             grads[t] = grad
    #         if t.op is not None:
    #             parts = t.op.gradient(grad)
    #             queue.extend(zip(t.op.inputs, parts))
    #
    # It gives the right sums, since every `gradient` is linear in `grad`.
    # But a tensor used twice sends two partials back, and everything
    # upstream of it is differentiated twice; in a chain `t = t * t`
    # repeated n times the work doubles at every link, 2ⁿ calls where n
    # would do. So we wait instead: a tensor leaves the queue only when all
    # of its uses have reported, with the sum of their partials. Each op's
    # `gradient` then runs at most once, and the backward pass adds a
    # number of ops proportional to the size of the forward graph.
    def gradients(self, y, xs):
        y = self.convert(y)
        xs = [self.convert(x) for x in flatten(xs)]

        # First, walk back from `y`, recording every use of every tensor,
        # as the output of the op that uses it (an op that uses `t` twice,
        # as `t * t` does, counts twice). The walk keeps its own stack
        # instead of recursing: Python allows 1,000 nested calls, and graphs
        # can be far deeper.
        users = {y: []}
        stack = [y]
        while stack:
            t = stack.pop()
            for x in t.op.inputs if t.op is not None else ():
                if x not in users:
                    users[x] = []
                    stack.append(x)
                users[x].append(t)

        # Only ops on a path from some x to `y` need differentiating. Walk
        # forward from the xs along those uses: every tensor reached depends
        # on an x, and is *live*. (An op's `gradient` still builds tensors
        # for all its inputs, live or not; those for the others are dropped
        # here, and no run ever computes them.)
        live = set()
        stack = [x for x in xs if x in users]
        while stack:
            t = stack.pop()
            if t not in live:
                live.add(t)
                stack.extend(users[t])

        # Then the queue. `waiting` counts the uses each live tensor still
        # waits to hear from, and `partials` collects the gradients passed
        # back to it so far. Only `y` starts with a partial, the seed.
        waiting = {t: len(users[t]) for t in live}
        partials = {t: [] for t in live}
        if y in live:
            partials[y].append(self.broadcast_to(1.0, y))  # ∂y/∂y = 1
        grads = {}
        queue = deque([y] if y in live else [])

        # Each turn takes a tensor whose uses have all reported and adds up
        # their partials: that sum is ∂y/∂t, final. A tensor with no op (a
        # variable or placeholder) ends its path here. An op may report None
        # for an input that does not affect its value (the `like` of
        # `sum_to` lends only its shape): that use has reported, and passed
        # nothing.
        while queue:
            t = queue.popleft()
            parts = partials.pop(t)
            grads[t] = grad = reduce(self.add, parts) if parts else None
            if t.op is None:
                continue
            if grad is None:
                input_grads = [None] * len(t.op.inputs)
            else:
                input_grads = t.op.gradient(grad)

            # One link of the chain rule: each live input receives its
            # partial, and joins the queue when it was its last use to
            # report. Inputs that are not live are skipped.
            for x, x_grad in zip(t.op.inputs, input_grads):
                if x in live:
                    if x_grad is not None:
                        partials[x].append(x_grad)
                    waiting[x] -= 1
                    if waiting[x] == 0:
                        queue.append(x)

        # On the worked example the queue runs like this (`waiting` after
        # each turn; the constant 1 in `b + 1` is not live, so it is
        # never counted):
        #
        #     turn leaves gradient  waiting      queue
        #     0                     u1 v1 a1 b2  y
        #     1    y      1         u0 v0 a1 b2  u v
        #     2    u      1·v = 3   u0 v0 a0 b1  v a
        #     3    v      1·u = 3   u0 v0 a0 b0  a b
        #     4    a      3         u0 v0 a0 b0  b
        #     5    b      3+3 = 6   u0 v0 a0 b0
        #
        # `b` waits through turn 2, when only one of its two uses has
        # reported, and leaves once the second has.
        return [grads.get(x) for x in xs]


# Next: [tensor.py](tensor.html), the nodes these methods make.
