"""The /__admin control plane: health, reset, clock, verifications, runtime scenarios, journal."""

from __future__ import annotations

import itertools
import textwrap
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import request_for

from mock_server.settings import Settings
from mock_server.testing import RunningMock

# The packaged default scenario files the shared mock loads at start-up (Sohar's, the partner's).
STARTUP_FILES = len(Settings().scenario_files())


def test_health(mock: RunningMock) -> None:
    body = mock.http.get("/__admin/health").json()
    assert body["status"] == "ok"
    assert body["verifications"] == 0
    assert body["clock"]["offsetSeconds"] == 0


def test_advance_moves_the_clock_and_reset_restores_it(mock: RunningMock) -> None:
    before = mock.http.get("/__admin/clock").json()["nowUnix"]
    moved = mock.advance(3600)
    assert moved["offsetSeconds"] == 3600 and moved["settled"] is True
    assert moved["nowUnix"] >= before + 3600
    mock.http.post("/v2/verifications", json=request_for(), headers=mock.headers())
    assert mock.http.get("/__admin/health").json()["verifications"] == 1
    reset = mock.http.post("/__admin/reset").json()
    assert reset["clock"]["offsetSeconds"] == 0
    assert mock.http.get("/__admin/health").json()["verifications"] == 0


@pytest.mark.parametrize(
    "body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": True}, {"seconds": 10**12}, {"secs": 5}]
)
def test_advance_rejects_bad_seconds(mock: RunningMock, body: dict[str, object]) -> None:
    response = mock.http.post("/__admin/clock/advance", json=body)
    assert response.status_code == 400
    assert response.json()["param"] == "seconds"
    assert response.json()["message"]


def test_advance_rejects_malformed_json(mock: RunningMock) -> None:
    response = mock.http.post("/__admin/clock/advance", content=b"{")
    assert response.status_code == 400 and response.json()["param"] == "body"


def test_verifications_listing_and_filters(mock: RunningMock) -> None:
    headers = mock.headers()
    mock.http.post("/v2/verifications", json=request_for("00000000"), headers=headers)
    mock.http.post("/v2/verifications", json=request_for("30000000"), headers=headers)
    mock.http.post("/v2/verifications", json=request_for("10000000"), headers=mock.headers("production"))
    everything = mock.http.get("/__admin/verifications").json()
    assert everything["count"] == 3
    pending = mock.http.get("/__admin/verifications", params={"status": "pending"}).json()["verifications"]
    assert [v["memberId"] for v in pending] == ["30000000"]
    assert pending[0]["rule"] == "payer-outage-then-recovers"
    assert pending[0]["nextTransitionAt"] is not None
    production = mock.http.get("/__admin/verifications", params={"environment": "production"}).json()
    assert [v["status"] for v in production["verifications"]] == ["error.member.id"]
    one = mock.http.get(f"/__admin/verifications/{pending[0]['verificationId']}").json()
    assert one["body"]["status"] == "pending"
    assert mock.http.get("/__admin/verifications/nope").status_code == 404


EXTRA = textwrap.dedent(
    """\
    name: outage
    rules:
      - name: everyone-pending
        match: {patient.lastName: Doe}
        outcome: {status: pending, recoverAfter: 60, then: {status: error.payer}}
    """
)


def test_runtime_scenario_wins_until_reset(mock: RunningMock) -> None:
    loaded = mock.http.post("/__admin/scenarios", params={"name": "outage.yaml"}, content=EXTRA.encode())
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["rules"] == ["everyone-pending"]
    listing = mock.http.get("/__admin/scenarios").json()
    assert listing["rules"][0]["name"] == "everyone-pending"
    assert [f["loadedAt"] for f in listing["files"]] == ["startup"] * STARTUP_FILES + ["runtime"]
    headers = mock.headers()
    created = mock.http.post("/v2/verifications", json=request_for(), headers=headers).json()
    url = f"/v2/verifications/{created['verificationId']}"
    assert mock.http.get(url, headers=headers).json()["status"] == "pending"
    mock.advance(60)
    assert mock.http.get(url, headers=headers).json()["status"] == "error.payer"
    mock.reset()
    assert len(mock.http.get("/__admin/scenarios").json()["files"]) == STARTUP_FILES


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("rules: [\n", "broken.yaml:2: not valid YAML"),
        ("rules:\n  - match: {}\n    outcome: {status: pending}\n", "broken.yaml:2"),
        (
            "members:\n  - {memberId: A, payerId: NOPE, firstName: A, lastName: B, dateOfBirth: 01/01/2000}\n",
            "unknown payer",
        ),
        ("", "empty"),
    ],
)
def test_bad_runtime_scenario_is_400_and_changes_nothing(mock: RunningMock, content: str, fragment: str) -> None:
    response = mock.http.post("/__admin/scenarios", params={"name": "broken.yaml"}, content=content.encode())
    assert response.status_code == 400
    assert response.json()["param"] == "scenario"
    assert fragment in response.json()["message"]
    assert len(mock.http.get("/__admin/scenarios").json()["files"]) == STARTUP_FILES


def test_request_journal_records_operations(mock: RunningMock) -> None:
    headers = mock.headers()
    mock.http.post("/v2/verifications", json={**request_for(), "payerId": "nope"}, headers=headers)
    requests = mock.http.get("/__admin/requests").json()["requests"]
    assert [r["operationId"] for r in requests] == ["getToken", "createVerification"]
    assert requests[1]["statusCode"] == 400 and requests[1]["errorParam"] == "payerId"


LAUGHS = "profiles:\n  a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"  {name}: &{name} [{','.join([f'*{below}'] * 9)}]\n" for below, name in itertools.pairwise("abcdefghi")
)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("name: !!binary aGVsbG8=\n", "up.yaml:1: name: the tag !!binary is not allowed"),
        ("name: x\ndescription: !!set {a, b}\n", "up.yaml:2: description: the tag !!set is not allowed"),
        ("name: !!python/object/apply:os.system [echo]\n", "up.yaml:1: name: the tag !!python/object/apply"),
        ("name: x\n1: y\n", "up.yaml:2: the key '1' is read as a number: keys must be text"),
        ("? [a]\n: y\n", "up.yaml:1: a key is a list: keys must be text"),
        ("[" * 100_000 + "]" * 100_000, "nest deeper than 32 levels"),
        ("- " * 100_000 + "x\n", "nest deeper than 32 levels"),
        (LAUGHS, "up.yaml:7: profiles.f.0: aliases expand the file by more than 100,000 nodes"),
        (
            EXTRA.replace("recoverAfter: 60", "recoverAfter: 99999999999999999999999"),
            "up.yaml:5: rules.0.outcome.recoverAfter: 99999999999999999999999 seconds is longer than",
        ),
        (EXTRA.replace("recoverAfter: 60", "delay: .nan"), "up.yaml:5: rules.0.outcome.delay: .nan is not a finite"),
        ('name: "\\ud800"\n', "up.yaml:1: not valid YAML"),
    ],
    ids=[
        *("binary", "set", "python", "int-key", "list-key", "deep-flow", "deep-block"),
        *("laughs", "duration", "nan", "lone"),
    ],
)
def test_unusable_scenario_content_is_400_and_the_mock_keeps_answering(
    mock: RunningMock, content: str, fragment: str
) -> None:
    response = mock.http.post("/__admin/scenarios", params={"name": "up.yaml"}, content=content.encode())
    assert response.status_code == 400, response.text
    assert response.json()["param"] == "scenario"
    assert fragment in response.json()["message"]
    assert mock.http.get("/__admin/health").json()["status"] == "ok"
    assert len(mock.http.get("/__admin/scenarios").json()["files"]) == STARTUP_FILES
    assert mock.http.get("/__admin/verifications").status_code == 200


def roster(members: int) -> str:
    """A valid scenario of `members` members of payer 60054, just under 1 MiB for 9 000."""
    lines = ["name: big-roster", "members:"]
    lines += [
        f'  - {{memberId: "M{i:07d}", payerId: "60054", firstName: Ann{i}, lastName: Lee, dateOfBirth: 01/02/1990}}'
        for i in range(members)
    ]
    return "\n".join(lines) + "\n"


def test_a_big_load_leaves_the_mock_answering(mock: RunningMock) -> None:
    content = roster(9_000).encode()
    before = mock.http.get("/__admin/scenarios").json()["members"]
    assert 900_000 < len(content) < mock.settings.max_body_bytes
    in_flight: list[int] = []
    with ThreadPoolExecutor(1) as pool, httpx.Client(base_url=mock.base_url, timeout=60) as other:
        upload = pool.submit(other.post, "/__admin/scenarios", params={"name": "big.yaml"}, content=content)
        while not upload.done():
            in_flight.append(mock.http.get("/__admin/health").status_code)
        loaded = upload.result()
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["members"] == 9_000
    # The event loop went on serving while the file was parsed and checked: a load on the
    # loop itself answers nothing in between (at most a request or two while the body arrives).
    assert in_flight.count(200) == len(in_flight) >= 5
    assert mock.http.get("/__admin/scenarios").json()["members"] == before + 9_000
    body = request_for("M0004321", firstName="Ann4321", lastName="Lee", dateOfBirth="01/02/1990")
    created = mock.http.post("/v2/verifications", json=body, headers=mock.headers()).json()
    answer = mock.http.get(f"/v2/verifications/{created['verificationId']}", headers=mock.headers()).json()
    assert answer["status"] == "complete.eligible"


@pytest.mark.parametrize("path", ["/__admin/verifications", "/__admin/requests"])
def test_an_unknown_environment_filter_is_400_not_an_empty_list(mock: RunningMock, path: str) -> None:
    response = mock.http.get(path, params={"environment": "prod"})
    assert response.status_code == 400
    assert response.json()["param"] == "environment"
    assert "sandbox" in response.json()["message"]
    assert mock.http.get(path, params={"environment": "production"}).status_code == 200


def test_a_wrong_method_lists_every_method_the_path_serves(mock: RunningMock) -> None:
    response = mock.http.request("DELETE", "/__admin/scenarios")
    assert response.status_code == 405
    assert {"GET", "POST"} <= {method.strip() for method in response.headers["allow"].split(",")}
    assert mock.http.head("/__admin/scenarios").status_code == 200


def test_an_admin_body_over_the_limit_is_413_with_a_message(mock: RunningMock) -> None:
    response = mock.http.post("/__admin/scenarios", content=b"#" * (mock.settings.max_body_bytes + 1))
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request_error"
    assert "1048576 bytes" in response.json()["message"]
