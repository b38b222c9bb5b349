"""Load scenario files: YAML -> schema check -> model objects, errors naming file and line."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from ..bounded_yaml import Document, YAMLProblem, read
from ..limits import DAY, MAX_DISCOVERY_COVERAGES, MAX_DURATION_SECONDS
from .dates import parse_date
from .model import (
    COMPLETE,
    PENDING,
    ROSTER,
    Coverage,
    CoverageRef,
    Defaults,
    DiscoveryOutcome,
    DiscoveryRule,
    Matcher,
    Member,
    Outcome,
    Payer,
    Rule,
    ScenarioFile,
)

_COVERAGE_KEYS = ("plan", "group", "benefits", "limitations", "relatedEntities", "coveredSpecialties")
_INELIGIBLE_REASONS = {"INACTIVE", "NON_COVERED", "ACTIVE_PENDING_INVESTIGATION"}


class ScenarioError(ValueError):
    """A scenario file is unusable; the message says file, line and problem."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


@cache
def _schema_validator() -> jsonschema_rs.Validator:
    schema = yaml.safe_load((Path(__file__).parent / "schema.yaml").read_text())
    # The bound lives in limits.py with every other one; the schema file says where.
    schema["$defs"]["seconds"]["maximum"] = MAX_DURATION_SECONDS
    schema["$defs"]["discoveryOutcome"]["properties"]["coverages"]["maxItems"] = MAX_DISCOVERY_COVERAGES
    return jsonschema_rs.validator_for(schema)


@dataclass
class _Located:
    """A read document, for the `file:line` of any path in it."""

    source: str
    document: Document

    def error(self, path: tuple[Any, ...], problem: str) -> ScenarioError:
        return ScenarioError(self.source, self.document.line(path), problem)

    def where(self, path: tuple[Any, ...]) -> str:
        return f"{self.source}:{self.document.line(path)}"


_DURATIONS = ("delay", "recoverAfter")
_LONGEST = f"the mock accepts ({MAX_DURATION_SECONDS} s, {MAX_DURATION_SECONDS // DAY} days)"
# A schema message echoes the value; a whole members list in a message helps nobody.
_MAX_PROBLEM_CHARS = 300


def _describe(error: jsonschema_rs.ValidationError) -> str:
    path = ".".join(str(p) for p in error.instance_path) or "the file"
    message = error.message
    kind, instance = error.kind, error.instance
    duration = bool(error.instance_path) and error.instance_path[-1] in _DURATIONS
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        number = isinstance(instance, int | float) and not isinstance(instance, bool)
        if number and "string" in kind.types:
            message += " (quote it: YAML reads 00000000 as the number 0)"
        elif isinstance(instance, str) and {"number", "integer"} & set(kind.types) and _looks_numeric(instance):
            message = f"{json.dumps(instance)} is text, not a number"
            if "e" in instance.lower():
                message += f" (YAML needs a dot and a signed exponent: {_yaml_exponent(instance)})"
            if duration and float(instance) > MAX_DURATION_SECONDS:
                message += f", and as a number it would be longer than {_LONGEST}"
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Maximum) and duration:
        message = f"{instance} seconds is longer than {_LONGEST}"
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.MaxItems) and isinstance(instance, list):
        message = f"{len(instance)} items, more than the {kind.limit} allowed"
        if error.instance_path[-1] == "coverages":
            message = f"{len(instance)} coverages, more than the {kind.limit} a discovery answers with"
    if len(message) > _MAX_PROBLEM_CHARS:
        message = message[: _MAX_PROBLEM_CHARS - 1] + "…"
    return f"{path}: {message}"


def _looks_numeric(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _yaml_exponent(text: str) -> str:
    """`1e308` as YAML 1.1 reads a float: `1.0e+308`."""
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[:1] not in ("+", "-"):
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}"


def load_file(path: Path) -> ScenarioFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), None, "cannot read: the file is not UTF-8 text") from None
    return load_text(text, str(path))


def load_text(text: str, source: str, today: date | None = None) -> ScenarioFile:
    try:
        document = read(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, found before any parsing
        line = text.count("\n", 0, exc.position) + 1
        raise ScenarioError(source, line, f"not valid YAML: character #x{exc.character:04x}: {exc.reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, line, f"not valid YAML: {problem}") from None
    except YAMLProblem as exc:
        raise ScenarioError(source, exc.line, exc.problem) from None
    if document.data is None:
        raise ScenarioError(source, None, "the file is empty")
    doc = _Located(source, document)
    data = document.data
    errors = list(_schema_validator().iter_errors(data))
    if errors:
        # Deepest first: "benefits.0.copay: -1 is less than 0" beats "members.0 is invalid".
        error = max(errors, key=lambda e: len(e.instance_path))
        path = tuple(error.instance_path)
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            path = (*path, sorted(error.kind.unexpected)[0])  # point at the stray key's own line
        raise doc.error(path, _describe(error))
    return _build(data, doc, today or date.today())


def _coverage(raw: dict[str, Any], doc: _Located, path: tuple[Any, ...], today: date) -> Coverage:
    own = {key: raw[key] for key in _COVERAGE_KEYS if key in raw}
    plan = own.get("plan") or {}
    try:
        start = parse_date(plan["startDate"], today) if plan.get("startDate") else None
        end = parse_date(plan["endDate"], today) if plan.get("endDate") else None
    except ValueError as exc:
        raise doc.error((*path, "plan"), str(exc)) from None
    if start and end and start > end:
        raise doc.error((*path, "plan"), "plan.startDate is after plan.endDate")
    _check_benefits(own.get("benefits", []), doc, (*path, "benefits"))
    return Coverage().merged(own)


def _check_benefits(benefits: list[dict[str, Any]], doc: _Located, path: tuple[Any, ...]) -> None:
    for index, benefit in enumerate(benefits):
        for part in ("deductible", "outOfPocket"):
            amounts = benefit.get(part) or {}
            total, remaining = amounts.get("total"), amounts.get("remaining")
            if total is not None and remaining is not None and remaining > total:
                raise doc.error((*path, index, part), f"{part}.remaining ({remaining}) exceeds total ({total})")
    by_tier: dict[Any, dict[str, float]] = {}
    for benefit in benefits:
        if benefit.get("coinsurance") is not None:
            by_tier.setdefault(benefit.get("tier"), {})[benefit["networkStatus"]] = benefit["coinsurance"]
    for tier, rates in by_tier.items():
        if "inn" in rates and "oon" in rates and rates["oon"] < rates["inn"]:
            raise doc.error(
                path,
                f"tier {tier}: out-of-network coinsurance {rates['oon']} is below in-network {rates['inn']}",
            )


def _outcome(raw: dict[str, Any], doc: _Located, path: tuple[Any, ...], nested: bool = False) -> Outcome:
    status = raw["status"]
    reason = raw.get("statusReason")
    if reason is not None:
        if status == "complete.ineligible" and reason not in _INELIGIBLE_REASONS:
            raise doc.error(path, f"statusReason {reason} does not go with complete.ineligible")
        if status == "error.payer" and reason != "CONTACT_PAYER_REQUIRED":
            raise doc.error(path, f"statusReason {reason} does not go with error.payer")
        if status not in ("complete.ineligible", "error.payer"):
            raise doc.error(path, f"{status} carries no statusReason (only complete.ineligible and error.payer do)")
    elif status == "complete.ineligible":
        raise doc.error(path, "complete.ineligible needs a statusReason (INACTIVE, NON_COVERED, ...)")
    if status != PENDING and ("then" in raw or "recoverAfter" in raw):
        raise doc.error(path, "`then` and `recoverAfter` belong to a pending outcome")
    if nested and status == PENDING:
        raise doc.error(path, "a pending outcome must be followed by a final one, not another pending")
    then = None
    if status == PENDING:
        then = _outcome(raw.get("then", {"status": ROSTER}), doc, (*path, "then"), nested=True)
    return Outcome(
        status=status,
        status_reason=reason,
        delay=raw.get("delay"),
        recover_after=raw.get("recoverAfter"),
        then=then,
        profile=raw.get("profile"),
    )


def _discovery_outcome(
    raw: dict[str, Any], doc: _Located, path: tuple[Any, ...], nested: bool = False
) -> DiscoveryOutcome:
    status = raw["status"]
    if status == COMPLETE and "coverages" not in raw:
        raise doc.error(path, "a complete discovery lists its coverages (`coverages: []` when none is found)")
    if status != COMPLETE and "coverages" in raw:
        raise doc.error(path, "`coverages` belong to a complete outcome")
    if status != PENDING and ("then" in raw or "recoverAfter" in raw):
        raise doc.error(path, "`then` and `recoverAfter` belong to a pending outcome")
    if nested and status == PENDING:
        raise doc.error(path, "a pending outcome must be followed by a final one, not another pending")
    then = None
    if status == PENDING:
        then = _discovery_outcome(raw.get("then", {"status": ROSTER}), doc, (*path, "then"), nested=True)
    coverages = tuple(CoverageRef(_text(c["payerId"]), _text(c["memberId"])) for c in raw.get("coverages", ()))
    return DiscoveryOutcome(
        status=status,
        coverages=coverages,
        delay=raw.get("delay"),
        recover_after=raw.get("recoverAfter"),
        then=then,
    )


def _matcher(field: str, raw: Any, doc: _Located, path: tuple[Any, ...]) -> Matcher:
    if isinstance(raw, dict):
        try:
            return Matcher(field, pattern=re.compile(raw["pattern"]))
        except re.error as exc:
            raise doc.error(path, f"bad pattern for {field}: {exc}") from None
    values = raw if isinstance(raw, list) else [raw]
    return Matcher(field, values=tuple(_text(v) for v in values))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _build(data: dict[str, Any], doc: _Located, today: date) -> ScenarioFile:
    raw_defaults = data.get("defaults", {})
    defaults = Defaults(
        delay=raw_defaults.get("delay"),
        recover_after=raw_defaults.get("recoverAfter"),
        profile=raw_defaults.get("profile"),
    )
    payers = tuple(
        Payer(
            payer_id=p["payerId"],
            payer_name=p["payerName"],
            alias_payer_ids=tuple(p.get("aliasPayerIds", ())),
            alias_payer_names=tuple(p.get("aliasPayerNames", ())),
            group_of=tuple(p.get("groupOf", ())),
        )
        for p in data.get("payers", [])
    )
    profiles = {name: _coverage(raw, doc, ("profiles", name), today) for name, raw in data.get("profiles", {}).items()}
    members = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(data.get("members", [])):
        path = ("members", index)
        key = (raw["payerId"], raw["memberId"])
        if key in seen:
            raise doc.error(path, f"member {key[1]} of payer {key[0]} is listed twice (first at members.{seen[key]})")
        seen[key] = index
        try:
            parse_date(raw["dateOfBirth"], today)
        except ValueError as exc:
            raise doc.error((*path, "dateOfBirth"), str(exc)) from None
        members.append(
            Member(
                member_id=raw["memberId"],
                payer_id=raw["payerId"],
                first_name=raw["firstName"],
                last_name=raw["lastName"],
                date_of_birth=raw["dateOfBirth"],
                coverage=_coverage(raw, doc, path, today),
                gender=raw.get("gender"),
                relationship_code=raw.get("subscriberRelationshipCode"),
                address=raw.get("address"),
                subscriber=raw.get("subscriber"),
                profile=raw.get("profile"),
                own_coverage={k: raw[k] for k in _COVERAGE_KEYS if k in raw},
                source=doc.where(path),
            )
        )
    rules = []
    for index, raw in enumerate(data.get("rules", [])):
        path = ("rules", index)
        matchers = tuple(_matcher(field, value, doc, (*path, "match", field)) for field, value in raw["match"].items())
        rules.append(
            Rule(
                name=raw.get("name") or f"rules[{index}]",
                matchers=matchers,
                outcome=_outcome(raw["outcome"], doc, (*path, "outcome")),
                source=doc.where(path),
            )
        )
    discovery_rules = []
    for index, raw in enumerate(data.get("discovery", {}).get("rules", [])):
        where = ("discovery", "rules", index)
        matchers = tuple(_matcher(field, value, doc, (*where, "match", field)) for field, value in raw["match"].items())
        discovery_rules.append(
            DiscoveryRule(
                name=raw.get("name") or f"discovery.rules[{index}]",
                matchers=matchers,
                outcome=_discovery_outcome(raw["outcome"], doc, (*where, "outcome")),
                source=doc.where(where),
            )
        )
    return ScenarioFile(
        source=doc.source,
        name=data.get("name") or Path(doc.source).stem,
        description=data.get("description", ""),
        defaults=defaults,
        payers=payers,
        profiles=profiles,
        members=tuple(members),
        rules=tuple(rules),
        discovery_rules=tuple(discovery_rules),
    )
