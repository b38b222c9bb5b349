"""CI runs exactly the README's test command: the same checks, in the same order, after the same install."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _steps(command: str) -> list[str]:
    return [step.strip() for step in command.split("&&")]


def readme_test_command() -> str:
    found = re.search(r"Run the tests[^\n]*\n\n```sh\n([^\n]+)\n```", (ROOT / "README.md").read_text())
    assert found, "README: no 'Run the tests' command block"
    return found[1]


def ci_test_command() -> str:
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "'.[test]'" in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_ci_runs_the_readme_test_command() -> None:
    readme, ci = _steps(readme_test_command()), _steps(ci_test_command())
    # The install step differs only in how pip is called (CI is quiet and names the interpreter).
    assert readme[0] == "pip install -e '.[test]'"
    assert ci[0] == "python3 -m pip install --quiet -e '.[test]'"
    assert ci[1:] == readme[1:]


def test_the_test_command_checks_format_and_a_coverage_floor() -> None:
    steps = _steps(readme_test_command())
    assert "ruff check ." in steps and "ruff format --check ." in steps
    pytest_step = next(step for step in steps if step.startswith("python3 -m pytest"))
    assert re.search(r"--cov\b", pytest_step) and re.search(r"--cov-fail-under=\d+", pytest_step)
