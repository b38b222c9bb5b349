"""results.json -> latest.md (tables, ratios, targets) and throughput.png (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import tools

CHART = "throughput.png"
PRISM_NOT_RUN = "not run"
OURS_ONLY = "— (ours only)"
TIMES = "\u00d7"  # the multiplication sign, written as an escape to keep the source ASCII-clean


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.2f}{TIMES}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _flag(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _errors(cell: dict[str, Any]) -> str:
    bad = cell["bad_status"] + cell["socket_errors"]
    return f" ⚠{bad} err" if bad else ""


PRISMS = (("prism", "Prism"), ("prism_quiet", "Prism quiet"))


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    rows: list[tuple[str, str, bool | None]] = []
    cells = [c for c in results.get("throughput", []) if c["row"] in ("get", "create")]
    for key, name in PRISMS:
        if not cells or key not in cells[0]:
            continue
        ratios = [c["ours"]["rps"] / c[key]["rps"] for c in cells]
        worst = min(range(len(cells)), key=lambda i: ratios[i])
        rows.append(
            (
                f"GET and create throughput ≥ 3{TIMES} {name}'s (1, 16, 64 connections)",
                f"lowest {ratios[worst]:.2f}{TIMES} ({cells[worst]['row']}, c={cells[worst]['connections']})",
                min(ratios) >= 3,
            )
        )
        slower = [f"{c['row']} c={c['connections']}" for c in cells if c["ours"]["p99_ms"] >= c[key]["p99_ms"]]
        highest = max(c["ours"]["p99_ms"] / c[key]["p99_ms"] for c in cells)
        rows.append(
            (
                f"GET and create p99 below {name}'s at every connection count",
                f"p99 ratio at most {highest:.2f}" + (f" (not below at {', '.join(slower)})" if slower else ""),
                not slower,
            )
        )
    if "startup" in results:
        median = results["startup"]["ours"]["median_s"]
        rows.append(("Start-up to first 200 under 1 s", f"{median * 1000:.0f} ms (median)", median < 1))
    if "memory" in results:
        m = results["memory"]
        rows.append(
            (
                f"Resident memory under 150 MB with {m['stored']:,} verifications stored",
                f"{m['ours_after_mb']:.1f} MB",
                m["ours_after_mb"] < 150,
            )
        )
    if "backlog" in results:
        b = results["backlog"]
        rows.append(
            (
                f"Create throughput with the webhook receiver down and {b['backlog']:,} messages undelivered "
                f"≥ 0.8{TIMES} that with a healthy receiver (c={b['connections']})",
                f"{b['ratio']:.2f}{TIMES} ({b['down']['load']['rps']:,.0f} vs "
                f"{b['healthy']['load']['rps']:,.0f} req/s)",
                b["ratio"] >= 0.8,
            )
        )
    if "durable" in results:
        d = results["durable"]
        worst = min(d["cells"], key=lambda c: c["ratio"])
        rows.append(
            (
                f"Create throughput with `--state` ≥ 0.5{TIMES} in memory (1, 16, 64 connections)",
                f"lowest {worst['ratio']:.2f}{TIMES} (c={worst['connections']}: {worst['durable']['rps']:,.0f} vs "
                f"{worst['memory']['rps']:,.0f} req/s)",
                d["lowest_ratio"] >= 0.5,
            )
        )
    for hooks in results.get("webhooks", []):
        name = f"Create → signed webhook p50 under 20 ms, p99 under 100 ms ({hooks['in_flight']} in flight)"
        if "p50_ms" in hooks:
            value = f"p50 {_ms(hooks['p50_ms'])} ms, p99 {_ms(hooks['p99_ms'])} ms"
            rows.append((name, value, hooks["p50_ms"] < 20 and hooks["p99_ms"] < 100))
        else:
            rows.append((name, f"not measured: {hooks.get('skipped', '?')}", None))
    return rows


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    plan = results["plan"]
    before = " / ".join(f"{x:.2f}" for x in results["load_before"])
    after = " / ".join(f"{x:.2f}" for x in results.get("load_after", results["load_before"]))
    out = ["# Benchmark results: sohar-mock vs Prism", ""]
    if results.get("quick"):
        out += ["> **Quick run** (`--quick`): short cells, for checking the harness; not a result.", ""]
    out += [
        f"Measured {m['date_utc']} in {results.get('elapsed_s', 0):.0f} s on {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB RAM, {m['os']}. Load average (1/5/15 min) before: {before}; after: {after}.",
        "",
        "| | version | started as |",
        "|---|---|---|",
        f"| ours | sohar-mock {m['sohar_mock']}, Python {m['python']}, uvicorn {m['uvicorn']} "
        f"({m.get('event_loop', '?')} loop, httptools {m.get('httptools', '?')}), starlette {m['starlette']} "
        "| `sohar-mock serve --port N` (default log level, request validation on) |",
        *(
            [
                f"| Prism | @stoplight/prism-cli {m['prism']}, Node {m['node']} | `{m['prism_command']}` (its "
                "defaults: static examples, request validation, info log of every request) |",
                "| Prism quiet | the same | the same with `-v warn`: no log line per request, like ours by default |",
            ]
            if m["prism"] != PRISM_NOT_RUN
            else ["| Prism | not run: no row that compares with it was selected | |"]
        ),
        f"| load | {m['wrk']} | `wrk -t1 -cC -dD` with a Lua script for POST bodies |",
        "",
        f"Each cell: {plan['warmup']:g} s of warm-up, then {plan['seconds']:g} s measured, closed loop "
        "(each connection sends its next request when the answer arrives); the two servers run side by side and "
        "take turns going first. Both get the same requests: `Authorization: Bearer <token from ours>` "
        "(Prism accepts any bearer token for the spec's `http`/`bearer` scheme) and Sohar's documented sandbox "
        "member as the create body, which both validate and answer with 201. Every answer was 2xx unless a cell "
        "says `⚠N err`. Ratios are ours / Prism. See [README](../README.md) for method and caveats.",
        "",
    ]
    if goals := targets(results):
        out += ["## Targets", "", "| target | this run | |", "|---|---|---|"]
        out += [f"| {name} | {value} | {_flag(ok)} |" for name, value, ok in goals]
        out += [""]
    if "throughput" in results:
        cells = results["throughput"]
        prisms = [(k, n) for k, n in PRISMS if k in cells[0]]
        head = " | ".join(f"{n} req/s | ratio" for _, n in prisms)
        out += [
            "## Throughput (rows 1-3)",
            "",
            f"![throughput]({CHART})",
            "",
            f"| request | conns | ours req/s | {head} |",
            "|---|--:|--:|" + "--:|--:|" * len(prisms),
        ]
        for c in cells:
            o = c["ours"]
            rest = " | ".join(f"{c[k]['rps']:,.0f}{_errors(c[k])} | {_ratio(o['rps'], c[k]['rps'])}" for k, _ in prisms)
            out.append(f"| `{c['label']}` | {c['connections']} | {o['rps']:,.0f}{_errors(o)} | {rest} |")
        p50 = " | ".join(f"{n} p50" for _, n in prisms)
        p99 = " | ".join(f"{n} p99 | p99 ratio" for _, n in prisms)
        out += [
            "",
            "## Latency in ms (rows 1-3)",
            "",
            f"| request | conns | ours p50 | {p50} | ours p99 | {p99} |",
            "|---|--:|--:|" + "--:|" * len(prisms) + "--:|" + "--:|--:|" * len(prisms),
        ]
        for c in cells:
            o = c["ours"]
            p50s = " | ".join(_ms(c[k]["p50_ms"]) for k, _ in prisms)
            p99s = " | ".join(f"{_ms(c[k]['p99_ms'])} | {_ratio(o['p99_ms'], c[k]['p99_ms'])}" for k, _ in prisms)
            out.append(
                f"| `{c['label']}` | {c['connections']} | {_ms(o['p50_ms'])} | {p50s} | {_ms(o['p99_ms'])} | {p99s} |"
            )
        out += [""]
    if "providers" in results:
        cells = results["providers"]
        prisms = [(k, n) for k, n in PRISMS if k in cells[0]]
        head = " | ".join(f"{n} req/s | {n} p99 | ratio" for _, n in prisms)
        out += [
            "## Providers and network status (row 9)",
            "",
            "Create Provider sends the same config every time (ours answers the provider it made first); "
            "Get Network Status reads the verification made up front. Ratios are ours / Prism, req/s.",
            "",
            f"| request | conns | ours req/s | ours p99 | {head} |",
            "|---|--:|--:|--:|" + "--:|--:|--:|" * len(prisms),
        ]
        for c in cells:
            o = c["ours"]
            rest = " | ".join(
                f"{c[k]['rps']:,.0f}{_errors(c[k])} | {_ms(c[k]['p99_ms'])} | {_ratio(o['rps'], c[k]['rps'])}"
                for k, _ in prisms
            )
            out.append(
                f"| `{c['label']}` | {c['connections']} | {o['rps']:,.0f}{_errors(o)} | {_ms(o['p99_ms'])} | {rest} |"
            )
        out += [""]
    if "startup" in results or "memory" in results or "idle_rss_mb" in results:
        out += ["## Start-up and memory (rows 4-5)", "", "| measure | ours | Prism | ratio |", "|---|--:|--:|--:|"]
        if "startup" in results:
            s = results["startup"]
            n = len(s["ours"]["runs"])
            out.append(
                f"| process start → first 200 (`POST /oauth/token`), median of {n} | "
                f"{s['ours']['median_s'] * 1000:.0f} ms | {s['prism']['median_s'] * 1000:.0f} ms | "
                f"{_ratio(s['ours']['median_s'], s['prism']['median_s'])} |"
            )
        if "memory" in results:
            mem = results["memory"]
            out.append(
                f"| resident memory (VmRSS), idle after start | {mem['ours_idle_mb']:.1f} MB | "
                f"{mem['prism_idle_mb']:.1f} MB | {_ratio(mem['ours_idle_mb'], mem['prism_idle_mb'])} |"
            )
            out.append(
                f"| resident memory with {mem['stored']:,} verifications stored "
                f"(created in {mem['create_seconds']:g} s) | {mem['ours_after_mb']:.1f} MB | "
                f"n/a (Prism stores nothing) | {OURS_ONLY} |"
            )
        out += [""]
    if results.get("webhooks"):
        out += _webhook_table("## Create → signed webhook (row 6, ours only)", "verifications", results["webhooks"])
        out[-1:-1] = [
            "In a closed loop the latency is bound to the throughput (Little's law: in flight = "
            f"verifications/s {TIMES} latency), so with 200 in flight a p50 under 20 ms would take about "
            "10 000 verifications/s; the 1-in-flight line is the pipeline's own latency.",
        ]
    if "backlog" in results:
        b = results["backlog"]
        out += [
            "## Create with undelivered webhooks behind it (row 8, ours only)",
            "",
            f"| webhook receiver | messages before the cell | created in | settled in | create req/s "
            f"(c={b['connections']}) | p50 ms | p99 ms | ratio down/healthy |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for case, label in (("healthy", "answers 200"), ("down", "down (connection refused)")):
            c = b[case]
            cell = c["load"]
            state = "pending" if case == "down" else "delivered"
            ratio = f"{b['ratio']:.2f}{TIMES}" if case == "down" else ""
            out.append(
                f"| {label} | {c['created']:,} {state} | {c['create_s']:g} s | {c['settle_s']:g} s "
                f"| {cell['rps']:,.0f}{_errors(cell)} | {_ms(cell['p50_ms'])} | {_ms(cell['p99_ms'])} | {ratio} |"
            )
        out += [
            "",
            f"Each case on a fresh `sohar-mock serve --webhook-url URL`: {b['backlog']:,} creates (one message each) "
            "first, then the create cell as in row 2. Healthy, the cell starts once the last message is delivered. "
            "Down, URL is a loopback port where nothing listens: the cell starts once every message has been "
            "refused twice (Svix's first retry comes 5 s after the first attempt) and waits for its third attempt "
            "5 min later. *Settled in*: from the last create to that point.",
            "",
        ]
    if "discovery" in results:
        cells = results["discovery"]
        prisms = [(k, n) for k, n in PRISMS if k in cells[0]]
        head = " | ".join(f"{n} req/s | ratio | {n} p99" for _, n in prisms)
        out += [
            "## Create Discovery (row 10)",
            "",
            "`POST /v2/discovery` with Sohar's sandbox example (John Doe, CA, zip 90210), which both servers "
            "answer with 201; ours stores the discovery and schedules its result and event, Prism answers the "
            "spec's example. Measured like rows 1-3.",
            "",
            f"| conns | ours req/s | ours p50 | ours p99 | {head} |",
            "|--:|--:|--:|--:|" + "--:|--:|--:|" * len(prisms),
        ]
        for c in cells:
            o = c["ours"]
            rest = " | ".join(
                f"{c[k]['rps']:,.0f}{_errors(c[k])} | {_ratio(o['rps'], c[k]['rps'])} | {_ms(c[k]['p99_ms'])}"
                for k, _ in prisms
            )
            out.append(
                f"| {c['connections']} | {o['rps']:,.0f}{_errors(o)} | {_ms(o['p50_ms'])} | {_ms(o['p99_ms'])} "
                f"| {rest} |"
            )
        out += [""]
    if results.get("discovery_webhooks"):
        out += _webhook_table(
            "## Create Discovery → signed `sandbox.discovery.updated` (row 11, ours only)",
            "discoveries",
            results["discovery_webhooks"],
        )
    if "durable" in results:
        out += _durable_tables(results["durable"])
    if "validation" in results:
        out += [
            "## Request validation on vs off (row 7, ours only)",
            "",
            "| request | conns | validated req/s | `--no-validate` req/s | on/off | validated p99 ms "
            "| `--no-validate` p99 ms | ratio ours/Prism |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for c in results["validation"]:
            on, off = c["on"], c["off"]
            out.append(
                f"| `{c['label']}` | {c['connections']} | {on['rps']:,.0f}{_errors(on)} | {off['rps']:,.0f}"
                f"{_errors(off)} | {_ratio(on['rps'], off['rps'])} | {_ms(on['p99_ms'])} | {_ms(off['p99_ms'])} "
                f"| {OURS_ONLY} |"
            )
        out += [""]
    return "\n".join(out)


def _durable_tables(d: dict[str, Any]) -> list[str]:
    """Row 12: create throughput and create -> webhook, durable beside in memory."""
    out = [
        "## Durable state: `--state PATH` vs in memory (row 12, ours only)",
        "",
        "`POST /v2/verifications` as in row 2, on two `sohar-mock serve` side by side, one in memory and one "
        "with `--state` on a fresh file in a temporary folder (SQLite, WAL, `synchronous=NORMAL`: each answer "
        "waits for its changes' commit). Prism has no durable mode: no Prism column.",
        "",
        "| conns | in memory req/s | p50 ms | p99 ms | `--state` req/s | p50 ms | p99 ms | ratio durable/memory "
        "| Prism |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for c in d["cells"]:
        m, s = c["memory"], c["durable"]
        out.append(
            f"| {c['connections']} | {m['rps']:,.0f}{_errors(m)} | {_ms(m['p50_ms'])} | {_ms(m['p99_ms'])} "
            f"| {s['rps']:,.0f}{_errors(s)} | {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} | {c['ratio']:.2f}{TIMES} "
            "| n/a (no durable mode) |"
        )
    out += [
        "",
        f"After the cells the file held {d['stored']:,} verifications in {d['file_bytes'] / 1e6:.1f} MB "
        f"({d['file_bytes'] / max(1, d['stored']):,.0f} bytes each). Stopped and started again on it, the mock "
        f"answered its first 200 after {d['restart_s'] * 1000:.0f} ms with {d['restored']:,} restored "
        f"(on the fresh file: {d['first_start_s'] * 1000:.0f} ms).",
        "",
        "| in flight | in memory p50 ms | p99 ms | verifications/s | `--state` p50 ms | p99 ms | verifications/s "
        "| p50 ratio durable/memory | signatures verified (svix) |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for hooks in d["webhooks"]:
        m, s = hooks["memory"], hooks["durable"]
        if "p50_ms" not in m or "p50_ms" not in s:
            skipped = m.get("skipped") or s.get("skipped")
            out.append(f"| {hooks['in_flight']} | not measured: {skipped} ||||||||")
            continue
        out.append(
            f"| {hooks['in_flight']} | {_ms(m['p50_ms'])} | {_ms(m['p99_ms'])} | {m['creates_per_s']:,.0f} "
            f"| {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} | {s['creates_per_s']:,.0f} "
            f"| {_ratio(s['p50_ms'], m['p50_ms'])} "
            f"| {m['verified'] + s['verified']:,} / {m['received'] + s['received']:,} |"
        )
    return [
        *out,
        "",
        "Create → signed webhook as in row 6, once in memory and once with `--state` on a fresh file, "
        "alternating which goes first. Durable, each attempt waits for the message's commit (and its "
        "outcome is committed before the next attempt).",
        "",
    ]


def _webhook_table(title: str, noun: str, runs: list[dict[str, Any]]) -> list[str]:
    """Rows 6 and 11: create -> signed webhook, one line per number in flight, then the method."""
    out = [
        title,
        "",
        f"| in flight | {noun} | p50 ms | p90 ms | p99 ms | max ms | {noun}/s | signatures verified (svix) | ratio |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    method = ""
    for hooks in runs:
        if "p50_ms" not in hooks:
            out.append(f"| {hooks['in_flight']} | not measured: {hooks.get('skipped')} ||||||||")
            continue
        method = hooks["method"]
        out.append(
            f"| {hooks['in_flight']} | {hooks['count']:,} | {_ms(hooks['p50_ms'])} | {_ms(hooks['p90_ms'])} "
            f"| {_ms(hooks['p99_ms'])} | {_ms(hooks['max_ms'])} | {hooks['creates_per_s']:,.0f} "
            f"| {hooks['verified']:,} / {hooks['received']:,} | {OURS_ONLY} |"
        )
    return [*out, "", method, ""]


def chart(results: dict[str, Any], path: Path) -> None:
    tools.ensure_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = results.get("throughput", [])
    checks = results.get("validation", [])
    panels = [p for p in (cells, checks) if p]
    fig, axes = plt.subplots(
        1,
        len(panels) or 1,
        figsize=(7.5 * max(1, len(panels)), 4.8),
        squeeze=False,
        gridspec_kw={"width_ratios": [len(p) for p in panels] or [1]},
    )
    short = {"get": "GET", "create": "create", "token": "token"}

    def bars(ax: Any, data: list[dict[str, Any]], series: list[tuple[str, str, str]], title: str) -> None:
        width = 0.8 / len(series)
        for i, (key, label, colour) in enumerate(series):
            xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(data))]
            ys = [c[key]["rps"] for c in data]
            ax.bar(xs, ys, width, label=label, color=colour)
        first = series[0][0]
        for j, c in enumerate(data):
            top = max(c[key]["rps"] for key, _, _ in series)
            label = "\n".join(f"{c[first]['rps'] / c[key]['rps']:.1f}{TIMES}" for key, _, _ in series[1:])
            ax.annotate(label, (j, top), ha="center", va="bottom", fontsize=7)
        ax.margins(y=0.15)
        ax.set_xticks(range(len(data)))
        ax.set_xticklabels([f"{short[c['row']]}\nc={c['connections']}" for c in data], fontsize=8)
        ax.set_ylabel("requests/s")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(series), frameon=False)
        ax.grid(axis="y", alpha=0.3)

    index = 0
    if cells:
        series = [("ours", "sohar-mock", "#2b6cb0"), ("prism", "Prism (default)", "#a0aec0")]
        if "prism_quiet" in cells[0]:
            series.append(("prism_quiet", "Prism -v warn", "#cbd5e0"))
        bars(
            axes[0][index],
            cells,
            series,
            "Throughput, ours vs Prism (labels: ours / each Prism)",
        )
        index += 1
    if checks:
        bars(
            axes[0][index],
            checks,
            [("on", "validation on", "#2b6cb0"), ("off", "--no-validate", "#90cdf4")],
            "sohar-mock: request validation on vs off (label: on/off)",
        )
    m = results["machine"]
    fig.suptitle(f"{m['date_utc']} · {m['cpu']}, {m['cores']} cores · wrk, 1 thread", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / "latest.md"
    png = folder / CHART
    md.write_text(markdown(results) + "\n")
    if results.get("throughput") or results.get("validation"):
        chart(results, png)
    return md, png
