"""The README's Python examples run, and print what their comments say."""

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"),
                    re.M | re.S)


def test_the_readme_has_python_examples():
    assert BLOCKS


# In an example, a line `print(...)  # text` promises that it prints `text`.
@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_example_prints_what_its_comments_say(block):
    promised = [line.split("#", 1)[1].strip() for line in block.splitlines()
                if line.startswith("print(") and "#" in line]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, str(README), "exec"), {})
    assert promised, "an example should say what it prints"
    assert printed.getvalue().splitlines() == promised


ROOT = README.parent
TEXT = README.read_text(encoding="utf-8")


def test_ci_runs_the_readme_s_install_step_and_test_command():
    # .ci/run, with its continued lines joined.
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace("\\\n", " ")
    assert "    pip install -r requirements.txt && python main.py\n" in TEXT
    assert "    python -m pytest\n" in TEXT
    install = re.search(r"^python -m pip install (.*)$", ci, re.M)[1]
    files = re.findall(r"-r (\S+)", install)
    assert files[0] == "requirements.txt"
    # ... with the optional parts the README says CI adds.
    assert set(files[1:]) == {"requirements-docs.txt", "requirements-lint.txt",
                              "requirements-tf.txt"}
    for command in ["python main.py", "ruff check .", "python -m pytest", "export CI=true"]:
        assert re.search(rf"^{re.escape(command)}(\s|$)", ci, re.M), command


def test_the_scale_table_has_the_columns_benchmarks_scale_py_prints():
    # scale.py is read, not imported: it is a script, with its own imports.
    tree = ast.parse((ROOT / "benchmarks" / "scale.py").read_text(encoding="utf-8"))
    columns = next(ast.literal_eval(node.value) for node in tree.body
                   if isinstance(node, ast.Assign) and node.targets[0].id == "COLUMNS")
    header = next(line for line in TEXT.splitlines() if line.startswith("| graph |"))
    assert header == "| " + " | ".join(columns) + " |"


def test_the_docs_are_served_on_this_machine_only():
    assert "python -m http.server -d docs -b 127.0.0.1" in TEXT
    assert "http.server -d docs\n" not in TEXT
