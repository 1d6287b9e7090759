"""Running the ``tracker`` command in-process, as a user would, with its exit code."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tracker.cli import main


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        return [line for line in self.out.splitlines() if line.strip()]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """``tracker ARGS...``: the exit code and what it printed on stdout and stderr."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
