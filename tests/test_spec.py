"""The contract itself: valid OpenAPI, served by the mock, and faithful to Sohar's seed."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import ROOT, SPEC
from openapi_spec_validator import validate

from mock_server.testing import RunningMock

SOHAR_PUBLISHED = Path(__file__).parent / "data" / "sohar-get-verification-v2.yaml"


def seed_schemas() -> dict:
    return yaml.safe_load(SOHAR_PUBLISHED.read_text())["components"]["schemas"]


def test_both_specs_are_valid_openapi() -> None:
    validate(SPEC)
    validate(yaml.safe_load((ROOT / "openapi" / "admin.yaml").read_text()))


def test_get_verification_schema_is_sohars_field_for_field() -> None:
    seed = seed_schemas()
    ours = SPEC["components"]["schemas"]
    for name, schema in seed.items():
        assert set(ours[name].get("properties", {})) == set(schema.get("properties", {})), name
        for field, sub in schema.get("properties", {}).items():
            mine = ours[name]["properties"][field]
            for key in ("type", "nullable", "pattern", "$ref"):
                assert mine.get(key) == sub.get(key), (name, field, key)


def test_the_two_seed_quirks_are_fixed() -> None:
    ours = SPEC["components"]["schemas"]
    assert "format" not in ours["Payer"]["properties"]["id"]
    assert "format" not in ours["RelatedEntityV2"]["properties"]["id"]
    assert "13" in ours["RelatedEntityV2"]["properties"]["entityIdentifierCode"]["enum"]
    assert 13 not in ours["RelatedEntityV2"]["properties"]["entityIdentifierCode"]["enum"]


def test_inferred_parts_are_marked() -> None:
    for path in ("/v1/payers", "/v1/payers/{payerId}", "/v2/discovery/{discoveryId}"):
        assert SPEC["paths"][path]["get"]["x-sohar-inferred"]
    schemas = SPEC["components"]["schemas"]
    for name in ("DiscoveryRequest", "DiscoveryRequestV1", "FullDiscoveryResponse"):
        assert schemas[name]["x-sohar-inferred"], name


def test_mock_serves_its_specs(mock: RunningMock) -> None:
    as_yaml = mock.http.get("/openapi.yaml")
    assert as_yaml.status_code == 200 and yaml.safe_load(as_yaml.text) == SPEC
    assert mock.http.get("/openapi.json").json() == SPEC
    assert mock.http.get("/__admin/openapi.yaml").status_code == 200
