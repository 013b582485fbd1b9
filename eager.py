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
# ways. The eager graph below builds ops.py's op classes and runs their
# `compute` methods; the tape differentiates with the ops' own `gradient`
# rules, the ones graph.py's `gradients` calls. No op and no derivative is
# written twice:
#
#     graph = EagerGraph()
#     x = graph.tensor(3.0)
#     with GradientTape() as tape:
#         y = x * x * x
#     y.numpy()         # 27.0, as the line ran
#     dy = tape.gradient(y, x)
#     dy.numpy()        # 27.0: 3x² at x = 3
#
# Eager mode builds every op again at every step, where a session planned
# them once, so here the cost of building an op matters as much as its
# arithmetic. Built the graph way, an op takes about 8 µs of Python for
# a third of a microsecond of NumPy. The sections below say what eager
# mode leaves out, and why leaving it out changes no value and no error.
import itertools
import threading
from functools import lru_cache, reduce

import numpy as np
from tqdm import tqdm

import main
from graph import Graph
from ops import AssignOp, BaseOp, spelled
from session import flatten, rebuild
from tensor import Tensor, frozen


# ## Eager tensors
#
# An eager tensor carries its value, in `value`, from the moment it is
# made: a variable's or a constant's initial value, as an array, and an
# op's output what the op computed. `assign` replaces a variable's.
#
# *Left out: static shapes and dtypes.* Graph mode works out each op's
# output shape before the op runs (ops.py's `infer_shape`), and its
# dtype by a trial run of `compute` on inputs of one element each. Here
# the value exists as soon as the op does, so the output's shape and
# dtype are simply its value's: NumPy gives a value the same dtype
# whatever its size, so they are the dtypes graph mode infers, where its
# trial run infers one (`take`'s fails on one element). (A value
# without them, such as `group`'s None, has the shape `()` and no
# dtype.)
class EagerTensor(Tensor):
    # An op's output is made without `Tensor.__init__` (see `op` below);
    # like every op's output, it has no initial value.
    initial_value = None

    # `numpy()` hands out the value, as TensorFlow 2's tensors do: a copy,
    # which the caller may change freely, and a NumPy scalar for a scalar,
    # as `sess.run` gives.
    def numpy(self):
        return np.array(self.value)[()]

    # Here a value exists, so `if x > 0:` can ask it, as in TensorFlow 2:
    # a single number answers (an array of several refuses, as NumPy does).
    def __bool__(self):
        return bool(self.value)


# The tapes now open, innermost last, one list for each thread, as in
# TensorFlow: an op is recorded on the tapes that its own thread opened.
# (`threading.local` gives each thread its own `tapes`, made by
# `__init__` the first time that thread looks.)
class Recording(threading.local):
    def __init__(self):
        self.tapes = []


RECORDING = Recording()


# ## The eager graph
#
# `EagerGraph` is a `Graph` that computes each op as it builds it. The
# op-building methods and the operators it inherits; it changes how
# tensors and ops are made.
class EagerGraph(Graph):
    # Its tensors are numbered by `itertools.count`, whose `next` no other
    # thread can interrupt, so that two threads building ops at once never
    # give two tensors one name. `constants` keeps one constant tensor per
    # Python number and dtype, the last 256 used: `1 - y` at every step
    # reuses one tensor for the 1, instead of making a new one each time.
    def __init__(self):
        super().__init__()
        self.numbers = itertools.count(1)
        self.constants = lru_cache(maxsize=256, typed=True)(self.constant)

    # It makes eager tensors. A placeholder has no place here: there is no
    # later run to feed it.
    def tensor(self, initial_value=None, op=None):
        if initial_value is None and op is None:
            raise ValueError("eager mode has no placeholders: give the "
                             "tensor a value")
        t = EagerTensor(initial_value, op, self)
        t.number = next(self.numbers)
        if op is None:
            t.value = np.asarray(t.initial_value)
        return t

    # A number becomes a constant by graph mode's rule (graph.py's
    # `convert`): it takes the dtype of the op's other inputs, so `x * 2`
    # stays float32 for a float32 `x`.
    #
    # *Left out: a new constant for every number.* Graph mode makes one
    # each time a number is written. Here each is made once for each number
    # and the dtypes it meets, which decide its own, and looked up after
    # (`typed=True` keeps `1`, `1.0` and `True` apart). Sharing it changes
    # nothing: its value is read-only (tensor.py's `frozen`) and `assign`
    # refuses a constant, so no op can tell a shared constant from a new
    # one. Zero is not shared: `0.0 == -0.0`, so the cache would hand out
    # one for the other, and `1 / x` tells them apart. The rest is left to
    # graph mode's `convert`:
    # a number that cannot take the dtype (0.5 beside an int32 tensor),
    # refused there with its message, and one beside a tensor of unknown
    # dtype (here only `group`'s), which stays a number, and is its own
    # value.
    def convert(self, value, *others):
        if type(value) in (bool, int, float):
            dtypes = [x.dtype for x in others if isinstance(x, Tensor)]
            if all(dtype is not None for dtype in dtypes):
                make = self.constants if value else self.constant
                try:
                    return make(value, *dtypes)
                except TypeError:
                    pass
        constant = super().convert(value, *others)
        if constant.constant:
            constant.value = constant.initial_value
        return constant

    def constant(self, number, *dtypes):
        dtype = np.result_type(*dtypes) if dtypes else None
        constant = super().convert(frozen(number, dtype))
        constant.value = constant.initial_value
        return constant

    # Graph mode's `gradients` walks every op behind `y`; here only a tape
    # knows which ops count, and TensorFlow 2 refuses `tf.gradients` in
    # eager mode for the same reason.
    def gradients(self, y, xs):
        raise RuntimeError("an eager graph differentiates with a GradientTape")

    # ### Building an op, eagerly
    #
    # This is eager execution: build the op, then compute its value at
    # once from its inputs' values, with the op's own `compute` (there is
    # no session to pass it). An assignment takes effect at once, and the
    # op is recorded, with its output, on every tape open in this thread.
    #
    # *Left out: converting twice.* `Graph.op` converts every input, and
    # `BaseOp.__init__` converts it again. Here inputs are converted once,
    # and a tensor of this graph, the usual input, not at all: `convert`
    # would hand it back as it is.
    #
    # *Left out: `BaseOp.__init__`.* The op is made directly, with the
    # attributes `__init__` would give it: its graph, its inputs and any
    # keyword attributes, an `axis` spelled as `__init__` spells it. What
    # `__init__` does besides, converting inputs and inferring shapes and
    # dtypes, is not needed: they are the value's (see above), and an op
    # whose shapes cannot fit is refused by `compute` just as surely.
    # Graph mode relies on that already: a placeholder's shape is known
    # only when a session runs, so every `compute` checks whatever its
    # `infer_shape` checks. When `compute` fails, the op is built once
    # more the graph way, so that the error is graph mode's own "cannot
    # build" message, naming the shapes. An op class with an `__init__` of
    # its own has checks of its own: `assign` makes sure its target is a
    # variable, which here, with no placeholders, is a tensor that is
    # neither an op's output nor a constant. An assign to one is made
    # directly too; any other, and an op of any other such class, is
    # built the graph way, checks and all, and then gives up its `output`
    # like every eager op (see below).
    #
    # *Left out: asking `unchanged`.* Only classes that define it can
    # hand an input back; the others are not asked.
    #
    # *Left out: the op's link to its output.* Ops and tensors point at
    # each other, `op.output` and `tensor.op`. Two objects that point at
    # each other are a reference cycle, which Python cannot free when the
    # last outside reference goes, only later, in its garbage collector,
    # and a collection walks every object still alive. An eager step makes
    # 30 ops; their cycles cost it more than a tenth of its time. So an
    # eager op keeps no `output`: the tape records the pair, and lends the
    # op its output while the op's `gradient` runs (sigmoid's rule reads
    # it). Nothing else reads `op.output`.
    def op(self, op_class, *inputs, **attributes):
        inputs = [x if type(x) is EagerTensor and x.graph is self
                  else self.convert(x, *inputs) for x in inputs]
        if op_class.unchanged is not BaseOp.unchanged:
            unchanged = op_class.unchanged(*inputs)
            if unchanged is not None:
                return unchanged
        if op_class.__init__ is BaseOp.__init__ or op_class is AssignOp and (
                inputs[0].op is None and not inputs[0].constant):
            op = op_class.__new__(op_class)
            op.graph, op.inputs = self, inputs
            if attributes:
                vars(op).update(attributes)
                if op.axis is not None:
                    op.axis = spelled(op, op.axis)
            y = EagerTensor.__new__(EagerTensor)
            y.op, y.graph, y.number = op, self, next(self.numbers)
        else:
            op = op_class(inputs, self, **attributes)
            y = op.output
            del op.output
        try:
            y.value = value = op.compute(None, *[x.value for x in inputs])
            y.shape = getattr(value, "shape", ())
            y.dtype = getattr(value, "dtype", None)
        except Exception as error:
            super().op(op_class, *inputs, **attributes)
            where = op.describe([np.shape(x.value) for x in inputs])
            raise RuntimeError(f"{y} failed in {where}: {error}") from error
        if op_class is AssignOp:
            inputs[0].value = y.value
        for tape in RECORDING.tapes:
            tape.record.append((op, y))
        return y


# ## The tape
#
# `with GradientTape() as tape:` opens a tape, which records every op
# built while it is open, in order.
class GradientTape:
    # The record starts empty when the tape is made, not when it is
    # entered: a tape entered again goes on where it left off, as
    # TensorFlow's does, so two `with tape:` blocks record one computation.
    def __init__(self):
        self.record = []

    # Entering puts the tape on its thread's list, which every op built
    # reads; a tape already on it is refused, as it would record every op
    # twice.
    def __enter__(self):
        tapes = RECORDING.tapes
        if self in tapes:
            raise ValueError("this tape is already recording")
        tapes.append(self)
        return self

    # Leaving takes it off; the record stays, for `gradient`.
    def __exit__(self, *exception):
        RECORDING.tapes.remove(self)

    # ### Going back over the record
    #
    # `tape.gradient(y, sources)` gives the gradient of `sum(y)` with
    # respect to each source, in the structure of `sources`, as
    # TensorFlow's does: a tensor for a tensor, and for a list, tuple or
    # dict of them, nested as deep as you like, the same structure
    # (session.py's `flatten` and `rebuild`, which serve a session's
    # fetches). An op built before the tape opened is not on it, so its
    # output is a constant to the tape. The gradient ops are built on an
    # eager graph, so each computes at once, and a tape still open records
    # them: differentiating them again gives second derivatives.
    #
    #     with GradientTape() as outer:
    #         with GradientTape() as inner:
    #             y = x * x * x
    #         dy = inner.gradient(y, x)  # 3x²
    #     outer.gradient(dy, x)          # 6x
    #
    # Unlike TensorFlow's, these tapes need no `tape.watch(x)` for a tensor
    # x, and may be asked for gradients more than once.
    #
    # *Left out: graph.py's counting.* `gradients` walks a graph it knows
    # nothing about, so it counts each tensor's uses and lets a tensor go
    # only when all of them have reported (Kahn's algorithm). A tape needs
    # none of that: it recorded the ops in the order they ran, and every op
    # ran after the ops that made its inputs. Read backwards, the record
    # reaches an op only after every op that used its output, so that
    # output's partial gradients are all in, and their sum is final. This
    # is how PyTorch's and TensorFlow 2's tapes work too.
    #
    # *Left out: the ops no source feeds.* First, a pass forwards marks the
    # *live* tensors, those that depend on a source, and keeps the ops with
    # a live input: only they need differentiating, since an op with no
    # live input sends its gradients only to inputs that depend on no
    # source, and from there none flows back to a source. As in
    # `gradients`, only floats are live (`differentiable`, below), so a
    # gradient with respect to an integer or a boolean is None. Then the
    # pass backwards, from the seed, ones shaped like `y`: each op with
    # partials waiting for its output sums them, and its rule passes the
    # sum on to its live inputs; an op with none waiting, one that `y` does
    # not use, is passed over. An op's rule still builds a gradient for
    # every input, live or not (`dot`'s builds one for `X`), for the rules
    # are ops.py's, which build them all; those for the inputs that are not
    # live are dropped.
    def gradient(self, y, sources):
        if not isinstance(y, EagerTensor):
            raise TypeError(f"a tape differentiates an eager tensor, not {y!r}")
        xs = list(flatten(sources))
        live = {x for x in xs if differentiable(x)}
        steps = []
        for op, output in self.record:
            if not live.isdisjoint(op.inputs) and differentiable(output):
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


# The lock makes lending safe when two threads differentiate the same op
# at once, with one tape shared between them: neither takes the output
# back while the other's rule is reading it.
LENDING = threading.Lock()


# Integers and booleans move in jumps and have no derivative: as in
# graph.py's `gradients`, they are never live, and their gradient is
# None.
differentiable = lambda t: t.dtype is None or t.dtype.kind in "fc"


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
# need. Eager mode builds every op again at every step, 30 of them for
# this XOR step, and computes even the gradients nobody asked for (`dot`'s
# rule returns one for `X` too, which a plan would leave out). It pays for
# it. In `python benchmarks/xor.py`, with everything left out that this
# page leaves out, the eager step takes about 2.7 times as long as the
# walked `Session`'s step, 10 times as long as the `CompiledSession`'s
# and 6 times as long as the same step written by hand in NumPy (100, 37,
# 9.6 and 17 µs in one run on the project's machine). PyTorch's eager
# step, timed in the same runs, is no faster: ours took 0.88 and 0.89 of
# its time in two runs. Built the graph way, with a trial run for every
# op's dtype, this page's step takes about 20 times as long as NumPy's. A
# whole graph can be handed to a compiler, as TensorFlow's XLA and JAX's
# `jit` do, to fuse its ops into fewer, faster ones. And a graph can be
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
