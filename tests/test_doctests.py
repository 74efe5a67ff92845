"""The examples in the docstrings of ``play/`` (and of the board's fast path) run and print what
they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import play

MODULES = sorted(f"play.{m.name}" for m in pkgutil.iter_modules(play.__path__)) + ["xiangqi.core"]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
