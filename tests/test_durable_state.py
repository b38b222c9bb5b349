"""`--state PATH`: the mock's state in a SQLite file, read back by the next mock started on it.

Real mocks on loopback (`RunningMock(state_path=...)`), stopped and started again on one file;
webhooks to a real receiver that verifies every signature with svix. The process-level faults
(kill -9, SIGTERM, a second process) are in test_durable_faults.py.
"""

from __future__ import annotations

import re
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import receiving, request_for

from contract_tests.receiver import WebhookReceiver
from mock_server import __version__
from mock_server.core import MockCore
from mock_server.domain.state_file import SqliteState, StateFileError
from mock_server.settings import Settings
from mock_server.testing import RunningMock

PATIENT = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "NY"}
OUTAGE = textwrap.dedent(
    """\
    name: outage
    rules:
      - name: smith-pending
        match: {patient.lastName: Smith}
        outcome: {status: pending, recoverAfter: 60, then: {status: error.payer}}
    """
)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "mock.sqlite"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with receiving() as running:
        yield running


def durable(state_path: Path, receiver: WebhookReceiver | None = None, **overrides: Any) -> RunningMock:
    urls = (receiver.url,) if receiver is not None else ()
    return RunningMock(state_path=state_path, freeze_clock=True, seed=11, webhook_urls=urls, **overrides)


class Session:
    """The same calls made on any mock, so two runs (one restarted halfway) can be compared."""

    def __init__(self, mock: RunningMock, token: str | None = None) -> None:
        self.mock = mock
        self.token = token or mock.token()
        self.auth = {"authorization": f"Bearer {self.token}"}
        self.production = mock.headers("production")

    def create(self, member: str = "00000000", **patient: str) -> str:
        answer = self.mock.http.post("/v2/verifications", json=request_for(member, **patient), headers=self.auth)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["verificationId"])

    def get(self, verification_id: str) -> dict[str, Any]:
        answer = self.mock.http.get(f"/v2/verifications/{verification_id}", headers=self.auth)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def discover(self) -> str:
        answer = self.mock.http.post("/v2/discovery", json={"patient": PATIENT}, headers=self.auth)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["discoveryId"])

    def deliveries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.mock.http.get("/__admin/webhooks/deliveries").json()["deliveries"]
        return found


def first_half(session: Session, receiver: WebhookReceiver) -> dict[str, Any]:
    """Everything a state file keeps, made through the API; what the second half checks."""
    http, auth = session.mock.http, session.auth
    eligible = session.create()
    pending = session.create("30000000")  # the payer outage: pending, then eligible 5 s later
    discovery = session.discover()
    provider = http.post("/v1/providers", json={"npi": "1234567893", "payerId": "60054", "state": "CA"}, headers=auth)
    assert provider.status_code == 200, provider.text
    # Sohar's webhook management takes production credentials only.
    endpoint = http.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/never"}, headers=session.production)
    assert endpoint.status_code in (200, 201), endpoint.text
    loaded = http.post("/__admin/scenarios", params={"name": "outage.yaml"}, content=OUTAGE.encode())
    assert loaded.status_code == 201, loaded.text
    smith = session.create(lastName="Smith")
    session.mock.advance(1)  # the first results, and their webhooks
    receiver.wait_for(verification_id=eligible, status="complete.eligible")
    return {
        "eligible": eligible,
        "pending": pending,
        "smith": smith,
        "discovery": discovery,
        "bodies": {v: session.get(v) for v in (eligible, pending, smith)},
        "discovery_body": http.get(f"/v2/discovery/{discovery}", headers=auth).json(),
        "provider": provider.json()["providerId"],
        "endpoint": endpoint.json()["endpointId"],
        "deliveries": session.deliveries(),
        "clock": http.get("/__admin/clock").json(),
    }


def test_everything_a_mock_holds_survives_a_restart(state_path: Path, receiver: WebhookReceiver) -> None:
    with durable(state_path, receiver) as mock:
        session = Session(mock)
        before = first_half(session, receiver)
    assert state_path.exists()
    with durable(state_path, receiver) as mock:
        assert mock.core.restored.startswith("restored 3 verifications, 1 discoveries")
        again = Session(mock, session.token)  # the token issued before the restart still works
        http, auth = mock.http, again.auth
        assert {v: again.get(v) for v in before["bodies"]} == before["bodies"]
        assert http.get(f"/v2/discovery/{before['discovery']}", headers=auth).json() == before["discovery_body"]
        assert http.get(f"/v1/providers/{before['provider']}", headers=auth).status_code == 200
        listed = http.get("/v1/webhooks", headers=again.production).json()
        assert [e["endpointId"] for e in listed] == [before["endpoint"]]
        assert again.deliveries() == before["deliveries"]  # same ids, states and attempts
        assert http.get("/__admin/clock").json() == before["clock"]  # a frozen clock keeps its time
        files = http.get("/__admin/scenarios").json()["files"]
        assert files[-1]["loadedAt"] == "runtime"
        # What was waiting goes on from where it was: the outage ends 5 s after it began.
        mock.advance(4)
        assert again.get(before["pending"])["status"] == "complete.eligible"
        delivered = receiver.wait_for(verification_id=before["pending"], status="complete.eligible")
        assert delivered.message_id not in {d["id"] for d in before["deliveries"]}
        mock.advance(60)
        assert again.get(before["smith"])["status"] == "error.payer"  # the runtime file's rule


def test_a_seeded_mock_restarted_halfway_mints_the_ids_of_one_that_never_stopped(
    state_path: Path, tmp_path: Path
) -> None:
    def run(restart_at: int | None, path: Path | None) -> list[str]:
        made: list[str] = []
        mock = RunningMock(state_path=path, freeze_clock=True, seed=5).start()
        token = mock.token()
        try:
            for n in range(6):
                if n == restart_at:
                    mock.stop()
                    mock = RunningMock(state_path=path, freeze_clock=True, seed=5).start()
                made.append(Session(mock, token).create())
                made.append(Session(mock, token).discover())
        finally:
            mock.stop()
        return made

    assert run(3, state_path) == run(None, None)


def test_reset_empties_the_state_file(state_path: Path) -> None:
    with durable(state_path) as mock:
        session = Session(mock)
        session.create()
        mock.reset()
    with durable(state_path) as mock:
        assert mock.core.restored.startswith("restored 0 verifications, 0 discoveries")
        assert mock.http.get("/__admin/verifications").json()["count"] == 0
        Session(mock, session.token).create()  # tokens outlive a reset, and a restart after it
        mock.reset()
    with sqlite3.connect(state_path) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (0,)


def test_a_second_mock_on_the_same_file_refuses_to_start(state_path: Path) -> None:
    with durable(state_path), pytest.raises(StateFileError, match=r"is in use by another sohar-mock \(pid \d+\)"):
        MockCore(Settings(state_path=state_path))
    again = MockCore(Settings(state_path=state_path))  # free again once the first has stopped
    assert isinstance(again.state, SqliteState)
    again.state.close()


def test_a_file_from_another_version_is_refused_naming_both(state_path: Path) -> None:
    with durable(state_path) as mock:
        Session(mock).create()
    with sqlite3.connect(state_path) as db:
        db.execute("UPDATE meta SET value = '0.0.9' WHERE name = 'version'")
    before = state_path.read_bytes()
    with pytest.raises(StateFileError) as refused:
        MockCore(Settings(state_path=state_path))
    message = str(refused.value)
    assert f"written by sohar-mock 0.0.9; this is sohar-mock {__version__}" in message
    assert "\n" not in message
    assert state_path.read_bytes() == before  # refused, never rewritten


@pytest.mark.parametrize(
    "content",
    [b"not a database at all\n" * 100, b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["text", "truncated-sqlite"],
)
def test_a_corrupt_file_is_refused_in_one_line_and_left_as_it_was(state_path: Path, content: bytes) -> None:
    state_path.write_bytes(content)
    with pytest.raises(StateFileError, match=r"is corrupt or not a sohar-mock state file") as refused:
        MockCore(Settings(state_path=state_path))
    assert "\n" not in str(refused.value)
    assert state_path.read_bytes() == content


def test_another_programs_database_is_refused(state_path: Path) -> None:
    with sqlite3.connect(state_path) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO items (name) VALUES ('theirs')")
    with pytest.raises(StateFileError, match="not a sohar-mock state file"):
        MockCore(Settings(state_path=state_path))
    with sqlite3.connect(state_path) as db:
        assert db.execute("SELECT name FROM items").fetchall() == [("theirs",)]


@pytest.mark.parametrize(
    ("evil", "refused"),
    [
        # os.system, named outright.
        (b"cos\nsystem\n(S'echo pwned'\ntR.", "os.system"),
        # A function of the mock's own, called (it would open a state file wherever it is told).
        (
            b"cmock_server.domain.state_file\nopen_state\n(S'/no-such-folder/x'\nS'1'\ntR.",
            "mock_server.domain.state_file.open_state",
        ),
        # os as a mock module imports it, and getattr to reach os.system from there.
        (b"cbuiltins\ngetattr\ncmock_server.domain.state_file\nos\nS'system'\n\x86R.", "builtins.getattr"),
        (b"cmock_server.domain.state_file\nos\n.", "mock_server.domain.state_file.os"),
    ],
)
def test_an_item_that_would_run_code_is_refused(state_path: Path, evil: bytes, refused: str) -> None:
    with durable(state_path) as mock:
        Session(mock).create()
    # A state file is data: loading one must not run code, however the pickle reaches it.
    with sqlite3.connect(state_path) as db:
        db.execute("UPDATE items SET body = ? WHERE kind = 'verification'", (evil,))
    with pytest.raises(
        StateFileError, match=rf"is corrupt: an item cannot be read \({re.escape(refused)} has no place"
    ):
        MockCore(Settings(state_path=state_path))


@pytest.mark.parametrize(
    ("path", "message"),
    [("missing-folder/mock.sqlite", "does not exist"), (".", "is a folder")],
)
def test_a_state_path_that_cannot_be_a_file_is_a_config_error(tmp_path: Path, path: str, message: str) -> None:
    from mock_server.settings import ConfigError

    with pytest.raises(ConfigError, match=message):
        Settings(state_path=tmp_path / path)


def test_without_a_state_file_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with RunningMock() as mock:
        Session(mock).create()
        assert mock.core.restored is None
    assert list(tmp_path.iterdir()) == []


def test_a_smaller_cap_at_the_restart_keeps_the_newest(state_path: Path) -> None:
    with durable(state_path) as mock:
        session = Session(mock)
        made = [session.create() for _ in range(5)]
        mock.advance(1)
    with durable(state_path, max_verifications=2) as mock:
        listed = mock.http.get("/__admin/verifications").json()["verifications"]
        assert [v["verificationId"] for v in listed] == made[-2:]
    with durable(state_path) as mock:  # the file followed: the dropped ones are gone from it too
        assert mock.http.get("/__admin/verifications").json()["count"] == 2
