# # graph.py: building the graph, and differentiating it
#
# A `Graph` records a computation without doing it: `graph.add(a, b)`
# returns a tensor that *will* hold `a + b` when a session runs it. That
# is what makes this page's main act possible: `gradients` reads the
# recorded computation and writes its derivative, as more graph. Its nodes
# are tensors (tensor.py), which carry values, and ops (ops.py), which
# compute an output from their inputs and know their own derivative.
from collections import deque
from functools import reduce

import numpy as np

import control_flow
import nn_ops
import ops
from session import flatten
from tensor import Tensor, frozen


# A graph keeps no list of its nodes: every tensor knows its op, and every
# op its inputs. It only counts its tensors, to number them.
class Graph:
    def __init__(self):
        self.count = 0

    # ## Tensors
    #
    # With neither argument the new tensor is a placeholder; with a value, a
    # variable; with an op, that op's output (only ops pass one).
    def tensor(self, initial_value=None, op=None):
        return Tensor(initial_value, op, self)

    # Every op passes its inputs through `convert`, which is why `x + 1`
    # works: the 1 becomes a *constant*, a tensor with a value that nothing
    # will assign to. It takes the dtype of `others`, the op's other inputs
    # (tensor.py's `frozen` explains the rule); a Python number beside a
    # tensor of unknown dtype stays a number. A tensor of another graph is
    # refused here, where the mistake is made.
    def convert(self, value, *others):
        if isinstance(value, Tensor):
            if value.graph is not self:
                raise ValueError(f"{value} belongs to another graph")
            return value
        tensors = [t for t in others if isinstance(t, Tensor)]
        if all(t.dtype is not None for t in tensors):
            dtype = np.result_type(*[t.dtype for t in tensors]) if tensors else None
            try:
                value = frozen(value, dtype)
            except (TypeError, OverflowError) as error:
                raise TypeError(f"{error}, the dtype of {tensors}") from None
        constant = self.tensor(value)
        constant.constant = True
        if type(value) in (bool, int, float):
            constant.initial_value, constant.dtype = value, None
        return constant

    # ## Building ops
    #
    # Every op is built by `op`, which passes keyword arguments on as the
    # op's attributes. An op that would hand an input straight back (summing
    # a gradient to the shape it already has) is not built at all.
    def op(self, op_class, *inputs, **attributes):
        inputs = [self.convert(x, *inputs) for x in inputs]
        unchanged = op_class.unchanged(*inputs)
        if unchanged is not None:
            return unchanged
        return op_class(inputs, self, **attributes).output

    # One line per op, each returning its op's output (ops.py explains
    # them; `sum_to`, `broadcast_to`, `expand` and `spread` serve backward
    # passes).
    add = lambda self, a, b: self.op(ops.AddOp, a, b)
    sub = lambda self, a, b: self.op(ops.SubOp, a, b)
    mul = lambda self, a, b: self.op(ops.MulOp, a, b)
    div = lambda self, a, b: self.op(ops.DivOp, a, b)
    neg = lambda self, x: self.op(ops.NegOp, x)
    square = lambda self, x: self.op(ops.SquareOp, x)
    sigmoid = lambda self, x: self.op(ops.SigmoidOp, x)
    dot = lambda self, a, b: self.op(ops.DotOp, a, b)
    transpose = lambda self, x: self.op(ops.TransposeOp, x)
    assign = lambda self, a, b: self.op(ops.AssignOp, a, b)
    sum_to = lambda self, x, like: self.op(ops.SumToOp, x, like)
    broadcast_to = lambda self, x, like: self.op(ops.BroadcastToOp, x, like)
    sum = lambda self, x, axis=None, keepdims=False: self.op(
        ops.SumOp, x, axis=axis, keepdims=keepdims)
    mean = lambda self, x, axis=None, keepdims=False: self.op(
        ops.MeanOp, x, axis=axis, keepdims=keepdims)
    expand = lambda self, x, like, **attrs: self.op(ops.ExpandOp, x, like, **attrs)
    spread = lambda self, x, like, **attrs: self.op(ops.SpreadOp, x, like, **attrs)

    # The digits chapter's ops ([nn_ops.py](nn_ops.html)). The loss, whose
    # arguments are named as in TensorFlow, is built by a function of that
    # page: it adds the log-probabilities, an op its gradient reuses.
    exp = lambda self, x: self.op(nn_ops.ExpOp, x)
    log = lambda self, x: self.op(nn_ops.LogOp, x)
    relu = lambda self, x: self.op(nn_ops.ReluOp, x)
    step = lambda self, x: self.op(nn_ops.StepOp, x)
    softmax = lambda self, x: self.op(nn_ops.SoftmaxOp, x)
    log_softmax = lambda self, x: self.op(nn_ops.LogSoftmaxOp, x)
    softmax_cross_entropy_with_logits = nn_ops.softmax_cross_entropy_with_logits

    # Comparisons, branches and loops ([control_flow.py](control_flow.html)).
    greater = lambda self, a, b: self.op(control_flow.GreaterOp, a, b)
    less = lambda self, a, b: self.op(control_flow.LessOp, a, b)
    greater_equal = lambda self, a, b: self.op(control_flow.GreaterEqualOp, a, b)
    less_equal = lambda self, a, b: self.op(control_flow.LessEqualOp, a, b)
    cond = control_flow.cond
    while_loop = control_flow.while_loop

    # `group` bundles tensors into one, so that one fetch runs them all. It
    # takes a tensor, or any nesting of lists, tuples and dicts of them, as
    # a fetch is taken (session.py's `flatten`), and so does `gradients`.
    group = lambda self, inputs: self.op(ops.GroupOp, *flatten(inputs))

    # ## Gradients
    #
    # `gradients(y, xs)` returns, for each x in `xs`, a tensor for the
    # gradient of the sum of y's elements with respect to x (for a scalar
    # loss $L$, $∂L/∂x$), in x's shape; None where `y` does not depend on x,
    # as in TensorFlow.
    #
    # ### The chain rule, one op at a time
    #
    # Say $L$ depends on a tensor $x$ only through an op's output $u$. For
    # every element $x_j$ the chain rule sums over the elements of $u$:
    #
    # $$\frac{∂L}{∂x_j} = \sum_i \frac{∂L}{∂u_i}
    # \frac{∂u_i}{∂x_j}$$
    #
    # The numbers $∂u_i / ∂x_j$ form the op's *Jacobian* $J$, and with
    # $\bar u = ∂L/∂u$ the sum is $\bar x = \bar u J$, a **vector-Jacobian
    # product**. That is what `op.gradient(grad)` computes, `grad` being
    # $\bar u$, without ever forming $J$: for main.py's first sigmoid $J$
    # is 16 × 16 and zero off the diagonal, and `gradient` multiplies
    # elementwise instead (each 4 × 4 matrix counts as a vector of 16).
    # $\bar x$ has one entry per element of $x$: its shape. If $x$ is used
    # by several ops, each use adds a term. Applying this from the loss back
    # to the inputs, op by op, is **reverse-mode automatic
    # differentiation** (backpropagation, in neural networks).
    #
    # ### A worked example
    #
    # Take $y = (a + b)(b + 1)$ at $a = 1, b = 2$, and name the two factors
    # $u = a + b = 3$ and $v = b + 1 = 3$, so $y = uv = 9$. Going backwards,
    # with mul's rule $∂(uv)/∂u = v$ and add's rule
    # $∂(a + b)/∂a = 1$:
    #
    # $$\begin{array}{rcl}
    # \bar y &=& 1 \\
    # \bar u &=& \bar y \, v = 3 \\
    # \bar v &=& \bar y \, u = 3 \\
    # \bar a &=& \bar u \cdot 1 = 3 \\
    # \bar b &=& \bar u \cdot 1 + \bar v \cdot 1 = 6
    # \end{array}$$
    #
    # $b$ is used twice, and its two terms add up. By hand,
    # $∂y/∂a = b + 1 = 3$ and $∂y/∂b = (b + 1) + (a + b) = 6$. In code:
    #
    #     graph = Graph()
    #     a, b = graph.tensor(1.0), graph.tensor(2.0)
    #     y = (a + b) * (b + 1)
    #     ga, gb = graph.gradients(y, [a, b])
    #     print(*Session(graph).run([ga, gb]))
    #                        # 3.0 6.0
    #
    # The graph afterwards, with every value the run computes: in orange,
    # the ops `gradients` added. Two `mul`s make $\bar u$ and $\bar v$ from
    # the seed $\bar y = 1$, and an `add` sums $b$'s two terms; add's rule
    # builds nothing, so $\bar u$ is also $\bar a$.
    #
    # ![y = (a + b) * (b + 1) at a = 1, b = 2, with its gradients: forward
    # ops in blue, and in orange two muls and an add](example_gradient.svg)
    #
    # ### Why backwards
    #
    # The products could be formed forwards instead, carrying $∂u/∂w$ along
    # with every value $u$ (*forward mode*), but a forward pass follows one
    # input $w$. main.py's loss has 12 weights ($2 \times 4 + 4 \times 1$):
    # forward mode needs 12 passes, each about as costly as the network;
    # reverse mode gets all 12 derivatives in one backward pass. (On the
    # worked example, two passes, one for $a$ and one for $b$, against the
    # one above.) For a million weights, a million passes against one.
    #
    # ### Uses must add up first
    #
    # The naive way to run the chain rule backwards is a queue of (tensor,
    # partial gradient) pairs, each passed on as soon as it is made:
    #
    #     queue = deque([(y, seed)])
    #     while queue:
    #         t, grad = queue.popleft()
    #         grads[t] = grads.get(t, 0) + grad
    #         if t.op is not None:
    #             parts = t.op.gradient(grad)
    #             queue.extend(zip(t.op.inputs,
    #                              parts))
    #
    # Its sums are right (every `gradient` is linear in `grad`), but a
    # tensor used twice sends two partials back, and everything upstream is
    # differentiated twice: in a chain of `t = t * t` the work doubles at
    # every link. So a tensor leaves our queue only when all its uses have
    # reported, with their sum, and each `gradient` runs at most once. That
    # order, each tensor after all its users, is a **topological order**
    # of the graph, and a queue that releases a node when its count of
    # waiting neighbours reaches zero is **Kahn's algorithm**.
    #
    # `ops`, if given, is the set of ops the walk may pass through; any
    # other op's output counts as a constant. A branch or a loop body
    # (control_flow.py) passes its own ops.
    def gradients(self, y, xs, ops=None):
        y = self.convert(y)
        xs = [self.convert(x) for x in flatten(xs)]
        walked = lambda t: t.op is not None and (ops is None or t.op in ops)

        # First, walk back from `y`, recording every use of every tensor
        # (`t * t` counts twice), with a stack rather than recursion: Python
        # allows 1,000 nested calls, and graphs can be far deeper.
        users, stack = {y: []}, [y]
        while stack:
            t = stack.pop()
            for x in t.op.inputs if walked(t) else ():
                if x not in users:
                    users[x] = []
                    stack.append(x)
                users[x].append(t)

        # Only tensors on a path from an x to `y` need a gradient: walk
        # forward from the xs, marking them *live*. Integers and booleans
        # have no derivative: never live, their gradient is None.
        live, stack = set(), [x for x in xs if x in users]
        while stack:
            t = stack.pop()
            if t not in live and (t.dtype is None or t.dtype.kind in "fc"):
                live.add(t)
                stack.extend(users[t])

        # Kahn's algorithm: `waiting` counts the live uses each tensor still
        # waits for, `partials` collects what they sent, and `y` starts with
        # the seed $∂y/∂y = 1$. The queue starts with whatever waits for
        # nothing: `y`, and a tensor used only through integers or booleans.
        waiting = {t: sum(u in live for u in users[t]) for t in live}
        partials = {t: [] for t in live}
        if y in live:
            partials[y].append(self.broadcast_to(1.0, y))
        grads = {}
        queue = deque(t for t in users if t in live and waiting[t] == 0)

        # Each turn takes a tensor whose uses have all reported and adds up
        # their partials: its gradient, final. (A None partial, sent to an
        # input that lends only its shape, is a report of nothing.)
        while queue:
            t = queue.popleft()
            parts = partials.pop(t)
            grads[t] = grad = reduce(self.add, parts) if parts else None
            if not walked(t):
                continue
            nothing = [None] * len(t.op.inputs)
            input_grads = nothing if grad is None else t.op.gradient(grad)

            # One link of the chain rule per live input.
            for x, x_grad in zip(t.op.inputs, input_grads):
                if x in live:
                    if x_grad is not None:
                        partials[x].append(x_grad)
                    waiting[x] -= 1
                    if waiting[x] == 0:
                        queue.append(x)

        # On the worked example (`waiting` after each turn):
        #
        #     turn takes  gradient  waiting      queue
        #     0                     u1 v1 a1 b2  y
        #     1    y      1         u0 v0 a1 b2  u v
        #     2    u      1·v = 3   u0 v0 a0 b1  v a
        #     3    v      1·u = 3   u0 v0 a0 b0  a b
        #     4    a      3         u0 v0 a0 b0  b
        #     5    b      3+3 = 6   u0 v0 a0 b0
        #
        # `b` waits through turn 2, when one of its two uses has reported.
        return [grads.get(x) for x in xs]


# Next: [tensor.py](tensor.html), the nodes these methods make.
