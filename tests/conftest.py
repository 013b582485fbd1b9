"""The tests of evaluation run twice: once with sessions that walk their plans
(session.py's `Session`), once with sessions that compile every plan on its
first run (compiler.py's `CompiledSession`). Both must give the same values
and the same errors. Tests of anything else (pictures, docs, the eager tape,
the compiler's own tests) run once."""

import sys

import pytest

import compiler
import session

# The modules whose tests evaluate graphs through `Session(graph)`.
BOTH_EXECUTORS = {
    "test_backward_pass", "test_control_flow", "test_digits", "test_dtypes", "test_errors",
    "test_exercises", "test_gradients", "test_new_ops", "test_ops",
    "test_properties", "test_session", "test_tf_control_flow", "test_tf_parity",
    "test_values", "test_xor",
}


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__.rpartition(".")[2] in BOTH_EXECUTORS:
        metafunc.parametrize("executor", ["walked", "compiled"], indirect=True)


# In the compiled half, every module that imported `Session` (the tests,
# their helpers, main.py, …) gets `CompiledSession` under that name instead,
# which compiles at once and fails the test on a plan it cannot write.
@pytest.fixture(autouse=True)
def executor(request, monkeypatch):
    kind = getattr(request, "param", "walked")
    if kind == "compiled":
        for module in list(sys.modules.values()):
            if getattr(module, "Session", None) is session.Session and module is not session:
                monkeypatch.setattr(module, "Session", compiler.CompiledSession)
        monkeypatch.setattr(compiler.CompiledSession, "runs_before_compiling", 0)
        monkeypatch.setattr(compiler.CompiledSession, "strict", True)
    return kind
