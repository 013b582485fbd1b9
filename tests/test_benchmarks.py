"""The benchmarks' own machinery: how contenders are built and timed, and
that the hand-written steps compute what they say they compute."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

import digits
from session import Session

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name):
    sys.path.insert(0, str(BENCHMARKS))  # digits.py imports xor.py
    try:
        spec = importlib.util.spec_from_file_location(f"benchmark_{name}",
                                                      BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


# Every block builds every contender afresh, starting at a different one;
# one that cannot run is dropped after its first try; every other gets
# `rounds` times from each block.
def test_in_blocks_builds_afresh_in_turn_and_drops_what_cannot_run():
    xor = load("xor")
    built = []

    def build(name, make):
        built.append(name)
        return None if name == "missing" else make

    makers = {name: (lambda: None) for name in ["a", "b", "missing", "c"]}
    times = xor.in_blocks(makers, build, blocks=3, rounds=4, n=2)
    assert built == ["a", "b", "missing", "c", "b", "c", "a", "c", "a", "b"]
    assert list(times) == ["a", "b", "c"]
    assert all(len(ts) == 3 * 4 and min(ts) >= 0 for ts in times.values())


# With labels that do not sum to 1, the update the hand step makes with
# `exact=True` is ours (so its second loss, after one update, is ours);
# the plain hand step's is not.
def test_the_exact_hand_step_updates_as_ours_does():
    bench = load("digits")
    data = digits.load_data()
    images = data.train_images[:16]
    labels = data.train_labels[:16] * np.linspace(0.5, 2.0, 16)[:, None]

    model = digits.build_model(digits.initial_weights())
    sess = Session(model.loss.graph)
    feed = {model.images: images, model.labels: labels}
    ours = [sess.run([model.train, model.loss], feed)[1] for _ in range(2)]

    exact = bench.numpy_by_hand(images, labels, exact=True)
    plain = bench.numpy_by_hand(images, labels)
    assert np.allclose([exact(), exact()], ours, rtol=1e-12, atol=0)
    first, second = plain(), plain()
    assert np.isclose(first, ours[0], rtol=1e-12, atol=0)
    assert not np.isclose(second, ours[1], rtol=1e-6, atol=0)
