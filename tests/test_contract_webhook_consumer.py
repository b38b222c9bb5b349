"""`sohar-contract webhook-consumer` against real consumers on loopback: the correct one passes, the naive one fails."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from svix.webhooks import Webhook, WebhookVerificationError

from contract_tests import consumer_check
from contract_tests.cli import main
from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import RunningApp, free_port

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # Svix's documented example secret


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_checker(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> tuple[int, str]:
    code = main(["webhook-consumer", "--url", url, "--secret", SECRET, *extra])
    return code, capsys.readouterr().out


def results(output: str) -> dict[str, dict[str, Any]]:
    return {item["case"]: item for item in json.loads(output)}


REJECT_CASES = {case.name for case in consumer_check.build_cases(SECRET) if case.expect == consumer_check.REJECT}
# Names only at collection: a case signs its timestamps when built, so it is built when it runs.
CASE_NAMES = [case.name for case in consumer_check.build_cases(SECRET)]


def case_named(name: str) -> consumer_check.Case:
    return next(case for case in consumer_check.build_cases(SECRET) if case.name == name)


def test_the_issue_s_case_list_is_covered() -> None:
    names = {case.name for case in consumer_check.build_cases(SECRET)}
    for status in consumer_check.STATUSES:
        assert f"valid {status}" in names
    assert {"valid discovery pending", "valid discovery complete"} <= names
    assert {
        "bad signature",
        "wrong secret",
        "body changed by one byte",
        "re-serialized body",
        "timestamp 6 min old",
        "timestamp 6 min ahead",
        "missing svix-id",
        "missing svix-timestamp",
        "missing svix-signature",
        "webhook-* header names",
        "two signatures, one valid",
        "unknown event type",
        "same svix-id twice",
    } <= names


@pytest.mark.parametrize("name", CASE_NAMES)
def test_each_case_is_what_it_claims_for_the_official_verifier(name: str) -> None:
    # The checker's expectation table must agree with svix itself on every delivery it sends.
    case = case_named(name)
    webhook = Webhook(SECRET)
    for delivery in case.deliveries:
        try:
            webhook.verify(delivery.body, delivery.headers)
            verdict = consumer_check.ACCEPT
        except WebhookVerificationError:
            verdict = consumer_check.REJECT
        assert verdict == case.expect, case.why


def test_event_names_follow_status_and_environment() -> None:
    assert consumer_check.event_name("pending", "sandbox") == "sandbox.verification.pending"
    assert consumer_check.event_name("complete.eligible", "sandbox") == "sandbox.verification.updated"
    assert consumer_check.event_name("error.payer", "production") == "verification.updated"
    production = consumer_check.build_cases(SECRET, "production")
    events = {json.loads(c.deliveries[0].body)["event"] for c in production if c.name.startswith("valid ")}
    assert events == {"verification.updated", "verification.pending", "discovery.updated"}
    sandbox = consumer_check.build_cases(SECRET)
    discovery = [json.loads(c.deliveries[0].body) for c in sandbox if c.name.startswith("valid discovery")]
    assert [(p["event"], p["status"], list(p)) for p in discovery] == [
        ("sandbox.discovery.updated", status, ["event", "discoveryId", "status", "id"])
        for status in consumer_check.DISCOVERY_STATUSES
    ]


def test_the_example_consumer_passes_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("webhook_consumer")
    app = example.build_app(SECRET)
    with RunningApp(app) as running:
        code, output = run_checker(capsys, f"{running.url}/webhooks/sohar", "--json")
        processed = httpx.get(f"{running.url}/events").json()["events"]
    outcome = results(output)
    assert code == 0, output
    assert all(item["passed"] for item in outcome.values())
    assert outcome["same svix-id twice"]["answers"] == ["200", "200"]
    # Acknowledged twice, processed once; the unknown event acknowledged but not processed.
    message_ids = [event["messageId"] for event in processed]
    assert len(message_ids) == len(set(message_ids))
    assert "sandbox.verification.archived" not in {event["event"] for event in processed}
    statuses = {event["status"] for event in processed}
    assert set(consumer_check.STATUSES) <= statuses
    discoveries = [event for event in processed if event["event"] == "sandbox.discovery.updated"]
    assert sorted(event["status"] for event in discoveries) == ["complete", "pending"]


def test_the_naive_consumer_fails_every_forgery(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("naive_webhook_consumer")
    with RunningApp(example.build_app()) as running:
        code, output = run_checker(capsys, f"{running.url}/webhooks/sohar", "--json")
    outcome = results(output)
    assert code == consumer_check.EXIT_WRONG_ANSWER
    wrong = {name for name, item in outcome.items() if not item["passed"]}
    assert wrong == REJECT_CASES


def test_the_table_names_each_wrong_answer(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("naive_webhook_consumer")
    with RunningApp(example.build_app()) as running:
        code, output = run_checker(capsys, f"{running.url}/webhooks/sohar")
    assert code == 1
    bad_signature = next(line for line in output.splitlines() if line.startswith("bad signature"))
    assert "reject" in bad_signature and "200" in bad_signature and "WRONG" in bad_signature
    assert f"{len(REJECT_CASES)} wrong" in output


def test_a_consumer_with_another_secret_rejects_genuine_deliveries(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("webhook_consumer")
    with RunningApp(example.build_app(DEFAULT_WEBHOOK_SECRET)) as running:
        code, output = run_checker(capsys, f"{running.url}/webhooks/sohar", "--json")
    outcome = results(output)
    assert code == 1
    assert not outcome["valid complete.eligible"]["passed"]


def test_an_unreachable_endpoint_is_a_setup_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["webhook-consumer", "--url", f"http://127.0.0.1:{free_port()}/hook", "--secret", SECRET])
    assert code == consumer_check.EXIT_UNREACHABLE
    assert "did not answer" in capsys.readouterr().err
