"""One vocabulary of statuses and statusReasons (mock_server/statuses.py), and everything that
speaks it agrees: both specs' enums, the lifecycle, the scenario loader, the contract kit."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ADMIN_SPEC, SPEC

from contract_tests import consumer_check
from mock_server import statuses
from mock_server.domain import discovery_lifecycle, lifecycle
from mock_server.scenarios import ScenarioError, load_text

SCHEMAS = SPEC["components"]["schemas"]


def test_the_spec_lists_the_same_statuses_in_the_same_order() -> None:
    assert SCHEMAS["WebhookPayload"]["properties"]["status"]["enum"] == list(statuses.STATUSES)


def test_the_spec_lists_the_same_status_reasons_in_the_same_order() -> None:
    enum = SCHEMAS["FullVerificationV2Response"]["properties"]["statusReason"]["enum"]
    assert enum == [*statuses.STATUS_REASON_VALUES, None]
    assert {r for reasons in statuses.STATUS_REASONS.values() for r in reasons} == set(statuses.STATUS_REASON_VALUES)


def _force_status_choices() -> list[dict[str, Any]]:
    operation = ADMIN_SPEC["paths"]["/__admin/verifications/{verificationId}/status"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return [choice["properties"] for choice in schema["oneOf"]]


def test_the_admin_spec_pairs_statuses_and_reasons_as_the_vocabulary_does() -> None:
    reasons_by_status: dict[str, set[str]] = {}
    required: set[str] = set()
    for choice in _force_status_choices():
        reason_enum = choice.get("statusReason", {}).get("enum", [None])
        for status in choice["status"]["enum"]:
            reasons_by_status[status] = {r for r in reason_enum if r is not None}
            if None not in reason_enum:
                required.add(status)
    assert set(reasons_by_status) == set(statuses.STATUSES)
    assert {s: r for s, r in reasons_by_status.items() if r} == {s: set(r) for s, r in statuses.STATUS_REASONS.items()}
    assert required == statuses.REASON_REQUIRED


def test_the_lifecycle_reads_the_vocabulary() -> None:
    assert lifecycle.PENDING == statuses.PENDING
    assert set(statuses.STATUSES) == lifecycle.STATUSES
    assert set(statuses.FINAL_STATUSES) == lifecycle.FINAL
    assert {s: frozenset(r) for s, r in statuses.STATUS_REASONS.items()} == lifecycle.STATUS_REASONS
    assert set(lifecycle.TRANSITIONS) == {lifecycle.PROCESSING, *statuses.STATUSES}


def test_the_contract_kit_checks_every_status_in_order() -> None:
    assert consumer_check.STATUSES == statuses.STATUSES


def _loads(status: str, reason: str | None) -> bool:
    outcome = f"{{status: {status}" + ("}" if reason is None else f", statusReason: {reason}}}")
    try:
        load_text(f"rules:\n  - match: {{patient.memberId: X}}\n    outcome: {outcome}\n", "s.yaml")
    except ScenarioError:
        return False
    return True


@pytest.mark.parametrize("status", [*statuses.STATUSES, "complete.maybe"])
def test_the_scenario_loader_accepts_exactly_the_vocabularys_pairs(status: str) -> None:
    for reason in [None, *statuses.STATUS_REASON_VALUES, "BOGUS"]:
        known = status in statuses.STATUSES
        if reason is None:
            expected = known and status not in statuses.REASON_REQUIRED
        else:
            expected = known and reason in statuses.STATUS_REASONS.get(status, ())
        assert _loads(status, reason) is expected, (status, reason)


def test_the_discovery_statuses_are_the_vocabularys_everywhere() -> None:
    expected = list(statuses.DISCOVERY_STATUSES)
    assert SCHEMAS["FullDiscoveryResponse"]["properties"]["status"]["enum"] == expected
    assert SCHEMAS["DiscoveryWebhookPayload"]["properties"]["status"]["enum"] == expected
    admin = ADMIN_SPEC["components"]["schemas"]["DiscoverySummary"]["properties"]["status"]["enum"]
    assert admin == expected
    operation = ADMIN_SPEC["paths"]["/__admin/discoveries/{discoveryId}/status"]["post"]
    choices = operation["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert sorted(s for choice in choices for s in choice["properties"]["status"]["enum"]) == sorted(expected)
    assert set(statuses.DISCOVERY_STATUSES) == discovery_lifecycle.STATUSES
    assert set(discovery_lifecycle.TRANSITIONS) == {discovery_lifecycle.PROCESSING, *statuses.DISCOVERY_STATUSES}
    assert consumer_check.DISCOVERY_STATUSES == statuses.DISCOVERY_STATUSES


@pytest.mark.parametrize("status", [*statuses.DISCOVERY_STATUSES, "roster", "found"])
def test_the_scenario_loader_accepts_exactly_the_discovery_statuses_and_roster(status: str) -> None:
    coverages = ", coverages: []" if status == statuses.DISCOVERY_COMPLETE else ""
    text = f"discovery:\n  rules:\n    - match: {{patient.state: CA}}\n      outcome: {{status: {status}{coverages}}}\n"
    try:
        load_text(text, "s.yaml")
    except ScenarioError:
        loaded = False
    else:
        loaded = True
    assert loaded is (status in (*statuses.DISCOVERY_STATUSES, "roster"))
