"""``xqgpt uci``: the model as an engine on stdin/stdout, in the protocol the GUI opens with.

A GUI that opens with ``ucci`` is served in UCCI (:class:`play.ucci.UcciSession`), any other in
UCI (:class:`play.uci.UciSession`); both protocol modules sit below this one.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from .levels import DEFAULT_LEVEL, check_level
from .ucci import UcciSession
from .uci import UciSession


def run(model_dir: str | None, level: str, stdin: TextIO, stdout: TextIO,
        value_dir: str | None = None) -> int:
    """Serve UCI commands from ``stdin`` until ``quit`` or end of input; UCCI ones when the first
    command is ``ucci``; raises :class:`~play.levels.UnknownLevel` for a bad ``level``."""
    check_level(level)
    session: UciSession | None = None
    for line in stdin:
        if session is None:
            kind = UcciSession if line.strip() == "ucci" else UciSession
            session = kind(model_dir, level, stdout, value_dir)
        if not session.handle(line.strip()):
            break
    else:
        if session is not None:
            session.wait()
    return 0


def main(args: argparse.Namespace) -> int:
    """Entry point of ``xqgpt uci``."""
    return run(args.model, args.level or DEFAULT_LEVEL, sys.stdin, sys.stdout, getattr(args, "value", None))
