"""`python -m bench`: sohar-mock side by side with Prism, written to bench/results/latest.md."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import backlog, client, durable, load, machine, procs, rawhttp, report, servers, tools, webhooks
from .load import Target

RESULTS = Path(__file__).resolve().parent / "results"
RAW = RESULTS / "raw"
CONNECTIONS = (1, 16, 64)
# Rows 1-3: (key, label). The GET reads one verification created up front.
ENDPOINTS = (
    ("get", "GET /v2/verifications/{id}"),
    ("create", "POST /v2/verifications"),
    ("token", "POST /oauth/token"),
)
# Row 9: providers and network status, as rows 1-3. Network status reads the verification made up front.
PROVIDER_ENDPOINTS = (
    ("provider", "POST /v1/providers"),
    ("network", "GET /v2/verifications/{id}/network-status"),
)
# Row 10: Create Discovery, measured like rows 1-3 beside Prism on the same spec.
DISCOVERY = ("discover", "POST /v2/discovery")
BUDGET_SECONDS = 600


@dataclass(frozen=True)
class Plan:
    seconds: float  # measured seconds per wrk cell
    warmup: float  # discarded seconds before each cell
    startup_runs: int
    creates: int  # verifications stored before the second memory reading
    webhook_runs: tuple[tuple[int, int], ...]  # (verifications measured, in flight)
    backlog: int  # undelivered webhook messages before row 8's create cell
    discovery_webhook_runs: tuple[tuple[int, int], ...] = ((500, 1), (1000, 16))  # row 11


# Row 6 at the 200 in flight, and at 1 in flight for the latency of the pipeline itself.
FULL = Plan(
    seconds=5,
    warmup=1,
    startup_runs=10,
    creates=100_000,
    webhook_runs=((500, 1), (1000, 16), (2000, 200)),
    backlog=100_000,
)
# The quick backlog is past the delivery journal's 10 000, where a journal that scanned for
# finished messages on every add slowed creates down.
QUICK = Plan(
    seconds=1,
    warmup=1,
    startup_runs=3,
    creates=10_000,
    webhook_runs=((100, 1), (200, 16), (400, 200)),
    backlog=20_000,
    discovery_webhook_runs=((100, 1), (200, 16)),
)
ROWS = (
    "startup",
    "throughput",
    "validation",
    "memory",
    "webhooks",
    "backlog",
    "providers",
    "discovery",
    "discovery_webhooks",
    "durable",
)
# Rows that run Prism beside ours; the others need neither Prism nor Node.
PRISM_ROWS = {"startup", "throughput", "validation", "memory", "providers", "discovery"}
# Rows measured against the three servers started side by side.
SIDE_BY_SIDE_ROWS = {"throughput", "validation", "memory", "providers", "discovery"}


def say(message: str) -> None:
    tools.say(message)


class Bench:
    def __init__(self, plan: Plan, wrk: str, prism_cli: Path | None) -> None:
        self.plan = plan
        self.wrk = wrk
        self.prism_cli = prism_cli
        self.logs = RAW / "logs"
        self.wrk_log = self.logs / "wrk.log"
        self.body_files = {
            "create": RAW / "create.json",
            "token": RAW / "token.json",
            "provider": RAW / "provider.json",
            "discover": RAW / "discover.json",
        }
        self.body_files["create"].write_text(json.dumps(client.CREATE_BODY))
        self.body_files["token"].write_text(json.dumps(client.CREDENTIALS))
        self.body_files["provider"].write_text(json.dumps(client.PROVIDER_BODY))
        self.body_files["discover"].write_text(json.dumps(client.DISCOVERY_BODY))

    # -- requests ----------------------------------------------------------------------

    def target(self, endpoint: str, port: int, bearer: str, verification_id: str) -> Target:
        auth = (("Authorization", f"Bearer {bearer}"),)
        json_body = (("Content-Type", "application/json"),)
        if endpoint == "get":
            return Target(port, f"/v2/verifications/{verification_id}", headers=auth)
        if endpoint == "create":
            return Target(port, "/v2/verifications", "POST", self.body_files["create"], auth + json_body)
        if endpoint == "provider":
            return Target(port, "/v1/providers", "POST", self.body_files["provider"], auth + json_body)
        if endpoint == "network":
            return Target(port, f"/v2/verifications/{verification_id}/network-status", headers=auth)
        if endpoint == "discover":
            return Target(port, "/v2/discovery", "POST", self.body_files["discover"], auth + json_body)
        return Target(port, "/oauth/token", "POST", self.body_files["token"], json_body)

    def measure(self, target: Target, connections: int) -> load.Load:
        load.run(self.wrk, target, connections, self.plan.warmup)
        return load.run(self.wrk, target, connections, self.plan.seconds, log=self.wrk_log)

    # -- rows --------------------------------------------------------------------------

    def startup(self) -> dict[str, Any]:
        """Row 4: process start to first 200, alternating the two servers run by run."""
        times: dict[str, list[float]] = {"ours": [], "prism": []}
        for run in range(self.plan.startup_runs):
            order = ("ours", "prism") if run % 2 == 0 else ("prism", "ours")
            for key in order:
                server = self._server(key, f"startup-{key}.log")
                with server:
                    assert server.startup_s is not None
                    times[key].append(round(server.startup_s, 4))
        say(
            f"start-up median: ours {statistics.median(times['ours']):.3f} s, "
            f"Prism {statistics.median(times['prism']):.3f} s"
        )
        return {key: {"runs": values, "median_s": statistics.median(values)} for key, values in times.items()}

    def throughput(
        self, contenders: dict[str, servers.Server], endpoints: tuple[tuple[str, str], ...] = ENDPOINTS
    ) -> list[dict[str, Any]]:
        """Rows 1-3 (or row 9's endpoints) at 1/16/64 connections; the servers take turns going first."""
        ours = contenders["ours"]
        bearer = client.token(ours.port)
        verification_id = client.create(ours.port, bearer)
        self._check_2xx(list(contenders.values()), bearer, verification_id, endpoints)
        rows = []
        turn = 0
        for endpoint, label in endpoints:
            for connections in CONNECTIONS:
                order = list(contenders.items())
                order = order[turn % len(order) :] + order[: turn % len(order)]
                turn += 1
                cell: dict[str, Any] = {"row": endpoint, "label": label, "connections": connections}
                for key, server in order:
                    target = self.target(endpoint, server.port, bearer, verification_id)
                    cell[key] = self.measure(target, connections).to_dict()
                say(
                    f"{label} c={connections}: "
                    + " | ".join(
                        f"{key} {cell[key]['rps']:.0f} req/s p99 {cell[key]['p99_ms']:.1f} ms" for key in contenders
                    )
                )
                rows.append(cell)
        return rows

    def discovery(self, contenders: dict[str, servers.Server]) -> list[dict[str, Any]]:
        """Row 10: Create Discovery at 1/16/64 connections, beside Prism; the servers take turns going first."""
        bearer = client.token(contenders["ours"].port)
        endpoint, label = DISCOVERY
        for server in contenders.values():
            t = self.target(endpoint, server.port, bearer, "")
            status, answer = client.call(server.port, t.method, t.path, client.DISCOVERY_BODY, dict(t.headers))
            if status != 201:
                raise RuntimeError(f"{server.name} answered {label} with {status}: {answer}")
        rows = []
        for turn, connections in enumerate(CONNECTIONS):
            order = list(contenders.items())
            order = order[turn % len(order) :] + order[: turn % len(order)]
            cell: dict[str, Any] = {"row": endpoint, "label": label, "connections": connections}
            for key, server in order:
                cell[key] = self.measure(self.target(endpoint, server.port, bearer, ""), connections).to_dict()
            say(
                f"{label} c={connections}: "
                + " | ".join(
                    f"{key} {cell[key]['rps']:.0f} req/s p99 {cell[key]['p99_ms']:.1f} ms" for key in contenders
                )
            )
            rows.append(cell)
        return rows

    def discovery_webhooks(self) -> list[dict[str, Any]]:
        """Row 11: Create Discovery -> signed `sandbox.discovery.updated` at a local receiver."""
        rows = []
        for total, in_flight in self.plan.discovery_webhook_runs:
            row = webhooks.measure(
                servers.ours_command(), self.logs, total=total, in_flight=in_flight, kind=webhooks.DISCOVERY
            )
            if "p50_ms" in row:
                say(
                    f"create discovery -> webhook, {in_flight} in flight: p50 {row['p50_ms']:.1f} ms, "
                    f"p99 {row['p99_ms']:.1f} ms, {row['creates_per_s']:.0f} discoveries/s"
                )
            else:
                say(f"create discovery -> webhook, {in_flight} in flight: not measured ({row['skipped']})")
            rows.append({"in_flight": in_flight, **row})
        return rows

    def validation(self, ours: servers.Server) -> list[dict[str, Any]]:
        """Row 7: the same server with and without --no-validate, taking turns."""
        rows = []
        with self._server("ours", "ours-no-validate.log", "--no-validate") as unchecked:
            bearers = {"on": client.token(ours.port), "off": client.token(unchecked.port)}
            ports = {"on": ours.port, "off": unchecked.port}
            for endpoint, label in ENDPOINTS[1:]:  # GET has no body to validate
                for index, connections in enumerate(CONNECTIONS):
                    cell: dict[str, Any] = {"row": endpoint, "label": label, "connections": connections}
                    for key in ("on", "off") if index % 2 == 0 else ("off", "on"):
                        target = self.target(endpoint, ports[key], bearers[key], "")
                        cell[key] = self.measure(target, connections).to_dict()
                    say(
                        f"validation {label} c={connections}: on {cell['on']['rps']:.0f} req/s, "
                        f"off {cell['off']['rps']:.0f} req/s"
                    )
                    rows.append(cell)
        return rows

    def memory(self, prism_idle_mb: float) -> dict[str, Any]:
        """Row 5: a fresh sohar-mock, idle and after `creates` verifications are stored."""
        with self._server("ours", "ours-memory.log") as ours:
            time.sleep(1)
            idle = ours.rss_mb()
            bearer = client.token(ours.port)
            began = time.perf_counter()
            rawhttp.create_many(ours.port, bearer, self.plan.creates)
            seconds = time.perf_counter() - began
            time.sleep(1)
            after = ours.rss_mb()
            stored = _stored(ours.port)
        say(f"memory: idle {idle:.1f} MB, {stored} stored {after:.1f} MB ({seconds:.1f} s to create)")
        return {
            "ours_idle_mb": round(idle, 1),
            "prism_idle_mb": round(prism_idle_mb, 1),
            "ours_after_mb": round(after, 1),
            "stored": stored,
            "create_seconds": round(seconds, 1),
        }

    def webhooks(self) -> list[dict[str, Any]]:
        """Row 6: create -> signed webhook at a local receiver, with verifications in flight."""
        rows = []
        for total, in_flight in self.plan.webhook_runs:
            row = webhooks.measure(servers.ours_command(), self.logs, total=total, in_flight=in_flight)
            if "p50_ms" in row:
                say(
                    f"create -> webhook, {in_flight} in flight: p50 {row['p50_ms']:.1f} ms, "
                    f"p99 {row['p99_ms']:.1f} ms, {row['creates_per_s']:.0f} verifications/s"
                )
            else:
                say(f"create -> webhook, {in_flight} in flight: not measured ({row['skipped']})")
            rows.append({"in_flight": in_flight, **row})
        return rows

    def backlog(self) -> dict[str, Any]:
        """Row 8: create throughput with the webhook receiver down and a backlog undelivered,
        against the same with a healthy receiver."""

        def measure_create(port: int, bearer: str, connections: int) -> load.Load:
            return self.measure(self.target("create", port, bearer, ""), connections)

        row = backlog.measure(measure_create, self.logs, self.plan.backlog)
        say(
            f"create with {row['backlog']:,} messages behind, c={row['connections']}: receiver down "
            f"{row['down']['load']['rps']:.0f} req/s, healthy {row['healthy']['load']['rps']:.0f} req/s, "
            f"ratio {row['ratio']:.2f} ({backlog.message_states(row)})"
        )
        return row

    def durable(self) -> dict[str, Any]:
        """Row 12: create throughput and create -> webhook with `--state` against the same in memory."""

        def measure_create(port: int, bearer: str, connections: int) -> load.Load:
            return self.measure(self.target("create", port, bearer, ""), connections)

        row = durable.measure(measure_create, self.logs, self.plan.webhook_runs)
        for cell in row["cells"]:
            say(
                f"create c={cell['connections']}: in memory {cell['memory']['rps']:.0f} req/s, "
                f"durable {cell['durable']['rps']:.0f} req/s, ratio {cell['ratio']:.2f}"
            )
        say(
            f"durable: {row['stored']} stored in {row['file_bytes'] / 1e6:.1f} MB; restart to first 200 "
            f"{row['restart_s']:.2f} s with {row['restored']} restored (fresh file {row['first_start_s']:.2f} s)"
        )
        for hooks in row["webhooks"]:
            say(
                f"create -> webhook, {hooks['in_flight']} in flight: "
                + " | ".join(_webhook_line(mode, hooks[mode]) for mode in durable.MODES)
            )
        return row

    # -- helpers -------------------------------------------------------------------------

    def _server(self, key: str, log_name: str, *extra: str) -> servers.Server:
        log = self.logs / log_name
        if key.startswith("prism"):
            assert self.prism_cli is not None
            return servers.prism(self.prism_cli, log, quiet=key == "prism_quiet")
        return servers.ours(log, *extra)

    def _check_2xx(
        self,
        contenders: list[servers.Server],
        bearer: str,
        verification_id: str,
        endpoints: tuple[tuple[str, str], ...] = ENDPOINTS,
    ) -> None:
        """Every server must answer every measured request with 2xx, or the comparison is void."""
        for server in contenders:
            for endpoint, label in endpoints:
                t = self.target(endpoint, server.port, bearer, verification_id)
                body = json.loads(t.body_file.read_text()) if t.body_file else None
                status, answer = client.call(server.port, t.method, t.path, body, dict(t.headers))
                if not 200 <= status < 300:
                    raise RuntimeError(f"{server.name} answered {label} with {status}: {answer}")


def _webhook_line(mode: str, row: dict[str, Any]) -> str:
    if "p50_ms" not in row:
        return f"{mode} not measured ({row['skipped']})"
    return f"{mode} p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, {row['creates_per_s']:.0f}/s"


def _stored(port: int) -> int:
    status, body = client.call(port, "GET", "/__admin/health")
    return int(body["verifications"]) if status == 200 else -1


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="short cells and fewer runs, to check the harness")
    p.add_argument(
        "--only",
        nargs="+",
        choices=ROWS,
        help="measure only these rows (the report marks the rest as not measured)",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.md and the chart")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = QUICK if args.quick else FULL
    only = set(args.only or ROWS)
    procs.install(BUDGET_SECONDS)
    began = time.time()
    try:
        wrk = tools.ensure_wrk()
        prism_cli = tools.ensure_prism() if only & PRISM_ROWS else None
        if only & {"throughput", "validation"}:
            tools.ensure_matplotlib()  # for the chart, which only these rows feed
        shutil.rmtree(RAW / "logs", ignore_errors=True)
        (RAW / "logs").mkdir(parents=True)
        results: dict[str, Any] = {
            "plan": plan.__dict__,
            "quick": args.quick,
            "machine": machine.describe(wrk, prism_cli),
            "load_before": os.getloadavg(),
        }
        say(f"load average before: {' '.join(f'{x:.2f}' for x in results['load_before'])}")
        bench = Bench(plan, wrk, prism_cli)
        if "startup" in only:
            results["startup"] = bench.startup()
        if only & SIDE_BY_SIDE_ROWS:
            with (
                bench._server("ours", "ours.log") as ours,
                bench._server("prism", "prism.log") as prism,
                bench._server("prism_quiet", "prism-quiet.log") as prism_quiet,
            ):
                time.sleep(1)
                prism_idle = prism.rss_mb()
                results["idle_rss_mb"] = {"ours": round(ours.rss_mb(), 1), "prism": round(prism_idle, 1)}
                contenders = {"ours": ours, "prism": prism, "prism_quiet": prism_quiet}
                if "throughput" in only:
                    results["throughput"] = bench.throughput(contenders)
                if "providers" in only:
                    results["providers"] = bench.throughput(contenders, PROVIDER_ENDPOINTS)
                if "validation" in only:
                    results["validation"] = bench.validation(ours)
                if "discovery" in only:
                    results["discovery"] = bench.discovery(contenders)
            if "memory" in only:
                results["memory"] = bench.memory(prism_idle)
        if "webhooks" in only:
            results["webhooks"] = bench.webhooks()
        if "backlog" in only:
            results["backlog"] = bench.backlog()
        if "discovery_webhooks" in only:
            results["discovery_webhooks"] = bench.discovery_webhooks()
        if "durable" in only:
            results["durable"] = bench.durable()
        results["load_after"] = os.getloadavg()
        results["elapsed_s"] = round(time.time() - began, 1)
        RAW.mkdir(parents=True, exist_ok=True)
        (RAW / "results.json").write_text(json.dumps(results, indent=2))
        md, png = report.write(results, args.out)
        say(f"done in {results['elapsed_s']:.0f} s: {md} and {png}")
        return 0
    except KeyboardInterrupt:
        print("\n[bench] interrupted: stopping every process the benchmark started", file=sys.stderr)
        return 130
    except TimeoutError as exc:
        print(f"[bench] {exc}: stopping every process the benchmark started", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # a server that would not start or answered non-2xx; wrk failing
        print(f"[bench] failed: {exc}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
