# # compiler.py: a plan becomes straight-line code
#
# session.py runs a plan by walking it: for every step, look up the inputs'
# values in a dictionary, call the op's `compute`, store the result. On
# main.py's small model the walking costs more than the arithmetic: each
# step spends about a microsecond on the loop, the dictionary and the
# call, around NumPy calls that take a third of that.
#
# A `CompiledSession(graph)`, this page's `Session` subclass, therefore
# turns a plan it runs again and again into one Python function, written
# out as source code and compiled by Python itself. It is opt-in: the
# `Session` of Part I only walks. Every value becomes a local variable,
# named after its tensor's kind, and every step a line or a few. main.py's
# training step becomes, in part:
#
#     lock.acquire()
#     try:
#         variable_0 = state[VARIABLE_0]
#         ...
#     finally:
#         lock.release()
#     if variable_0 is not SEEN[0] and
#             variable_0.strides != (32, 8)
#             or ...:
#         raise Missed
#     ...
#     dot_6 = np_dot(variable_1, variable_0,
#         BUFFER_1)
#     sigmoid_7 = expit(dot_6)
#     ...
#     sub_10 = np_subtract(transpose_5,
#         sigmoid_9, BUFFER_2)
#     mul_11 = np_multiply(MADE_12,
#         sub_10, BUFFER_4)
#     square_13 = np_square(sub_10,
#         BUFFER_5)
#     neg_14 = np_multiply(mul_11,
#         MADE_15, BUFFER_2)
#     ...
#     sub_27 = variable_0 - dot_26
#     assign_28 = sub_27
#     ...
#     total33 = np_add_reduce(square_13,
#         None, FLOAT64, keepdims=False)
#     mean_33 = total33 / 4
#     results = [None, mean_33]
#     lock.acquire()
#     try:
#         state[VARIABLE_0] = SEEN[0] = assign_28
#         ...
#     finally:
#         lock.release()
#     return results
#
# Each line is an op's `compute` with its inputs' names put in:
# `sigmoid_7` is `SigmoidOp`'s `expit(x)` (`expit` is ops.py's, the same
# object), and `mean_33` is what is left of `MeanOp`'s three lines once
# its attributes (no `axis`), its count (4) and its dtype are written in.
# Names in capitals were fixed when the function was compiled: tensors
# (the state's keys), constants made by `simplify` (below: `MADE_12` is
# square's 2, `MADE_15` is $-1/4$, mean's gradient with sub's minus sign),
# dtypes (`FLOAT64`), buffers; `np_dot`
# is `np.dot`, looked up once. The check after reading the variables is
# the signature's (below): a run that does not fit raises `Missed` and
# goes the long way. (`lock.acquire()` and a `try` do what `with lock:`
# does, at about half the cost.) To read the code a session writes for a
# fetch, print it: `print(sess.source([update, loss]))`, with the same
# arguments as `sess.run`. (`neg_14` is a product: `simplify` moved the
# negation into its constant.)
#
# Five things make that code faster than the walk, and none of them
# changes a single bit of what it computes (a NaN's sign bit aside, see
# `simplify`):
#
# 1. **No walking.** Values live in local variables, the fastest storage
#    Python has, and nothing loops.
# 2. **Inlining.** An op whose `compute` is a few plain lines (checks that
#    raise, assignments, and a `return`) has those lines copied in, with
#    its inputs' names put in for its parameters, so the op costs no
#    call. The op's class stays the one place its arithmetic is written;
#    any other op is called, so ops this page has never heard of work too
#    (if their results' shapes follow from their inputs' shapes, below).
# 3. **A simpler plan.** Every value has the same shape and dtype in
#    every run the code serves (on entry the code checks the feeds'; a
#    run with others goes the long way; a `cond`'s or a loop's results are
#    left out of this). `simplify` (below) uses that to fold what reads
#    only shapes and constants, to decide `sum_to` and `broadcast_to`, to
#    compute identical ops once, to move a minus sign into the constant
#    it multiplies, and to pass a constant of one value as one number.
# 4. **Deciding early what is already decided**, line by line. A check
#    or a local that reads only shapes and dtypes is evaluated once, while
#    compiling: a check that passes (`dot`'s "two matrices") is left out,
#    a local (mean's count, `sum_to`'s axes) is written in as a constant,
#    `a if test else b` as the branch the test picks, and a cast to the
#    dtype a value already has (assign's, mean's) is left out. `x.sum(…)`
#    is written as the `np.add.reduce(x, …)` it calls.
# 5. **Buffers.** An elementwise result, or a `dot`, is written into an
#    array kept from one run to the next (NumPy's `out` argument), instead
#    of a new one, under one rule: a buffer holds only a value that
#    nothing can still see when the buffer is written again (never one
#    that is fetched, fed, assigned or kept). For the same reason a fed
#    array that nothing can keep is read as it is, not copied first.
#
# Errors stay the walk's. The code makes its results, then writes the
# state, at its very end, so if anything in it raises, nothing has
# happened yet, and the session runs the same run again by walking the
# plan, which raises the error worded as session.py words it (the op, its
# inputs' shapes).
#
# Memory: code keeps its buffers, the constants it folded, and in `SEEN`
# the array each variable last held, and no more. A training step on a
# 32 MB variable (tests/test_compiler.py) keeps four buffers, 128 MB, as
# tracemalloc counts it: when `square` runs, four values of that size are
# alive at once. A folded constant over 64 KiB is not kept (see
# `simplify`).
#
# A plan is compiled only once it has proved worth it. Compiling costs
# 37 to 58 µs per op (benchmarks/scale.py, graphs of 99 to 100,000
# forward ops; 58 to 78 at 9 and 10), as much as walking the plan 40 to
# 51 times, and each compiled run then saves from half a walk to four
# fifths of one: compiling pays for itself after 47 to 100 runs. A session therefore
# walks a plan `CompiledSession.runs_before_compiling` (50) times first:
# a plan run fewer times, like a 100,000-op graph run a few times, never
# pays for compiling, and one that runs on, like main.py's 10,000 steps,
# pays once and gets the rest of its runs at the faster rate.
import ast
import builtins
import contextlib
import inspect
import math
import pickle
import re
import textwrap
import threading
from functools import cache, partial

import numpy as np

import ops
import session
from tensor import Tensor

# `missing` means *no value*: a name found nowhere, a fold or an
# evaluation that failed.
missing = object()


# ## The compiled session
#
# A `CompiledSession` is a `Session` whose `run` looks for a function
# compiled for the fetch first. It keeps the compiled functions, and for
# plans not yet compiled, a count of their runs.
class CompiledSession(session.Session):
    runs_before_compiling = 50

    def __init__(self, graph):
        super().__init__(graph)
        self.books = threading.Lock()
        self.plans, self.ready = {}, {}

    # Most fetches are a tensor or a flat list of them, fetched again and
    # again; for those, one dictionary look-up (`quick_key`, below) finds
    # the compiled function. Anything else (a dict, a nested list, a plan
    # not compiled yet) misses, or fails to hash, and takes the long way.
    def run(self, fetches, feed_dict=None):
        try:
            function = self.ready[quick_key(fetches, feed_dict)]
        except (KeyError, TypeError):
            return self.run_slowly(fetches, feed_dict)
        return function(fetches, feed_dict)

    # `make_callable`, as TensorFlow's, fixes a fetch and the tensors to
    # feed, and returns a function of the values to feed them: the key
    # under which `run` would look its compiled function up is made once,
    # here. Results, errors and state are `run`'s.
    def make_callable(self, fetches, feed_list=()):
        feed_list = tuple(feed_list)
        key = quick_key(fetches, feed_list)

        def call(*feed_values):
            if len(feed_values) != len(feed_list):
                raise TypeError(f"expected {len(feed_list)} values to feed "
                                f"{list(feed_list)}, got {len(feed_values)}")
            feed_dict = dict(zip(feed_list, feed_values)) if feed_list else None
            return self.ready.get(key, self.run_slowly)(fetches, feed_dict)

        return call

    # The long way. A compiled function serves one *signature*: the shapes,
    # dtypes and memory orders of the values fed and of the variables (see
    # below); a run with another one misses and comes here too. Each plan
    # keeps, for its last few signatures, a count of runs or the function
    # compiled for it, so a short last batch, which has a signature of its
    # own, gets its own function, and full batches keep theirs. Runs that
    # raise count too (they are walked, and raise there). If the trial run
    # made while compiling raises, the count starts again, and compiling is
    # tried later, with other feeds. A signature the compiler cannot write
    # is marked None and walked from then on. The books are kept under a
    # lock, so that threads sharing the session lose nothing (a thread that
    # needs them while another compiles waits for it).
    def run_slowly(self, fetches, feed_dict):
        walk = partial(session.Session.run, self)
        try:
            tensors = tuple(session.flatten(fetches))
            fed = frozenset(feed_dict or {})
            plan = self.planned(tensors, fed)
            signature = signature_of(plan, inputs(self, plan, feed_dict or {}))
        except Exception:
            return walk(fetches, feed_dict)  # raising as the walk words it
        form = form_of(fetches)
        with self.books:
            signatures = recent(self.plans, (tensors, fed, form),
                                self.plans.get((tensors, fed, form), {}), 64)
            found = signatures.get(signature, 0)
            if type(found) is int and found >= self.runs_before_compiling:
                found = self.compile(plan, tensors, fed, form, feed_dict or {})
            compiled = callable(found)
            recent(signatures, signature, found + 1 if type(found) is int else found,
                   8)
            if compiled and "rebuild" not in form:
                recent(self.ready, quick_key(fetches, feed_dict), found, 64)
        return (found if compiled else walk)(fetches, feed_dict)

    # Compiling runs the plan once more, with this run's feeds and without
    # writing anything, to see the shapes, dtypes and memory orders of its
    # values. If that raises, the count starts again; a plan the compiler
    # cannot write is marked None. (The tests set `strict`, so
    # that a plan the compiler fails to write fails them.)
    strict = False

    def compile(self, plan, tensors, fed, form, feed_dict):
        try:
            examples = try_out(self, plan, feed_dict)
        except Exception:
            return 0
        try:
            writer = Writer(self, plan, examples, tensors, fed, form)
            exec(compile(writer.source, "<compiled plan>", "exec"), writer.namespace)
        except Exception:
            if self.strict:
                raise
            return None
        finally:
            examples.clear()  # the writer's parts refer to each other
        return writer.namespace["run"]

    # `source` writes the code for a fetch without keeping it.
    def source(self, fetches, feed_dict=None):
        tensors, fed = tuple(session.flatten(fetches)), frozenset(feed_dict or {})
        plan = self.planned(tensors, fed)
        examples = try_out(self, plan, feed_dict or {})
        return Writer(self, plan, examples, tensors, fed, form_of(fetches)).source


# `recent` keeps a table's newest entries: it puts `key` last, and drops
# the first, the least recently used, beyond `limit`.
def recent(table, key, value, limit):
    table.pop(key, None)
    table[key] = value
    if len(table) > limit:
        del table[next(iter(table))]
    return value


# The key under which a compiled function is found: the fetched tensors in
# order, then the fed ones in the feeds' order, with the fetch's type and
# length (so that `[a, b]` and `[a]` with `b` fed differ).
def quick_key(fetches, feed_dict):
    listed = type(fetches) in (list, tuple)
    key = (type(fetches), len(fetches), *fetches) if listed else (fetches,)
    return (*key, *feed_dict) if feed_dict else key


# A compiled function returns its values as the fetch was written: one
# value, a list or a tuple of them, or (for anything else) the structure
# `rebuild` (session.py) makes. The *form* of a fetch is the format of
# the code's `results =` line: `{}` stands for the values, with commas
# (`"[{}]"` for a list).
def form_of(fetches):
    if isinstance(fetches, Tensor):
        return "{}"
    if type(fetches) in (list, tuple) and all(isinstance(t, Tensor)
                                              for t in fetches):
        return "[{}]" if type(fetches) is list else "tuple([{}])"
    return "rebuild(fetches, iter([{}]))"


# ## What does not change from run to run
#
# A value is *static* if its type, shape and dtype are the same in every
# run: a constant, a variable, a fed value, or the output of an op whose
# inputs are all static. A static value's contents may change from run to run
# (a variable is assigned, a new batch is fed), but its type, shape and
# dtype do not: a variable's are fixed by its initial value (assign keeps
# them), a constant's by itself, an op's follow from its inputs' by
# NumPy's rules, and a fed value's are checked. (That an op's follow from
# its inputs' is an assumption about every op, which `jax.jit` makes too:
# an op whose result's shape depends on its values, as `x[x > 0]`'s does,
# is not one to compile. This project's ops meet it, except `cond` and
# `while_loop`, whose results depend on the branch taken or the turns
# made: they say so, with `static = False`, and neither they nor anything
# computed from them is static.) The compiled function is
# made for the shapes and dtypes fed in the run that compiled it, as
# `jax.jit` and `tf.function` specialise on theirs; a run that feeds
# others goes the long way, and has a function of its own. `try_out`
# computes one example of each static value, from the current state and
# the feeds of that run, without changing anything.
def try_out(sess, plan, feed_dict):
    constants, variables, steps, _ = plan
    examples = {**constants, **inputs(sess, plan, feed_dict)}
    for compute, inputs_, output in steps:
        static = plain(compute) and getattr(compute.__self__, "static", True)
        if static and all(x in examples for x in inputs_):
            examples[output] = compute(sess, *[examples[x] for x in inputs_])
    return examples


# The values a run starts from: the feeds, and the variables as the state
# holds them now.
def inputs(sess, plan, feed_dict):
    values = {t: sess.feed_value(t, value) for t, value in feed_dict.items()}
    values.update((t, sess.state.get(t, t.initial_value)) for t in plan[1]
                  if t not in feed_dict)
    return values


# The *signature* a compiled function is made for and checks on entry:
# each fed value's shape, dtype and strides, and each variable's strides
# (assign keeps its shape and dtype). Strides say how an array lies in
# memory, and memory order changes the last bits of a sum or a `dot`:
# NumPy's sums add in pairs along memory, and a ufunc's result takes its
# inputs' order. So a fed Fortran-ordered array, or a transposed
# variable, has a signature, and a function, of its own, whose buffers
# are laid out as the walk's values are.
def signature_of(plan, values):
    fed = sorted((t for t in values if t not in plan[1]), key=lambda t: t.number)
    strides = [getattr(values[t], "strides", None) for t in [*fed, *plan[1]]]
    return (*((np.shape(values[t]), np.result_type(values[t])) for t in fed),
            *strides)


# An op whose `compute` was replaced on the op itself (a test counting
# calls does that) is treated as unknown: always called, never inlined,
# never tried out, its value never static.
def plain(compute):
    op = getattr(compute, "__self__", None)
    return op is not None and getattr(compute, "__func__", None) is getattr(
        type(op), "compute", None)


# `Shape` stands in for a static value while compiling: it has the value's
# shape and dtype, and refuses everything that would need the numbers
# themselves. Whatever a check or an op manages to compute from stand-ins
# alone (and constants) depends only on shapes and dtypes, and so comes
# out the same in every run.
class Shape:
    def __init__(self, value):
        self.shape, self.dtype = np.shape(value), np.result_type(value)
        self.ndim, self.size = len(self.shape), math.prod(self.shape)

    def refuse(self, *args, **kwargs):
        raise TypeError("only the shape and dtype are known")

    __array__ = __bool__ = __eq__ = __ne__ = __len__ = __iter__ = refuse
    __float__ = __int__ = __index__ = __getitem__ = refuse
    __hash__ = None


# ## Simplifying the plan
#
# Before a line is written, `simplify` reads the plan once more, with the
# examples' shapes in hand, and rewrites it into a plan that computes the
# same values, bit for bit, with fewer steps. Each rewrite is a fact about
# the graph, not about code: the walk could follow the simpler plan too.
#
# 1. **Folding.** If an op's `compute` runs on constants and stand-ins
#    for its static inputs, its value depends on nothing that changes: it
#    becomes a constant (the seed `broadcast_to(1.0, loss)`, mean's
#    `spread`). This assumes what every op here does: that `compute` is a
#    function of its inputs. A constant is kept as long as the code is, so
#    one that holds more than 64 KiB is not: computing it each run costs
#    a fill, keeping it costs its memory.
# 2. **Shapes decided.** The rule by which `graph.op` leaves out an op
#    that hands an input back (`unchanged`, ops.py) is asked again, now
#    that every static shape is known: digits.py's `sum_to` of the
#    logits' gradient, of unknown batch size while building, turns out to
#    have nothing to sum. (A `sum_to` that does sum is copied as any op
#    is: its axes are decided by the shapes, and the bias gradients are
#    one `sum` each.)
# 3. **Common subexpressions.** Two steps of the same op class, on the
#    same inputs, with the same attributes, compute the same value: the
#    second is dropped and its readers read the first. Exact, since the
#    same NumPy calls on the same arrays give the same bits.
# 4. **Signs moved into constants.** $-(c \cdot x)$, for a constant $c$,
#    is $(-c) \cdot x$, with $-c$ made once: sub's gradient negates what
#    square's and mean's made, and the product takes the minus sign.
#    Exact, since negating flips only the sign bit and rounding to
#    nearest is symmetric (only a NaN's sign bit may come out otherwise).
# 5. **One number for a constant of one value.** A constant that holds
#    one value (a number, or an array whose entries all have the same
#    bits, as mean's gradient spread over the batch has), added to, taken
#    from, multiplying or dividing a computed value of the result's shape,
#    is passed as a 0-d array of the result's dtype. NumPy then reads one
#    number instead of a second array, and takes a 0-d array quicker than
#    a Python number (here, a 32×10 product by one takes 0.25 µs, by a
#    Python number 0.45, by a column of 32 equal numbers 0.95). Every
#    element meets the same value as before, as a run on the examples
#    confirms: exact.
#
# A tensor dropped for another is read as that other; one that is fetched
# is given a step that hands the other's value on. A step that nothing
# reads any more (the product whose negation took its place) is dropped.
def simplify(plan, examples, tensors):
    constants, variables, steps, assigns = plan
    constants, same, seen, kept = dict(constants), {}, {}, {}
    for compute, inputs, output in steps:
        inputs = tuple(same.get(x, x) for x in inputs)
        op = compute.__self__ if plain(compute) else None
        if op is None or not all(x in examples for x in inputs):
            kept[output] = (compute, inputs, output)
            continue
        product = getattr(kept.get(inputs[0], (None,))[0], "__self__", None)
        if type(op) is ops.NegOp and type(product) is ops.MulOp:
            c = next((x for x in kept[inputs[0]][1] if x in constants), None)
            if c is not None and np.result_type(constants[c]).kind != "b":
                constants[negated := object()] = examples[negated] = -constants[c]
                compute, op = product.compute, product
                inputs = tuple(negated if x is c else x for x in kept[inputs[0]][1])
        value = fold(compute, constants, examples, inputs)
        if value is not missing:
            constants[output] = value
            continue
        try:
            shapes = [Shape(examples[x]) for x in inputs]
            handed = type(op).unchanged(*shapes)
        except Exception:
            handed = None  # (a value that is not an array, such as a record)
        if handed is not None:
            same[output] = inputs[[s is handed for s in shapes].index(True)]
            continue
        if type(op) in (ops.AddOp, ops.SubOp, ops.MulOp, ops.DivOp):
            step = (compute, inputs, output)
            inputs = tuple(one_number(step, constants, examples, x) for x in inputs)
        key = (type(op), inputs, *((k, type(v), v) for k, v in vars(op).items()
                                   if k not in ("graph", "inputs", "output")))
        try:
            same[output] = seen[key]
            continue
        except KeyError:
            seen[key] = output
        except TypeError:
            pass  # (an attribute that cannot be compared, such as an array)
        kept[output] = (compute, inputs, output)
    read = {*tensors, *(o for _, o in assigns), *(x for _, i, _ in kept.values()
                                                   for x in i)}
    steps = [*(s for s in kept.values() if s[2] in read),
             *((Same().compute, (same[t],), t) for t in tensors if t in same)]
    return constants, variables, steps, [(v, same.get(o, o)) for v, o in assigns]


# Constant `x`, one of a step's two `inputs`, as one number if it can be:
# a 0-d array of the result's dtype, tried on the examples to be sure that
# the step gives the same bits, dtype, shape and memory order with it.
# (Its key names the constant and the dtype, so that common subexpressions
# stay common.)
def one_number(step, constants, examples, x):
    compute, inputs, output = step
    flat, example = np.ravel(constants.get(x, ())), examples[output]
    if all(y in constants for y in inputs) or type(example) is not np.ndarray:
        return x
    with contextlib.suppress(Exception):  # (no number, or one the dtype cannot hold)
        number = np.asarray(flat[0], example.dtype)
        same = flat.tobytes() == np.full_like(flat, flat[0]).tobytes()
        value = compute(None, *(number if y is x else examples[y] for y in inputs))
        bits = lambda v: (v.dtype, v.shape, v.strides, v.tobytes())
        if same and bits(value) == bits(example):
            constants[x := (x, number.dtype)] = examples[x] = number
    return x


# What an input is while folding or deciding: its value if it is constant,
# else a stand-in.
def stand_in(constants, examples, t):
    return constants[t] if t in constants else Shape(examples[t])


def fold(compute, constants, examples, inputs):
    try:
        value = compute(None, *[stand_in(constants, examples, x) for x in inputs])
    except Exception:
        return missing
    array = isinstance(value, np.ndarray | np.generic) and value.dtype != object
    number = type(value) in (int, float, bool, complex)
    if not (value is None or array or number) or holds(value) > 1 << 16:
        return missing
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    return value


# A tensor found to hold another's value, fetched: its step hands it on.
class Same:
    def compute(self, sess, x):
        return x


# ## Reading an op's compute
#
# `template` reads a `compute` method's source and keeps it if it has the
# shape the compiler can copy: checks of the form `if test: raise ...`,
# assignments to plain names, and a final `return`. Any other shape (a loop,
# an early return, a nested function, even a docstring) and the op is
# called instead.
@cache
def template(function):
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    if not isinstance(tree, ast.FunctionDef):
        return None
    args, body = tree.args, tree.body
    if (tree.decorator_list or args.posonlyargs or args.kwonlyargs or args.kwarg
            or args.defaults or function.__code__.co_freevars
            or not isinstance(body[-1], ast.Return)):
        return None
    for statement in body[:-1]:
        check = (isinstance(statement, ast.If) and not statement.orelse
                 and len(statement.body) == 1
                 and isinstance(statement.body[0], ast.Raise))
        assign = (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                  and all(isinstance(n, ast.Name | ast.Tuple | ast.Store)
                          for n in ast.walk(statement.targets[0])))
        if not check and not assign:
            return None
    scoped = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
              ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.Global,
              ast.Nonlocal)
    if any(isinstance(node, scoped) for node in ast.walk(tree)):
        return None
    params = [a.arg for a in args.args]
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if args.vararg and args.vararg.arg in names:
        return None
    assigned = {n.id for s in body[:-1] if isinstance(s, ast.Assign)
                for n in ast.walk(s.targets[0]) if isinstance(n, ast.Name)}
    # Each op gets its own copy of the lines, unpickled: much quicker than
    # copying the tree node by node.
    free = names - {*params, *assigned}
    return params, body, assigned, free, pickle.dumps(body)


# The ufunc that each Python operator calls on arrays. (Not `**`: NumPy
# computes `x ** 2` as `x * x` and `x ** 0.5` as a square root, which a call
# of `np.power` would not.)
OPERATORS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
             ast.Div: np.true_divide, ast.FloorDiv: np.floor_divide,
             ast.Mod: np.remainder, ast.USub: np.negative, ast.UAdd: np.positive}


# An assigned array that lies as its variable's example does is kept in
# `SEEN`, so that the next run knows its strides without asking.
def seen(variables, examples, t, output):
    same = len({getattr(examples.get(x), "strides", x) for x in (t, output)}) == 1
    return f"SEEN[{variables.index(t)}] = " if t in variables and same else ""


# The function that the lines are written into. A run whose feeds or
# variables do not fit the signature raises `Missed` and goes the long
# way (`run_slowly`, above); a second thread, while the first is in the
# function, and a run that raises in it, walk the plan instead. (The walk
# or the long way runs outside the `try`: if it raises, it raises once.)
RUN = """def run(fetches, feed_dict):
    if not busy.acquire(False):
        return walk(fetches, feed_dict)
    try:
{}
    except Missed:
        return miss(fetches, feed_dict)
    except Exception:
        return walk(fetches, feed_dict)
    finally:
        busy.release()"""


class Missed(Exception):
    pass


# ## Writing the function
#
# `Writer` goes through the plan's steps in order and writes the lines. It
# names every value after its tensor's kind (`dot_9`), and keeps in
# `namespace` everything the lines refer to that was fixed while compiling.
#
# The function it writes checks the feeds, reads the variables under the
# session's lock, runs the steps, and writes the assigned values under the
# lock again.
class Writer:
    def __init__(self, sess, plan, examples, tensors, fed, form):
        constants, variables, steps, assigns = simplify(plan, examples, tensors)
        self.examples, self.constant = examples, dict(constants)
        self.namespace = {"np": np, "lock": sess.lock, "state": sess.state,
                          "fetched": session.fetched, "rebuild": session.rebuild,
                          "walk": partial(session.Session.run, sess), "sess": sess,
                          "miss": sess.run_slowly, "ndarray": np.ndarray,
                          "feed_value": sess.feed_value, "Missed": Missed,
                          "SEEN": [examples[t] for t in variables]}
        self.names, self.named, self.lines, tests = {}, {}, [], []
        # A fed array is copied (`feed_value`) only if the state could keep
        # it: an array of the signature is otherwise used as it is.
        for t in sorted(fed, key=lambda t: t.number):
            name, example = self.name(t), examples[t]
            read = f"feed_dict[{self.hoist(name.upper(), t)}]"
            test = (f"{name}.shape != {example.shape} or {name}.dtype != "
                    f"{self.dtype_name(example.dtype)} or {name}.strides != "
                    f"{example.strides}")
            lines = [f"{name} = feed_value({name.upper()}, {read})", f"if {test}:",
                     "    raise Missed"]
            if all(apart(examples, o, t) for _, o in assigns):
                lines = [f"{name} = {read}", f"if type({name}) is not ndarray or "
                         f"{test}:", *("    " + line for line in lines)]
            self.lines += lines
        # A variable not in the state yet raises KeyError here, and the run
        # is walked, which puts its initial value there. A variable's
        # strides are checked only if it is not the very array seen last
        # (`SEEN`: the one the state held when compiling, or that the code
        # wrote, if it lies as the signature says), whose strides are known.
        if variables:
            self.lines += ["lock.acquire()", "try:", *(
                f"    {self.name(t)} = state[{self.hoist(self.name(t).upper(), t)}]"
                for t in variables), "finally:", "    lock.release()"]
            tests += [f"{self.name(t)} is not SEEN[{i}] and {self.name(t)}.strides "
                      f"!= {examples[t].strides}" for i, t in enumerate(variables)
                      if np.ndim(examples[t]) and type(examples[t]) is np.ndarray]
        if tests:
            self.lines += [f"if {' or '.join(tests)}:", "    raise Missed"]
        self.inlined = {o: self.inlinable(c, i) for c, i, o in steps}
        self.buffers = Buffers(self, steps, tensors, fed, assigns)
        for index, (compute, inputs, output) in enumerate(steps):
            self.step(index, compute, inputs, output)

        # The results are made before the state is written: if making them
        # raises, nothing has been written.
        results = ", ".join(self.result(t) for t in tensors)
        self.lines.append("results = " + form.format(results))
        if assigns:
            self.lines += ["lock.acquire()", "try:", *(
                f"    state[{self.hoist(self.name(t).upper(), t)}] = "
                + seen(variables, examples, t, o) + self.value(o)
                for t, o in assigns), "finally:", "    lock.release()"]
        self.lines.append("return results")

        self.namespace["busy"] = threading.Lock()
        self.source = RUN.format("\n".join("        " + line for line in self.lines))

    # A tensor's name in the code: its kind, numbered in the order the code
    # first mentions it (`dot_4`), not by its number in the graph (`dot#5`):
    # Python keeps every name it has ever compiled, and a program that
    # compiles plan after plan of new tensors would pile up new names. A
    # value that `simplify` made (a negated constant) has no tensor: it is
    # named `made_N`.
    def name(self, t):
        if t not in self.names:
            kind = re.sub(r"#\d+$", "", repr(t)) if isinstance(t, Tensor) else "made"
            self.names[t] = f"{kind}_{len(self.names)}"
        return self.names[t]

    # `hoist` puts a compile-time object into the namespace under a name.
    def hoist(self, name, value):
        self.namespace[name] = value
        return name

    # A dtype's name in the code (`FLOAT64`), one per dtype, with a count
    # if the name is taken.
    def dtype_name(self, dtype):
        if dtype.str not in self.named:
            taken = dtype.name.upper() in self.namespace
            name = f"{dtype.name.upper()}_{len(self.named)}" if taken else None
            self.named[dtype.str] = self.hoist(name or dtype.name.upper(), dtype)
        return self.named[dtype.str]

    # How the code reads a value: a computed one by its name, a constant
    # by the name it is hoisted under.
    def value(self, t):
        if t not in self.constant:
            return self.name(t)
        return self.hoist(self.name(t).upper(), self.constant[t])

    # A fetched value is handed over as `fetched` (session.py) makes it: a
    # copy. A NumPy scalar, such as a loss, cannot change, and needs none.
    def result(self, t):
        if t in self.constant and self.constant[t] is None:
            return "None"
        example = self.examples.get(t)
        scalar = isinstance(example, np.generic) and not isinstance(example, np.void)
        if scalar and t not in self.constant:
            return self.value(t)
        return f"fetched({self.value(t)})"

    # ## One step
    #
    # An op is inlined if its compute has the right shape and its
    # module's names mean the same here, and called if not.
    def inlinable(self, compute, inputs):
        found = template(compute.__func__) if plain(compute) else None
        if found is None or len(found[0]) - 2 > len(inputs):
            return None
        scope = {**vars(builtins), **compute.__func__.__globals__}
        if any(n not in scope or self.namespace.setdefault(n, scope[n])
               is not scope[n] for n in found[3]):
            return None  # (a name that means something else here)
        return found

    # A step is written inlined, or as a call of the op's `compute`, hoisted.
    def step(self, index, compute, inputs, output):
        found = self.inlined[output]
        if found is not None:
            self.inline(index, compute, found, inputs, output)
        else:
            function = self.hoist(self.name(output).upper(), compute)
            args = "".join(", " + self.value(x) for x in inputs)
            self.lines.append(f"{self.name(output)} = {function}(sess{args})")
        self.buffers.release(index)

    # ## Inlining
    #
    # The compute's parameters are bound: `self` to the op, `sess` to the
    # session, the rest to the inputs. The lines are copied in order, so
    # that a name assigned in one (the op's own locals, suffixed with its
    # number) is read as such by the lines after it. A check whose test
    # comes out false on stand-ins reads only what cannot change: it is
    # left out, as is a local that reads only shapes (mean's `n`), whose
    # value is written in where it is read.
    def inline(self, index, compute, found, inputs, output):
        params, _, _, _, pickled = found
        number = self.name(output).rsplit("_", 1)[1]
        rewrite = Rewrite(self, compute, params, inputs, output)
        body = pickle.loads(pickled)
        self.buffers.place(output, body[-1].value, rewrite)
        lines = []
        for statement in body:
            if isinstance(statement, ast.If):
                if getattr(rewrite.decide(statement.test), "value", 1) is not False:
                    lines.append(ast.unparse(rewrite.visit(statement)))
            elif isinstance(statement, ast.Assign):
                example = rewrite.try_line(statement)
                target = statement.targets[0]
                decided = rewrite.decide(statement.value)
                if decided is not missing and isinstance(target, ast.Name):
                    rewrite.local(target.id, ast.unparse(decided),
                                  example.get(target.id, missing), decided=True)
                    continue
                statement.value = rewrite.visit(statement.value)
                for n in ast.walk(target):
                    if isinstance(n, ast.Name):
                        text = f"{n.id}{number}"
                        rewrite.local(n.id, text, example.get(n.id, missing))
                        n.id = text
                lines.append(ast.unparse(statement))
            else:
                result = rewrite.visit(statement.value or ast.Constant(None))
                lines.append(f"{self.name(output)} = {ast.unparse(result)}")
        self.lines += "\n".join(lines).splitlines()


# The memory an array keeps alive: that of the array whose view it is.
def holds(value):
    while isinstance(getattr(value, "base", None), np.ndarray):
        value = value.base
    return getattr(value, "nbytes", 0)


# An expression of the code evaluated now, its names looked up in `names`
# and `local`: its value, or `missing` if that raises. On examples it gives
# the value in this run; on constants and stand-ins, the value in every
# run (`Rewrite`'s `known` and `fixed`, below).
def evaluate(node, names, local=None):
    try:
        expression = ast.fix_missing_locations(ast.Expression(node))
        return eval(compile(expression, "<compiling>", "eval"), names, local)
    except Exception:
        return missing


# `Rewrite` copies a compute's lines with the names bound, writes in what
# is fixed, and chooses the NumPy calls that the examples allow.
class Rewrite(ast.NodeTransformer):
    def __init__(self, writer, compute, params, inputs, output):
        self.writer, self.function, self.out = writer, compute.__func__, {}
        op = writer.hoist(writer.name(output).upper() + "_OP", compute.__self__)
        self.bound = {params[0]: op, params[1]: "sess",
                      **dict(zip(params[2:], map(writer.value, inputs)))}
        static = [(p, x) for p, x in zip(params[2:], inputs) if x in writer.examples]
        # What a name holds on the examples (`known`, by its name in the
        # written code: `sub_10`), and what is fixed of it in every run
        # (`fixed`, by the compute's parameter names, `x` or `self`: the op,
        # a constant's value, a stand-in for anything else static). The
        # lines run on the examples (`env`), so that the op's locals have
        # examples too (mean's `total`), as far as their inputs have them.
        self.known = {self.bound[p]: writer.examples[x] for p, x in static}
        self.fixed = {params[0]: compute.__self__}
        for p, x in static:
            with contextlib.suppress(TypeError):  # (not an array: a record)
                self.fixed[p] = stand_in(writer.constant, writer.examples, x)
        self.env = {params[0]: compute.__self__, params[1]: None, **{
            p: writer.examples[x] for p, x in static}}

    # An assignment run on the examples: the values it gave its names.
    def try_line(self, statement):
        try:
            exec(compile(ast.Module([statement], []), "<line>", "exec"),
                 self.function.__globals__, self.env)
            return self.env
        except Exception:  # (it reads an input that has no example)
            self.env = {}
            return {}

    # After `b = ...`, `b` is the op's local, no longer its input. What is
    # fixed of it is its value if that was decided from shapes alone, and
    # else only its shape and dtype: a number made from the values (a
    # total) differs from run to run.
    def local(self, name, text, example, decided=False):
        self.bound[name] = text
        self.fixed.pop(name, None)
        if example is not missing:
            self.known[text] = example
            with contextlib.suppress(TypeError):  # (no stand-in for a record)
                self.fixed[name] = example if decided else Shape(example)

    # A parameter becomes the name of its input's value.
    def visit_Name(self, node):
        if node.id not in self.bound:
            return node
        return ast.Name(self.bound[node.id], node.ctx)

    # What is fixed of a name (`x.shape`, `x.dtype`, an op's `self.axis`)
    # is written in as a constant.
    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in self.fixed:
            value = getattr(self.fixed[node.value.id], node.attr, missing)
            if (constant := self.constant(value)) is not missing:
                return constant
        # `np.exp` is looked up once, here, and named `np_exp`.
        if isinstance(node.value, ast.Name) and node.value.id not in self.bound:
            module = self.function.__globals__.get(node.value.id)
            if inspect.ismodule(module) and hasattr(module, node.attr):
                name = f"{node.value.id}_{node.attr}"
                value = getattr(module, node.attr)
                if self.writer.namespace.setdefault(name, value) is value:
                    return ast.Name(name, ast.Load())
        return self.generic_visit(node)

    # An operation chosen for a buffer becomes a ufunc call writing into it:
    # positionally, which NumPy parses fastest, except for `maximum` and
    # `minimum`, which want `out=` by name (a third argument is deprecated).
    def into(self, node, operands, ufunc):
        buffer = self.out.get(id(node))
        if buffer is None:
            return node
        out = ast.Name(buffer, ast.Load())
        func = node.func if isinstance(node, ast.Call) else ast.Name(
            self.writer.hoist(f"np_{ufunc.__name__}", ufunc), ast.Load())
        if ufunc in (np.maximum, np.minimum):
            return ast.Call(func, list(operands), [ast.keyword("out", out)])
        return ast.Call(func, [*operands, out], [])

    # `-x` and `a * b` may be written into a buffer; so may a ufunc call.
    def visit_BinOp(self, node):
        node = self.generic_visit(node)
        operands = [node.operand] if isinstance(node, ast.UnaryOp) else [
            node.left, node.right]
        return self.into(node, operands, OPERATORS.get(type(node.op)))

    visit_UnaryOp = visit_BinOp

    def visit_Call(self, node):
        ufunc = ufunc_of(node, self.function)
        if ufunc is None and (decided := self.decide(node)) is not missing:
            return decided
        node = self.method(self.generic_visit(node))
        if (value := self.needless_cast(node)) is not None:
            return value
        return self.into(node, node.args, ufunc)

    # `a if test else b`, its test reading only what is fixed (the size of
    # log_softmax's last axis, `sum_to`'s axes), is the branch it picks.
    def visit_IfExp(self, node):
        test = self.decide(node.test)
        if not isinstance(test, ast.Constant):
            return self.generic_visit(node)
        return self.visit(node.body if test.value else node.orelse)

    # A call that reads only what is fixed (mean's `max(total.size, 1)`,
    # `kept(x)`) comes out the same on stand-ins: it is made now.
    def decide(self, node):
        return self.constant(evaluate(node, self.function.__globals__,
                                      dict(self.fixed)))

    # A plain value, as the code writes it: a dtype by its fixed name.
    def constant(self, value):
        if isinstance(value, np.dtype):
            return ast.Name(self.writer.dtype_name(value), ast.Load())
        if value is None or type(value) in (bool, int) or (
                type(value) is tuple and all(type(v) is int for v in value)):
            return ast.Constant(value)
        return missing

    # An array's `x.sum(axis, …)` is NumPy's `np.add.reduce(x, axis, …)`,
    # its arguments in the same order, reached without the method's
    # Python wrapper; `x.max` is `np.maximum.reduce`.
    def method(self, node):
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in ("sum", "max")
                and type(evaluate(func.value, self.writer.namespace, self.known))
                is np.ndarray):
            ufunc = np.add if func.attr == "sum" else np.maximum
            name = self.writer.hoist(f"np_{ufunc.__name__}_reduce", ufunc.reduce)
            args = [func.value, *(node.args or [ast.Constant(None)])]
            return ast.Call(ast.Name(name, ast.Load()), args, node.keywords)
        return node

    # A cast to the dtype that a static value already has hands back that
    # value in every run: `np.asarray(b, dtype)` of an array (assign's) and
    # `x.astype(dtype, copy=False)` (mean's) are left out. (`b` keeps no
    # buffer: the trial run saw the op return it.)
    def needless_cast(self, node):
        namespace, func, args = self.writer.namespace, node.func, node.args
        copy = [(k.arg, getattr(k.value, "value", None)) for k in node.keywords]
        if namespace.get(getattr(func, "id", None)) is np.asarray and len(
                args) == 2 and not copy:
            (value, dtype), kinds = args, np.ndarray
        elif getattr(func, "attr", None) == "astype" and len(args) == 1 and copy == [
                ("copy", False)]:
            value, dtype, kinds = func.value, args[0], np.ndarray | np.generic
        else:
            return None
        example = evaluate(value, self.writer.namespace, self.known)
        wanted = namespace.get(getattr(dtype, "id", None))
        if isinstance(example, kinds) and example.dtype == wanted:
            return value
        return None


# ## Buffers
#
# NumPy makes a new array for every result. For an array of 16 numbers
# that costs about as much as the arithmetic, so the compiled code writes
# results into arrays it keeps, passing them as the ufunc's `out`. That is
# safe under one rule: **a buffer holds only a value that nothing can
# still see when the buffer is written again**. So a value gets a buffer
# only if
#
# - it is static, so its shape and dtype, and the buffer's, are the same
#   in every run that uses the buffer;
# - it is not fetched, fed or assigned, nor kept in any other way: every
#   op that reads it is one whose result is a new array (an operator or a
#   ufunc call, or an op whose example result shares no memory with it,
#   as `dot`'s does, and so in every run), never the value itself or a
#   view of it, as `transpose` and `assign` may return (which is why
#   main.py's `sigmoid_7`, transposed for the backward pass, has none);
# - its buffer is handed to another value only after the last op that
#   reads it has run, and never to that op's own result.
#
# A compiled function with buffers is therefore run by one thread at a
# time; a second thread meanwhile walks the plan.
class Buffers:
    def __init__(self, writer, steps, tensors, fed, assigns):
        self.writer, self.free, self.dying, self.count = writer, {}, {}, 0
        fresh = {o for c, i, o in steps if writer.inlined[o]
                 and ufunc_of(writer.inlined[o][1][-1].value, c.__func__)}
        self.last_use, readers = {}, {}
        for index, (_, inputs, output) in enumerate(steps):
            for x in inputs:
                self.last_use[x] = index
                readers.setdefault(x, set()).add(output)
        kept = {*tensors, *fed, *(t for t, _ in assigns), *(o for _, o in assigns)}
        self.wanted = set()
        for index, (_, _, output) in enumerate(steps):
            example = writer.examples.get(output)
            if (output in fresh and type(example) is np.ndarray and example.ndim
                    and example.dtype.kind in "biufc"
                    and output not in kept
                    and all(r in fresh or apart(writer.examples, r, output)
                            for r in readers.get(output, ()))):
                self.wanted.add(output)
                self.last_use.setdefault(output, index)

    # A free buffer of the right shape, dtype and memory order, or a new
    # one laid out as the walk's value is (NumPy's `empty_like`), for the
    # result of an inlined step, until the last step that reads it.
    def place(self, output, node, rewrite):
        if output not in self.wanted:
            return
        example = self.writer.examples[output]
        key = (example.shape, example.dtype, example.strides)
        if self.free.get(key):
            buffer = self.free[key].pop()
        else:
            self.count += 1
            buffer = self.writer.hoist(f"BUFFER_{self.count}",
                                       np.empty_like(example))
        self.dying.setdefault(self.last_use[output], []).append(buffer)
        rewrite.out[id(node)] = buffer

    # After step `index`, the buffers of values it read for the last time
    # are free again. Each buffer is listed under the step that frees it
    # when it is taken, so freeing costs nothing per buffer still held, and
    # compiling stays linear in the plan's size.
    def release(self, index):
        for name in self.dying.pop(index, ()):
            array = self.writer.namespace[name]
            key = (array.shape, array.dtype, array.strides)
            self.free.setdefault(key, []).append(name)


# An op that is not an operator or a ufunc may return its input or a view
# of it (`transpose` does). One whose static result shares no memory with
# its input (`dot`) returns a new array, as it will in every run.
def apart(examples, reader, x):
    try:
        return not np.shares_memory(examples[reader], examples[x])
    except Exception:
        return False


# The ufunc an expression's outermost operation calls, if it calls one: an
# arithmetic operator, or a call such as `np.exp(x)` with no keywords.
# `np.dot` of two matrices counts as one: it too takes its output array as
# one more argument, and writes the bits it would have returned. (No
# operand's buffer is free while a step runs, so none is also its `out`.)
def ufunc_of(node, function):
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return OPERATORS.get(type(node.op))
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    value = evaluate(node.func, function.__globals__)
    if (value is np.dot and len(node.args) == 2 or isinstance(value, np.ufunc)
            and value.nout == 1 and len(node.args) == value.nin) and not any(
            isinstance(a, ast.Starred) for a in node.args):
        return value
    return None


# Next: [exercises.py](exercises.html), changes to make to the engine
# yourself.
