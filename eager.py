# # eager.py: TensorFlow 2's way, on the same ops
#
# Until now, building and running were two steps. `a + b` added an op to a
# graph and computed nothing; a session computed it later, as often as we
# liked. TensorFlow 2 (and PyTorch) made the other choice the default:
# **eager execution**, where `a + b` computes `a + b` at once, as NumPy
# does. Derivatives then need a different trick: a **gradient tape**
# records the ops as they run, and replays the record backwards.
#
# The two look like different engines. They are the same one, arranged
# differently, and this page shows it in a few dozen lines: the eager graph
# below uses the op classes of ops.py and their `compute` methods, and the
# tape differentiates with graph.py's `gradients` and the ops' own
# `gradient` rules. Nothing is written twice.
#
#     graph = EagerGraph()
#     x = graph.tensor(3.0)
#     with GradientTape() as tape:
#         y = x * x * x
#     print(y.numpy())                     # 27.0, already computed
#     print(tape.gradient(y, x).numpy())   # 27.0, that is 3x²
from types import SimpleNamespace

import numpy as np
from tqdm import tqdm

from graph import Graph
from main import X, initial_weights, y
from ops import AssignOp
from tensor import Tensor


# ## Eager tensors
#
# An eager tensor is a tensor that carries its value in `value`: a
# variable's value, or its op's result, computed when the op was built.
class EagerTensor(Tensor):
    # A variable or a constant takes its value from `initial_value` the
    # first time it is read, as a session loads it: a variable's as an
    # array, a constant's as it is (a Python number stays one). Python calls
    # `__getattr__` only for an attribute the object does not have, so
    # after that first read `value` is found directly.
    def __getattr__(self, name):
        if name != "value" or self.op is not None:
            raise AttributeError(name)
        v = self.initial_value
        self.value = v if self.constant else np.asarray(v)
        return self.value

    # `numpy()` hands the value out, as TensorFlow 2's tensors do: a copy,
    # so that changing it cannot change the tensor, and a NumPy scalar
    # for a scalar, as `sess.run` gives.
    def numpy(self):
        return np.array(self.value)[()]


# TEMPORARY, until AssignOp.compute returns its value instead of writing
# `sess.updates` (issue 9): a stand-in for the session it writes to.
NO_SESSION = SimpleNamespace(updates={})


# The tapes now open, innermost last. Every op built records itself on
# each of them.
TAPES = []


# ## The eager graph
#
# `EagerGraph` is a `Graph` with three methods changed. Everything else,
# the op-building methods, the operators and `gradients`, it inherits.
class EagerGraph(Graph):
    # Its tensors are eager ones. A placeholder has no place here: there is
    # no later run to feed it.
    def tensor(self, initial_value=None, op=None):
        if initial_value is None and op is None:
            raise ValueError("an eager tensor needs a value: eager mode "
                             "has no placeholders")
        return EagerTensor(initial_value, op, self)

    # Here is eager execution. `Graph.op` builds the op as ever, and then,
    # instead of leaving it for a session, we compute its value at once
    # from its inputs' values, with the op's own `compute`. (`Graph.op` may
    # instead hand back an input that the op would leave unchanged; that
    # tensor, older than the count noted on entry, has its value already.)
    #
    # An assignment takes effect at once too: the variable simply takes
    # the new value. Last, the op is recorded on every open tape.
    def op(self, op_class, *inputs):
        count = self.count
        y = super().op(op_class, *inputs)
        if y.op is None or y.number <= count:
            return y
        op = y.op
        values = [x.value for x in op.inputs]
        try:
            y.value = op.compute(NO_SESSION, *values)
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
# `with GradientTape() as tape:` opens a tape; while it is open it
# collects every op built, in a set.
class GradientTape:
    def __enter__(self):
        self.ops = set()
        TAPES.append(self)
        return self

    def __exit__(self, *exception):
        TAPES.remove(self)

    # `tape.gradient(y, xs)` is graph.py's `gradients`, told to walk only
    # the recorded ops. An op built before the tape opened was not
    # recorded, so its output is a constant to the tape. The gradient ops
    # are built on an eager graph, so each computes as it is built, and
    # a tape still open records them: that is how nested tapes give second
    # derivatives.
    def gradient(self, y, xs):
        single = isinstance(xs, Tensor)
        grads = y.graph.gradients(y, [xs] if single else xs, self.ops)
        return grads[0] if single else grads


# ## XOR, eagerly
#
# main.py's network, trained the TensorFlow 2 way. The forward pass is
# main.py's, written as a function: called, it computes.
def forward(graph, inputs, targets, w0, w1):
    activations1 = graph.sigmoid(graph.sigmoid(inputs @ w0) @ w1)
    loss = graph.mean(graph.square(graph.transpose(targets) - activations1))
    return loss, activations1


# Each step runs the forward pass under a tape, asks the tape for the
# gradients and assigns the new weights.
def step(graph, inputs, targets, w0, w1):
    with GradientTape() as tape:
        loss = forward(graph, inputs, targets, w0, w1)[0]
    g0, g1 = tape.gradient(loss, [w0, w1])
    graph.assign(w0, w0 - g0)
    graph.assign(w1, w1 - g1)
    return loss


# The same loop and report as main.py's `fit`, with `numpy()` where it had
# `sess.run`.
def train(epochs=10_000):
    graph = EagerGraph()
    tensors = [graph.tensor(value) for value in (X, y, *initial_weights())]
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
    for (x1, x2), target, prediction in zip(X, y[0], output.numpy()[:, 0]):
        print(f" {x1:.0f}   {x2:.0f}   {target:.0f}    {prediction:.4f}")


if __name__ == "__main__":
    train()
