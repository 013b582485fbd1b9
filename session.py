# # session.py: running the graph
#
# A `Session` evaluates the tensors of one graph. `sess.run(fetches)`
# answers the question "what are these tensors worth now?", and the answer
# for each tensor comes from the first of these that applies:
#
# 1. the **feed**: `feed_dict` gives it a value for this run only, which
#    overrides everything else, even an op;
# 2. its **op**, computed from the values of the op's inputs;
# 3. the **state**, for a variable that has been read or assigned before;
# 4. its **initial value**, copied into the state the first time it is read.
#
# A tensor with none of these is a placeholder that nobody fed, and the run
# stops with an error naming it. A placeholder is how data gets in:
#
#     p = graph.tensor()       # a placeholder
#     sess.run(p * 2, feed_dict={p: [1, 2]})
#                              # array([2, 4])
#
# A constant, such as the 2 here, needs no state at all: its value is
# fixed when the graph is built, so it is read straight from the tensor.
import threading
from functools import lru_cache

import numpy as np

from ops import AssignOp
from tensor import Tensor, frozen


# ## The simple version
#
# The evaluator this project grew from fits in a few lines. To find a
# tensor's value: take the feed if there is one; else, if it has an op,
# find its inputs' values (by calling itself) and compute the op; else
# read the variable. Every answer goes into `cache`, so a tensor that
# several ops use is computed once per run. (It leaves out what the
# `Session` below adds: writing assignments back, and clear errors.)
def evaluate(t, feed_dict, state, cache=None):
    cache = {} if cache is None else cache
    if t not in cache:
        if t in feed_dict:
            cache[t] = np.asarray(feed_dict[t])
        elif t.op is not None:
            inputs = [evaluate(x, feed_dict, state, cache) for x in t.op.inputs]
            cache[t] = t.op.compute(None, *inputs)
        else:
            cache[t] = state.get(t, t.initial_value)
    return cache[t]


# It is correct, and `tests/test_session.py` checks it against the
# `Session`. Two things retired it. Its depth: each op in a chain is one
# more nested call, and Python allows 1,000, so a chain of a few hundred
# ops raises `RecursionError`, and backward passes are long chains. And its
# waste: every run repeats the same walk over the graph, the same lookups
# and the same decisions, though for a training loop they never change.
# The `Session` does the same work in the same order, but walks the graph
# once, with a stack of its own instead of nested calls, and keeps the
# result as a *plan* that later runs just follow.


# A session holds the graph's *state*: `sess.state` maps each variable to
# its current value, so two sessions on one graph train two independent
# copies of the model.
class Session:
    # It also keeps the plans described below (the 64 most recently used),
    # and a lock that makes each run's writes atomic.
    def __init__(self, graph):
        self.graph = graph
        self.state = {}
        self.lock = threading.Lock()
        self.planned = lru_cache(maxsize=64)(self.plan)

    # ## Planning a run
    #
    # Training runs the same fetches thousands of times. Everything that
    # does not change from one run to the next is therefore worked out once,
    # on the first run, and kept: a *plan* for each combination of fetched
    # and fed tensors. A plan lists the variables to read and the ops to
    # compute, each op after its inputs. It holds only the ops the fetches
    # need: an op whose output is fed, or that no fetch depends on, is left
    # out, so fetching `loss` alone does not compute the gradients.
    #
    # The order comes from a depth-first walk back from the fetches, with a
    # stack of its own rather than nested calls, for the reason above. A
    # tensor is pushed twice: first to visit its inputs, and again, beneath
    # them, to join the order once they have.
    def plan(self, fetches, fed):
        for t in [*fetches, *fed]:
            if not isinstance(t, Tensor) or t.graph is not self.graph:
                raise ValueError(f"{t!r} is not a tensor of this session's graph")
        order, seen = [], set(fed)
        stack = [(t, False) for t in reversed(fetches)]
        while stack:
            t, inputs_done = stack.pop()
            if inputs_done:
                order.append(t)
            elif t not in seen:
                seen.add(t)
                stack.append((t, True))
                if t.op is not None:
                    stack.extend((x, False) for x in reversed(t.op.inputs))
        for t in order:
            if t.op is None and t.initial_value is None:
                raise ValueError(f"{t} has no value: feed it, "
                                 f"as in feed_dict={{{t}: value}}")
        # Constants never change, so their values go straight into the plan.
        # Each step is stored ready to call: the op's `compute`, its input
        # tensors, and the output tensor its value belongs to. The assign
        # steps are listed apart, as (variable, output) pairs, because their
        # outputs are the values the run will write.
        constants = {t: t.initial_value for t in order if t.constant}
        variables = [t for t in order if t.op is None and not t.constant]
        steps = [(t.op.compute, t.op.inputs, t) for t in order if t.op is not None]
        assigns = [(t.op.inputs[0], t) for t in order if isinstance(t.op, AssignOp)]
        return constants, variables, steps, assigns

    # ## Running
    #
    # `run` takes a tensor and returns its value, or takes a list, tuple or
    # dict of tensors, nested as deep as you like, and returns the same
    # structure with each tensor replaced by its value, as TensorFlow does.
    #
    # `values` holds every value of this run. The plan computes each
    # tensor once and later steps read it from here, so a tensor used by
    # many ops (like main.py's activations, used forwards and backwards) is
    # still computed only once per run.
    #
    # A run changes `self.state` only at its very end, and only if it
    # succeeded: the values its assign ops computed, and the initial values
    # of variables it read for the first time, are collected on the way
    # and written in one step under the lock. A run that raises leaves the
    # state exactly as it was, so a mistake found halfway through a training
    # step never leaves half the weights updated; and two threads running
    # the same session never see each other's half-finished writes.
    def run(self, fetches, feed_dict=None):
        tensors = tuple(flatten(fetches))
        feeds = feed_dict or {}
        plan = self.planned(tensors, frozenset(feeds))
        constants, variables, steps, assigns = plan

        values = {**constants}
        values.update((t, self.feed_value(t, v)) for t, v in feeds.items())
        first_reads = {}
        with self.lock:
            for t in variables:
                if t in self.state:
                    values[t] = self.state[t]
                else:
                    values[t] = first_reads[t] = np.asarray(t.initial_value)
        # The loop below is the whole of evaluation. Anything an op raises is
        # raised again with the op and the shapes of its inputs, which is
        # what one needs to find the line that built it.
        read = values.__getitem__
        try:
            for compute, inputs, output in steps:
                values[output] = compute(self, *map(read, inputs))
        except Exception as error:
            where = output.op.describe([np.shape(values[x]) for x in inputs])
            raise RuntimeError(f"{output} failed in {where}: {error}") from error
        with self.lock:
            for t, value in first_reads.items():
                self.state.setdefault(t, value)
            self.state.update((t, values[output]) for t, output in assigns)
        return rebuild(fetches, iter([fetched(read(t)) for t in tensors]))

    # A fed value must fit the tensor's static shape, if it has one: the
    # backward pass was built for that shape, and may have left out the
    # summing back that another shape would need. It enters the run through
    # `frozen` (tensor.py), which copies it, refuses a tensor, and converts
    # it to the tensor's static dtype, if that is known, as TensorFlow
    # converts feeds: an int array fed to a float64 variable is float64 in
    # that run, and the variable stays float64 whatever the run assigns.
    # A number fed becomes a 0-d array, as every fed value is an array.
    def feed_value(self, t, value):
        try:
            value = frozen(value, t.dtype)
        except TypeError as error:
            raise TypeError(f"cannot feed {t}: {error}") from None
        if t.shape is not None and value.shape != t.shape:
            raise ValueError(f"cannot feed shape {value.shape} to {t}, "
                             f"whose shape is {t.shape}")
        return value


# ## Fetches and results
#
# `flatten` lists the tensors of a fetch structure in order, refusing
# anything that is neither a tensor nor a container of them; `rebuild`
# puts values back into the same structure in the same order. Both
# recurse, but only as deep as the structure the caller wrote.
def flatten(fetches):
    if isinstance(fetches, Tensor):
        yield fetches
    elif isinstance(fetches, (list, tuple, dict)):
        for item in fetches.values() if isinstance(fetches, dict) else fetches:
            yield from flatten(item)
    else:
        kind = type(fetches).__name__
        raise TypeError(f"cannot fetch {fetches!r} of type {kind}: fetch "
                        "a tensor, or a list, tuple or dict of tensors")


# A namedtuple is rebuilt from its fields, any other list or tuple from a
# list of its items.
def rebuild(fetches, values):
    if isinstance(fetches, Tensor):
        return next(values)
    if isinstance(fetches, dict):
        return type(fetches)((k, rebuild(v, values)) for k, v in fetches.items())
    items = [rebuild(item, values) for item in fetches]
    if hasattr(fetches, "_fields"):
        return type(fetches)(*items)
    return type(fetches)(items)


# A value handed to the caller is the caller's own: a fresh copy, so that
# changing it in place cannot change the session's state. A scalar comes
# back as a NumPy scalar (`np.float64`, `np.float32`, ...), and a group's
# None as None.
def fetched(value):
    if value is None:
        return None
    value = np.array(value)
    return value if value.ndim else value[()]


# That is the whole engine. Part II extends it, beginning with
# [eager.py](eager.html): the same ops, run as they are built.
