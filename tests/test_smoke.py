from conftest import assert_conforms, request_for

from mock_server.testing import RunningMock


def test_documented_sandbox_member_is_eligible(mock: RunningMock) -> None:
    headers = mock.headers()
    created = mock.http.post("/v2/verifications", json=request_for(), headers=headers)
    assert created.status_code == 201
    got = mock.http.get(f"/v2/verifications/{created.json()['verificationId']}", headers=headers)
    assert got.json()["status"] == "complete.eligible"
    assert_conforms("FullVerificationV2Response", got.json())
