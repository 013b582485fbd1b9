# # eager.py: TensorFlow 2's way, on the same ops
#
# So far, building and running have been two steps: `a + b` adds an op to
# a graph and computes nothing, and a session computes it later, as often
# as we like. TensorFlow 2 and PyTorch made the other choice their
# default: **eager execution**, where `a + b` computes `a + b` the moment
# it is written, as NumPy does. Derivatives then need another trick. A
# **gradient tape** records the ops as they run, and differentiates by
# going back over the record.
#
# These look like two different engines. They are one engine arranged two
# ways, and this page shows it in a few dozen lines. The eager graph below
# uses ops.py's op classes and their `compute` methods; the tape
# differentiates with graph.py's `gradients` and the ops' own `gradient`
# rules. Nothing is written twice:
#
#     graph = EagerGraph()
#     x = graph.tensor(3.0)
#     with GradientTape() as tape:
#         y = x * x * x
#     y.numpy()         # 27.0, as the line ran
#     dy = tape.gradient(y, x)
#     dy.numpy()        # 27.0: 3x² at x = 3
import numpy as np
from tqdm import tqdm

import main
from graph import Graph
from ops import AssignOp
from tensor import Tensor


# ## Eager tensors
#
# An eager tensor carries its value, in `value`: an op's output gets it
# when the op is built, and a variable holds its current one.
class EagerTensor(Tensor):
    # A variable or a constant reads `initial_value` the first time it is
    # used, as a session loads it: a variable's value becomes an array, a
    # constant's stays as it is (a Python number stays a number). Python
    # calls `__getattr__` only for an attribute the tensor does not have,
    # so after that first read `value` is found at once.
    def __getattr__(self, name):
        if name != "value" or self.op is not None:
            raise AttributeError(name)
        initial = self.initial_value
        self.value = initial if self.constant else np.asarray(initial)
        return self.value

    # `numpy()` hands out the value, as TensorFlow 2's tensors do: a copy,
    # which the caller may change freely, and a NumPy scalar for a scalar,
    # as `sess.run` gives.
    def numpy(self):
        return np.array(self.value)[()]


# The tapes now open, innermost last. Each op built is recorded on all of
# them. (TensorFlow keeps such a list per thread; this one is shared.)
TAPES = []


# ## The eager graph
#
# `EagerGraph` is a `Graph` with two methods changed. Everything else, the
# op-building methods, the operators and `gradients`, it inherits.
class EagerGraph(Graph):
    # It makes eager tensors. A placeholder has no place here: there is no
    # later run to feed it.
    def tensor(self, initial_value=None, op=None):
        if initial_value is None and op is None:
            raise ValueError("eager mode has no placeholders: give the "
                             "tensor a value")
        return EagerTensor(initial_value, op, self)

    # This is eager execution. `Graph.op` builds the op as ever; then,
    # instead of leaving it for a session, we compute its value at once
    # from its inputs' values, with the op's own `compute` (there is no
    # session to pass it). `Graph.op` may instead hand back an input that
    # the op would leave unchanged (ops.py's `unchanged`); that tensor,
    # older than the count noted on entry, has its value already.
    #
    # An assignment takes effect at once: the variable takes the value
    # `compute` returned. Last, the op is recorded on every open tape.
    def op(self, op_class, *inputs, **attributes):
        count = self.count
        y = super().op(op_class, *inputs, **attributes)
        if y.op is None or y.number <= count:
            return y
        op = y.op
        values = [x.value for x in op.inputs]
        try:
            y.value = op.compute(None, *values)
        except Exception as error:
            where = op.describe([np.shape(v) for v in values])
            raise RuntimeError(f"{y} failed in {where}: {error}") from error
        if op_class is AssignOp:
            op.inputs[0].value = y.value
        for tape in TAPES:
            tape.ops.add(op)
        return y


# ## The tape
#
# `with GradientTape() as tape:` opens a tape, which collects every op
# built while it is open.
class GradientTape:
    # Opening the tape starts an empty record and puts the tape on the
    # list that every op built reads.
    def __enter__(self):
        self.ops = set()
        TAPES.append(self)
        return self

    # Closing it takes it off the list; the record stays, for `gradient`.
    def __exit__(self, *exception):
        TAPES.remove(self)

    # `tape.gradient(y, xs)` is graph.py's `gradients`, walking only the
    # ops on the tape. An op built before the tape opened is not on it, so
    # its output is a constant to the tape. The gradient ops are built on
    # an eager graph, so each computes at once, and a tape still open
    # records them: differentiating them again gives second derivatives.
    #
    #     with GradientTape() as outer:
    #         with GradientTape() as inner:
    #             y = x * x * x
    #         dy = inner.gradient(y, x)  # 3x²
    #     outer.gradient(dy, x)          # 6x
    #
    # Unlike TensorFlow's, these tapes need no `tape.watch(x)` for a tensor
    # x, and may be asked for gradients more than once.
    def gradient(self, y, xs):
        if not isinstance(y, EagerTensor):
            raise TypeError(f"a tape differentiates an eager tensor, not {y!r}")
        single = isinstance(xs, Tensor)
        grads = y.graph.gradients(y, [xs] if single else xs, self.ops)
        return grads[0] if single else grads


# ## XOR, eagerly
#
# main.py's network, trained the TensorFlow 2 way, from the same data
# (`main.X`, and `main.y`, the targets) and weights. The forward pass is
# main.py's, as a function: each call computes it anew, from the weights'
# current values.
def forward(graph, inputs, targets, weights0, weights1):
    activations1 = graph.sigmoid(graph.sigmoid(inputs @ weights0) @ weights1)
    loss = graph.mean(graph.square(graph.transpose(targets) - activations1))
    return loss, activations1


# A training step runs the forward pass under a tape, asks the tape for
# the gradients, and assigns the new weights.
def step(graph, inputs, targets, weights0, weights1):
    with GradientTape() as tape:
        loss, _ = forward(graph, inputs, targets, weights0, weights1)
    grad0, grad1 = tape.gradient(loss, [weights0, weights1])
    graph.assign(weights0, weights0 - grad0)
    graph.assign(weights1, weights1 - grad1)
    return loss


# The loop and the report are main.py's `fit`, with `numpy()` where it
# had `sess.run`, and it prints the same numbers, digit for digit: the
# same ops compute the same values in the same order.
def train(epochs=10_000):
    graph = EagerGraph()
    tensors = [graph.tensor(v) for v in (main.X, main.y, *main.initial_weights())]
    bar = tqdm(range(epochs))
    for epoch in bar:
        loss = step(graph, *tensors).numpy()
        if epoch == 0:
            first = loss
        if epoch % 100 == 0 or epoch == epochs - 1:
            bar.set_description(f"loss {loss:.6f}", refresh=False)
    bar.close()

    after, output = forward(graph, *tensors)
    print(f"loss in the first epoch: {first:.12f}")
    print(f"loss in the last epoch:  {loss:.12f}")
    print(f"loss after training:     {after.numpy():.12f}")
    print("\n x1  x2  XOR  network")
    rows = zip(main.X, main.y[0], output.numpy()[:, 0])
    for (x1, x2), target, prediction in rows:
        print(f" {x1:.0f}   {x2:.0f}   {target:.0f}    {prediction:.4f}")


# ## Graph or tape?
#
# The same ops and rules, arranged two ways, give each way powers the
# other lacks.
#
# A graph is a program you can look at before running it. The session
# plans each run once and then only computes, and only what the fetches
# need. Eager mode builds every op again at every step, and computes even
# the gradients nobody asked for (`dot`'s rule returns one for `X` too,
# which a plan would leave out), and pays for it: this XOR step takes
# about five times as long eagerly as in graph mode
# (`python benchmarks/xor.py`). A whole graph can be handed to a compiler,
# as TensorFlow's XLA and JAX's `jit` do, to fuse its ops into fewer,
# faster ones. And a graph can be
# differentiated before it ever runs, for values it has not seen yet:
#
#     graph = Graph()
#     x = graph.tensor()    # no value yet
#     (dy,) = graph.gradients(x * x, [x])
#     Session(graph).run(dy, {x: 3.0})  # 6.0
#
# A tape can only differentiate what it saw run, with the values it ran
# with.
#
# In return, eager code is plain Python. Every value is there to print on
# the line that made it, `print(h.numpy())`, as with NumPy. And `if` and
# `while` can decide on values, because values exist while the code runs:
#
#     x = graph.tensor(3.0)
#     with GradientTape() as tape:
#         y = x
#         while y.numpy() < 100:  # 9, 81, 6561
#             y = y * y
#     tape.gradient(y, x)          # 8x⁷ = 17496.0
#
# In graph mode the loop would run while the graph is built, when `y`
# has no value to test; TensorFlow 1 needed special ops, `tf.cond` and
# `tf.while_loop`, to put such decisions inside the graph. TensorFlow 2
# bridges the two ways: `tf.function` runs eager code once to trace it
# into a graph, and runs the graph after that.
if __name__ == "__main__":
    train()


# Next: [control_flow.py](control_flow.html), where such decisions move
# into the graph.
