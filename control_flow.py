# # control_flow.py: branches and loops inside the graph
#
# Python's `if` and `while` run while the graph is *built*, once, when no
# tensor has a value yet. This is what goes wrong:
#
#     x = graph.tensor()    # fed at run time
#     if x > 0:             # a tensor, not
#         y = x * 2         # a truth value
#
# `x > 0` is a tensor, a promise of a boolean that exists only when a
# session runs. Python must decide now, and cannot: the tensor refuses,
# with a TypeError, as TensorFlow's does (tensor.py). The same holds for a
# loop whose length is fed, such as a recurrent network reading sentences of
# different lengths. The decision has to move into the graph, as ops that a
# session evaluates like any other:
#
#     y = graph.cond(x > 0, lambda: x * 2,
#                    lambda: -x)
#     i, y = graph.while_loop(
#         lambda i, y: i < n,
#         lambda i, y: (i + 1, y * x),
#         [0, 1.0])            # y = xⁿ
#
# TensorFlow 1 calls them `tf.cond` and `tf.while_loop`, with these
# signatures. This page builds both, and their gradients, from three ideas:
#
# 1. A branch, or a loop's body, is a **subgraph**, built once by calling the
#    Python function on placeholders, and run by the session's own plans with
#    those placeholders fed. A loop of 10,000 iterations has a body of a few
#    ops, built once; the graph does not grow with the iterations.
# 2. An op has one output, so the ops of `cond` and `while_loop` compute a
#    **record**, and small `unpack` ops pick each result out of it: those
#    are what the two functions return.
# 3. A subgraph's gradient is another subgraph, written by `graph.gradients`
#    with the ops' own rules: the gradient of a cond is a cond of the
#    branches' gradients, and the gradient of a loop runs the body's gradient
#    backwards over the iterations.
import numpy as np

from ops import AssignOp, BaseOp


# ## Comparisons
#
# A branch needs a truth value: `greater(a, b)`, `less`, `greater_equal`
# and `less_equal` compare element by element, with NumPy's broadcasting,
# and give booleans (the operators `>`, `<`, `>=`, `<=` on tensors call
# them). A comparison is a step function of its inputs: moving `a` a little
# does not change `a > b`, so its derivative is zero wherever it exists,
# and nothing flows back through it: the gradient is None for both inputs.
class CompareOp(BaseOp):
    def gradient(self, grad):
        return [None, None]


class GreaterOp(CompareOp):
    def compute(self, sess, a, b):
        return np.greater(a, b)


class LessOp(CompareOp):
    def compute(self, sess, a, b):
        return np.less(a, b)


class GreaterEqualOp(CompareOp):
    def compute(self, sess, a, b):
        return np.greater_equal(a, b)


class LessEqualOp(CompareOp):
    def compute(self, sess, a, b):
        return np.less_equal(a, b)


# ## Subgraphs
#
# A `Subgraph` is what a branch or a body becomes: the Python function is
# called once, on one fresh placeholder per argument (`params`), and
# whatever it builds is recorded on the same graph as everything else.
#
#     h = graph.tensor()    # outside
#     body = lambda x: x * h
#     # x: a placeholder, x * h: inside
#
# The body uses `h` without building it. Such a tensor is **captured**:
# the op that runs the subgraph takes it as an input, so the session
# computes it first, outside, and feeds its value in. To find the captures
# we walk back from the subgraph's outputs. The graph numbers its tensors in
# the order they are made (`graph.count`), so a tensor numbered at or below
# the count when building began was made outside, and is a capture; so is
# a variable or placeholder, wherever it was made, since the outer run
# reads it. Everything else was made inside, and the walk goes on through
# its op's inputs.
#
# A gradient's subgraph also uses tensors of the subgraph it
# differentiates: a sigmoid's gradient reads the sigmoid's output. Those
# were computed when the forward subgraph ran, and are *saved*: fed from
# the forward run's values rather than computed again (see "What a loop's
# gradient keeps" below).
class Subgraph:
    def __init__(self, graph, build, n_params, forward=None):
        self.graph, start = graph, graph.count
        self.params = [graph.tensor() for _ in range(n_params)]
        flat, self.structure = flatten(build(*self.params))
        self.outputs = [graph.convert(t) for t in flat]
        kept = forward.kept if forward else set()
        self.captures, self.saved, self.ops = [], [], set()
        self.kept = set(self.params)
        seen, stack = set(self.params), list(reversed(self.outputs))
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            if t in kept:
                self.saved.append(t)
            elif t.number <= start or (t.op is None and not t.constant):
                self.captures.append(t)
            else:
                self.kept.add(t)
                if t.op is not None:
                    self.ops.add(t.op)
                    stack.extend(reversed(t.op.inputs))
        self.fed = frozenset([*self.params, *self.captures, *self.saved])
        self.writes = [t for t in self.kept if isinstance(t.op, AssignOp)]

    # Running a subgraph is running a session's plan: the fetches are its
    # outputs, the fed tensors its placeholders, captures and saved values.
    # `sess.planned` makes that plan once and caches it, like any other.
    def plan(self, sess):
        return sess.planned(tuple(self.outputs), self.fed)

    # The session walks the subgraph's steps as it walks its own, and the
    # record keeps every value of the walk. An error names the op inside
    # the subgraph; the session names the op that ran it.
    def run(self, sess, plan, feeds):
        constants, _, steps, _ = plan
        values = {**constants, **feeds}
        sess.walk(steps, values)
        return values


# ## Records: one op, several results
#
# A cond may return several tensors, a loop carries several variables,
# but an op has one output tensor. The op's value is therefore a `Record`
# (the results, and whatever its gradient will need), and one `unpack` op
# per result picks it out.
class Record:
    def __init__(self, outputs, **kept):
        self.outputs = outputs
        vars(self).update(kept)


class UnpackOp(BaseOp):
    # (The inputs after the record are the cond's writes, below, listed so
    # that every plan that needs a result runs them too.)
    def compute(self, sess, record, *writes):
        return record.outputs[self.index]

    # The gradient must come back to the record as one tensor: when several
    # results are used, `graph.gradients` adds up the partials reaching the
    # record with `add`. So a record's gradient is one flat array, each
    # result's gradient in a stretch of its own and zeros elsewhere, and
    # adding two such arrays adds each result's gradient. `place` writes
    # this result's stretch; `slot` (below) reads one back out.
    def gradient(self, grad):
        record = self.inputs[0]
        place = self.graph.op(PlaceOp, grad, record, index=self.index)
        return [place] + [None] * (len(self.inputs) - 1)


# Where each result's stretch lies follows from the results' sizes, known
# when the record is computed.
def stretch(record, index):
    sizes = [np.size(x) for x in record.outputs]
    start = sum(sizes[:index])
    return sum(sizes), slice(start, start + sizes[index])


class PlaceOp(BaseOp):
    def compute(self, sess, grad, record):
        total, where = stretch(record, self.index)
        flat = np.zeros(total, np.result_type(grad, np.float16))
        shape = np.shape(record.outputs[self.index])
        flat[where] = np.broadcast_to(grad, shape).ravel()
        return flat


# `slot` gives a result's gradient its shape back, and its dtype: a
# float32 result gets a float32 gradient.
class SlotOp(BaseOp):
    def compute(self, sess, flat, record):
        x = np.asarray(record.outputs[self.index])
        grad = flat[stretch(record, self.index)[1]].reshape(x.shape)
        return grad.astype(x.dtype) if x.dtype.kind == "f" else grad


# ## cond
#
# `cond(pred, true_fn, false_fn)` builds both branches, once each, as
# subgraphs without placeholders (a branch takes no arguments), and one
# `cond` op whose inputs are the predicate and every tensor either branch
# captures. When it runs, it reads the predicate and runs one branch's
# plan. The other branch's ops are never computed: an op there that would
# raise does not, and an assignment there does not happen.
def cond(graph, pred, true_fn, false_fn):
    pred = graph.convert(pred)
    branches = [Subgraph(graph, fn, 0) for fn in (true_fn, false_fn)]
    if branches[0].structure != branches[1].structure:
        raise ValueError("cond: true_fn and false_fn must return the same "
                         f"structure, not {branches[0].structure} and "
                         f"{branches[1].structure}")
    record = cond_op(graph, pred, branches, [])
    writes = [graph.op(WriteOp, v, record) for v in written(branches)]
    results = [graph.op(UnpackOp, record, *writes, index=i)
               for i in range(len(branches[0].outputs))]
    return rebuild(branches[0].structure, iter(results))


# The op's inputs: the predicate, the branches' arguments (only their
# gradients have some), every capture, and for a gradient the forward
# record whose values it reads.
def cond_op(graph, pred, branches, args, forward=None):
    captures = unique(c for b in branches for c in b.captures)
    inputs = [pred, *args, *captures, *([forward] if forward is not None else [])]
    return graph.op(CondOp, *inputs, branches=branches, n_args=len(args),
                    captures=captures, saves=forward is not None)


class CondOp(BaseOp):
    # (Its value is a record, which has no shape. Nor is it *static*, in
    # compiler.py's sense: which branch runs can decide the results' shapes
    # and dtypes, as the number of turns can a loop's.)
    infer_shape = lambda self, *shapes: None
    static = False

    # As in TensorFlow, the predicate must be one boolean.
    def compute(self, sess, pred, *rest):
        if np.shape(pred) != () or np.result_type(pred) != np.bool_:
            raise TypeError("the predicate must be a boolean scalar, not "
                            f"{np.result_type(pred)} of shape {np.shape(pred)}")
        branch = self.branches[0 if pred else 1]
        feeds = dict(rest[-1].values) if self.saves else {}
        feeds.update(zip(branch.params, rest[:self.n_args]))
        feeds.update(zip(self.captures, rest[self.n_args:]))
        plan = branch.plan(sess)
        values = branch.run(sess, plan, feeds)
        writes = {v: values[t] for v, t in plan[3]}
        return Record([values[t] for t in branch.outputs], values=values,
                      writes=writes)

    # ### The gradient of a cond
    #
    # Whichever branch ran, the cond's results are that branch's outputs,
    # so their gradient is that branch's gradient:
    #
    # $$\frac{\partial\, \mathrm{cond}(p, f, g)}{\partial x} =
    # \begin{cases} \partial f / \partial x & \text{if } p \\
    # \partial g / \partial x & \text{otherwise} \end{cases}$$
    #
    # which is itself a cond, on the same predicate, of the two branches'
    # gradients (`vjp`, below). Each backward branch has one placeholder per
    # result, for the incoming gradient, and returns a gradient for every
    # capture: zeros for one its branch does not use. The predicate gets
    # None: nothing flows back through a decision.
    def gradient(self, grad):
        if self.saves:
            raise ValueError(f"cannot differentiate {self.output}: second "
                             "derivatives through cond are not supported")
        graph, record, captures = self.graph, self.output, self.captures
        n = len(self.branches[0].outputs)
        grads = [graph.op(SlotOp, grad, record, index=i) for i in range(n)]
        connected = set()

        def backward(branch):
            def build(*g):
                found = vjp(branch, g)
                connected.update(x for x in captures if found.get(x) is not None)
                return [found.get(x) if found.get(x) is not None
                        else graph.broadcast_to(0.0, x) for x in captures]
            return Subgraph(graph, build, n, forward=branch)

        branches = [backward(b) for b in self.branches]
        result = cond_op(graph, self.inputs[0], branches, grads, forward=record)
        return [None] + [graph.op(UnpackOp, result, index=i)
                         if x in connected else None
                         for i, x in enumerate(captures)]


# ### The vector-Jacobian product of a subgraph
#
# A subgraph computes outputs $y_k$ from its placeholders and captures $x$.
# Given the gradients $g_k$ flowing into its outputs, the chain rule wants
# $\sum_k g_k^\top\, \partial y_k / \partial x$, the vector-Jacobian
# product. That is the gradient of one number,
#
# $$s = \sum_k \langle y_k, g_k \rangle,$$
#
# with the $g_k$ held fixed, and `graph.gradients` computes exactly such
# gradients. The `inner` op is $s$; `ops=` keeps the walk inside the
# subgraph, so that captures count as the leaves they are.
def vjp(subgraph, grads):
    graph = subgraph.graph
    pairs = [x for y, g in zip(subgraph.outputs, grads) for x in (y, g)]
    s = graph.op(InnerOp, *pairs)
    xs = [*subgraph.params, *subgraph.captures]
    found = graph.gradients(s, xs, ops=subgraph.ops | {s.op})
    return dict(zip(xs, found))


# $\partial s / \partial y_k = g_k$. Only floating-point outputs count:
# a loop's integer counter carries no gradient, and adding it in would
# turn a float32 sum into float64.
class InnerOp(BaseOp):
    def compute(self, sess, *pairs):
        terms = [np.sum(y * g) for y, g in zip(pairs[::2], pairs[1::2])
                 if np.result_type(y).kind == "f"]
        return sum(terms[1:], terms[0]) if terms else 0.0

    def infer_shape(self, *shapes):
        return ()

    def gradient(self, grad):
        gs = self.inputs[1::2]
        return [x for g in gs for x in (grad * g, None)]


# ### Assignments inside a branch
#
# A run writes its assignments only when it has succeeded (session.py). An
# `assign` inside a branch follows the same rule: the branch's run
# computes the new value, the record keeps it, and a `write` op, an
# assignment built outside the cond, hands it to the enclosing run's
# writes. When the other branch ran, `write` writes back the value the
# variable had at the start of the run, which changes nothing. (Like any
# op, an assign runs only if the branch's result depends on it: return it,
# or a `group` of them.)
def written(branches):
    return unique(t.op.inputs[0] for b in branches for t in b.writes)


class WriteOp(AssignOp):
    def compute(self, sess, a, record):
        return record.writes.get(self.inputs[0], a)


# ## while_loop
#
# `while_loop(cond, body, loop_vars)` builds `cond` and `body` once each,
# as subgraphs with one placeholder per loop variable, and one `while` op.
# Running it is the loop you would write in Python, with a plan run where
# the Python would call a function:
#
#     values = loop_vars
#     while cond(*values):
#         values = body(*values)
#
# `maximum_iterations`, a number or a tensor, stops the loop after that
# many turns even if `cond` still holds.
#
# A loop runs its body many times in one run, and a run writes each
# variable once, at its end: an assign in a loop is refused. Carry the value
# as a loop variable and assign it after the loop.
def while_loop(graph, cond, body, loop_vars, maximum_iterations=None):
    flat, structure = flatten(loop_vars)
    start = [graph.convert(x) for x in flat]
    call = lambda fn: lambda *xs: fn(*rebuild(structure, iter(xs)))
    if not isinstance(loop_vars, (list, tuple)):
        call = lambda fn: fn
    test = Subgraph(graph, call(cond), len(start))
    step = Subgraph(graph, call(body), len(start))
    if len(test.outputs) != 1:
        raise ValueError("while_loop: cond must return one boolean tensor")
    if len(step.outputs) != len(start):
        raise ValueError(f"while_loop: body returned {len(step.outputs)} "
                         f"tensors for {len(start)} loop variables")
    for t in test.writes + step.writes:
        raise ValueError(f"while_loop: {t} assigns inside the loop; carry "
                         "the value as a loop variable and assign after it")
    captures = unique([*test.captures, *step.captures])
    limit = np.inf if maximum_iterations is None else maximum_iterations
    record = graph.op(WhileOp, limit, *start, *captures, test=test,
                      body=step, captures=captures)
    results = [graph.op(UnpackOp, record, index=i) for i in range(len(start))]
    return rebuild(structure, iter(results))


class WhileOp(BaseOp):
    infer_shape, static = CondOp.infer_shape, False

    # Only a loop that a gradient reads keeps its iterations' values; its
    # gradient sets `keep`.
    keep = False

    def compute(self, sess, limit, *inputs):
        n = len(self.body.params)
        values, captured = inputs[:n], dict(zip(self.captures, inputs[n:]))
        test, body = self.test.plan(sess), self.body.plan(sess)
        history = []
        while len(history) < limit:
            feeds = {**captured, **dict(zip(self.test.params, values))}
            go = self.test.run(sess, test, feeds)[self.test.outputs[0]]
            if np.shape(go) != () or np.result_type(go) != np.bool_:
                raise TypeError("cond must give a boolean scalar, not "
                                f"{np.result_type(go)} of shape {np.shape(go)}")
            if not go:
                break
            feeds = {**captured, **dict(zip(self.body.params, values))}
            kept = self.body.run(sess, body, feeds)
            values = [kept[t] for t in self.body.outputs]
            history.append(kept if self.keep else None)
        return Record(values, history=history, captured=captured)

    # ### The gradient of a loop
    #
    # After $n$ turns the loop has computed $v_n = f(f(\dots f(v_0)))$, the
    # body $f$ applied $n$ times, each turn also reading the captures $c$.
    # The chain rule, applied to this chain from the end, gives the
    # gradients with respect to the loop variables of each turn, last first,
    #
    # $$\bar v_{t} = \bar v_{t+1}\, \frac{\partial f}{\partial v}(v_t),$$
    #
    # starting from $\bar v_n$, the gradient of the results. And since every
    # turn used $c$, the captures' gradient adds up every turn's share:
    #
    # $$\bar c = \sum_{t=0}^{n-1} \bar v_{t+1}\,
    # \frac{\partial f}{\partial c}(v_t).$$
    #
    # Both are the body's vector-Jacobian product, at the values of turn
    # $t$. So the gradient of a loop is a loop too, running one subgraph,
    # the body's `vjp`, backwards over the turns: `while_grad` below.
    def gradient(self, grad):
        graph, record, captures = self.graph, self.output, self.captures
        n = len(self.body.params)
        grads = [graph.op(SlotOp, grad, record, index=i) for i in range(n)]
        connected = []

        def build(*g):
            found = vjp(self.body, g)
            connected.extend(c for c in captures if found.get(c) is not None)
            carried = [found[v] if found[v] is not None
                       else graph.broadcast_to(0.0, v) for v in self.body.params]
            return carried + [found[c] for c in connected]

        self.keep = True
        back = Subgraph(graph, build, n, forward=self.body)
        result = graph.op(WhileGradOp, record, *grads, *back.captures,
                          body=back, connected=connected)
        unpack = lambda i: graph.op(UnpackOp, result, index=i)
        return ([None] + [unpack(i) for i in range(n)]
                + [unpack(n + connected.index(c)) if c in connected else None
                   for c in captures])


# ### What a loop's gradient keeps
#
# The backward turn $t$ needs the values of forward turn $t$: $v_t$, and
# every value inside the body that a gradient rule reads (a sigmoid's
# output, a product's factors). The forward loop therefore keeps, once a
# gradient exists, every value its body computed, every turn: memory that
# grows with the number of iterations, the same amount per turn.
# (TensorFlow's loops also keep memory per turn, but only the values their
# gradient reads.) The alternative keeps nothing and recomputes: turn $t$'s
# values from $v_0$, turn by turn, which makes the backward pass quadratic
# in $n$ (keeping a value every $\sqrt n$ turns and recomputing from there
# costs one more forward pass instead).
#
# Each backward turn feeds its subgraph three things: the saved values of
# its forward turn, the captures, and the gradient carried from the turn
# after. It returns the gradient to carry on and this turn's share of the
# captures' gradients, which add up.
#
# A trace: `y ← y · x` three times from $y_0 = 1$, at $x = 2$, so
# $y_3 = x^3 = 8$. The body's vector-Jacobian product sends $\bar y\,x$
# to $y$ and $\bar y\,y_t$ to the captured $x$:
#
#     turn  saved y_t  carried ȳ  x̄ so far
#     start            ȳ3 = 1     0
#     2     y2 = 4     ȳ2 = 2     0 + 1·4 = 4
#     1     y1 = 2     ȳ1 = 4     4 + 2·2 = 8
#     0     y0 = 1     ȳ0 = 8     8 + 4·1 = 12
#
# $\bar x = 12 = 3x^2$, and $\bar y_0 = 8 = x^3$, as differentiating
# $y_0 x^3$ by hand gives.
class WhileGradOp(BaseOp):
    infer_shape, static = CondOp.infer_shape, False

    def compute(self, sess, record, *inputs):
        n, body = len(self.body.params), self.body
        carried = list(inputs[:n])
        captured = dict(zip(self.body.captures, inputs[n:]))
        totals = [np.zeros_like(record.captured[c]) for c in self.connected]
        plan = body.plan(sess)
        for saved in reversed(record.history):
            feeds = {**saved, **captured, **dict(zip(body.params, carried))}
            values = body.run(sess, plan, feeds)
            out = [values[t] for t in body.outputs]
            carried = out[:n]
            totals = [total + x for total, x in zip(totals, out[n:])]
        return Record(carried + totals)


# ## Structures
#
# Branches and loops take and return a tensor, or lists and tuples of
# them, nested. `flatten` lists the tensors and describes the nesting;
# `rebuild` puts tensors back into it.
def flatten(structure):
    if isinstance(structure, (list, tuple)):
        parts = [flatten(x) for x in structure]
        flat = [t for tensors, _ in parts for t in tensors]
        return flat, (type(structure), tuple(s for _, s in parts))
    return [structure], None


def rebuild(structure, tensors):
    if structure is None:
        return next(tensors)
    kind, parts = structure
    return kind(rebuild(part, tensors) for part in parts)


# (Each tensor once, in the order met.)
def unique(tensors):
    return list(dict.fromkeys(tensors))



# ## Example: a recurrent network over sequences of fed length
#
# A recurrent network reads a sequence $x_0, x_1, \dots, x_{T-1}$ one
# element at a time, carrying a state $h$ from each step to the next,
#
# $$h_{t+1} = \tanh(x_t U + h_t W + b),$$
#
# and reads its answer from the last state, $\hat y = h_T V + c$. Here it
# learns the mean of a sequence of numbers, over sequences of 2 to 12
# elements: the length is a placeholder, fed with each batch, so one graph
# serves them all. That is what `while_loop` is for.
#
# Reading element $t$ of the sequence needs one more op, `take`:
# `take(x, i)` is `x[i]`. Its gradient puts the incoming gradient back at
# row $i$ of zeros shaped like `x`. (Every turn of the backward loop then
# adds a whole sequence of zeros and one row: TensorFlow's `TensorArray`
# avoids that, and needs more machinery than this page has room for.)
class TakeOp(BaseOp):
    def compute(self, sess, x, i):
        return x[i]

    def infer_shape(self, x, i):
        return x[1:]

    def gradient(self, grad):
        x, i = self.inputs
        return [self.graph.op(UntakeOp, grad, x, i), None]


class UntakeOp(BaseOp):
    def compute(self, sess, grad, x, i):
        y = np.zeros(np.shape(x), np.result_type(grad))
        y[i] = grad
        return y

    def infer_shape(self, grad, x, i):
        return x

    def gradient(self, grad):
        return [take(grad, self.inputs[2]), None, None]


# (An index is converted on its own: beside `x` it would become a float.)
take = lambda x, i: x.graph.op(TakeOp, x, x.graph.convert(i))


# $\tanh z = 2\sigma(2z) - 1$, from the sigmoid we have.
def tanh(z):
    return 2.0 * z.graph.sigmoid(2.0 * z) - 1.0


# The network's weights, small and random, the same for every version.
HIDDEN = 8


def initial_weights(seed=1):
    rng = np.random.default_rng(seed)
    return {"U": rng.normal(0, 0.5, (1, HIDDEN)),
            "W": rng.normal(0, 0.5, (HIDDEN, HIDDEN)),
            "b": np.zeros(HIDDEN), "V": rng.normal(0, 0.5, (HIDDEN, 1)),
            "c": np.zeros(1)}


# One step of the cell, and the readout, for any graph: an ordinary graph,
# a loop's body, or an eager graph under a tape.
def cell(w, x_t, h):
    return tanh(x_t @ w["U"] + h @ w["W"] + w["b"])


def readout(w, h, targets):
    error = h @ w["V"] + w["c"] - targets
    return h.graph.mean(error * error)


# The whole model in the graph: `x` holds a batch of sequences, shaped
# (T, batch, 1), and `length` is T; both are fed. The loop carries the step
# number and the state; the weights are captured.
def recurrent_loss(graph, w, x, length, targets, batch):
    h0 = graph.tensor(np.zeros((batch, HIDDEN)))
    _, h = graph.while_loop(lambda i, h: i < length,
                            lambda i, h: (i + 1, cell(w, take(x, i), h)),
                            [0, h0])
    return readout(w, h, targets)


# The same network unrolled in Python: T cells long, for one length T.
# It is the reference the loop must agree with.
def unrolled_loss(graph, w, x, length, targets, batch):
    h = graph.tensor(np.zeros((batch, HIDDEN)))
    for t in range(length):
        h = cell(w, take(x, t), h)
    return readout(w, h, targets)


# Batches of sequences of random length, and their means.
def batches(count, batch=16, seed=2):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        x = rng.uniform(-1, 1, (rng.integers(2, 13), batch, 1))
        yield x, x.mean(axis=0)


# Training: plain gradient descent, one step per batch. With
# `unrolled=True` the same steps run on the unrolled network, built once
# for each length, in one graph, sharing the weights.
def train(steps=600, rate=0.3, batch=16, unrolled=False, session=None,
          report=100):
    from graph import Graph
    from session import Session

    graph = Graph()
    w = {k: graph.tensor(v) for k, v in initial_weights().items()}
    x, length, targets = graph.tensor(), graph.tensor(), graph.tensor()
    sess = (session or Session)(graph)

    def training_step(n):
        build = unrolled_loss if unrolled else recurrent_loss
        loss = build(graph, w, x, n, targets, batch)
        grads = graph.gradients(loss, list(w.values()))
        return graph.group([graph.assign(v, v - rate * g)
                            for v, g in zip(w.values(), grads)]), loss

    built, losses = {}, []
    for step, (xs, ys) in enumerate(batches(steps, batch)):
        n = len(xs) if unrolled else length
        if n not in built:
            built[n] = training_step(n)
        feed = {x: xs, length: len(xs), targets: ys}
        losses.append(sess.run(built[n], feed)[1])
        if report and step % report == 0:
            print(f"step {step:3}   length {len(xs):2}   loss {losses[-1]:.6f}")
    return losses


# Running `python control_flow.py` trains the loop and the unrolled network
# from the same weights on the same batches:
#
#     step   0   length 11   loss 0.531287
#     step 100   length 12   loss 0.039598
#     step 200   length  3   loss 0.007746
#     step 300   length  9   loss 0.006237
#     step 400   length 10   loss 0.006193
#     step 500   length 10   loss 0.006625
#     unrolled: a network per length, loop: one
#     largest difference in 600 losses: 0
#
# ## Graph or tape?
#
# eager.py's tape needs no `while_loop`: a Python `for` runs the cell T
# times, and the tape records every op of every step. The two keep the
# same values for the backward pass, everything each step computed, and
# pay differently for the rest. On one sequence of 1,000 steps (batch
# 16, `python benchmarks/control_flow.py`, µs per step, bytes kept per
# step):
#
#                    forward  backward  kept
#     loop, Session       21        64    9344
#     loop, compiled      19        68    9344
#     tape                49       180    8321
#
# (On a machine shared with other work; a second run gave 18/66, 20/65
# and 43/141.) The memory is the same in kind: eight or nine
# arrays of 16 × 8 numbers per step, the body's intermediate values,
# which the backward pass reads.
#
# The loop builds its body once and then only computes; the tape builds
# every op of every step again, forwards, and again backwards, and walks
# a tape of 1,000 × 9 ops to differentiate it. (The compiled session
# inlines the ops around the loop; the loop's body runs through its own
# plan either way, so both sessions spend the same per step.)
#
# What the tape buys with that time is Python: the length can be anything
# the code computes as it goes, `if` can look at a value, and every value
# can be printed where it is made. The loop's graph can be differentiated
# before it has run, saved, and handed to a compiler, and serves every
# length fed to it with one graph.
if __name__ == "__main__":
    looped = train()
    unrolled = train(unrolled=True, report=0)
    print("unrolled: a network per length, loop: one")
    difference = np.max(np.abs(np.subtract(looped, unrolled)))
    print(f"largest difference in {len(looped)} losses: {difference:.3g}")


# Next: [nn_ops.py](nn_ops.html), the ops a classifier needs, and then
# the engine on a real problem: reading handwritten digits.
