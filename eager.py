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
import itertools
import threading
from functools import lru_cache, reduce

import numpy as np
from tqdm import tqdm

import main
from graph import Graph
from ops import AssignOp, BaseOp
from session import flatten, rebuild
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
        if name == "shape":
            self.shape = getattr(self.value, "shape", ())
            return self.shape
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


class Recording(threading.local):
    def __init__(self):
        self.tapes = []


RECORDING = Recording()


class EagerGraph(Graph):
    def __init__(self):
        super().__init__()
        self.numbers = itertools.count(1)
        self.constants = lru_cache(maxsize=256, typed=True)(super().convert)

    def tensor(self, initial_value=None, op=None):
        if initial_value is None and op is None:
            raise ValueError("eager mode has no placeholders: give the "
                             "tensor a value")
        t = EagerTensor(initial_value, op, self)
        t.number = next(self.numbers)
        return t

    def convert(self, value):
        if type(value) in (bool, int, float) and value:
            return self.constants(value)
        return super().convert(value)

    def gradients(self, y, xs):
        raise RuntimeError("an eager graph differentiates with a GradientTape")

    def op(self, op_class, *inputs, **attributes):
        inputs = [x if type(x) is EagerTensor and x.graph is self else self.convert(x)
                  for x in inputs]
        if op_class.unchanged is not BaseOp.unchanged:
            unchanged = op_class.unchanged(*inputs)
            if unchanged is not None:
                return unchanged
        if op_class.__init__ is BaseOp.__init__:
            op = op_class.__new__(op_class)
            op.graph, op.inputs = self, inputs
            if attributes:
                vars(op).update(attributes)
            y = EagerTensor.__new__(EagerTensor)
            y.op, y.graph, y.number = op, self, next(self.numbers)
        else:
            op = op_class(inputs, self, **attributes)
            y = op.output
            del op.output
        try:
            y.value = op.compute(None, *[x.value for x in inputs])
        except Exception as error:
            super().op(op_class, *inputs, **attributes)
            where = op.describe([np.shape(x.value) for x in inputs])
            raise RuntimeError(f"{y} failed in {where}: {error}") from error
        if op_class is AssignOp:
            inputs[0].value = y.value
        for tape in RECORDING.tapes:
            tape.record.append((op, y))
        return y


class GradientTape:
    def __init__(self):
        self.record = []

    def __enter__(self):
        tapes = RECORDING.tapes
        if self in tapes:
            raise ValueError("this tape is already recording")
        tapes.append(self)
        return self

    def __exit__(self, *exception):
        RECORDING.tapes.remove(self)

    def gradient(self, y, sources):
        if not isinstance(y, EagerTensor):
            raise TypeError(f"a tape differentiates an eager tensor, not {y!r}")
        xs = list(flatten(sources))
        live, steps = set(xs), []
        for op, output in self.record:
            if not live.isdisjoint(op.inputs):
                live.add(output)
                steps.append((op, output))
        graph = y.graph
        partials = {y: [graph.broadcast_to(1.0, y)]} if y in live else {}
        grads = {}
        for op, output in reversed(steps):
            parts = partials.pop(output, None)
            if parts is None:
                continue
            grads[output] = grad = reduce(graph.add, parts)
            with LENDING:
                op.output = output
                input_grads = op.gradient(grad)
                del op.output
            for x, x_grad in zip(op.inputs, input_grads):
                if x_grad is not None and x in live:
                    partials.setdefault(x, []).append(x_grad)
        for x, parts in partials.items():
            grads[x] = reduce(graph.add, parts)
        return rebuild(sources, iter([grads.get(x) for x in xs]))


LENDING = threading.Lock()


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


# Next: [nn_ops.py](nn_ops.html), the ops a classifier needs, and then
# the engine on a real problem: reading handwritten digits.
