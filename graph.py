# [main](main.html) · **[graph](graph.html)** · [tensor](tensor.html) ·
# [ops](ops.html) · [session](session.html) · [tf_test](tf_test.html)
#
# # graph.py: building the graph, and differentiating it
#
# A `Graph` owns tensors and the ops that connect them. Building one computes
# nothing: `graph.add(a, b)` only records that some tensor will be `a + b`.
# The arithmetic happens later, in a session (session.py). Keeping *what to
# compute* apart from *computing it* is what lets `gradients` read the
# whole computation and write its derivative as more graph.
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


class Graph:
    def __init__(self):
        self.count = 0

    # ## Tensors
    #
    # With neither argument the new tensor is a placeholder; with a value, a
    # variable; with an op, that op's output (only `BaseOp` passes one).
    def tensor(self, initial_value=None, op=None):
        return Tensor(initial_value, op, self)

    # Every op passes its inputs through `convert`, which is why `x + 1`
    # works: the 1 becomes a constant, a variable that nothing will assign
    # to. A tensor of another graph is refused here, when the mistake is
    # made, rather than at run time.
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
    # Each method adds one op and returns its output tensor; ops.py says what
    # each op computes and how it is differentiated. All of them go through
    # `op`, which first asks the op's class whether, given its inputs, it
    # would hand one of them back unchanged: `x * 1` is `x`. If so, no op is
    # built at all. Users rarely write `x * 1`, but `gradients` would write
    # such steps all the time (see below).
    def op(self, op_class, *inputs):
        inputs = [self.convert(x) for x in inputs]
        unchanged = op_class.unchanged(*inputs)
        if unchanged is not None:
            return unchanged
        return op_class(inputs, self).output

    def add(self, a, b):
        return self.op(AddOp, a, b)

    def sub(self, a, b):
        return self.op(SubOp, a, b)

    def mul(self, a, b):
        return self.op(MulOp, a, b)

    def div(self, a, b):
        return self.op(DivOp, a, b)

    def neg(self, x):
        return self.op(NegOp, x)

    def square(self, x):
        return self.op(SquareOp, x)

    def sigmoid(self, x):
        return self.op(SigmoidOp, x)

    def dot(self, a, b):
        return self.op(DotOp, a, b)

    def transpose(self, x):
        return self.op(TransposeOp, x)

    def mean(self, x):
        return self.op(MeanOp, x)

    def assign(self, a, b):
        return self.op(AssignOp, a, b)

    def group(self, inputs):
        return self.op(GroupOp, *inputs)

    # Three ops that only backward passes need: `spread` shares a gradient
    # out over a shape (mean's gradient), and `sum_to` and `broadcast_to`
    # move a tensor between a broadcast shape and the shape it came from.
    def spread(self, grad, like):
        return self.op(SpreadOp, grad, like)

    def sum_to(self, x, like):
        return self.op(SumToOp, x, like)

    def broadcast_to(self, x, like):
        return self.op(BroadcastToOp, x, like)

    # ## Gradients
    #
    # `gradients(y, xs)` returns, for each x, a tensor for the gradient of
    # `sum(y)` with respect to x: the derivative of every element of `y`
    # with respect to every element of x, summed over `y`. It is built by
    # reverse accumulation. Starting from `y` with a seed of ones, it visits
    # the ops from the output back towards the inputs, and each op's
    # `gradient` turns the gradient of its output into gradients for its
    # inputs. That is the chain rule, applied once per op.
    #
    # The subtle part is a tensor used more than once: in `y = (a + b) *
    # (b + 1)` two ops use `b`, and its gradient is the *sum* of what both
    # pass back. We must not send `b`'s gradient onwards until both have
    # reported. A naive queue that forwards every partial gradient at once
    # works, but calls the gradients of everything upstream of `b` twice;
    # with a chain of such shared uses the work doubles at every level, and
    # grows exponentially. So we first count, for every tensor, how many
    # uses it has to wait for, and release it from the queue only when the
    # last one has reported. Each op's `gradient` then runs exactly once, and
    # the backward pass adds a number of ops proportional to the forward
    # graph.
    def gradients(self, y, xs):
        y = self.convert(y)
        xs = [self.convert(x) for x in xs]

        # Walk back from `y` once, without recursion (graphs can be 100,000
        # ops deep), recording for every tensor the ops that use it.
        users = {y: []}
        stack = [y]
        while stack:
            t = stack.pop()
            for x in t.op.inputs if t.op else ():
                if x not in users:
                    users[x] = []
                    stack.append(x)
                users[x].append(t)

        # Only ops on a path from some x to `y` matter: walk forward from
        # the xs along those uses. Everything reached depends on an x.
        live = set()
        stack = [x for x in xs if x in users]
        while stack:
            t = stack.pop()
            if t not in live:
                live.add(t)
                stack.extend(users[t])

        # The queue. `waiting` counts the uses each tensor still waits for,
        # and `partials` collects the gradients already passed back to it.
        # A partial is `None` where an op reports that its output does not
        # depend on that input (the `like` of `sum_to` is only a shape).
        waiting = {t: len(users[t]) for t in live}
        partials = {t: [] for t in live}
        if y in live:
            partials[y].append(self.broadcast_to(1.0, y))
        grads = {}
        queue = deque([y] if y in live else [])
        while queue:
            t = queue.popleft()
            parts = partials.pop(t)
            grad = reduce(self.add, parts) if parts else None
            grads[t] = grad
            if t.op is None:
                continue
            input_grads = t.op.gradient(grad) if grad is not None else [None] * len(t.op.inputs)
            for x, x_grad in zip(t.op.inputs, input_grads):
                if x in live:
                    if x_grad is not None:
                        partials[x].append(x_grad)
                    waiting[x] -= 1
                    if waiting[x] == 0:
                        queue.append(x)
        return [grads.get(x) for x in xs]
