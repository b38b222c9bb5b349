"""Users' type checkers see the kit's types: both packages carry a `py.typed` marker (PEP 561).

A suite outside this repository annotates the `sohar_mock` fixture as a user would and runs
mypy on it with the packages importable the way an installed copy is. Without the marker, mypy
refuses to read them ("missing library stubs or py.typed marker") and every type is `Any`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

USER_SUITE = """\
from contract_tests.harness import SoharMock
from mock_server.testing import RunningMock


def test_intake(sohar_mock: SoharMock) -> None:
    reveal_type(sohar_mock.base_url)
    reveal_type(sohar_mock.wait_for_webhook("v").status)
    reveal_type(RunningMock)
    sohar_mock.advance("five")
"""


def test_a_users_type_checker_reads_the_fixtures_types(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_SUITE)
    # PYTHONPATH is how this checkout is importable here (as an installed copy is in site-packages):
    # mypy treats both alike and reads a package from either only if it has the marker.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MYPYPATH", None)
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run(
        [*mypy, "test_user.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    lines = result.stdout.splitlines()
    assert not [line for line in lines if "import-untyped" in line or "import-not-found" in line], result.stdout
    revealed = {line.split(":")[1]: line.split("Revealed type is ")[1] for line in lines if "Revealed type" in line}
    assert revealed["6"] == '"str"', result.stdout
    assert revealed["7"] == '"str | None"', result.stdout
    assert revealed["8"].endswith(') -> mock_server.testing.RunningMock"'), result.stdout
    # A mistake in the user's code is caught, which it could not be if the types were Any.
    assert any(line.startswith("test_user.py:9: error:") and "[arg-type]" in line for line in lines), result.stdout
    assert result.returncode == 1, result.stdout + result.stderr
