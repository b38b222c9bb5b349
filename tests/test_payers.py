from __future__ import annotations

from conftest import assert_conforms

from mock_server.testing import RunningMock

DOCUMENTED = {"60054", "62308", "84980", "06111", "OSCAR", "01260", "SH03D959"}


def test_payer_list_holds_every_documented_payer(mock: RunningMock) -> None:
    response = mock.http.get("/v1/payers", headers=mock.headers())
    assert response.status_code == 200
    payers = response.json()
    assert {p["payerId"] for p in payers} >= DOCUMENTED
    for payer in payers:
        assert_conforms("PayerRecord", payer)
    aetna = next(p for p in payers if p["payerId"] == "60054")
    assert aetna["payerName"] == "Aetna"


def test_get_payer_by_id_or_alias(mock: RunningMock) -> None:
    headers = mock.headers()
    assert mock.http.get("/v1/payers/01260", headers=headers).json()["payerName"] == "Magellan"
    assert mock.http.get("/v1/payers/AETNA", headers=headers).json()["payerId"] == "60054"
    missing = mock.http.get("/v1/payers/00000", headers=headers)
    assert missing.status_code == 404 and missing.json() == {"error": "invalid_request_error"}
