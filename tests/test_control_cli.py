"""The control subcommands of `sohar-mock` against a real mock on loopback: trigger, discover,
listen, advance, reset, verifications, discoveries, deliveries, replay, force, force-discovery,
load-scenario."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import receiving, request_for

from contract_tests.receiver import Reply, WebhookReceiver
from mock_server.cli import main
from mock_server.control.triggers import DISCOVERY_STATES, TRIGGERS
from mock_server.testing import RunningMock, free_port

OWN_ENV = {name: value for name, value in os.environ.items() if not name.startswith("SOHAR_MOCK_")}


class Ran:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("SOHAR_MOCK_URL", raising=False)

    def run(mock: RunningMock | str, *args: str) -> Ran:
        url = mock if isinstance(mock, str) else mock.base_url
        capsys.readouterr()
        try:
            code = main([args[0], "--url", url, *args[1:]])
        except SystemExit as exc:  # a usage error, refused by argparse
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def hooked(mock: RunningMock) -> Iterator[tuple[RunningMock, WebhookReceiver]]:
    """The shared mock with a receiver added through the admin API (gone with the next reset)."""
    with receiving() as receiver:
        assert mock.http.post("/__admin/webhooks/endpoints", json={"url": receiver.url}).status_code == 201
        yield mock, receiver


def create(mock: RunningMock, member_id: str = "00000000", environment: str = "sandbox") -> str:
    response = mock.http.post("/v2/verifications", json=request_for(member_id), headers=mock.headers(environment))
    return str(response.json()["verificationId"])


# -- trigger ----------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", TRIGGERS, ids=lambda t: f"{t.status}/{t.reason}")
def test_trigger_reaches_every_status_and_reason(run: Any, mock: RunningMock, trigger: Any) -> None:
    args = ["trigger", trigger.status, "--wait", "--json"] + (["--reason", trigger.reason] if trigger.reason else [])
    ran = run(mock, *args)
    assert ran.code == 0, ran.err
    body = ran.json()
    assert body["memberId"] == trigger.member_id and body["environment"] == "sandbox"
    if trigger.status == "pending":
        assert body["status"] == "pending" and body["rule"] == "payer-outage-then-recovers"
        assert [s["status"] for s in body["timeline"]] == ["pending", "pending"]
        mock.advance(5)
        assert mock.http.get(f"/__admin/verifications/{body['verificationId']}").json()["status"] == (
            "complete.eligible"
        )
    else:
        assert (body["status"], body["statusReason"]) == (trigger.status, trigger.reason)


def test_the_eight_statuses_are_all_covered() -> None:
    assert len({t.status for t in TRIGGERS}) == 8
    assert {t.reason for t in TRIGGERS} - {None} == {
        "INACTIVE",
        "NON_COVERED",
        "ACTIVE_PENDING_INVESTIGATION",
        "CONTACT_PAYER_REQUIRED",
    }


def test_trigger_prints_its_ids_in_a_table(run: Any, mock: RunningMock) -> None:
    ran = run(mock, "trigger", "error.payer.npi", "--environment", "production", "--id", "intake-42")
    assert ran.code == 0, ran.err
    [verification] = mock.http.get("/__admin/verifications").json()["verifications"]
    assert verification["environment"] == "production" and verification["id"] == "intake-42"
    header, row = ran.out.splitlines()
    assert header.split()[:3] == ["CREATED", "STATUS", "REASON"]
    assert verification["verificationId"] in row and "intake-42" in row and "production" in row


def test_trigger_defaults_complete_ineligible_to_inactive(run: Any, mock: RunningMock) -> None:
    ran = run(mock, "trigger", "complete.ineligible", "--wait", "--json")
    assert ran.code == 0 and ran.json()["statusReason"] == "INACTIVE"


def test_a_reason_the_status_does_not_take_is_a_usage_error(run: Any, mock: RunningMock) -> None:
    ran = run(mock, "trigger", "error.member.id", "--reason", "INACTIVE")
    assert ran.code == 2 and ran.err.strip() == "sohar-mock trigger: error.member.id has no statusReason"
    assert mock.http.get("/__admin/verifications").json()["count"] == 0


def test_trigger_wait_says_when_the_result_is_not_due_yet(run: Any) -> None:
    with RunningMock(freeze_clock=True, latency=3600) as slow:
        ran = run(slow, "trigger", "complete.eligible", "--wait", "--timeout", "0.2")
        assert ran.code == 1
        assert "still pending after 0.2 s" in ran.err and "sohar-mock advance" in ran.err
        assert len(ran.err.strip().splitlines()) == 1


def test_trigger_wait_fails_when_the_scenarios_decide_otherwise(run: Any, mock: RunningMock, tmp_path: Path) -> None:
    rule = "rules:\n  - name: all-npi\n    match: {payerId: '60054'}\n    outcome: {status: error.payer.npi}\n"
    mock.http.post("/__admin/scenarios", content=rule.encode())
    ran = run(mock, "trigger", "complete.eligible", "--wait")
    assert ran.code == 1
    assert "ended error.payer.npi / None, not complete.eligible / None" in ran.err


# -- the other commands -----------------------------------------------------------------------


def test_advance_and_reset(run: Any, mock: RunningMock) -> None:
    ran = run(mock, "advance", "90", "--json")
    assert ran.code == 0 and ran.json()["offsetSeconds"] == 90 and ran.json()["settled"] is True
    ran = run(mock, "advance", "1.5")
    assert ran.code == 0 and "offset 91.5 s, frozen" in ran.out
    create(mock)
    ran = run(mock, "reset")
    assert ran.code == 0 and ran.out.startswith("reset; mock clock") and "offset 0 s" in ran.out
    assert mock.http.get("/__admin/verifications").json()["count"] == 0
    assert run(mock, "advance", "-1").code == 2


def test_advance_past_the_bound_is_refused_with_the_mocks_message(run: Any, mock: RunningMock) -> None:
    ran = run(mock, "advance", str(400 * 86400))
    assert ran.code == 1
    assert ran.err.startswith("sohar-mock advance: the mock refused: HTTP 400: param seconds, seconds must be")


def test_verifications_lists_and_filters(run: Any, mock: RunningMock) -> None:
    eligible, pending = create(mock), create(mock, "30000000")
    ran = run(mock, "verifications")
    assert ran.code == 0 and eligible in ran.out and pending in ran.out
    ran = run(mock, "verifications", "--status", "pending", "--json")
    assert [v["verificationId"] for v in ran.json()["verifications"]] == [pending]
    ran = run(mock, "verifications", "--limit", "1", "--json")
    assert [v["verificationId"] for v in ran.json()["verifications"]] == [pending]
    ran = run(mock, "verifications", "--environment", "production")
    assert ran.code == 0 and ran.out.strip() == "(none)"


# -- discoveries ----------------------------------------------------------------------------------


def discover(mock: RunningMock, state: str = "NY", environment: str = "sandbox") -> str:
    patient = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": state}
    response = mock.http.post("/v2/discovery", json={"patient": patient}, headers=mock.headers(environment))
    assert response.status_code == 201, response.text
    return str(response.json()["discoveryId"])


@pytest.mark.parametrize(("state", "found"), DISCOVERY_STATES.items())
def test_discover_reaches_every_sandbox_value(run: Any, mock: RunningMock, state: str, found: str) -> None:
    ran = run(mock, "discover", state, "--wait", "--json")
    assert ran.code == 0, ran.err
    detail = ran.json()
    assert detail["status"] == "complete" and detail["rule"] == f"sandbox-discovery-{state}"
    pairs = [f"{c['payerId']}/{c['memberId']}" for c in detail["coverages"]]
    assert pairs == ([] if found == "none" else [found])
    assert [step["cause"] for step in detail["timeline"]] == ["created", "scheduled"]


def test_discover_prints_a_table_and_passes_the_mocks_refusal(run: Any, mock: RunningMock) -> None:
    ran = run(mock, "discover", "ny", "--id", "intake-9")
    assert ran.code == 0, ran.err
    header, row = ran.out.splitlines()
    assert header.split()[:4] == ["CREATED", "STATUS", "ENV", "DISCOVERY"]
    assert "complete" in row and "intake-9" in row and "62308/00000000" in row and "sandbox-discovery-NY" in row
    refused = run(mock, "discover", "ZZ")
    assert refused.code == 1 and refused.err.startswith("sohar-mock discover: the mock refused: HTTP 400")
    assert "patient.state" in refused.err


def test_discover_wait_says_when_the_result_is_not_due_yet(run: Any) -> None:
    with RunningMock(freeze_clock=True, latency=3600) as slow:
        ran = run(slow, "discover", "NY", "--wait", "--timeout", "0.3")
        assert ran.code == 1
        assert "still pending after 0.3 s; its next transition is due at" in ran.err and "sohar-mock advance" in ran.err


def test_discoveries_lists_and_filters(run: Any, mock: RunningMock) -> None:
    found, waiting = discover(mock), discover(mock, "OH")
    mock.http.post(f"/__admin/discoveries/{waiting}/status", json={"status": "pending"})
    ran = run(mock, "discoveries")
    assert ran.code == 0 and found in ran.out and waiting in ran.out and "62308/00000000" in ran.out
    ran = run(mock, "discoveries", "--status", "pending", "--json")
    assert [d["discoveryId"] for d in ran.json()["discoveries"]] == [waiting]
    ran = run(mock, "discoveries", "--status", "complete", "--json")
    assert [d["discoveryId"] for d in ran.json()["discoveries"]] == [found]
    ran = run(mock, "discoveries", "--limit", "1", "--json")
    assert [d["discoveryId"] for d in ran.json()["discoveries"]] == [waiting]
    assert run(mock, "discoveries", "--environment", "production").out.strip() == "(none)"
    assert run(mock, "discoveries", "--status", "eligible").code == 2  # not a discovery status: argparse


def test_force_discovery_and_its_errors(run: Any, mock: RunningMock) -> None:
    discovery_id = discover(mock)
    ran = run(
        mock, "force-discovery", discovery_id, "complete", "--coverage", "60054:00000001", "--coverage", "62308:A100"
    )
    assert ran.code == 0, ran.err
    assert "60054/00000001, 62308/A100" in ran.out
    ran = run(mock, "force-discovery", discovery_id, "pending", "--json")
    assert ran.code == 0 and ran.json()["status"] == "pending" and ran.json()["coverages"] == []
    refused = run(mock, "force-discovery", discovery_id, "pending", "--coverage", "60054:1")
    assert refused.code == 1 and "param coverages" in refused.err
    unknown = run(mock, "force-discovery", discovery_id, "complete", "--coverage", "99999:1")
    assert unknown.code == 1 and "unknown payer '99999'" in unknown.err
    assert run(mock, "force-discovery", discovery_id, "complete", "--coverage", "60054").code == 2
    missing = run(mock, "force-discovery", "nope", "complete")
    assert (
        missing.code == 1 and missing.err.strip() == "sohar-mock force-discovery: the mock refused: HTTP 404: not found"
    )


def test_deliveries_of_a_discovery(run: Any, hooked: tuple[RunningMock, WebhookReceiver]) -> None:
    mock, receiver = hooked
    discovery_id = discover(mock)
    create(mock)
    receiver.wait_for_count(2)
    mock.advance(0)
    ran = run(mock, "deliveries", "--discovery-id", discovery_id, "--json")
    [message] = ran.json()["deliveries"]
    assert message["discoveryId"] == discovery_id and message["event"] == "sandbox.discovery.updated"
    table = run(mock, "deliveries", "--discovery-id", discovery_id)
    assert discovery_id in table.out and "VERIFICATION/DISCOVERY ID" in table.out
    assert len(table.out.strip().splitlines()) == 2


def test_deliveries_replay_and_their_errors(run: Any, hooked: tuple[RunningMock, WebhookReceiver]) -> None:
    mock, receiver = hooked
    verification_id = create(mock)
    receiver.wait_for_count(1)
    mock.advance(0)
    ran = run(mock, "deliveries", "--state", "delivered", "--json")
    [message] = ran.json()["deliveries"]
    assert message["verificationId"] == verification_id
    table = run(mock, "deliveries", "--verification-id", verification_id)
    assert message["id"] in table.out and "delivered" in table.out and "200" in table.out
    assert run(mock, "deliveries", "--state", "failed").out.strip() == "(none)"

    replayed = run(mock, "replay", message["id"])
    assert replayed.code == 0, replayed.err
    assert "replay" in replayed.out and len(receiver.wait_for_count(2)) == 2
    assert [a["trigger"] for a in run(mock, "replay", message["id"], "--json").json()["attempts"]] == [
        "scheduled",
        "replay",
        "replay",
    ]
    missing = run(mock, "replay", "msg_nope")
    assert missing.code == 1 and missing.err.strip() == "sohar-mock replay: the mock refused: HTTP 404: not found"


def test_force_and_its_errors(run: Any, mock: RunningMock) -> None:
    verification_id = create(mock)
    ran = run(mock, "force", verification_id, "complete.ineligible", "--reason", "NON_COVERED", "--json")
    assert ran.code == 0 and (ran.json()["status"], ran.json()["statusReason"]) == (
        "complete.ineligible",
        "NON_COVERED",
    )
    refused = run(mock, "force", verification_id, "complete.ineligible")
    assert refused.code == 1 and "param statusReason" in refused.err
    assert run(mock, "force", verification_id, "eligible").code == 2  # not a status: argparse refuses it


def test_load_scenario(run: Any, mock: RunningMock, tmp_path: Path) -> None:
    good = tmp_path / "team.yaml"
    good.write_text(
        "name: team\nrules:\n  - name: npi\n    match: {patient.memberId: '7'}\n"
        "    outcome: {status: error.payer.npi}\n"
    )
    ran = run(mock, "load-scenario", str(good))
    assert ran.code == 0 and ran.out.startswith("loaded team: 0 payers") and "rules tried first: npi" in ran.out
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: x\n    match: {patient.memberId: '7'}\n    outcome: {status: nope}\n")
    refused = run(mock, "load-scenario", str(bad))
    assert refused.code == 1 and "bad.yaml:" in refused.err and len(refused.err.strip().splitlines()) == 1
    missing = run(mock, "load-scenario", str(tmp_path / "absent.yaml"))
    assert missing.code == 2 and "cannot read" in missing.err


def test_no_mock_at_the_url_is_one_line_and_exit_2(run: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for command in (
        ["verifications"],
        ["discoveries"],
        ["reset"],
        ["trigger", "complete.eligible"],
        ["discover", "NY"],
        ["listen"],
        ["advance", "1"],
    ):
        ran = run(url, *command)
        assert ran.code == 2
        assert ran.err == f"sohar-mock {command[0]}: no mock answers at {url} (connection refused)\n"


def test_a_server_that_is_not_the_mock_is_named(run: Any) -> None:
    with receiving([Reply(404)]) as other:
        url = other.url.removesuffix("/webhooks")
        ran = run(url, "reset")
        assert ran.code == 2 and "is not a Sohar mock" in ran.err


def test_the_url_comes_from_the_environment(
    mock: RunningMock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOHAR_MOCK_URL", mock.base_url)
    assert main(["advance", "2"]) == 0
    assert "offset 2 s" in capsys.readouterr().out
    monkeypatch.setenv("SOHAR_MOCK_URL", "localhost:8080")
    assert main(["reset"]) == 2
    assert "SOHAR_MOCK_URL: expected an http(s):// URL" in capsys.readouterr().err


# -- listen, as a process: lines as they come, Ctrl-C ------------------------------------------------


class Listening:
    def __init__(self, url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "listen", "--url", url, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**OWN_ENV, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._arrived = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(stream, into), daemon=True)
            for stream, into in ((self.process.stdout, self.lines), (self.process.stderr, self.errors))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, into: list[str]) -> None:
        for text in stream:
            with self._arrived:
                into.append(text)
                self._arrived.notify_all()

    def wait_for(self, into: list[str], predicate: Any, timeout: float = 20) -> str:
        with self._arrived:
            found = self._arrived.wait_for(lambda: next((t for t in into if predicate(t)), None), timeout)
        assert found, f"nothing matched within {timeout} s: out={self.lines} err={self.errors}"
        return str(found)

    def interrupt(self, sig: int = signal.SIGINT) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=15)
        # Every line read before the pipes are closed: no unclosed-file ResourceWarning.
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            stream.close()
        return code


def test_listen_prints_each_attempt_and_stops_on_ctrl_c(hooked: tuple[RunningMock, WebhookReceiver]) -> None:
    mock, receiver = hooked
    listening = Listening(mock.base_url)
    try:
        listening.wait_for(listening.errors, lambda t: t.startswith("Ready"))
        verification_id = create(mock)
        line = listening.wait_for(listening.lines, lambda t: verification_id in t)
        assert "sandbox.verification.updated" in line and "complete.eligible" in line
        assert "scheduled -> 200" in line and receiver.url in line
        [message] = mock.http.get("/__admin/webhooks/deliveries").json()["deliveries"]
        assert message["id"] in line
        mock.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay")
        replay = listening.wait_for(listening.lines, lambda t: "replay -> 200" in t)
        assert message["id"] in replay
        discovery_id = discover(mock)
        found = listening.wait_for(listening.lines, lambda t: discovery_id in t)
        assert "sandbox.discovery.updated" in found and "complete" in found and "scheduled -> 200" in found
    finally:
        code = listening.interrupt()
    assert code == 0
    assert listening.lines[0].split()[:3] == ["at", "event", "verification/discovery"]
    assert "".join(listening.errors).endswith("stopped\n") and "Traceback" not in "".join(listening.errors)


def test_listen_json_filters_events_and_stops_on_sigterm(hooked: tuple[RunningMock, WebhookReceiver]) -> None:
    mock, receiver = hooked
    listening = Listening(mock.base_url, "--json", "--events", "verification.updated", "verification.pending")
    try:
        listening.wait_for(listening.errors, lambda t: t.startswith("Ready"))
        create(mock)  # sandbox: filtered out
        production = create(mock, "10000000", environment="production")
        line = listening.wait_for(listening.lines, lambda t: production in t)
        receiver.wait_for_count(2)
    finally:
        code = listening.interrupt(signal.SIGTERM)
    assert code == 0
    record = json.loads(line)
    assert record["event"] == "verification.updated" and record["payload"]["status"] == "error.member.id"
    assert record["attempt"]["attempt"] == 1 and record["attempt"]["statusCode"] == 200
    assert [json.loads(t)["verificationId"] for t in listening.lines] == [production]


def test_listen_says_when_the_mock_is_reset(hooked: tuple[RunningMock, WebhookReceiver]) -> None:
    mock, _ = hooked
    listening = Listening(mock.base_url)
    try:
        listening.wait_for(listening.errors, lambda t: t.startswith("Ready"))
        mock.reset()
        listening.wait_for(listening.errors, lambda t: "reset" in t)
    finally:
        assert listening.interrupt() == 0
