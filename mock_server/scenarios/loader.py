"""Load scenario files: YAML -> schema check -> model objects, errors naming file and line."""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from ..bounded_yaml import Document, YAMLProblem, read
from ..limits import DAY, MAX_DISCOVERY_COVERAGES, MAX_DURATION_SECONDS, MAX_SCENARIO_YEAR, MIN_SCENARIO_YEAR
from ..npi import is_valid_npi
from ..statuses import (
    DISCOVERY_COMPLETE,
    DISCOVERY_STATUSES,
    PENDING,
    REASON_REQUIRED,
    STATUS_REASON_VALUES,
    STATUS_REASONS,
    STATUSES,
)
from .dates import parse_date
from .model import (
    ROSTER,
    Coverage,
    CoverageRef,
    DeclaredProvider,
    Defaults,
    DiscoveryOutcome,
    DiscoveryRule,
    Label,
    Matcher,
    Member,
    NetworkRule,
    Outcome,
    Payer,
    ProviderGroup,
    Rule,
    ScenarioFile,
)

_COVERAGE_KEYS = ("plan", "group", "benefits", "limitations", "relatedEntities", "coveredSpecialties")
# Ids of things a file declares without one: derived from what they are, so they stay the same
# across restarts and resets, and two files declaring the same thing give it the same id.
_DECLARED = uuid.UUID("5d1b3a4e-6f0c-4b8e-9a57-0c7f2e9d1a63")
# Sohar's Get Network Status page shows one system label per color; a label without an `id`
# gets the id that page shows for its color.
LABEL_IDS = {
    "green": "cb075a05-4510-456c-addb-fc2efdb74686",
    "orange": "de6a246c-2900-4b47-b748-aa32ab51e1da",
    "yellow": "992d71b7-ef7e-47e3-92c4-1a1c459d3333",
    "blue": "d7d9a80a-985b-429a-9163-07539f281382",
    "red": "cfb12530-ff1e-40b0-8ffe-e4d3ab4ce422",
}


def declared_id(*parts: str | None) -> str:
    return str(uuid.uuid5(_DECLARED, "\x1f".join(part or "" for part in parts)))


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
    # So do the statuses and their reasons, in statuses.py.
    schema["$defs"]["status"] = {"enum": list(STATUSES)}
    schema["$defs"]["statusReason"] = {"enum": [*STATUS_REASON_VALUES, None]}
    schema["$defs"]["discoveryOutcome"]["properties"]["status"]["enum"] = [*DISCOVERY_STATUSES, ROSTER]
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
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, mark.line + 1 if mark else None, f"not valid YAML: {problem}") from None
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


def _scenario_date(text: str, today: date) -> date:
    """A date as the file states it, refused when Sohar's MM/DD/YYYY fields could not carry it."""
    day = parse_date(text, today)
    if not MIN_SCENARIO_YEAR <= day.year <= MAX_SCENARIO_YEAR:
        raise ValueError(
            f"{text!r} falls in the year {day.year}, outside {MIN_SCENARIO_YEAR}-{MAX_SCENARIO_YEAR} "
            "(the years Sohar's dates carry)"
        )
    return day


def _coverage(raw: dict[str, Any], doc: _Located, path: tuple[Any, ...], today: date) -> Coverage:
    own = {key: raw[key] for key in _COVERAGE_KEYS if key in raw}
    plan = own.get("plan") or {}
    try:
        start = _scenario_date(plan["startDate"], today) if plan.get("startDate") else None
        end = _scenario_date(plan["endDate"], today) if plan.get("endDate") else None
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
        allowed = STATUS_REASONS.get(status)
        if allowed is None:
            raise doc.error(path, f"{status} carries no statusReason (only {' and '.join(STATUS_REASONS)} do)")
        if reason not in allowed:
            raise doc.error(path, f"statusReason {reason} does not go with {status}")
    elif status in REASON_REQUIRED:
        raise doc.error(path, f"{status} needs a statusReason ({', '.join(STATUS_REASONS[status][:2])}, ...)")
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
    if status == DISCOVERY_COMPLETE and "coverages" not in raw:
        raise doc.error(path, "a complete discovery lists its coverages (`coverages: []` when none is found)")
    if status != DISCOVERY_COMPLETE and "coverages" in raw:
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
            requires_provider=p.get("requiresProvider"),
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
            _scenario_date(raw["dateOfBirth"], today)
        except ValueError as exc:
            raise doc.error((*path, "dateOfBirth"), str(exc)) from None
        subscriber_birth = (raw.get("subscriber") or {}).get("dateOfBirth")
        try:
            if subscriber_birth is not None:
                _scenario_date(subscriber_birth, today)
        except ValueError as exc:
            raise doc.error((*path, "subscriber", "dateOfBirth"), str(exc)) from None
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
                requires_provider=raw.get("requiresProvider"),
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
        providers=_providers(data.get("providers", []), doc),
        network=tuple(_network_rule(raw, doc, ("network", index)) for index, raw in enumerate(data.get("network", []))),
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


def _providers(raw_providers: list[dict[str, Any]], doc: _Located) -> tuple[DeclaredProvider, ...]:
    providers: dict[str, DeclaredProvider] = {}
    for index, raw in enumerate(raw_providers):
        path = ("providers", index)
        if not is_valid_npi(raw["npi"]):
            raise doc.error(
                (*path, "npi"), f"providers.{index}.npi: {raw['npi']} fails the NPI check digit (Luhn, prefix 80840)"
            )
        environment = raw.get("environment", "sandbox")
        kind = raw.get("type", "rendering")
        group_id = raw.get("providerGroupId")
        identity = (environment, raw["npi"], raw["payerId"].upper(), raw["state"], kind, group_id)
        provider_id = declared_id("provider", *identity)
        # The same enrolment twice is one provider, as Create Provider makes it.
        providers.setdefault(
            provider_id,
            DeclaredProvider(
                provider_id=provider_id,
                environment=environment,
                npi=raw["npi"],
                payer_id=raw["payerId"],
                state=raw["state"],
                kind=kind,
                provider_group_id=group_id,
                source=doc.where(path),
            ),
        )
    return tuple(providers.values())


def _one_or_more(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    return tuple(raw) if isinstance(raw, list) else (raw,)


def _network_rule(raw: dict[str, Any], doc: _Located, path: tuple[Any, ...]) -> NetworkRule:
    match = raw.get("match", {})
    labels = tuple(
        Label(label.get("id") or LABEL_IDS[label["color"]], label["color"]) for label in raw.get("labels", [])
    )
    groups = tuple(
        ProviderGroup(g.get("id") or declared_id("group", g["name"], g["tin"]), g["name"], g["tin"], g["status"])
        for g in raw.get("providerGroups", [])
    )
    return NetworkRule(
        name=raw.get("name") or f"network[{path[-1]}]",
        payer_ids=_one_or_more(match.get("payerId")),
        # Plan names compare without regard to case: payers spell them in capitals, files need not.
        plans=tuple(plan.casefold() for plan in _one_or_more(match.get("plan"))),
        states=_one_or_more(match.get("state")),
        specialties=_one_or_more(match.get("specialty")),
        status=raw["status"],
        labels=labels,
        provider_groups=groups,
        source=doc.where(path),
    )
