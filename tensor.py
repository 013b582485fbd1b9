# # tensor.py: the nodes that carry values
#
# While the graph is built, a `Tensor` holds no data: it records where its
# value will come from when a session runs it. Every tensor is one of
#
# - a **placeholder** (`graph.tensor()`): no value and no op; every run
#   that needs it must feed it one, as a function needs its arguments;
# - a **variable** (`graph.tensor(value)`): it starts out holding
#   `initial_value`, and `assign` can change it. The numbers mixed into
#   expressions (the 1 in `x + 1`) become **constants**, variables that
#   nothing assigns to;
# - the **output of an op** (`op` is set), computed from the op's inputs.
#
# A tensor also knows its *static shape* and *static dtype* where they are
# known while building (`None` otherwise, as for a placeholder): a
# variable's are its value's, an op's follow from its inputs' (ops.py).
# They let the graph refuse an op whose shapes cannot fit as it is
# written.
import numpy as np


# Each graph numbers its tensors in the order they are made, so that an
# error can say *which* placeholder was not fed: a tensor prints as its
# kind and number, such as `placeholder#3` or `dot#5`.
class Tensor:
    constant = False  # set by `graph.convert`

    def __init__(self, initial_value=None, op=None, graph=None):
        self.initial_value = None if initial_value is None else frozen(initial_value)
        self.op = op
        self.graph = graph
        self.shape = None if initial_value is None else np.shape(self.initial_value)
        self.dtype = getattr(self.initial_value, "dtype", None)
        graph.count += 1
        self.number = graph.count

    def __repr__(self):
        kind = "placeholder" if self.initial_value is None else "variable"
        kind = "constant" if self.constant else self.op.kind if self.op else kind
        return f"{kind}#{self.number}"

    # ## Operators
    #
    # Each operator adds one op and returns its output, so `weights0 - grad0`
    # reads as arithmetic; the reflected forms serve `1 - t`. Tensors are
    # dictionary keys (feeds, state), so `==` keeps meaning identity. And
    # `if t:` is refused, as in TensorFlow: a tensor has no truth value
    # until a session runs it.
    __add__ = lambda self, other: self.graph.add(self, other)
    __radd__ = lambda self, other: self.graph.add(other, self)
    __sub__ = lambda self, other: self.graph.sub(self, other)
    __rsub__ = lambda self, other: self.graph.sub(other, self)
    __mul__ = lambda self, other: self.graph.mul(self, other)
    __rmul__ = lambda self, other: self.graph.mul(other, self)
    __truediv__ = lambda self, other: self.graph.div(self, other)
    __rtruediv__ = lambda self, other: self.graph.div(other, self)
    __matmul__ = lambda self, other: self.graph.dot(self, other)
    __rmatmul__ = lambda self, other: self.graph.dot(other, self)
    __neg__ = lambda self: self.graph.neg(self)
    __gt__ = lambda self, other: self.graph.greater(self, other)
    __lt__ = lambda self, other: self.graph.less(self, other)
    __ge__ = lambda self, other: self.graph.greater_equal(self, other)
    __le__ = lambda self, other: self.graph.less_equal(self, other)

    def __bool__(self):
        raise TypeError(f"{self!r} is not True or False until run: use graph.cond")

    # (With an array on the left, `np.ones(3) * t`, NumPy would make an
    # array of tensors; this tells it to give up, so Python calls
    # `t.__rmul__`.)
    __array_ufunc__ = None


# ## Values
#
# Every value that enters a graph, as an initial value, a constant or a
# feed, passes through `frozen`. It is copied into a read-only array of
# the graph's own, so what a graph computes is fixed when it is built
# (changing the caller's array afterwards changes nothing), and a tensor,
# a promise of a value, is refused as a value, naming it.
#
# A value takes the dtype of the tensor it meets, as in TensorFlow (within
# its kind: 2 may become a float32 2, but 0.5 never an integer), so
# `x * 0.2` with `x` in float32 stays float32, forward and backward. A
# value that meets no known dtype keeps NumPy's own.
def frozen(value, dtype=None):
    array = np.array(value)
    for v in array.flat if array.dtype == object else ():
        if isinstance(v, Tensor):
            raise TypeError(f"{v} is a tensor, not a value: its value exists "
                            "only while a session runs it")
    if dtype is not None and not np.can_cast(array.dtype, dtype, "same_kind"):
        raise TypeError(f"{array.dtype} does not convert to {dtype}")
    array = array if dtype is None else np.array(value, dtype)
    array.flags.writeable = False
    return array


# Next: [ops.py](ops.html), where each op says what it computes and how to
# differentiate it.
