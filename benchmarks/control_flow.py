"""What a loop and its gradient cost: control_flow.py's recurrent network, one
sequence of T steps, in graph mode with `while_loop` (walked and compiled
sessions) and eagerly under a GradientTape with a Python loop.

For each we report the time per step of the sequence (per iteration), forward
alone and the backward pass on top of it, as medians over rounds, and the
memory kept for the backward pass per iteration: for the loop, the arrays its
forward pass saves every turn (the record's history, less the captured weights
and constants it shares); for the tape, the values of the ops it recorded.

    python benchmarks/control_flow.py [--length 1000] [--batch 16] [--rounds 7]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import control_flow as cf  # noqa: E402
from compiler import CompiledSession  # noqa: E402
from eager import EagerGraph, GradientTape  # noqa: E402
from graph import Graph  # noqa: E402
from session import Session  # noqa: E402


def median_time(function, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def graph_mode(session_class, xs, ys, rounds):
    graph = Graph()
    w = {k: graph.tensor(v) for k, v in cf.initial_weights().items()}
    x, length, targets = graph.tensor(), graph.tensor(), graph.tensor()
    loss = cf.recurrent_loss(graph, w, x, length, targets, xs.shape[1])
    grads = graph.gradients(loss, list(w.values()))
    sess = session_class(graph)
    feed = {x: xs, length: len(xs), targets: ys}
    for _ in range(60):  # a CompiledSession compiles after 50 runs
        sess.run([loss, grads], feed)
        sess.run(loss, feed)
    forward = median_time(lambda: sess.run(loss, feed), rounds)
    both = median_time(lambda: sess.run([loss, grads], feed), rounds)
    record, stack = None, [loss]  # the while op's output, behind the loss
    while record is None:
        t = stack.pop()
        record = t if isinstance(t.op, cf.WhileOp) else None
        stack.extend(t.op.inputs if t.op else ())
    kept = sess.run(record, feed)
    shared = {id(v) for v in kept.captured.values()}
    saved = sum(v.nbytes for turn in kept.history for v in turn.values()
                if isinstance(v, np.ndarray) and id(v) not in shared
                and v.size > 1)
    return forward, both - forward, saved / len(xs), sess.run(loss, feed)


def eager_mode(xs, ys, rounds):
    graph = EagerGraph()
    w = {k: graph.tensor(v) for k, v in cf.initial_weights().items()}
    x, targets = graph.tensor(xs), graph.tensor(ys)

    def forward():
        h = graph.tensor(np.zeros((xs.shape[1], cf.HIDDEN)))
        for t in range(len(xs)):
            h = cf.cell(w, cf.take(x, t), h)
        return cf.readout(w, h, targets)

    def both():
        with GradientTape() as tape:
            loss = forward()
        tape.gradient(loss, list(w.values()))
        return tape

    time_forward = median_time(forward, rounds)
    time_both = median_time(both, rounds)
    tape = both()
    values = [output.value for _, output in tape.record]
    kept = sum(v.nbytes for v in values if isinstance(v, np.ndarray) and v.size > 1)
    # (the tape also records the backward pass's ops when it is asked for
    # gradients inside it; here it is not, so these are the forward's values)
    return time_forward, time_both - time_forward, kept / len(xs), forward().numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, (args.length, args.batch, 1))
    ys = xs.mean(axis=0)
    rows = [("while_loop, Session", *graph_mode(Session, xs, ys, args.rounds)),
            ("while_loop, CompiledSession",
             *graph_mode(CompiledSession, xs, ys, args.rounds)),
            ("tape, Python loop", *eager_mode(xs, ys, args.rounds))]
    print(f"one sequence of {args.length} steps, batch {args.batch}, "
          f"{cf.HIDDEN} hidden units\n")
    print(f"{'':29}{'forward':>10}{'backward':>10}{'kept':>10}   loss")
    print(f"{'':29}{'µs/step':>10}{'µs/step':>10}{'B/step':>10}")
    for name, forward, backward, kept, loss in rows:
        print(f"{name:29}{forward / args.length * 1e6:10.1f}"
              f"{backward / args.length * 1e6:10.1f}{kept:10.0f}   {loss:.15f}")


if __name__ == "__main__":
    main()
