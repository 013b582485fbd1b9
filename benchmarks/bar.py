"""What main.py's progress bar costs: its 10,000 epochs against the bare loop.

The bare loop is main.py's training without the bar: build the same model,
then run `sess.run([update, loss])` 10,000 times. main.py adds a tqdm bar
whose description shows the loss. The goal (issue 5) is that main.py take at
most 1.3x as long as the bare loop, with the loss in the bar still live.

Three comparisons, each repeated with the two sides taking turns (and
alternating which goes first), reported as the ratio of the medians. We
time both wall-clock and CPU time (the process's own, or the child's): on a
machine shared with other work the wall clock also counts time spent
waiting for a core, and CPU time is the steadier of the two.

- in process: `main.train()`, with stdout and stderr captured in memory,
  against the bare loop. Model building and the final printout are in
  both sides' times or negligible; this is the sharpest measure.
- subprocess: the wall-clock time of `python main.py` against a Python
  process running the bare loop, output captured through pipes. Both
  processes import main.py (and so NumPy and tqdm), so start-up is common
  to both and dilutes the ratio.
- terminal: the same two processes with their output on a pseudo-terminal,
  which is what tqdm sees when a user runs main.py in a shell. Drawing
  the text is the terminal's work and is not timed.

A shared machine makes each of those noisy by several percent, more than
the bar itself may cost. So we also time the bar alone: `main.train()`
with every training step answered at once by a stand-in session (the
final printout still runs for real). That time (model building, the bar
with its description updates, the printout) added to the bare loop gives
an upper bound on the ratio that noise hardly moves: the bare loop builds
the model as well, so that part is counted twice.

Every side must end with the same loss, and the bar must have shown more
than one distinct loss value while training.

    python benchmarks/bar.py [--reps 7]
"""

import argparse
import contextlib
import fcntl
import io
import os
import pty
import re
import resource
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import main  # noqa: E402
from session import Session  # noqa: E402

EPOCHS = 10_000

# The bare loop, as a program of its own for the subprocess comparisons. It
# prints the last loss in main.py's format so the two can be checked equal.
BARE_PROGRAM = f"""
from main import build_model, initial_weights
from session import Session

loss, update, _ = build_model(*initial_weights())
sess = Session(loss.graph)
for _ in range({EPOCHS}):
    _, value = sess.run([update, loss])
print(f"loss in the last epoch:  {{value:.12f}}")
"""

LAST_LOSS = re.compile(r"loss in the last epoch:\s+([0-9.]+)")
BAR_LOSS = re.compile(r"loss ([0-9.]+)")


def bare_loop():
    loss, update, _ = main.build_model(*main.initial_weights())
    sess = Session(loss.graph)
    for _ in range(EPOCHS):
        _, value = sess.run([update, loss])
    return f"{value:.12f}"


# main.train() exactly as main.py calls it. tqdm picks up sys.stderr when
# the bar is made, so redirecting stderr around the call captures the bar.
def train_captured():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main.train()
    return out.getvalue(), err.getvalue()


# The CPU time of every child process that has exited so far.
def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# A session that answers each training step, `run([update, loss])`, at once
# with a made-up loss, and runs anything else for real. It counts the steps
# it answered: all of them must have come to it.
class StepFreeSession(Session):
    steps = 0

    def run(self, tensors, feed_dict=None):
        if isinstance(tensors, list) and len(tensors) == 2:
            StepFreeSession.steps += 1
            return [None, 0.5]
        return super().run(tensors, feed_dict)


def train_without_steps():
    StepFreeSession.steps = 0
    main.Session = StepFreeSession
    try:
        captured = train_captured()
    finally:
        main.Session = Session
    assert StepFreeSession.steps == EPOCHS, \
        f"the stand-in answered {StepFreeSession.steps} of {EPOCHS} steps"
    return captured


def timed(function, cpu_clock):
    start, cpu_start = time.perf_counter(), cpu_clock()
    result = function()
    return time.perf_counter() - start, cpu_clock() - cpu_start, result


def run_piped(args):
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout, done.stderr


# Run a program with a pseudo-terminal as its stdout and stderr, 80 columns
# wide, reading everything it writes so that it never blocks on a full pty.
def run_on_terminal(args):
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    chunks = []

    def drain():
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other end closed: the program has exited
                break
            if not chunk:
                break
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        process = subprocess.Popen(args, cwd=ROOT, stdout=terminal, stderr=terminal)
        os.close(terminal)
        if process.wait() != 0:
            raise RuntimeError(f"{args} exited with {process.returncode}")
    finally:
        reader.join()
        os.close(controller)
    text = b"".join(chunks).decode(errors="replace")
    return text, text


MAIN = [sys.executable, "main.py"]
BARE = [sys.executable, "-c", BARE_PROGRAM]


# Time `with_bar` and `bare` in turns, `reps` times each, on the wall clock
# and on `cpu_clock`. Each returns the last loss; `with_bar` also returns
# the bar's text, in which the loss must have changed while training.
def compare(name, with_bar, bare, reps, cpu_clock):
    times = {"with bar": [], "bare": []}
    cpu = {"with bar": [], "bare": []}
    shown = set()
    for rep in range(reps):
        order = [("with bar", with_bar), ("bare", bare)]
        for side, function in order if rep % 2 == 0 else order[::-1]:
            elapsed, cpu_elapsed, (last, bar_text) = timed(function, cpu_clock)
            times[side].append(elapsed)
            cpu[side].append(cpu_elapsed)
            if side == "with bar":
                shown.update(BAR_LOSS.findall(bar_text))
                reference = last
            else:
                bare_last = last
        assert reference == bare_last, (name, reference, bare_last)
    assert len(shown) > 1, f"{name}: the bar showed no live loss: {shown}"
    with_bar_median = statistics.median(times["with bar"])
    bare_median = statistics.median(times["bare"])
    return {
        "name": name,
        "with bar": with_bar_median,
        "bare": bare_median,
        "ratio": with_bar_median / bare_median,
        "ratio per rep": statistics.median(
            w / b for w, b in zip(times["with bar"], times["bare"])
        ),
        "cpu with bar": statistics.median(cpu["with bar"]),
        "cpu bare": statistics.median(cpu["bare"]),
        "cpu ratio": statistics.median(cpu["with bar"]) / statistics.median(cpu["bare"]),
        "losses shown": len(shown),
        "last loss": reference,
    }


def last_loss(stdout):
    return LAST_LOSS.search(stdout).group(1)


def main_():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()

    def in_process_with_bar():
        out, err = train_captured()
        return last_loss(out), err

    def in_process_bare():
        return bare_loop(), ""

    def process(runner, program):
        def run():
            out, err = runner(program)
            return last_loss(out), err

        return run

    in_process_with_bar()  # warm up: first imports, caches
    results = [
        compare("in process", in_process_with_bar, in_process_bare, args.reps,
                time.process_time),
        compare("subprocess, piped", process(run_piped, MAIN), process(run_piped, BARE),
                args.reps, children_cpu),
        compare("subprocess, terminal", process(run_on_terminal, MAIN),
                process(run_on_terminal, BARE), args.reps, children_cpu),
    ]

    print(f"{EPOCHS:,} epochs; medians of {args.reps} interleaved repetitions; "
          f"ratio = median with bar / median bare\n")
    print("| measured | main.py s | bare loop s | ratio | median of per-rep ratios "
          "| main.py CPU s | bare loop CPU s | CPU ratio | distinct losses the bar showed |")
    print("| --- |" + " ---: |" * 8)
    for r in results:
        print(f"| {r['name']} | {r['with bar']:.3f} | {r['bare']:.3f} | {r['ratio']:.3f} "
              f"| {r['ratio per rep']:.3f} | {r['cpu with bar']:.3f} | {r['cpu bare']:.3f} "
              f"| {r['cpu ratio']:.3f} | {r['losses shown']} |")
    print(f"\nlast loss, identical on every side: {results[0]['last loss']}")

    bar_alone = []
    for _ in range(3 * args.reps):
        start = time.process_time()
        train_without_steps()
        bar_alone.append(time.process_time() - start)
    bar_alone = statistics.median(bar_alone)
    bare = results[0]["cpu bare"]
    print(f"\nmain.train() with its steps skipped (model, bar, printout): "
          f"{bar_alone * 1e3:.1f} ms CPU, median of {3 * args.reps}.")
    print(f"Added to the bare loop's {bare * 1e3:.0f} ms (which builds the model too), "
          f"that bounds the ratio at {(bare + bar_alone) / bare:.3f}.")

if __name__ == "__main__":
    main_()
