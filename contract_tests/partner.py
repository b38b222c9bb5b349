"""`sohar-contract partner-eligibility`: check a partner's real-time eligibility API (98point6's
RTE contract, openapi/partner-eligibility.yaml), or the mock's, against the contract.

Two parts, one verdict:
- probes: scripted calls with one known member (`--probe`, by default the mock's documented
  Dana Whitaker) for the rules that need real data: a preliminary search leaks nothing, a final
  search returns the member's entry, a wrong confirmation value leaks nothing, check answers
  with the final search's members, and (with `--api-key`) a call without the key is refused;
- schemathesis' own `run` over the contract (every phase), with the rules every answer keeps
  (`contract_tests.partner_rules`) added as checks on each response it provokes.
Exit 0 when nothing failed, 1 when a rule or check failed, 2 when the run could not be set up.
"""

from __future__ import annotations

import html
import sys
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mock_server.resources import partner_spec_path

from . import partner_rules as rules
from .partner_rules import CHECK_PATH, SEARCH_PATH, Breach
from .server import EXIT_SETUP_ERROR, PHASES, SetupError, run_options, run_schemathesis

REPORT_FORMATS = ("junit", "html")
API_KEY_HEADER = "X-API-Key"
EXIT_FAILED = 1
INSTALL_HINT = "the partner suite needs schemathesis: pip install 'sohar-mock[contract]'"
PROBE_KEYS = ("firstName", "lastName", "birthDate")
PASSED, FAILED, SKIPPED, ADVICE = "passed", "failed", "skipped", "advice"
REPORT_NAME = "partner-semantics"


@dataclass(frozen=True)
class Probe:
    """A member the partner holds: name, birth date and one confirmation field's value."""

    first_name: str
    last_name: str
    birth_date: str
    field: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Probe:
        """`firstName=Dana,lastName=Whitaker,birthDate=1980-07-14,last4Ssn=4821`; ValueError naming what is wrong."""
        pairs: dict[str, str] = {}
        for item in text.split(","):
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"expected key=value pairs separated by commas, got {item!r}")
            pairs[key.strip()] = value.strip()
        missing = [key for key in PROBE_KEYS if key not in pairs]
        confirmations = [key for key in rules.CONFIRMATION_FIELDS if key in pairs]
        unknown = sorted(set(pairs) - set(PROBE_KEYS) - set(rules.CONFIRMATION_FIELDS))
        if missing or len(confirmations) != 1 or unknown:
            raise ValueError(
                "give firstName, lastName, birthDate and exactly one of last4Ssn, email, memberId"
                + (f" (missing {', '.join(missing)})" if missing else "")
                + (f" (unknown {', '.join(unknown)})" if unknown else "")
            )
        field_name = confirmations[0]
        return cls(pairs["firstName"], pairs["lastName"], pairs["birthDate"], field_name, pairs[field_name])

    def preliminary(self) -> dict[str, str]:
        return {"firstName": self.first_name, "lastName": self.last_name, "birthDate": self.birth_date}

    def final(self, value: str | None = None) -> dict[str, str]:
        return {**self.preliminary(), self.field: self.value if value is None else value}

    def wrong_value(self) -> str:
        """A value of the same field the partner cannot hold for this person."""
        if self.field == "last4Ssn" and self.value.isdigit():
            return "".join(str((int(d) + 5) % 10) for d in self.value)
        if self.field == "email":
            return f"not-{self.value}"
        return f"{self.value}-NOT"

    def matches(self, member: Any) -> bool:
        return isinstance(member, dict) and rules.same_person(member) == (
            rules.fold(self.first_name),
            rules.fold(self.last_name),
            self.birth_date,
        )


# The mock's documented single-match member (scenarios/partner.yaml): a partner that does not hold
# it skips the data probes instead of failing them.
DEFAULT_PROBE = Probe("Dana", "Whitaker", "1980-07-14", "last4Ssn", "4821")


@dataclass
class Result:
    rule: str
    status: str
    detail: str = ""


@dataclass
class PartnerRun:
    base_url: str
    api_key: str | None = None
    api_key_header: str = API_KEY_HEADER
    probe: Probe | None = None
    spec: Path = field(default_factory=partner_spec_path)
    max_examples: int | None = None
    seed: int | None = None
    workers: str | None = None
    phases: tuple[str, ...] | None = None
    reports: tuple[str, ...] = ()
    report_dir: Path = Path("partner-contract-report")
    max_failures: int | None = None
    extra_args: tuple[str, ...] = ()

    def headers(self) -> dict[str, str]:
        return {self.api_key_header: self.api_key} if self.api_key else {}

    def schemathesis_args(self, config_file: Path) -> list[str]:
        args = ["--config-file", str(config_file), "run", str(self.spec), "--url", self.base_url]
        args += ["--phases", ",".join(self.phases or PHASES)]
        if self.api_key:
            args += ["--header", f"{self.api_key_header}: {self.api_key}"]
        args += run_options(
            self.max_examples, self.seed, self.workers, self.max_failures, self.reports, self.report_dir
        )
        return [*args, *self.extra_args]


class Prober:
    """The probes' calls, each answer held to the rules every answer keeps as it comes."""

    def __init__(self, config: PartnerRun, client: httpx.Client) -> None:
        self.config = config
        self.client = client
        self.results: list[Result] = []
        self._breached: set[str] = set()
        # The memberIds the probe member's final search returned.
        self.member_ids: tuple[str, ...] = ()

    def call(self, path: str, body: dict[str, str], *, with_key: bool = True) -> httpx.Response:
        headers = self.config.headers() if with_key else {}
        try:
            return self.client.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SetupError(f"POST {self.config.base_url}{path} failed: {exc}") from None

    def answer(self, path: str, body: dict[str, str], label: str) -> dict[str, Any] | None:
        """The JSON of a 200 answer, checked; None (and a failure) for anything else."""
        response = self.call(path, body)
        if response.status_code in (401, 403) and not self.config.api_key:
            raise SetupError(f"{label}: the partner answered {response.status_code}: it wants credentials (--api-key)")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            self.fail(
                rules.CHECK_AS_SEARCH if path == CHECK_PATH else rules.FINAL_FAMILY,
                f"{label}: expected 200 with a JSON object, got {response.status_code} {response.text[:200]}",
            )
            return None
        operation = "check" if path == CHECK_PATH else "search"
        for breach in rules.answer_breaches(operation, body, answer):
            self.breach(breach, label)
        return answer

    def breach(self, breach: Breach, label: str) -> None:
        self._breached.add(breach.rule)
        self.results.append(Result(breach.rule, FAILED, f"{label}: {breach.message}"))

    def fail(self, rule: str, detail: str) -> None:
        self._breached.add(rule)
        self.results.append(Result(rule, FAILED, detail))

    def passed(self, rule: str, detail: str = "") -> None:
        if rule not in self._breached:
            self.results.append(Result(rule, PASSED, detail))

    def outcome(self) -> list[Result]:
        """The results, without a rule's passes once a later call broke it."""
        return [r for r in self.results if r.status != PASSED or r.rule not in self._breached]


def run_probes(config: PartnerRun) -> tuple[list[Result], Known | None]:
    """Every probe's result, and the member they found (None when the partner does not hold the
    probe member); raises SetupError when the partner cannot be reached or refuses the credentials."""
    probe = config.probe or DEFAULT_PROBE
    explicit = config.probe is not None
    with httpx.Client(base_url=config.base_url, timeout=30, trust_env=False) as client:
        prober = Prober(config, client)
        if config.api_key:
            _probe_api_key(prober, probe)
        preliminary = prober.answer(SEARCH_PATH, probe.preliminary(), "preliminary search")
        if preliminary is None:
            return prober.outcome(), None
        prober.passed(rules.PRELIMINARY_NO_MEMBERS, "no members for the probe member's name and birth date")
        if preliminary.get("matchFound") is not True:
            if explicit:
                prober.fail(
                    rules.PROBE_FOUND,
                    f"a preliminary search for {probe.first_name} {probe.last_name} "
                    f"({probe.birth_date}) answered matchFound {preliminary.get('matchFound')!r}",
                )
            else:
                prober.results.append(
                    Result(
                        rules.FINAL_FAMILY,
                        SKIPPED,
                        "the partner does not hold the mock's "
                        "default probe member; give --probe with one of its members",
                    )
                )
            return prober.outcome(), None
        _probe_final(prober, probe)
        _probe_names(prober, probe)
        return prober.outcome(), Known(probe, prober.member_ids)


def _probe_api_key(prober: Prober, probe: Probe) -> None:
    response = prober.call(SEARCH_PATH, probe.preliminary(), with_key=False)
    if response.status_code in (401, 403):
        prober.passed(rules.API_KEY, f"a search without {prober.config.api_key_header} answered {response.status_code}")
    else:
        prober.fail(rules.API_KEY, f"a search without {prober.config.api_key_header} answered {response.status_code}")
    with_key = prober.call(SEARCH_PATH, probe.preliminary())
    if with_key.status_code in (401, 403):
        raise SetupError(f"the partner refused the API key given ({with_key.status_code})")


def _probe_final(prober: Prober, probe: Probe) -> None:
    final = prober.answer(SEARCH_PATH, probe.final(), f"final search with {probe.field}")
    if final is None:
        return
    members = rules.members_of(final)
    own = [m for m in members if probe.matches(m)]
    flags = (final.get("matchFound"), final.get("canDisambiguate"))
    if flags != (True, False) or not own:
        prober.fail(
            rules.FINAL_FAMILY,
            f"final search with {probe.field}: matchFound/canDisambiguate {flags}, "
            f"{len(members)} member(s), {len(own)} of them the probe member",
        )
        return
    prober.passed(
        rules.FINAL_FAMILY,
        f"{len(members)} member(s), {len(own)} entr{'y' if len(own) == 1 else 'ies'} for the probe member",
    )
    prober.passed(rules.NO_MEMBERS_WITHOUT_MATCH)
    prober.passed(rules.ISO_DATES)
    prober.passed(rules.RANK_ORDER)
    prober.passed(rules.PRIMARY_ID)
    prober.passed(rules.NO_SSN)

    wrong = prober.answer(SEARCH_PATH, probe.final(probe.wrong_value()), f"final search with a wrong {probe.field}")
    if wrong is not None:
        leaked = rules.members_of(wrong)
        if leaked:
            prober.fail(rules.WRONG_CONFIRMATION, f"a wrong {probe.field} returned {len(leaked)} member(s)")
        else:
            prober.passed(rules.WRONG_CONFIRMATION, f"matchFound {wrong.get('matchFound')!r}, no members")

    expected = sorted(filter(None, (rules.member_id(m) for m in members)))
    prober.member_ids = tuple(expected)
    for entry in own:
        identifier = rules.member_id(entry)
        if identifier is None:
            continue
        checked = prober.answer(CHECK_PATH, {"memberId": identifier}, f"check {identifier}")
        if checked is None:
            continue
        got = sorted(filter(None, (rules.member_id(m) for m in rules.members_of(checked))))
        flags = (checked.get("matchFound"), checked.get("canDisambiguate"))
        if flags != (True, False) or got != expected:
            prober.fail(
                rules.CHECK_AS_SEARCH,
                f"check {identifier}: {flags} with members {got}; the final search "
                f"answered (True, False) with {expected}",
            )
        else:
            prober.passed(rules.CHECK_AS_SEARCH, f"check {identifier}: the same {len(got)} member(s)")


def _name_variants(probe: Probe) -> list[dict[str, str]]:
    return [
        {**probe.preliminary(), "firstName": probe.first_name.upper(), "lastName": probe.last_name.lower()},
        {**probe.preliminary(), "lastName": f"{probe.last_name} Jr."},
        {**probe.preliminary(), "firstName": f" {probe.first_name} "},
    ]


def _probe_names(prober: Prober, probe: Probe) -> None:
    missed = []
    for body in _name_variants(probe):
        answer = prober.answer(SEARCH_PATH, body, "preliminary search with a name variant")
        if answer is not None and answer.get("matchFound") is not True:
            missed.append(f"{body['firstName']!r} {body['lastName']!r}")
    if missed:
        prober.results.append(Result(rules.GENEROUS_NAMES, ADVICE, f"not found as {', '.join(missed)}"))
    else:
        prober.passed(rules.GENEROUS_NAMES, "found under other case, spacing and a suffix")


# -- schemathesis: the rules every answer keeps, as checks on every response ------------------


def _checks() -> list[Callable[..., Any]]:
    """One schemathesis check per always-true rule, named after it, so a failure names the rule."""
    checks = []
    for rule in (
        rules.PRELIMINARY_NO_MEMBERS,
        rules.NO_MEMBERS_WITHOUT_MATCH,
        rules.ISO_DATES,
        rules.RANK_ORDER,
        rules.PRIMARY_ID,
        rules.NO_SSN,
    ):
        checks.append(_check_for(rule))
    return checks


def _check_for(rule: str) -> Callable[..., Any]:
    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        path = case.operation.path
        if response.status_code != 200 or path not in (SEARCH_PATH, CHECK_PATH):
            return None
        try:
            answer = response.json()
        except ValueError:
            return None
        operation = "check" if path == CHECK_PATH else "search"
        found = [b for b in rules.answer_breaches(operation, case.body, answer) if b.rule == rule]
        if found:
            raise AssertionError(f"{rules.RULES[rule]}: " + "; ".join(str(b) for b in found))
        return None

    check.__name__ = f"partner_{rule.replace('-', '_')}"
    check.__doc__ = rules.RULES[rule]
    return check


@dataclass(frozen=True)
class Known:
    """What the probes found on the partner: generated calls are steered to it now and then."""

    probe: Probe
    member_ids: tuple[str, ...]


def steer(case: Any, known: Known) -> None:
    """Point some schema-valid calls at the known member, so answers with members get checked too.

    Random names find nobody, and a check of a random memberId finds nothing; a partner whose
    answers break a rule only when they hold members would pass unseen. So, chosen by the generated
    value (a seed still reproduces a run), a third of the positive searches become the known
    member's preliminary search, a third its final search, and half the positive checks ask about
    a memberId its final search returned; the other fields stay as generated.
    """
    body, meta = case.body, case.meta
    if not isinstance(body, dict) or (meta is not None and not meta.generation.mode.is_positive):
        return
    path = case.operation.path
    if path == SEARCH_PATH and isinstance(body.get("firstName"), str):
        choice = zlib.crc32(body["firstName"].encode("utf-8", "surrogatepass")) % 3
        if choice == 0:
            return
        for name in rules.CONFIRMATION_FIELDS:
            body.pop(name, None)
        body.update(known.probe.preliminary() if choice == 1 else known.probe.final())
    elif path == CHECK_PATH and isinstance(body.get("memberId"), str) and known.member_ids:
        choice = zlib.crc32(body["memberId"].encode("utf-8", "surrogatepass"))
        if choice % 2 == 0:
            body["memberId"] = known.member_ids[(choice // 2) % len(known.member_ids)]


@contextmanager
def _registered(known: Known | None) -> Iterator[None]:
    """The checks (and the steering hook) registered for one run, then removed: schemathesis keeps
    them process-wide, and they would otherwise reach whatever the same process tests next."""
    import schemathesis
    from schemathesis.checks import CHECKS

    checks = _checks()
    for check in checks:
        schemathesis.check(check)

    def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
        if known is not None:
            steer(case, known)

    schemathesis.hook("before_call")(before_call)
    try:
        yield
    finally:
        for check in checks:
            CHECKS.unregister(check.__name__)
        schemathesis.hooks.unregister(before_call)


def _run_schemathesis(config: PartnerRun, known: Known | None) -> int:
    with _registered(known):
        return run_schemathesis("sohar-contract partner-eligibility", config.schemathesis_args)


# -- reports ---------------------------------------------------------------------------------


def print_results(results: list[Result]) -> None:
    print("Partner eligibility rules (probes):")
    marks = {PASSED: "ok     ", FAILED: "FAILED ", SKIPPED: "skipped", ADVICE: "advice "}
    for result in results:
        detail = f" — {result.detail}" if result.detail else ""
        print(f"  {marks[result.status]} {result.rule}: {rules.RULES[result.rule]}{detail}")
    print()


def write_junit(results: list[Result], path: Path) -> None:
    """The probes as a testsuite of their own, beside schemathesis' in the same file."""
    suite = ET.Element(
        "testsuite",
        name=REPORT_NAME,
        tests=str(len(results)),
        failures=str(sum(r.status == FAILED for r in results)),
        skipped=str(sum(r.status == SKIPPED for r in results)),
    )
    for result in results:
        case = ET.SubElement(suite, "testcase", name=result.rule, classname=REPORT_NAME)
        if result.status == FAILED:
            ET.SubElement(case, "failure", message=rules.RULES[result.rule]).text = result.detail
        elif result.status == SKIPPED:
            ET.SubElement(case, "skipped", message=result.detail)
        elif result.detail:
            ET.SubElement(case, "system-out").text = result.detail
    root: ET.Element
    if path.exists():
        existing = ET.parse(path).getroot()
        root = existing if existing.tag == "testsuites" else ET.Element("testsuites")
        if existing.tag != "testsuites":
            root.append(existing)
    else:
        root = ET.Element("testsuites")
    root.append(suite)
    for total in ("tests", "failures", "errors", "skipped"):
        root.set(total, str(sum(int(s.get(total, "0")) for s in root.iter("testsuite"))))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_html(results: list[Result], path: Path) -> None:
    rows = "\n".join(
        f"<tr class={r.status}><td>{r.status}</td><td><code>{html.escape(r.rule)}</code></td>"
        f"<td>{html.escape(rules.RULES[r.rule])}</td><td>{html.escape(r.detail)}</td></tr>"
        for r in results
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!doctype html><meta charset=utf-8><title>Partner eligibility rules</title>"
        "<style>body{font-family:sans-serif}td{padding:2px 8px}.failed{background:#fdd}.passed{background:#dfd}"
        ".skipped,.advice{background:#ffd}</style><h1>Partner eligibility rules (probes)</h1>"
        f"<table><tr><th>result</th><th>rule</th><th>statement</th><th>detail</th></tr>\n{rows}\n</table>\n",
        encoding="utf-8",
    )


def run(config: PartnerRun) -> int:
    prog = "sohar-contract partner-eligibility"
    try:
        import schemathesis  # noqa: F401  (the probes alone would pass a run that fuzzes nothing)
    except ImportError:
        print(f"{prog}: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_SETUP_ERROR
    try:
        results, known = run_probes(config)
    except SetupError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_SETUP_ERROR
    print_results(results)
    try:
        fuzzed = _run_schemathesis(config, known)
    except SetupError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_SETUP_ERROR
    if "junit" in config.reports:
        write_junit(results, config.report_dir / "junit.xml")
    if "html" in config.reports:
        write_html(results, config.report_dir / f"{REPORT_NAME}.html")
    failed = [r.rule for r in results if r.status == FAILED]
    if failed:
        print(f"{prog}: rules broken: {', '.join(dict.fromkeys(failed))}", file=sys.stderr)
    if fuzzed not in (0, EXIT_FAILED):
        return fuzzed
    return EXIT_FAILED if failed or fuzzed else 0
