# # session.py: running the graph
#
# A `Session` evaluates the tensors of one graph. In `sess.run(fetches)`
# each tensor's value comes from the first of these that applies:
#
# 1. the **feed**: `feed_dict` gives it a value for this run only,
#    overriding everything else, even an op;
# 2. its **op**, computed from the values of the op's inputs;
# 3. the **state**, for a variable read or assigned before;
# 4. its **initial value**, copied into the state when first read.
#
# A placeholder nobody fed has none, and the run stops with an error
# naming it. Placeholders are how data gets in (`sess` a session):
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
# retired it. Each op in a chain is one more nested call, and Python
# allows 1,000, so a chain of 1,000 ops raises `RecursionError`.
# And every run repeats the same walk, which in training never changes.
# `Session` walks the graph once, with a stack, and keeps the result as a
# *plan* that later runs follow.


# `sess.state` maps each variable to its current value, so two sessions on
# one graph train two copies of the model. (A session also keeps its 64
# plans used last, and a lock that makes each run's writes atomic.)
class Session:
    def __init__(self, graph):
        self.graph = graph
        self.state = {}
        self.lock = threading.Lock()
        self.planned = lru_cache(maxsize=64)(self.plan)

    # ## Planning a run
    #
    # A *plan*, made once for each combination of fetched and fed tensors,
    # lists the variables to read and the ops to compute, each after its
    # inputs: a **topological order**, the forward twin of the backward
    # queue's. It holds only the ops the fetches need (fetching `loss`
    # alone computes no gradients). A depth-first walk back from the
    # fetches pushes a tensor first to visit its inputs, then, beneath
    # them, to join the order after them.
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
        # Each step is ready to call: the op's `compute`, its inputs, its
        # output. The assigns are listed apart: the values to write.
        constants = {t: t.initial_value for t in order if t.constant}
        variables = [t for t in order if t.op is None and not t.constant]
        steps = [(t.op.compute, t.op.inputs, t) for t in order if t.op is not None]
        assigns = [(t.op.inputs[0], t) for t in order if isinstance(t.op, AssignOp)]
        return constants, variables, steps, assigns

    # ## Running
    #
    # `run` takes a tensor, or any nesting of lists, tuples and dicts of
    # them, and returns the values in the same structure. A run changes the
    # state only at its very end, if it succeeded: a run that raises leaves
    # every weight as it was, never half of them updated.
    def run(self, fetches, feed_dict=None):
        tensors, feeds = tuple(flatten(fetches)), feed_dict or {}
        plan = self.planned(tensors, frozenset(feeds))
        constants, variables, steps, assigns = plan

        values = {**constants}
        values.update((t, self.feed_value(t, v)) for t, v in feeds.items())
        with self.lock:
            values.update((t, self.state.get(t, t.initial_value)) for t in variables)
        self.walk(steps, values)
        # (Results first: a structure that cannot be rebuilt writes nothing.)
        results = rebuild(fetches, iter([fetched(values[t]) for t in tensors]))
        with self.lock:
            for t in variables:
                self.state.setdefault(t, t.initial_value)
            self.state.update((t, values[output]) for t, output in assigns)
        return results

    # This loop is the whole of evaluation: each value is computed once, and
    # later steps read it from `values`. An error is raised again naming
    # the op and its inputs' shapes.
    def walk(self, steps, values):
        read = values.__getitem__
        try:
            for compute, inputs, output in steps:
                values[output] = compute(self, *map(read, inputs))
        except Exception as error:
            where = output.op.describe([np.shape(values[x]) for x in inputs])
            raise RuntimeError(f"{output} failed in {where}: {error}") from error

    # A fed value enters through `frozen` (tensor.py) in the tensor's dtype,
    # if known, and must fit its static shape, if known.
    def feed_value(self, t, value):
        try:
            value = frozen(value, t.dtype)
        except (TypeError, OverflowError) as error:
            raise TypeError(f"cannot feed {t}: {error}") from None
        if t.shape is not None and value.shape != t.shape:
            raise ValueError(f"cannot feed shape {value.shape} to {t}, "
                             f"whose shape is {t.shape}")
        return value


# ## Fetches and results
#
# `flatten` lists a fetch structure's tensors, refusing anything else;
# `rebuild` puts values back into the same structure.
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


# (A dict is copied, keeping a `defaultdict`'s default.)
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


# A value handed back is a fresh copy; a scalar, a NumPy scalar.
def fetched(value):
    value = np.array(value)
    return value if value.ndim else value[()]


# That is the whole engine. Part II extends it, beginning with
# [eager.py](eager.html): the same ops, run as they are built.
