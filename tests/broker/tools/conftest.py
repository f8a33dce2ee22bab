"""Run the real ``headwater`` console script against a broker subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.broker import REPO_ROOT, BrokerProcess


def headwater_command() -> list[str]:
    """The installed console script next to this interpreter (a venv's bin/), which is
    what users run; the same entry point through ``-c`` if it is not installed there."""
    script = Path(sys.executable).parent / "headwater"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from broker.cli import main; sys.exit(main())"]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Headwater:
    """``headwater <command> --bootstrap-server <the test broker> ARGS`` as a subprocess;
    ``command`` is the subcommand, e.g. ``"topics"`` or ``"perf produce"``.

    The subprocess timeout (60 s) exceeds the tools' own (30 s), so a stuck cluster shows
    as the tool's error message; a broker that died shows its log in the failure.
    """

    bootstrap: str
    broker: BrokerProcess | None = None

    def run(self, command: str, *args: str, stdin: bytes = b"", timeout: float = 60) -> Result:
        cmd = [*headwater_command(), *command.split(), "--bootstrap-server", self.bootstrap]
        proc = subprocess.run(
            [*cmd, *args],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        return Result(
            proc.returncode,
            proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"),
        )

    def ok(self, command: str, *args: str, stdin: bytes = b"", timeout: float = 60) -> str:
        result = self.run(command, *args, stdin=stdin, timeout=timeout)
        assert result.returncode == 0, self._explain(command, args, result)
        return result.stdout

    def fails(self, command: str, *args: str, stdin: bytes = b"", timeout: float = 60) -> str:
        """A user error: exit code 1, a ``headwater <command>: error:`` line, no traceback."""
        result = self.run(command, *args, stdin=stdin, timeout=timeout)
        assert result.returncode == 1, self._explain(command, args, result)
        assert "Traceback" not in result.stderr, result.stderr
        assert f"headwater {command}: error: " in result.stderr, result.stderr
        return result.stderr

    def _explain(self, command: str, args: tuple[str, ...], result: Result) -> str:
        text = f"headwater {command} {' '.join(args)} exited {result.returncode}:\n"
        text += f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        if self.broker is not None and not self.broker.alive():
            text += f"--- the broker died; its log:\n{self.broker.log()[-4000:]}"
        return text


@pytest.fixture
def headwater(shared_broker: BrokerProcess) -> Headwater:
    return Headwater(shared_broker.bootstrap, shared_broker)


@pytest.fixture
def topic() -> str:
    return f"tools-{uuid.uuid4().hex[:10]}"
