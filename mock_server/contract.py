"""The contract, loaded once: request validation and (in strict mode) response validation.

OpenAPI 3.0 schemas are turned into JSON Schema (refs inlined, `nullable` made a type
union) and compiled with jsonschema-rs, whose speed keeps validation cheap enough to leave
on in every request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from .errors import InvalidRequest

# libyaml's loader when PyYAML was built with it: the two contracts load in ~10 ms instead
# of ~90 ms, a tenth of the mock's start-up. Same safe subset of YAML either way.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_DROP = {"example", "examples", "xml", "externalDocs", "discriminator", "readOnly", "writeOnly"}


def to_json_schema(node: Any, components: dict[str, Any]) -> Any:
    """Inline `$ref`s and turn OpenAPI 3.0 keywords into JSON Schema ones."""
    if isinstance(node, list):
        return [to_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return to_json_schema(components[name], components)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-") or key == "nullable":
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: to_json_schema(sub, components) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value, components)
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def field_order(schema: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every declared property, depth first, in declaration order."""
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path
        if isinstance(sub, dict):
            yield from field_order(sub, f"{path}.")


class SchemaViolation(InvalidRequest):
    """A 400 for a body the schema rejects; `rule` is the failing JSON Schema keyword (for the journal)."""

    def __init__(self, param: str, rule: str, message: str) -> None:
        super().__init__(param, detail=message)
        self.rule = rule


class RequestSchema:
    """Validates one operation's JSON body and names the first offending field."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        # Formats count in requests (a webhook `url` must be a URI), as the spec declares them.
        self._validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        self._order = {path: index for index, path in enumerate(field_order(schema))}

    def _param(self, error: jsonschema_rs.ValidationError) -> str:
        path = [str(part) for part in error.instance_path]
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
            path.append(error.kind.property)
        elif isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            path.append(sorted(error.kind.unexpected)[0])
        return ".".join(path) or "body"

    def check(self, body: Any) -> None:
        if self._validator.is_valid(body):
            return
        errors = [(self._param(error), error) for error in self._validator.iter_errors(body)]
        # The earliest field in the spec's own order: `patient.*` before `payerId`, as a
        # client reading the spec top to bottom would fix them.
        first, error = min(errors, key=lambda pe: (self._order.get(pe[0], len(self._order)), pe[0]))
        path = list(error.schema_path)
        raise SchemaViolation(first, str(path[-1]) if path else "schema", error.message)


def _local(document: dict[str, Any], node: Any) -> Any:
    """A response or request body given as a local `$ref` (`#/components/responses/BadRequest`), resolved."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


class Contract:
    """One OpenAPI document with compiled validators for its operations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = path.read_text()
        self.document: dict[str, Any] = yaml.load(self.text, Loader=_YAML_LOADER)
        self.json_text = json.dumps(self.document)
        components = self.document.get("components", {}).get("schemas", {})
        self.requests: dict[str, RequestSchema] = {}
        self._responses: dict[tuple[str, str], jsonschema_rs.Validator] = {}
        for methods in self.document.get("paths", {}).values():
            for operation in methods.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                op_id = operation["operationId"]
                body = _local(self.document, operation.get("requestBody", {})).get("content", {})
                if "application/json" in body:
                    raw = body["application/json"]["schema"]
                    self.requests[op_id] = RequestSchema(to_json_schema(raw, components))
                for status, response in operation.get("responses", {}).items():
                    content = _local(self.document, response).get("content", {}).get("application/json")
                    if content:
                        schema = to_json_schema(content["schema"], components)
                        self._responses[(op_id, status)] = jsonschema_rs.validator_for(schema)

    def check_request(self, operation_id: str, body: Any) -> None:
        self.requests[operation_id].check(body)

    def response_errors(self, operation_id: str, status: int, body: Any) -> list[str]:
        """Problems with a response body; empty when it conforms."""
        validator = self._responses.get((operation_id, str(status)))
        if validator is None:
            if (operation_id, "default") in self._responses:
                validator = self._responses[(operation_id, "default")]
            else:
                return [f"{operation_id} documents no JSON response for status {status}"]
        return [f"{'/'.join(map(str, e.instance_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(body)]
