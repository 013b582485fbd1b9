# # session.py: running the graph
#
# A `Session` evaluates the tensors of one graph. `sess.run(fetches)`
# answers "what are these tensors worth now?", and each tensor's value
# comes from the first of these that applies:
#
# 1. the **feed**: `feed_dict` gives it a value for this run only,
#    overriding everything else, even an op;
# 2. its **op**, computed from the values of the op's inputs;
# 3. the **state**, for a variable read or assigned before;
# 4. its **initial value**, copied into the state when first read.
#
# A tensor with none of these is a placeholder nobody fed, and the run
# stops with an error naming it. Placeholders are how data gets in:
#
#     p = graph.tensor()       # a placeholder
#     sess.run(p * 2, feed_dict={p: [1, 2]})
#                              # array([2, 4])
import copy
import threading
from functools import lru_cache

import numpy as np

from ops import AssignOp
from tensor import Tensor, frozen


# ## The simple version
#
# The evaluator this project grew from fits in a few lines: take the feed
# if there is one; else, if the tensor has an op, evaluate its inputs (by
# calling itself) and compute the op; else read the variable. `cache`
# makes a tensor that several ops use computed once per run.
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


# It is correct (the tests check it against `Session`), but two things
# retired it. Its depth: each op in a chain is one more nested call, and
# Python allows 1,000, so a backward pass, a long chain, raises
# `RecursionError`. And its waste: every run repeats the same walk and the
# same decisions, which in a training loop never change. `Session` walks
# the graph once, with a stack of its own, and keeps the result as a
# *plan* that later runs follow.


# A session holds the graph's *state*: `sess.state` maps each variable to
# its current value, so two sessions on one graph train two independent
# copies of the model. It keeps the 64 plans used last, and a lock that
# makes each run's writes atomic.
class Session:
    def __init__(self, graph):
        self.graph = graph
        self.state = {}
        self.lock = threading.Lock()
        self.planned = lru_cache(maxsize=64)(self.plan)

    # ## Planning a run
    #
    # Training runs the same fetches thousands of times, so what does not
    # change between runs is worked out once and kept: a *plan* for each
    # combination of fetched and fed tensors. It lists the variables to read
    # and the ops to compute, each op after its inputs: a **topological
    # order**, the forward twin of the backward queue's. It holds only the
    # ops the fetches need (fetching `loss` alone computes no gradients).
    #
    # The order comes from a depth-first walk back from the fetches, with a
    # stack instead of nested calls. A tensor is pushed twice: first to
    # visit its inputs, and again, beneath them, to join the order after
    # them.
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
        # Constants' values go straight into the plan. Each step is ready to
        # call: the op's `compute`, its inputs, its output. The assigns are
        # listed apart, as (variable, output) pairs: the values to write.
        constants = {t: t.initial_value for t in order if t.constant}
        variables = [t for t in order if t.op is None and not t.constant]
        steps = [(t.op.compute, t.op.inputs, t) for t in order if t.op is not None]
        assigns = [(t.op.inputs[0], t) for t in order if isinstance(t.op, AssignOp)]
        return constants, variables, steps, assigns

    # ## Running
    #
    # `run` takes a tensor and returns its value, or any nesting of lists,
    # tuples and dicts of tensors and returns the same structure of values,
    # as TensorFlow does. `values` holds every value of this run, each
    # computed once, however many ops read it.
    #
    # A run changes `self.state` only at its very end, and only if it
    # succeeded: a run that raises leaves every weight as it was, never
    # half of them updated.
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
        self.walk(steps, values)
        # The results are made before anything is written, so that even a
        # fetch structure that refuses to be rebuilt leaves the state alone.
        results = rebuild(fetches, iter([fetched(values[t]) for t in tensors]))
        with self.lock:
            for t, value in first_reads.items():
                self.state.setdefault(t, value)
            self.state.update((t, values[output]) for t, output in assigns)
        return results

    # This loop is the whole of evaluation: each step's value goes into
    # `values`, where later steps read it. An error is raised again naming
    # the op and its inputs' shapes, to find the line that built it.
    def walk(self, steps, values):
        read = values.__getitem__
        try:
            for compute, inputs, output in steps:
                values[output] = compute(self, *map(read, inputs))
        except Exception as error:
            where = output.op.describe([np.shape(values[x]) for x in inputs])
            raise RuntimeError(f"{output} failed in {where}: {error}") from error

    # A fed value enters through `frozen` (tensor.py), in the tensor's
    # dtype if that is known, as TensorFlow converts feeds: an int array fed
    # to a float64 variable is float64 for that run, and the variable never
    # changes dtype. It must fit the tensor's static shape, if it has one:
    # the backward pass was built for that shape.
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
# anything else; `rebuild` puts values back into the same structure.
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


# A dict is copied and each value replaced, so that a subclass keeps what
# it holds besides its items (a `defaultdict`'s default); a namedtuple is
# rebuilt from its fields.
def rebuild(fetches, values):
    if isinstance(fetches, Tensor):
        return next(values)
    if isinstance(fetches, dict):
        result = copy.copy(fetches)
        for k, v in fetches.items():
            result[k] = rebuild(v, values)
        return result
    items = [rebuild(item, values) for item in fetches]
    if hasattr(fetches, "_fields"):
        return type(fetches)(*items)
    return type(fetches)(items)


# A value handed back is a fresh copy, the caller's own; a scalar comes
# back as a NumPy scalar (`np.float64`, …), a group's None as None.
def fetched(value):
    if value is None:
        return None
    value = np.array(value)
    return value if value.ndim else value[()]


# That is the whole engine. Part II extends it, beginning with
# [eager.py](eager.html): the same ops, run as they are built.
