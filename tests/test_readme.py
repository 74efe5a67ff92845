"""The README is a front door that stays true: its example runs, its tables match the code."""

from __future__ import annotations

import argparse
import doctest
import re
from pathlib import Path

from xqgpt.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def section(title: str) -> str:
    """The text of the README section headed ``## title``, up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no section '## {title}'"
    return match.group(1)


def subcommands(parser: argparse.ArgumentParser, prefix: str = "xqgpt") -> list[str]:
    """Every leaf command of the CLI, e.g. ``xqgpt serve`` and ``xqgpt data build``."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += subcommands(sub, f"{prefix} {name}") or [f"{prefix} {name}"]
    return found


def test_readme_example_runs():
    """The Python example in the README runs and prints what it shows (a doctest)."""
    text = README.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, "README.md", str(README), 0)
    assert len(test.examples) >= 10, "the README's example lost its >>> lines"
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_cli_table_lists_every_subcommand():
    """The command table has a row for each subcommand and none for a command that is gone."""
    table = section("Command line")
    commands = subcommands(build_parser())
    missing = [c for c in commands if f"| `{c}" not in table]
    assert missing == [], f"README.md's command table lacks {missing}"
    rows = re.findall(r"^\| `(xqgpt [a-z][a-z-]*(?: [a-z][a-z-]*)?)", table, re.M)
    stale = [r for r in rows if r not in commands]
    assert stale == [], f"README.md's command table has rows for no command: {stale}"


def test_folder_layout_matches_the_checkout():
    """Every folder the layout names exists, and every top-level package is named."""
    block = re.search(r"```text\n(.*?)```", section("Folder layout"), re.S)
    assert block, "the folder layout is no longer a ```text block"
    listed = [line.split()[0] for line in block.group(1).splitlines()
              if line.strip() and not line[0].isspace()]  # an indented line goes on describing the one above
    assert all(name.endswith("/") for name in listed), listed
    assert [n for n in listed if not (ROOT / n).is_dir()] == []
    packages = {f"{p.parent.name}/" for p in ROOT.glob("*/__init__.py")}
    assert sorted(packages - set(listed)) == []
