"""plots.py draws a real training run: the curve is main.py's losses, the
surface is the trained network's output. And main.py's page shows exactly
what `python main.py` prints."""

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import need

import main
from session import Session

need("matplotlib", "requirements-docs.txt")
import plots  # noqa: E402  (plots imports matplotlib: only after the check)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run():
    return plots.training_run()


def test_the_run_is_main_pys_run(run):
    losses, _, _ = run
    assert len(losses) == 10_000
    # The losses `python main.py` prints, and the test of main.py checks.
    assert losses[0] == pytest.approx(0.400740028636, rel=1e-9)
    assert losses[-1] == pytest.approx(0.000823083078, rel=1e-9)


def test_the_loss_curve_draws_every_epoch_from_the_first_to_the_last(run):
    losses, _, _ = run
    figure, (epochs, drawn) = plots.plot_loss(losses)
    np.testing.assert_array_equal(epochs, np.arange(1, 10_001))
    np.testing.assert_array_equal(drawn, losses)
    assert drawn[0] == pytest.approx(0.400740028636, rel=1e-9)
    assert drawn[-1] == pytest.approx(0.000823083078, rel=1e-9)
    axes = figure.axes[0]
    assert axes.get_yscale() == "log"
    # The plateau near 0.25 (every output near 0.5) and the fall after it.
    assert 0.24 < drawn[100] < 0.26
    assert drawn[1000] < 0.03


def test_the_surface_is_the_trained_networks_output(run):
    _, (weights0, weights1), output = run
    figure, (x1, x2, surface) = plots.plot_output(weights0, weights1, size=11)
    assert surface.shape == (11, 11)
    # The grid's corners are the four XOR inputs, in main.X's order, and the
    # surface there is what the trained model itself outputs for them.
    corners = [(0, 0), (-1, 0), (0, -1), (-1, -1)]  # (row = x2, column = x1)
    for (row, column), inputs, expected in zip(corners, main.X, output[:, 0]):
        assert (x1[row, column], x2[row, column]) == tuple(inputs)
        assert surface[row, column] == pytest.approx(expected, rel=1e-12)
    # Elsewhere it is the same network: one point checked by hand in NumPy.
    hidden = 1 / (1 + np.exp(-np.array([0.3, 0.6]) @ weights0))
    by_hand = 1 / (1 + np.exp(-hidden @ weights1))
    assert surface[6, 3] == pytest.approx(by_hand[0], rel=1e-12)  # x1 = 0.3, x2 = 0.6
    assert np.all((surface > 0) & (surface < 1))


def test_the_run_trains_main_pys_model_from_its_weights():
    # training_run's output is the trained model's: after 3 epochs, the same
    # as three updates run by hand in a fresh session.
    losses, _, output = plots.training_run(epochs=3)
    loss, update, network = main.build_model(*main.initial_weights())
    sess = Session(loss.graph)
    by_hand = [sess.run([update, loss])[1] for _ in range(3)]
    np.testing.assert_array_equal(losses, by_hand)
    np.testing.assert_array_equal(output, sess.run(network))


def test_saving_gives_reproducible_svgs(tmp_path, run):
    # (main.py's training itself gives the same numbers every time:
    # test_xor.py checks them.)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    plots.save(first, run)
    plots.save(second, run)
    for name in ["xor_loss.svg", "xor_output.svg"]:
        svg = (first / name).read_bytes()
        assert svg.startswith(b"<?xml") and b"<svg" in svg
        assert b"<dc:date>" not in svg
        assert svg == (second / name).read_bytes(), f"{name} differs between two saves"


def printed_block(source):
    """The indented block that follows "prints:" in main.py's prose."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("prints:")) + 2
    block = []
    for line in lines[start:]:
        if not (line.startswith("#    ") or line == "#"):
            break
        block.append(line[6:])
    while block and not block[-1]:
        block.pop()
    return block


def test_main_pys_page_shows_what_it_prints(capsys):
    main.train()
    printed = capsys.readouterr().out.rstrip("\n").splitlines()
    shown = printed_block((ROOT / "main.py").read_text(encoding="utf-8"))
    assert shown == printed
    page = (ROOT / "main.py").read_text(encoding="utf-8")
    for picture in ["xor_loss.svg", "xor_output.svg"]:
        assert re.search(r"!\[[^]]*\]\(" + re.escape(picture) + r"\)", page)
