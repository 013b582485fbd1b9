# # tensor.py: the nodes that carry values
#
# A `Tensor` is a node of the graph. While the graph is being built it holds
# no data: it records *where its value will come from* when a session runs
# it. There are three possibilities, and every tensor is exactly one of
# them:
#
# - a **placeholder** (`graph.tensor()`): no value and no op. Every run that
#   needs it must feed it a value, the way a function needs its arguments.
# - a **variable** (`graph.tensor(value)`): it starts out holding
#   `initial_value`; the session keeps its current value, which `assign` can
#   change. The plain numbers and arrays mixed into expressions (the 1 in
#   `x + 1`) become **constants** through `graph.convert`: tensors with a
#   value that nothing will ever assign to.
# - the **output of an op** (`op` is set): its value is computed from the
#   values of the op's inputs.
#
# A tensor does know one thing about its future value while the graph is
# built: its *static shape*, where that is cheap to work out. A variable's
# shape is its value's shape; an op's output shape follows from the shapes
# of its inputs (ops.py says how); a placeholder's is unknown, `None`: only
# the values fed to it at run time have shapes. Knowing shapes early lets
# the graph refuse an op whose shapes cannot fit as soon as it is written,
# and leave out steps that would do nothing.
#
# It knows its *static dtype* the same way, where it is known (`None`
# otherwise): a variable's is its value's, an op's is the one NumPy gives
# its result. The end of this page says how values take their dtypes.
import numpy as np


# A tensor records which kind it is (through `initial_value` and `op`), the
# `graph` it belongs to, its static shape and dtype, and two small extras.
class Tensor:
    # `constant` is set only by `graph.convert`.
    constant = False

    # Each graph numbers its tensors 1, 2, 3, … in the order they are made.
    # The number only serves `repr`, so that an error message can say
    # *which* placeholder was not fed.
    def __init__(self, initial_value=None, op=None, graph=None):
        self.initial_value = None if initial_value is None else frozen(initial_value)
        self.op = op
        self.graph = graph
        self.shape = None if initial_value is None else np.shape(self.initial_value)
        self.dtype = getattr(self.initial_value, "dtype", None)
        graph.count += 1
        self.number = graph.count

    # A tensor prints as its kind and number, such as `placeholder#3` or
    # `dot#5`. Error messages are made of these.
    def __repr__(self):
        kind = "placeholder" if self.initial_value is None else "variable"
        kind = "constant" if self.constant else self.op.kind if self.op else kind
        return f"{kind}#{self.number}"

    # ## Operators
    #
    # Each operator asks the graph to add one op and returns that op's
    # output, so that main.py's `weights0 - grad0` reads like the arithmetic
    # it stands for. The reflected forms serve expressions that start with a
    # plain number, such as `1 - t`: Python asks the number first, the
    # number gives up, and Python then calls `t.__rsub__(1)`.
    #
    # Tensors are dictionary keys (feeds, the session's state, caches), so
    # `==` and `hash` keep Python's default meaning, identity. An
    # elementwise `==` would break every one of those dictionaries.
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

    # A NumPy array on the left, as in `np.ones(3) * t`, would otherwise
    # try to multiply each of its elements by the tensor, making an array of
    # tensors. Setting `__array_ufunc__` to None tells NumPy to give up, so
    # Python calls `t.__rmul__` as it does for `2 * t`.
    __array_ufunc__ = None


# ## Values
#
# Every value that enters a graph, as a variable's initial value, a
# constant or a feed, passes through `frozen`, which makes three promises.
#
# First, *what a graph computes is fixed when it is built*. The value is
# copied into a read-only array of the graph's own, so changing the
# caller's array afterwards (`init += 7`) changes nothing, and two sessions
# on one graph start from the same weights.
#
# Second, *a tensor is never a value*. `graph.tensor(t)` or a feed of `t`,
# with `t` a tensor, is a mistake (`t` is a promise of a value, known only
# when a session runs), and so is a list that holds tensors, which NumPy
# would turn into an array of objects. Both are refused, naming the tensor.
#
# Third, *a value takes the dtype of the tensor it meets*, as TensorFlow
# converts it. `frozen(value, dtype)` converts it to `dtype`, within its
# kind: the integer 2 may become a float32 2, a float64 array a float32
# one, but 0.5 never becomes an integer, and a string nothing: those are
# refused. `graph.convert` (graph.py) passes the dtype of the op's other
# inputs, so `x * 0.2`, `x * np.float64(0.2)` and `np.full(3, 0.2) * x`
# with `x` in float32 all stay float32, forward and backward. A value fed
# to a tensor whose dtype is known takes that dtype, for that run only
# (session.py). Ops do the rest: NumPy's rules decide the dtype of each
# op's result, and the op records it (ops.py).
#
# Where there is no dtype to take, a value keeps NumPy's own. One that
# meets no tensor at all (`graph.sum(3.0)`) becomes an array: float64 for
# 3.0, int64 for 3. One that meets a tensor whose dtype is known only at
# run time, a placeholder's, keeps its own dtype, except that a plain
# Python number stays a number: NumPy treats numbers as *weak*, giving
# them the dtype of the array they meet when the op runs, so `p * 2.0`
# stays float32 when `p` is fed float32. That is the one case in which an
# op's `compute` receives anything but an array.
def frozen(value, dtype=None):
    array = np.array(value)
    for v in array.flat if array.dtype == object else ():
        if isinstance(v, Tensor):
            raise TypeError(f"{v} is a tensor, not a value: its value exists "
                            "only while a session runs it")
    if dtype is not None and not np.can_cast(array.dtype, dtype, "same_kind"):
        raise TypeError(f"{array.dtype} does not convert to {dtype}")
    array = np.asarray(array, dtype)
    array.flags.writeable = False
    return array


# Next: [ops.py](ops.html), where each op says what it computes and how to
# differentiate it.
