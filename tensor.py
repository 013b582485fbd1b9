# [main](main.html) · [graph](graph.html) · **[tensor](tensor.html)** ·
# [ops](ops.html) · [session](session.html) · [tf_test](tf_test.html)
#
# # tensor.py: the nodes that carry values
#
# A `Tensor` is a node of the graph. While the graph is being built it holds
# no data: it only records *where its value will come from* when a session
# runs it. There are three possibilities, and a tensor is exactly one of them:
#
# - a **placeholder** (`graph.tensor()`): no value and no op; every run that
#   needs it must feed it, like the inputs of a function;
# - a **variable** (`graph.tensor(value)`): it starts from `initial_value`, and
#   the session keeps its current value, which `assign` can change. The
#   numbers Python code mixes in (`x + 1`) become variables too, through
#   `graph.convert`; nobody assigns to them, so they act as constants;
# - the **output of an op** (`op` is set): its value is computed from the
#   values of the op's inputs.
#
# What a tensor does know while building is its *static shape*, where that
# is cheap to work out: a variable's shape is its value's shape, an op's
# output shape follows from its inputs' shapes (see `BaseOp` in ops.py), and a
# placeholder's shape is unknown (`None`) until it is fed. `graph.gradients`
# uses known shapes to leave out steps that would do nothing.
import numpy as np


class Tensor:
    # NumPy must not treat a tensor as an array element: with this, `array *
    # tensor` defers to `Tensor.__rmul__` and builds an op, as `2 * tensor`
    # does.
    __array_ufunc__ = None

    # `graph.convert` marks the tensors it makes from plain numbers as
    # constants. Nothing else distinguishes them from variables, but knowing
    # that a `1` will always be 1 lets the graph skip multiplying by it.
    constant = False

    # Each graph numbers its tensors 1, 2, 3, ... in the order they are made.
    # The number only serves `repr`, so that an error can say *which*
    # placeholder was not fed.
    def __init__(self, initial_value=None, op=None, graph=None):
        self.initial_value = initial_value
        self.op = op
        self.graph = graph
        self.shape = None if initial_value is None else np.shape(initial_value)
        graph.count += 1
        self.number = graph.count

    def __repr__(self):
        if self.op is not None:
            kind = self.op.kind
        elif self.initial_value is None:
            kind = "placeholder"
        else:
            kind = "constant" if self.constant else "variable"
        return f"{kind}#{self.number}"

    # ## Operators
    #
    # Each operator asks the graph to add one op and returns that op's
    # output, so `w0 - g0` reads like the arithmetic it stands for. The
    # reflected forms (`1 - t`, `2 * t`) put the plain number first.
    #
    # Tensors are also dictionary keys (feeds, session state, caches), so
    # `==` and `hash` keep Python's default meaning, identity. An elementwise
    # `==` would break every one of those dictionaries.
    def __add__(self, other):
        return self.graph.add(self, other)

    def __radd__(self, other):
        return self.graph.add(other, self)

    def __sub__(self, other):
        return self.graph.sub(self, other)

    def __rsub__(self, other):
        return self.graph.sub(other, self)

    def __mul__(self, other):
        return self.graph.mul(self, other)

    def __rmul__(self, other):
        return self.graph.mul(other, self)

    def __truediv__(self, other):
        return self.graph.div(self, other)

    def __rtruediv__(self, other):
        return self.graph.div(other, self)

    def __matmul__(self, other):
        return self.graph.dot(self, other)

    def __rmatmul__(self, other):
        return self.graph.dot(other, self)

    def __neg__(self):
        return self.graph.neg(self)
