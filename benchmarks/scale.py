"""How building, differentiating and running a graph scale with its size.

Two shapes of graph, each grown from 10 to 100,000 forward ops:

- a plain chain, `t = t * c + one` level after level (two ops a level; `c`
  is 1.0001, so neither the value nor the gradient overflows);
- a diamond chain, `t = t * half + t * half` (three ops a level): every level
  uses the one before it twice, along two paths that meet again. A backward
  pass that forwards each partial gradient as soon as it arrives does twice
  the work at every level, 2^n in all; ours must stay linear. The value and
  the gradient stay exactly 1 at every level.

For each graph we time building it, `graph.gradients(t, [x])`, the first
`sess.run([t, grad])` (which plans the run: the session caches a plan per
combination of fetches and feeds) and a later run (the median of a few),
and divide each by the number of ops involved. These runs walk the plan
(session.py's `Session`). A `CompiledSession` (compiler.py) is then made
to compile the same plan at once: the "compile" column is the run that
compiles (less a compiled run), and "compiled run" the median of a few
runs after. Linear growth shows as a
flat column of µs per op. `graph.count` counts the tensors a graph has
made, so its growth during `gradients` is what the backward pass added.

Everything runs at Python's default recursion limit: nothing may recurse
once per op. Each size is measured several times, the two graphs taking
turns, and the table shows medians.

Python's cyclic garbage collector takes part, as it does for any user: a
tensor and its op refer to each other, and every so often the collector
walks all the objects that have survived so far, the whole graph included.
That cost per op rises with the graph until the graph dominates the heap,
so the µs per op of building, differentiating and planning creep up from
1,000 to 100,000 ops. `--no-gc` switches the collector off while timing, to
show the engine's own growth alone. What creep remains without it comes
from memory rather than from the algorithms: dictionaries and objects that
no longer fit in the processor's caches.

    python benchmarks/scale.py [--max 100000] [--rounds 3] [--no-gc]
"""

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compiler import CompiledSession  # noqa: E402
from graph import Graph  # noqa: E402
from session import Session  # noqa: E402

SIZES = [10, 100, 1_000, 10_000, 100_000]
# The main table's columns, as the README's table names them (a test checks
# that the two agree).
COLUMNS = ["graph", "forward ops", "tensors `gradients` adds", "build µs/op",
           "`gradients` µs/op", "first run µs/op", "later run µs/op", "compile µs/op",
           "compiled run µs/op"]


# Each builder takes a graph, its input `x` and a number of forward ops,
# and returns the output tensor and the gradient value we expect. The
# constants are made once, before the loop, so that the loop adds op
# outputs only and `graph.count` counts the forward ops exactly.
def plain_chain(graph, x, size):
    c, one = graph.tensor(1.0001), graph.tensor(1.0)
    levels = max(1, size // 2)
    start = graph.count
    t = x
    for _ in range(levels):
        t = t * c + one
    return t, graph.count - start, 1.0001**levels


def diamond_chain(graph, x, size):
    half = graph.tensor(0.5)
    levels = max(1, size // 3)
    start = graph.count
    t = x
    for _ in range(levels):
        t = t * half + t * half
    return t, graph.count - start, 1.0


GRAPHS = {"plain chain": plain_chain, "diamond chain": diamond_chain}


# The number of ops a run of `fetches` computes: every op output reachable
# from them, found with an explicit stack (the graph is too deep to recurse).
def ops_reachable(fetches):
    seen, stack = set(), list(fetches)
    while stack:
        t = stack.pop()
        if t not in seen:
            seen.add(t)
            if t.op is not None:
                stack.extend(t.op.inputs)
    return sum(1 for t in seen if t.op is not None)


def measure(builder, size, later_runs):
    graph = Graph()
    x = graph.tensor(1.0)

    start = time.perf_counter()
    t, forward_ops, expected = builder(graph, x, size)
    build = time.perf_counter() - start

    before = graph.count
    start = time.perf_counter()
    (grad,) = graph.gradients(t, [x])
    gradients = time.perf_counter() - start
    added = graph.count - before

    sess = Session(graph)
    fetches = [t, grad]
    start = time.perf_counter()
    _, value = sess.run(fetches)
    first = time.perf_counter() - start
    assert abs(value - expected) <= 1e-9 * abs(expected), (value, expected)

    later = []
    for _ in range(later_runs):
        start = time.perf_counter()
        sess.run(fetches)
        later.append(time.perf_counter() - start)

    compiling = CompiledSession(graph)
    compiling.run(fetches)  # plans the run, reads the variables
    compiling.runs_before_compiling = 0
    start = time.perf_counter()
    compiling.run(fetches)
    compiled_first = time.perf_counter() - start
    compiled = []
    for _ in range(later_runs):
        start = time.perf_counter()
        _, value = compiling.run(fetches)
        compiled.append(time.perf_counter() - start)
    assert abs(value - expected) <= 1e-9 * abs(expected), (value, expected)
    assert compiling.ready, "the plan was compiled"

    return {
        "forward ops": forward_ops,
        "added": added,
        "ops run": ops_reachable(fetches),
        "build": build,
        "gradients": gradients,
        "first run": first,
        "later run": statistics.median(later),
        "compile": compiled_first - statistics.median(compiled),
        "compiled run": statistics.median(compiled),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=100_000, help="largest number of forward ops")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each size")
    parser.add_argument("--no-gc", action="store_true", help="switch off the cyclic collector")
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()  # gc.collect() below still frees each graph between measurements
    sizes = [n for n in SIZES if n <= args.max] or [args.max]

    # Small graphs are quick and noisy: measure them more often.
    results = {(name, n): [] for n in sizes for name in GRAPHS}
    for round_ in range(args.rounds):
        for n in sizes:
            repeats = 1 if n >= 10_000 else 5
            for _ in range(repeats):
                for name, builder in GRAPHS.items():
                    results[name, n].append(measure(builder, n, later_runs=5))
                    gc.collect()  # free this graph before timing the next
        print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr)

    collector = "off" if args.no_gc else "on"
    print(f"Python {sys.version.split()[0]}, recursion limit {sys.getrecursionlimit()}, "
          f"cyclic gc {collector}. Medians of {args.rounds} measurements per size")
    print(f"({args.rounds * 5} below 10,000 ops). µs/op divides build and gradients by "
          "the")
    print("forward ops, and a run by the ops it computes (forward and backward).\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("| --- |" + " ---: |" * (len(COLUMNS) - 1))
    for name in GRAPHS:
        for n in sizes:
            rows, med = median_of(results[name, n])
            fwd, run_ops = rows[0]["forward ops"], rows[0]["ops run"]
            print(f"| {name} | {fwd:,} | {rows[0]['added']:,} "
                  f"| {med('build') / fwd * 1e6:.2f} "
                  f"| {med('gradients') / fwd * 1e6:.2f} "
                  f"| {med('first run') / run_ops * 1e6:.2f} "
                  f"| {med('later run') / run_ops * 1e6:.2f} "
                  f"| {med('compile') / run_ops * 1e6:.2f} "
                  f"| {med('compiled run') / run_ops * 1e6:.2f} |")

    print("\nThe same medians in ms, whole, with the ops a run computes.\n")
    print("| graph | forward ops | ops run | build ms | gradients ms | first run ms "
          "| later run ms |")
    print("| --- |" + " ---: |" * 6)
    for name in GRAPHS:
        for n in sizes:
            rows, med = median_of(results[name, n])
            print(f"| {name} | {rows[0]['forward ops']:,} | {rows[0]['ops run']:,} "
                  f"| {med('build') * 1e3:.2f} | {med('gradients') * 1e3:.2f} "
                  f"| {med('first run') * 1e3:.2f} | {med('later run') * 1e3:.2f} |")


def median_of(rows):
    return rows, lambda key: statistics.median(r[key] for r in rows)

if __name__ == "__main__":
    main()
