"""Setting up: what each requirements file installs, and what the scripts do
when a part they need is missing (say in one line what to install, and exit
with status 1), and how the tests treat a missing part (helpers.need)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import need
from packaging.requirements import Requirement

import make_docs

ROOT = Path(__file__).resolve().parent.parent


def need_the_docs_packages():
    """The make_docs tests take one part away: everything else must be there."""
    for module in make_docs.PAGES_NEED + make_docs.PICTURES_NEED:
        need(module, "requirements-docs.txt")


def requirements(file):
    """The requirements a file names, without its `-r` includes and comments."""
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines
            if line.strip() and not line.startswith(("#", "-r"))]


def start_without(module, script, *args):
    """Start `python script args` in the repository with `module` impossible
    to import, as on a machine where it was never installed."""
    program = (f"import runpy, sys; sys.modules[{module!r}] = None; "
               f"sys.argv = [{script!r}, *{list(args)!r}]; "
               f"runpy.run_path({script!r}, run_name='__main__')")
    return subprocess.Popen([sys.executable, "-c", program], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process):
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_without(module, script, *args):
    return finish(start_without(module, script, *args))


def test_requirements_txt_holds_only_what_the_tutorial_and_tests_need():
    assert {r.name for r in requirements("requirements.txt")} == {
        "numpy", "scipy", "tqdm", "scikit-learn", "threadpoolctl", "pytest",
        "hypothesis"}
    docs = {r.name for r in requirements("requirements-docs.txt")}
    assert {"pycco", "pygments", "markdown", "latex2mathml", "graphviz",
            "matplotlib"} <= docs
    # Each file names each package once for any one Python and platform
    # (requirements-tf.txt names TensorFlow once per platform).
    for file in ROOT.glob("requirements*.txt"):
        said = [(r.name.lower(), str(r.marker)) for r in requirements(file.name)]
        assert len(said) == len(set(said)), file


@pytest.mark.parametrize("system, machine, python, expected", [
    ("Linux", "x86_64", "3.11", "tensorflow-cpu"),
    ("Windows", "AMD64", "3.13", "tensorflow-cpu"),
    ("Darwin", "arm64", "3.12", "tensorflow"),
    ("Linux", "aarch64", "3.12", "tensorflow"),
    ("Darwin", "x86_64", "3.12", None),  # no wheels for Intel Macs
    ("Linux", "x86_64", "3.14", None),  # none yet for Python 3.14
])
def test_requirements_tf_picks_one_tensorflow_per_platform(system, machine, python,
                                                            expected):
    environment = {"platform_system": system, "platform_machine": machine,
                   "python_version": python}
    chosen = [r.name for r in requirements("requirements-tf.txt")
              if r.marker is None or r.marker.evaluate(environment)]
    assert chosen == ([expected] if expected else [])


def test_the_tensorflow_scripts_fail_in_one_line_without_tensorflow():
    # Both at once, each on a core of its own.
    started = [start_without("tensorflow", script) for script in ("tf_test.py", "tf_digits.py")]
    for done in map(finish, started):
        assert done.returncode == 1, done.args
        assert done.stdout == ""
        assert done.stderr.splitlines() == [
            "TensorFlow is not installed: pip install -r requirements-tf.txt"]


def test_make_docs_without_graphviz_says_so_and_how_to_do_without(tmp_path):
    need_the_docs_packages()
    # A PATH with Python on it and nothing else: no dot.
    path = str(Path(sys.executable).parent)
    assert shutil.which("dot", path=path) is None
    done = subprocess.run([sys.executable, "make_docs.py", str(tmp_path)], cwd=ROOT,
                          env={**os.environ, "PATH": path}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert "Graphviz is not installed" in done.stderr
    for advice in ["apt-get install graphviz", "brew install graphviz",
                   "python make_docs.py --pages-only"]:
        assert advice in done.stderr
    assert list(tmp_path.iterdir()) == []  # it stopped before writing anything


@pytest.mark.parametrize("module", ["pycco", "latex2mathml", "matplotlib"])
def test_make_docs_without_a_docs_package_names_the_requirements_file(tmp_path, module):
    need_the_docs_packages()
    done = run_without(module, "make_docs.py", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{module} is not installed: pip install -r requirements-docs.txt"]


def test_a_missing_part_skips_a_test_but_fails_it_in_ci(monkeypatch):
    reason = "no_such_module is not installed: pip install -r requirements-x.txt"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=reason):
        need("no_such_module", "requirements-x.txt")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=reason):
        need("no_such_module", "requirements-x.txt")
    assert need("json", "requirements-x.txt").__name__ == "json"


# exercises.py's promise: `python exercises.py mine.py` runs the exercises'
# tests on the reader's functions, and skips the exercises mine.py leaves out.
def test_exercises_py_checks_a_reader_s_own_solutions(tmp_path):
    mine = tmp_path / "mine.py"
    mine.write_text(
        "import numpy as np\n"
        "from ops import BaseOp\n\n\n"
        "class TanhOp(BaseOp):\n"
        "    def compute(self, sess, x):\n"
        "        return np.tanh(x)\n\n"
        "    def gradient(self, grad):  # wrong: tanh' is 1 - tanh²\n"
        "        return [grad * (1 + self.output * self.output)]\n\n\n"
        "def tanh(x):\n"
        "    return TanhOp([x], x.graph).output\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "exercises.py"), str(mine), "-q", "-p", "no:cacheprovider",
         "-k", "exercise_2_tanh_inside or exercise_6_a_quadratic"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout
    summary = done.stdout.splitlines()[-1]
    assert re.match(r"\d+ failed, \d+ skipped", summary), summary
    assert "exercise 6: " in done.stdout and "has no hessian_vector_product" in done.stdout
