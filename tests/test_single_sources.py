"""Each fact written once: the version, the documented member the benchmark sends, the server
runner, the webhook receiver. (The status vocabulary: test_statuses.py.)"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path

from mock_server import __version__
from mock_server.testing import DOCUMENTED_MEMBER, SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def test_the_version_is_written_in_the_package_alone() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    source = ROOT / pyproject["tool"]["hatch"]["version"]["path"]
    assert source == ROOT / "mock_server" / "__init__.py"
    assert re.findall(r'^__version__ = "([^"]+)"$', source.read_text(), re.MULTILINE) == [__version__]


def test_the_benchmark_sends_the_documented_member_itself() -> None:
    spec = importlib.util.spec_from_file_location("bench_client", ROOT / "bench" / "client.py")
    assert spec is not None and spec.loader is not None
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    assert client.CREATE_BODY == {**DOCUMENTED_MEMBER, "id": "123456"}
    assert client.CREATE_BODY["patient"] is DOCUMENTED_MEMBER["patient"]  # taken, not copied
    assert client.CREDENTIALS is SANDBOX_CREDENTIALS


def _calls(path: Path, dotted: str) -> int:
    owner, _, name = dotted.rpartition(".")
    return sum(
        1
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == owner
    )


def test_one_runner_serves_the_mock_and_any_other_app() -> None:
    testing = ROOT / "mock_server" / "testing.py"
    assert _calls(testing, "uvicorn.Server") == 1
    assert _calls(testing, "threading.Thread") == 1


def test_the_tests_use_the_contract_kits_receiver() -> None:
    assert not (TESTS / "receiver.py").exists()
    local = [
        path.name
        for path in sorted(TESTS.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.ImportFrom) and node.module == "receiver")
        or (isinstance(node, ast.Import) and any(alias.name == "receiver" for alias in node.names))
    ]
    assert local == []
