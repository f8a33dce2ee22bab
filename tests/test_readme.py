"""README.md tells the truth: its commands are the ones CI runs and the CLI accepts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from broker.cli import build_parser
from broker.config import BrokerConfig

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands_under(heading: str) -> list[str]:
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_test_command_is_exactly_what_ci_runs() -> None:
    test_command = _commands_under("Run the tests")[0]
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert test_command in ci_lines


def test_ci_installs_every_system_package_the_readme_names() -> None:
    apt_line = next(c for c in _commands_under("Run the tests") if c.startswith("apt-get install"))
    ci_script = (ROOT / ".ci" / "run").read_text()
    for package in apt_line.split()[2:]:
        assert re.search(rf"\b{re.escape(package)}\b", ci_script), package


def test_readme_run_command_uses_the_installed_headwater_up() -> None:
    run_command = _commands_under("Run it")[0]
    assert run_command.endswith(".venv/bin/headwater up")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["headwater"] == "broker.cli:main"
    args = build_parser().parse_args(["up"])
    assert args.command == "up"


def test_readme_ports_are_the_defaults() -> None:
    (listener,) = BrokerConfig().listeners
    assert f"`{listener.host}:{listener.port}` | the Kafka broker" in README
    console = build_parser().parse_args(["up"]).console
    assert f"`http://{console}` | the console" in README
