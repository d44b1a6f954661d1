"""The OpenAPI document declares what validation enforces and every error an operation can answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

MAX_ID = 2**63 - 1
ENVELOPE = {"$ref": "#/components/schemas/ErrorOut"}


@pytest.fixture
def document(db: Any) -> dict[str, Any]:
    return Client().get("/api/openapi.json").json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def test_ids_pages_and_page_sizes_declare_their_bounds(document):
    checked = 0
    for method, path, op in operations(document):
        for param in op.get("parameters", []):
            schema = param["schema"]
            bounds = next((s for s in schema.get("anyOf", [schema]) if s.get("type") == "integer"), None)
            if bounds is None:
                continue
            name = param["name"]
            if param["in"] == "path" or name in ("shop", "shop_id"):
                assert (bounds.get("minimum"), bounds.get("maximum")) == (1, MAX_ID), (method, path, name)
                checked += 1
            elif name == "page":
                assert bounds.get("minimum") == 1, (method, path)
                checked += 1
            elif name == "page_size":
                assert (bounds.get("minimum"), bounds.get("maximum")) == (1, 200), (method, path)
                checked += 1
    assert checked > 60
    file_in = document["components"]["schemas"]["FileIn"]["properties"]
    assert (file_in["order_id"]["minimum"], file_in["order_id"]["maximum"]) == (1, MAX_ID)
    assert file_in["occurred_at"] == {"format": "date-time", "title": "Occurred At", "type": "string"}


def test_every_operation_declares_its_error_statuses_as_the_envelope(document):
    for method, path, op in operations(document):
        responses = op["responses"]
        expected = set()
        if op.get("security"):
            expected |= {"401", "429"}
        if method != "GET":
            expected |= {"400", "413", "422"}
        if op.get("parameters"):
            expected.add("422")
        if "{" in path:
            expected.add("404")
        declared = {str(s) for s in responses}
        assert expected <= declared, (method, path, expected - declared)
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == ENVELOPE, (method, path, status)


def test_role_restricted_and_versioned_operations_declare_403_and_409(document):
    paths = document["paths"]
    assert "403" in {str(s) for s in paths["/api/marketplace/orders"]["post"]["responses"]}
    assert "409" in {str(s) for s in paths["/api/cases/{case_id}/withdraw"]["post"]["responses"]}
