"""Every test runs twice: once with sessions that walk their plans
(session.py), once with sessions that compile every plan on its first run
(compiler.py). Both must give the same values and the same errors."""

import pytest

import compiler
from session import Session


@pytest.fixture(autouse=True, params=["walked", "compiled"])
def executor(request, monkeypatch):
    if request.param == "walked":
        monkeypatch.setitem(Session.__init__.__kwdefaults__, "compile", False)
    else:
        monkeypatch.setattr(compiler.Compiler, "runs_before_compiling", 0)
        monkeypatch.setattr(compiler.Compiler, "strict", True)
    return request.param
