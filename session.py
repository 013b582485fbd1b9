# [main](main.html) · [graph](graph.html) · [tensor](tensor.html) ·
# [ops](ops.html) · **[session](session.html)** · [tf_test](tf_test.html)
#
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
# stops with an error naming it.
import numpy as np

from tensor import Tensor


# A session holds the graph's *state*: `sess.state` maps each variable to
# its current value, so two sessions on one graph train two independent
# copies of the model.
class Session:
    # It also keeps the plans described below and, during a run, the
    # assignments waiting to be applied.
    def __init__(self, graph):
        self.graph = graph
        self.state = {}
        self.plans = {}
        self.updates = {}

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
    # The order comes from a depth-first walk back from the fetches. A
    # recursive walk would fail on deep graphs (Python allows 1,000 nested
    # calls; a chain of ops can be 100,000 long), so this one keeps its own
    # stack. A tensor is pushed twice: first to visit its inputs, and again,
    # beneath them, to join the order once they have.
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
        variables = [t for t in order if t.op is None]
        for t in variables:
            if t.initial_value is None:
                raise ValueError(f"{t} has no value: feed it, "
                                 f"as in feed_dict={{{t}: value}}")
        # Each step is stored ready to call: the op's `compute`, its input
        # tensors, and the output tensor its value belongs to.
        steps = [(t.op.compute, t.op.inputs, t) for t in order if t.op is not None]
        return variables, steps

    # ## Running
    #
    # `run` takes a list of tensors and returns a list of their values, or
    # takes one tensor and returns its value alone, as TensorFlow does.
    #
    # `values` holds every value of this run. The plan computes each
    # tensor once and later steps read it from here, so a tensor used by
    # many ops (like main.py's activations, used forwards and backwards) is
    # still computed only once per run.
    #
    # Assignments do not touch `self.state` directly: they, and the first
    # reads of initial values, go into `self.updates`, which is applied only
    # when the whole run has succeeded. A run that raises leaves the state
    # exactly as it was, so a mistake found halfway through a training step
    # never leaves half the weights updated.
    def run(self, tensors, feed_dict=None):
        single = isinstance(tensors, Tensor)
        fetches = [tensors] if single else list(tensors)
        feeds = feed_dict or {}
        key = (tuple(fetches), frozenset(feeds))
        try:
            variables, steps = self.plans[key]
        except (KeyError, TypeError):  # TypeError: an unhashable fetch
            variables, steps = self.plans[key] = self.plan(fetches, feeds)

        values = {t: self.feed_value(t, value) for t, value in feeds.items()}
        self.updates = updates = {}
        for t in variables:
            if t in self.state:
                values[t] = self.state[t]
            else:
                values[t] = updates[t] = np.array(t.initial_value)
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
        self.state.update(updates)

        # The arrays returned are the caller's own: copies, so that changing
        # one in place cannot change a variable behind the session's back.
        results = [v.copy() if isinstance(v, np.ndarray) else v
                   for v in map(read, fetches)]
        return results[0] if single else results

    # A fed value must fit the tensor's static shape, if it has one: the
    # backward pass was built for that shape, and may have left out the
    # summing back that another shape would need. It is copied, so that
    # changing the array afterwards cannot change what a run assigned.
    def feed_value(self, t, value):
        value = np.array(value)
        if t.shape is not None and value.shape != t.shape:
            raise ValueError(f"cannot feed shape {value.shape} to {t}, "
                             f"whose shape is {t.shape}")
        return value


# That is the whole engine. Next: [tf_test.py](tf_test.html), the same XOR
# network written with real TensorFlow, to read beside
# [main.py](main.html).
