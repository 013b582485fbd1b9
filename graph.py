# [main](main.html) · **[graph](graph.html)** · [tensor](tensor.html) ·
# [ops](ops.html) · [session](session.html) · [tf_test](tf_test.html)
#
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

from ops import (
    AddOp,
    AssignOp,
    BroadcastToOp,
    DivOp,
    DotOp,
    GroupOp,
    MeanOp,
    MulOp,
    NegOp,
    SigmoidOp,
    SpreadOp,
    SquareOp,
    SubOp,
    SumToOp,
    TransposeOp,
)
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
    def op(self, op_class, *inputs):
        inputs = [self.convert(x) for x in inputs]
        unchanged = op_class.unchanged(*inputs)
        if unchanged is not None:
            return unchanged
        return op_class(inputs, self).output

    # The public op-building methods, one line each, return the output
    # tensor of their op. The last three appear only in backward passes:
    # `spread` shares a gradient out over a shape (mean's gradient), and
    # `sum_to` and `broadcast_to` move a tensor between a broadcast shape
    # and the shape it came from. ops.py explains all of them.
    add = lambda self, a, b: self.op(AddOp, a, b)
    sub = lambda self, a, b: self.op(SubOp, a, b)
    mul = lambda self, a, b: self.op(MulOp, a, b)
    div = lambda self, a, b: self.op(DivOp, a, b)
    neg = lambda self, x: self.op(NegOp, x)
    square = lambda self, x: self.op(SquareOp, x)
    sigmoid = lambda self, x: self.op(SigmoidOp, x)
    dot = lambda self, a, b: self.op(DotOp, a, b)
    transpose = lambda self, x: self.op(TransposeOp, x)
    mean = lambda self, x: self.op(MeanOp, x)
    assign = lambda self, a, b: self.op(AssignOp, a, b)
    spread = lambda self, x, like: self.op(SpreadOp, x, like)
    sum_to = lambda self, x, like: self.op(SumToOp, x, like)
    broadcast_to = lambda self, x, like: self.op(BroadcastToOp, x, like)

    # `group` takes a list of tensors, or one tensor alone, as TensorFlow's
    # does; `gradients` below takes its `xs` the same way.
    def group(self, inputs):
        return self.op(GroupOp, *self.as_list(inputs))

    # (A list, or anything that iterates, is taken as it is.)
    def as_list(self, tensors):
        return [tensors] if isinstance(tensors, Tensor) else list(tensors)

    # ## Gradients
    #
    # `gradients(y, xs)` returns, for each tensor x in `xs`, a tensor whose
    # value will be the gradient of `sum(y)` with respect to x: for
    # each element of x, how fast the sum of `y`'s elements changes as that
    # element changes. For a scalar loss, as in main.py, that is simply
    # ∂loss/∂x. It has exactly x's shape. Where `y` does not depend on x
    # the answer is None, as in TensorFlow.
    #
    # The method works by *reverse accumulation*. It starts at `y` with a
    # seed of ones (∂y/∂y = 1) and visits the ops from the output back
    # towards the inputs. At each op, `op.gradient(grad)` turns the
    # gradient with respect to the op's output into gradients with respect
    # to its inputs: one link of the chain rule. Nothing is computed on the
    # way; every step builds ops, so the result is a set of tensors for
    # the session to run, like any other.
    #
    # The subtle part is a tensor used more than once. In
    # `y = (a + b) * (b + 1)` two ops use `b`, and by the chain rule
    # `b`'s gradient is the *sum* of the two gradients they pass back. So
    # `b`'s gradient cannot go further back until both have reported.
    #
    # Here is that example after `gradients(y, [a, b])`, with `a` and `b`
    # holding three numbers each. The orange, dashed ops are the backward
    # pass. `broadcast_to` makes the seed, ones shaped like `y` (its dotted
    # edge carries only `y`'s shape). The product rule gives one `mul` per
    # factor: the seed times `b + 1` is the gradient flowing into `a + b`,
    # and the seed times `a + b` the one flowing into `b + 1`. An `add`
    # passes its gradient on unchanged, so the first is already ∂y/∂a,
    # while `b` hears from both adds: the last `add` is their sum, ∂y/∂b.
    #
    # ![y = (a + b) * (b + 1) and its gradients: the forward ops in blue,
    # and in orange a broadcast_to, two muls and an add](example_gradient.svg)
    #
    # A simpler queue forwards every partial gradient as soon as it arrives.
    # Since each op's `gradient` is linear in `grad`, passing the parts back
    # one at a time and adding them up at the inputs gives the same total
    # as adding them first. But it runs the whole backward pass upstream of
    # `b` once per use of `b`. In a chain of such shared uses (`t = t * t`,
    # over and over) the work doubles at every link: about a thousand
    # gradient calls where ten would do for ten links, a trillion where
    # forty would do for forty. Instead we count, before starting, how many
    # uses each tensor must hear from, and release a tensor from the queue
    # only when the last of them has reported. Each op's `gradient` then
    # runs at most once, and the backward pass adds a number of ops
    # proportional to the size of the forward graph.
    def gradients(self, y, xs):
        y = self.convert(y)
        xs = [self.convert(x) for x in self.as_list(xs)]

        # First, walk back from `y`, recording every use of every tensor,
        # as the output of the op that uses it (an op that uses `t` twice,
        # as `t * t` does, counts twice). The walk keeps its own stack
        # instead of recursing: Python allows 1,000 nested calls, and graphs
        # can be far deeper.
        users = {y: []}
        stack = [y]
        while stack:
            t = stack.pop()
            for x in t.op.inputs if t.op else ():
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
        # back to it so far. An op may report None for an input that does
        # not affect its value (the `like` of `sum_to` lends only its
        # shape): that use has reported, and passed nothing.
        waiting = {t: len(users[t]) for t in live}
        partials = {t: [] for t in live}
        if y in live:
            partials[y].append(self.broadcast_to(1.0, y))  # ∂y/∂y = 1
        grads = {}
        queue = deque([y] if y in live else [])
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
            for x, x_grad in zip(t.op.inputs, input_grads):
                if x in live:
                    if x_grad is not None:
                        partials[x].append(x_grad)
                    waiting[x] -= 1
                    if waiting[x] == 0:
                        queue.append(x)
        return [grads.get(x) for x in xs]


# Next: [tensor.py](tensor.html), the nodes these methods make.
