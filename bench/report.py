"""The table on the terminal and docs/performance.md, from the sections' results."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from pathlib import Path

GOAL_RATIO = 2.0
GOAL_STATEMENTS = 50
GOAL_FLOOR_RATIO = 2.0  # issue 19: ours ÷ bare SpiffWorkflow with its JSON in one PostgreSQL row
GOAL_LIFECYCLE_STATEMENTS = 40  # issue 19: statements per whole lifecycle
GOAL_INBOX_P95 = 50.0
GOAL_STATUS_P99 = 20.0
GOAL_STATISTICS = 1000.0
GOAL_PEER = 0.5  # issue 19: ours ÷ viewflow
GOAL_VIEW_P95 = 50.0  # issue 19: every staff list and page as a whole view
GOAL_BOARD = 1000.0  # issue 19: the dashboard and its CSV
GOAL_PDF_WARM = 300.0
PACKAGES = ("Django", "djangorestframework", "SpiffWorkflow", "RestrictedPython", "psycopg", "gunicorn", "weasyprint")
PACKAGES += ("pyhanko",)
FOUR = "four departments (generated)"
VIEWFLOW_STATEMENTS = 104  # DESIGN.md §4: viewflow 2.4, window acceptance + four parallel reviews
DESIGN_BARE_ROW = 23  # DESIGN.md §4: bare SpiffWorkflow JSON in one PostgreSQL row
NOTES = Path(__file__).with_name("NOTES.md")


# --- machine ----------------------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


def machine_info(pg_url: str) -> dict:
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(next(line.split()[1] for line in handle if line.startswith("MemTotal")))
            memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    postgres = "?"
    try:
        import psycopg

        with psycopg.connect(f"{pg_url.rstrip('/')}/postgres") as connection:
            postgres = connection.execute("SHOW server_version").fetchone()[0]
            postgres += f", shared_buffers {connection.execute('SHOW shared_buffers').fetchone()[0]}"
    except Exception as exc:  # the run itself will fail loudly if the server is really unreachable
        postgres = f"unknown ({exc.__class__.__name__})"
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "-"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres,
        "packages": versions,
        "load_before": load_average(),
    }


# --- goals ------------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def goals(results: dict) -> list[tuple[str, str, str, bool | None]]:
    rows: list[tuple[str, str, str, bool | None]] = []
    flows = results.get("lifecycle", {}).get("flows", {})
    if FOUR in flows:
        four = flows[FOUR]
        rows.append(
            (
                "Lifecycle overhead: ours ÷ bare SpiffWorkflow with a JSON save/restore per step (4 departments)",
                f"≤ {GOAL_RATIO:g}×",
                f"{four['ratio_json']:.1f}× ({_ms(four['times']['ours']['median'])} vs "
                f"{_ms(four['times']['json']['median'])})",
                four["ratio_json"] <= GOAL_RATIO,
            )
        )
        sql = four["sql"]
        rows.append(
            (
                "SQL statements for window acceptance + four parallel reviews (open, accept, 4 reviews: the steps "
                "bare runs), task rows and audit trail included, BEGIN/COMMIT included",
                f"≤ {GOAL_STATEMENTS}",
                f"{sql['scenario']} ({sql['scenario_statements']} statements + {sql['scenario_transactions']} × "
                f"BEGIN/COMMIT); bare SpiffWorkflow, JSON in one row: {sql['postgres']}",
                sql["scenario"] <= GOAL_STATEMENTS,
            )
        )
        rows.append(
            (
                "SQL statements per whole lifecycle (the above + conclude by the handover, which bare has not), task "
                "rows, audit trail, legal clock and SMS outbox included, BEGIN/COMMIT included",
                f"≤ {GOAL_LIFECYCLE_STATEMENTS}",
                f"{sql['ours']} ({sql['ours_statements']} statements + {sql['ours_transactions']} × BEGIN/COMMIT)",
                sql["ours"] <= GOAL_LIFECYCLE_STATEMENTS,
            )
        )
        scenario = four.get("ratio_postgres_scenario")
        if scenario is not None:
            rows.append(
                (
                    "Lifecycle against its floor: ours ÷ bare SpiffWorkflow with its JSON in one PostgreSQL row, the "
                    "same steps on both sides (open, accept, four reviews), interleaved (whole lifecycle with "
                    "conclude in brackets)",
                    f"≤ {GOAL_FLOOR_RATIO:g}×",
                    f"{scenario:.2f}× ({_ms(four['times']['ours_scenario']['median'])} vs "
                    f"{_ms(four['times']['postgres']['median'])}; whole {four['ratio_postgres']:.2f}×)",
                    scenario <= GOAL_FLOOR_RATIO,
                )
            )
    peer = results.get("viewflow")
    if peer and not peer.get("skipped"):
        # the same steps as viewflow's lifecycle (start, acceptance, the reviews): without conclude
        section1 = flows.get(FOUR, {}).get("ratio_postgres_scenario")
        ratio = section1 / peer["ratio_floor"] if section1 else None
        cross = f"; section 1 ÷ its floor over viewflow ÷ floor: {ratio:.2f}" if ratio else ""
        if "ours_ratio_viewflow" in peer:
            measured = peer["ours_ratio_viewflow"]
            text = (
                f"{measured:.2f} (ours {peer['ours_ratio_floor']:.2f}× the floor, viewflow {peer['ratio_floor']:.2f}×"
                f"{cross}; statements {peer['sql']['ours']} and {peer['sql']['viewflow']} against the floor's "
                f"{peer['sql']['floor']})"
            )
        else:  # a run from before section 6 ran ours too
            measured = section1 / peer["ratio_floor"] if section1 else None
            text = (f"{measured:.2f} (ours {section1:.1f}× the floor, " if measured else "– (") + (
                f"viewflow {peer['ratio_floor']:.1f}×; statements {peer['sql']['viewflow']} against the floor's "
                f"{peer['sql']['floor']})"
            )
        rows.append(
            (
                f"Side by side with viewflow {peer['version']} (same four-department flow): ours ÷ viewflow, the two "
                "lifecycles and the floor (bare SpiffWorkflow, JSON in one PostgreSQL row) interleaved in one run "
                "(section 6)",
                f"≤ {GOAL_PEER:g}",
                text,
                (measured <= GOAL_PEER) if measured else None,
            )
        )
    year = results.get("year")
    if year:
        inbox = year["inbox"]["reviewers_open_selector"]["p95"]
        rows.append(
            (
                f"Department inbox p95 (task_list + page 1), {year['cases']:,} cases",
                f"≤ {GOAL_INBOX_P95:g} ms",
                _ms(inbox),
                inbox <= GOAL_INBOX_P95,
            )
        )
        lookup = year["status"]["lookup"]["p99"]
        rows.append(
            (
                "Status lookup p99 (case_for_applicant)",
                f"≤ {GOAL_STATUS_P99:g} ms",
                _ms(lookup),
                lookup <= GOAL_STATUS_P99,
            )
        )
        views = year.get("views")
        if views:
            pages = {name: v for name, v in views.items() if v["kind"] in ("list", "page")}
            slow = sorted((v["p95"], name) for name, v in pages.items() if v["p95"] > GOAL_VIEW_P95)
            worst_p95, worst = max((v["p95"], name) for name, v in pages.items())
            rows.append(
                (
                    f"Every staff list and page as a whole HTTP view with authentication ({len(pages)} views: "
                    f"inboxes, worklist, case and task pages, API and screen), {year['cases']:,} cases, p95",
                    f"≤ {GOAL_VIEW_P95:g} ms each",
                    f"worst {_ms(worst_p95)} ({worst})"
                    + (f"; over: {', '.join(name for _, name in slow)}" if slow else ""),
                    not slow,
                )
            )
            boards = {name: v for name, v in views.items() if v["kind"] == "board"}
            if boards:
                worst_p95, worst = max((v["p95"], name) for name, v in boards.items())
                rows.append(
                    (
                        "The statistics API, the dashboard and its CSV of the year, whole views, p95",
                        f"≤ {GOAL_BOARD / 1000:g} s each",
                        ", ".join(f"{name} {_ms(v['p95'])}" for name, v in boards.items()),
                        worst_p95 <= GOAL_BOARD,
                    )
                )
        stats = year["statistics"]["times"]["median"]
        rows.append(
            (
                "The year's statistics (median of runs)",
                f"≤ {GOAL_STATISTICS / 1000:g} s",
                f"{_ms(stats)} (first run {_ms(year['statistics']['first_ms'])})",
                stats <= GOAL_STATISTICS,
            )
        )
    pdf = results.get("pdf")
    if pdf:
        warm = pdf["total"]["median"]
        rows.append(
            (
                "Acceptance receipt PDF, warm: render + seal (median)",
                f"≤ {GOAL_PDF_WARM:g} ms",
                f"{_ms(warm)} (render alone {_ms(pdf['render']['median'])})",
                warm <= GOAL_PDF_WARM,
            )
        )
    return rows


def _verdict(met: bool | None) -> str:
    return "–" if met is None else ("met" if met else "**not met**")


# --- terminal ---------------------------------------------------------------------------------------------


def _columns(rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        lines.append("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


def terminal(results: dict, params: dict, machine: dict) -> str:
    out = [f"\nOneThing benchmarks — {machine['date']} — {machine['cpu']} × {machine['cores']}\n\n"]
    rows = [["goal", "target", "measured", "verdict"]]
    rows += [
        [name, target, measured, _verdict(met).replace("**", "")] for name, target, measured, met in goals(results)
    ]
    out.append(_columns(rows))
    flows = results.get("lifecycle", {}).get("flows", {})
    if flows:
        out.append(
            "\nlifecycle (median ms)   ours  memory  json  json-in-pg   ÷json  ÷memory  "
            "SQL ours to last review (whole)/bare-row\n"
        )
        for name, flow in flows.items():
            t = flow["times"]
            out.append(
                f"  {name:<32} {t['ours']['median']:6.1f} {t['memory']['median']:6.1f} {t['json']['median']:6.1f} "
                f"{t['postgres']['median']:8.1f}   {flow['ratio_json']:5.1f}× {flow['ratio_memory']:6.1f}×   "
                f"{flow['sql']['scenario']} ({flow['sql']['ours']})/{flow['sql']['postgres']}\n"
            )
    http = results.get("http")
    if http:
        out.append("\nhttp clients  req/s  lifecycles/s  p50  p95  p99 (ms)  failed\n")
        for level in http["levels"]:
            lat = level["latency"]
            out.append(
                f"  {level['clients']:>3}  {level['requests_per_s']:6.1f}  {level['lifecycles_per_s']:6.2f}  "
                f"{lat['median']:6.0f} {lat['p95']:6.0f} {lat['p99']:6.0f}  {level['failed_requests']}\n"
            )
    state = results.get("state")
    if state:
        out.append("\nstored state (bytes): departments × correction rounds\n")
        for row in state["rows"]:
            out.append(f"  {row['departments']:>2} depts, {row['rounds']:>2} rounds: {row['bytes']:>8,}\n")
    return "".join(out)


# --- markdown ---------------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(headers) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _kb(value: int) -> str:
    return f"{value / 1024:.1f} KB"


def _top_node(plan: str) -> str:
    for line in plan.splitlines():
        text = line.strip().lstrip("-> ").strip()
        if any(word in text for word in ("Scan", "Sort", "Aggregate", "Limit", "Join", "Nested")):
            return text.split("  (")[0]
    return plan.splitlines()[0] if plan else "?"


def markdown(results: dict, params: dict, machine: dict, *, quick: bool) -> str:
    parts = ["# Performance\n\n"]
    parts.append(
        f"Measured by `make bench` (`python -m bench{' --quick' if quick else ''}`) on {machine['date']}. "
        "This file is generated: run the bench again rather than editing it. The machine is shared and noisy, "
        "so each comparison is measured within one run, interleaved, and reported as a ratio of medians; "
        "statement counts do not depend on the machine.\n"
    )
    if quick:
        parts.append(
            "\n> **Quick run** (`--quick`): a 5,000-case year and few rounds — a smoke test, not the figures.\n"
        )
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    parts.append(
        f"\nMachine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']} RAM; {machine['platform']}; "
        f"Python {machine['python']}; PostgreSQL {machine['postgres']}; {packages}. "
        f"Load average before {machine['load_before']}, after {machine.get('load_after', '?')}.\n"
    )

    parts.append("\n## Verdict\n\n")
    parts.append(
        _table(
            ["goal", "target", "measured", "verdict"],
            [[name, target, measured, _verdict(met)] for name, target, measured, met in goals(results)],
            "llll",
        )
    )
    parts.append(history())
    if "lifecycle" in results:
        parts.append(_lifecycle_md(results["lifecycle"]))
    if "http" in results:
        parts.append(_http_md(results["http"]))
    if "year" in results:
        parts.append(_year_md(results["year"]))
    if "viewflow" in results:
        parts.append(_viewflow_md(results["viewflow"], results.get("lifecycle", {})))
    if "pdf" in results:
        parts.append(_pdf_md(results["pdf"]))
    if "state" in results:
        parts.append(_state_md(results["state"]))
    schemas = sorted({r["schema"] for r in results.values() if isinstance(r, dict) and r.get("schema")})
    parts.append(METHOD.replace("{schema}", " / ".join(schemas) or "–"))
    return "".join(parts)


def history(path: Path = NOTES) -> str:
    """The "History" section of the checked-in bench/NOTES.md (hand-written notes on what changed between
    runs), so that regenerating this file keeps them."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip().lower() == "history"
            continue
        if inside:
            lines.append(line)
    body = "\n".join(lines).strip()
    if not body:
        return ""
    return f"\n## What changed between runs\n\n*Hand-written, kept in `bench/NOTES.md` (section History).*\n\n{body}\n"


def _lifecycle_md(result: dict) -> str:
    out = ["\n## 1. A case's lifecycle: the service layer against bare SpiffWorkflow\n\n"]
    out.append(
        "Open → accept → every department approves → conclude, through `workflow.services` on PostgreSQL "
        "(one transaction per step: case row lock, engine, task rows, lifecycle, hash-chained audit events, the "
        "legal clock), against the same BPMN run by bare SpiffWorkflow (`bench/bare.py`: its own parser, default "
        "script engine and serializer): in memory, with `serialize_json`/`deserialize_json` between steps, and "
        "with that JSON in one PostgreSQL row (SELECT … FOR UPDATE + UPDATE per step, sent as our write path "
        "sends its statements: bound on the server and prepared). Median of "
        f"{next(iter(result['flows'].values()))['rounds']} interleaved rounds, p95 in brackets.\n\n"
    )
    rows = []
    for name, flow in result["flows"].items():
        t = flow["times"]

        def cell(kind, t=t):
            return f"{t[kind]['median']:.1f} ({t[kind]['p95']:.1f})"

        rows.append(
            [
                name,
                str(len(flow["departments"])),
                cell("ours"),
                cell("memory"),
                cell("json"),
                cell("postgres"),
                f"**{flow['ratio_json']:.1f}×**",
                f"{flow['ratio_memory']:.1f}×",
                f"{flow['ratio_postgres']:.1f}×",
                cell("ours_scenario") if "ours_scenario" in t else "–",
                f"**{flow['ratio_postgres_scenario']:.2f}×**" if "ratio_postgres_scenario" in flow else "–",
            ]
        )
    out.append(
        _table(
            [
                "flow",
                "depts",
                "ours ms",
                "bare, memory",
                "bare, JSON per step",
                "bare, JSON in a PG row",
                "ours ÷ JSON",
                "ours ÷ memory",
                "ours ÷ PG row",
                "ours without conclude",
                "that ÷ PG row (issue 19)",
            ],
            rows,
        )
    )
    out.append(
        "\nSQL statements, counted on the connection (BEGIN and COMMIT included). Like for like: open, accept "
        "and the reviews, the steps bare SpiffWorkflow runs too (the goal's scenario); the whole lifecycle adds "
        "the window's conclude, which bare has no counterpart for:\n\n"
    )
    rows = []
    for name, flow in result["flows"].items():
        sql = flow["sql"]
        rows.append(
            [
                name,
                f"**{sql['scenario']}** ({sql['scenario_statements']} + {sql['scenario_transactions']} × 2)",
                f"{sql['postgres']} ({sql['postgres'] - 2 * sql['postgres_transactions']} + "
                f"{sql['postgres_transactions']} × 2)",
                f"{sql['ours']} ({sql['ours_statements']} + {sql['ours_transactions']} × 2)",
            ]
        )
    out.append(
        _table(
            ["flow", "ours: open → accept → reviews", "bare SpiffWorkflow, JSON in one row", "ours: + conclude"],
            rows,
            "llll",
        )
    )
    out.append(
        f"\nFor reference (DESIGN.md §4, window acceptance + four parallel reviews): viewflow 2.4 makes "
        f"{VIEWFLOW_STATEMENTS} statements, bare SpiffWorkflow with its JSON in one row {DESIGN_BARE_ROW}.\n"
    )
    four = result["flows"].get(FOUR) or next(iter(result["flows"].values()))
    purposes = dict(four["statement_purposes"])
    purposes["BEGIN + COMMIT (one transaction per step)"] = 2 * four["sql"]["ours_transactions"]
    out.append("\nWhat the statements of one whole lifecycle are for (4 departments):\n\n")
    out.append(
        _table(
            ["purpose", "statements"],
            [[name, str(n)] for name, n in sorted(purposes.items(), key=lambda item: -item[1])]
            + [["**total**", f"**{sum(purposes.values())}**"]],
        )
    )
    steps = four["steps"]
    out.append("\nPer step (4 departments; *decide* is one department's decision):\n\n")
    out.append(
        _table(
            ["step", "median ms", "statements (incl. BEGIN/COMMIT)"],
            [[step, f"{v['ms']:.1f}", f"{v['sql']:g}"] for step, v in steps.items()],
        )
    )
    b = four["breakdown"]
    rest = b["total"] - b["database"] - b["engine"]
    out.append(
        f"\nWhere a lifecycle's {b['total']:.0f} ms go (medians, 4 departments): waiting on PostgreSQL "
        f"(round trips and its work) {b['database']:.0f} ms, the engine boundary (`bpmn.ProcessInstance`: restore, "
        f"complete with the sandbox, ready tasks, dump) {b['engine']:.0f} ms, everything else (Django ORM query "
        f"building and model instances, lifecycle, audit hashing, the clock's calendar) {rest:.0f} ms.\n"
    )
    out.append(
        f"\nStored state: ours keeps {_kb(four['state_bytes'])} per case (the spec is stored once per version); "
        f"bare SpiffWorkflow's `serialize_json`, spec included, is {_kb(four['bare_json_bytes'])}.\n"
    )
    out.append("\n<details><summary>The statements of one lifecycle (4 departments)</summary>\n\n```\n")
    out.append("\n".join(four["statement_samples"]))
    out.append("\n```\n</details>\n")
    return "".join(out)


def _http_md(result: dict) -> str:
    out = ["\n## 2. The same lifecycle through the HTTP API\n\n"]
    out.append(
        f"gunicorn, {result['workers']} sync workers, on 127.0.0.1 with persistent database connections; each "
        f"client runs whole lifecycles of the four-department one-thing ({result['requests_per_lifecycle']} "
        "requests: open, accept, then per department the reviewer's inbox and the decision, then conclude). "
        "Clients, server and PostgreSQL share the machine's cores.\n\n"
    )
    rows = []
    for level in result["levels"]:
        lat = level["latency"]
        rows.append(
            [
                str(level["clients"]),
                f"{level['lifecycles']} / {level['requests']}",
                str(level["failed_requests"]),
                f"{level['requests_per_s']:.1f}",
                f"{level['lifecycles_per_s']:.2f}",
                f"{lat['median']:.0f}",
                f"{lat['p95']:.0f}",
                f"{lat['p99']:.0f}",
                f"{level['lifecycle']['median']:.0f}",
            ]
        )
    out.append(
        _table(
            [
                "clients",
                "lifecycles / requests",
                "failed",
                "requests/s",
                "lifecycles/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "lifecycle ms (p50)",
            ],
            rows,
        )
    )
    top = result["levels"][-1]
    out.append(f"\nBy request at {top['clients']} clients (ms):\n\n")
    out.append(
        _table(
            ["request", "n", "p50", "p95", "p99"],
            [
                [kind, str(s["n"]), f"{s['median']:.0f}", f"{s['p95']:.0f}", f"{s['p99']:.0f}"]
                for kind, s in top["by_kind"].items()
            ],
        )
    )
    return "".join(out)


def _year_md(result: dict) -> str:
    out = [f"\n## 3. A district's year: {result['cases']:,} cases\n\n"]
    load = result["load"]
    tables = load["tables"]
    out.append(
        f"{result['templates']} template cases were driven through the services (each demo one-thing along each "
        "path) and the year cloned from them in PostgreSQL (`bench/year.py`): "
        + ", ".join(
            f"{t.removeprefix('workflow_')} {v['rows']:,} rows / {v['bytes'] / 2**20:,.0f} MiB"
            for t, v in tables.items()
        )
        + f"; loaded in {load['load_seconds']:.0f} s, then VACUUM ANALYZE ({load['vacuum_seconds']:.0f} s).\n\n"
    )
    inbox = result["inbox"]
    status = result["status"]
    labels = [
        ("reviewers_open_selector", "inbox: `task_list` + page 1, reviewers, open tab", GOAL_INBOX_P95, "p95"),
        ("reviewers_open_view", "inbox: whole `GET /api/tasks` view, reviewers, open tab", None, None),
        ("reviewers_all_view", "inbox: whole view, reviewers, *all* tab", None, None),
        ("window_open_view", "inbox: whole view, window staff", None, None),
        ("supervisor_open_view", "inbox: whole view, supervisor (every department)", None, None),
    ]
    rows = []
    for key, label, goal, stat in labels:
        s = inbox[key]
        rows.append(
            [label, str(s["n"]), f"{s['median']:.1f}", f"{s['p95']:.1f}", f"{s['p99']:.1f}", _goal(goal, stat, s)]
        )
    for key, label, goal, stat in (
        ("lookup", "status lookup: `case_for_applicant`", GOAL_STATUS_P99, "p99"),
        ("status_page_reads", "status page reads: lookup + tasks + events", None, None),
    ):
        s = status[key]
        rows.append(
            [label, str(s["n"]), f"{s['median']:.1f}", f"{s['p95']:.1f}", f"{s['p99']:.1f}", _goal(goal, stat, s)]
        )
    stats = result["statistics"]
    s = stats["times"]
    rows.append(
        [
            "the year's statistics (`workflow.selectors.statistics.statistics`, what the dashboard and the API call)",
            str(s["n"]),
            f"{s['median']:.0f}",
            f"{s['p95']:.0f}",
            f"{s['max']:.0f}",
            f"≤ 1,000 ms median: {'met' if s['median'] <= GOAL_STATISTICS else '**not met**'}",
        ]
    )
    for key, label in (("dashboard_ms", "the whole dashboard page (`/dashboard/?period=all`)"),
                       ("csv_ms", f"the whole CSV export ({stats.get('csv_rows', 0):,} rows)")):  # fmt: skip
        if key in stats:
            rows.append([label, "1", f"{stats[key]:.0f}", "", "", ""])
    out.append(_table(["read", "n", "p50 ms", "p95 ms", "p99/max ms", "goal"], rows, "lrrrrl"))
    if result.get("views"):
        from bench.year import VIEW_GROUPS

        out.append(
            "\nEvery staff list and page as a whole view (`bench/year.py` `_views`): Django's whole request cycle — "
            "middleware, authentication (a token for the API, a session for the screens), the view, serializer or "
            "template, the body read to the end — for each reviewer in turn, window staff and the supervisor; case "
            "pages of random cases of the year, task pages of random open tasks. The views run interleaved, in "
            "rotating order; statements are the most any sample sent.\n\n"
        )
        view_rows = []
        floor = result["views"].get("api_me", {}).get("median")
        for name, v in result["views"].items():
            goal = GOAL_BOARD if v["kind"] == "board" else GOAL_VIEW_P95
            view_rows.append(
                [
                    VIEW_GROUPS.get(name, (None, name))[1],
                    str(v["n"]),
                    f"{v['median']:.1f}",
                    f"{v['p95']:.1f}",
                    f"{v['median'] / floor:.1f}×" if floor else "–",
                    str(v["statements"]),
                    f"{v['bytes'] / 1024:,.0f} KB",
                    "–"
                    if v["kind"] == "floor"
                    else f"≤ {goal:,.0f} ms p95: {'met' if v['p95'] <= goal else '**not met**'}",
                ]
            )
        out.append(
            _table(
                ["view", "n", "p50 ms", "p95 ms", "p50 ÷ floor", "statements", "body", "goal"],
                view_rows,
                "lrrrrrrl",
            )
        )
    per_department = ", ".join(f"{d} {n:,}" for d, n in inbox["open_tasks_per_department"].items())
    out.append(f"\nOpen tasks per department inbox at year end: {per_department}.\n")
    r = stats["result"]
    ind = r["indicators"]

    def pct(value):
        return "–" if value is None else f"{value * 100:.2f} %"

    days = "–" if ind["average_working_days"] is None else f"{ind['average_working_days']:.2f}"
    out.append(
        f"\nThe statistics themselves (definitions: docs/statistics.md): {r['cases']:,} cases received, "
        f"{r['accepted']:,} accepted, {r['concluded']:,} concluded; 办结率 {pct(ind['completion_rate'])}, "
        f"即办件占比 {pct(ind['immediate_share'])}, 时限压减率 {pct(ind['reduction_rate'])}, average working days "
        f"{days}, 按时办结率 {pct(ind['on_time_rate'])}, 好评率 {pct(ind['good_rate'])} (the clones' clock is "
        "stretched template time, so the time figures say nothing about a real hall).\n\n"
    )
    out.append(
        _table(
            ["one-thing", "received", "accepted", "concluded", "办结率", "时限压减率"],
            [
                [
                    key,
                    f"{row['received']:,}",
                    f"{row['accepted']:,}",
                    f"{row['concluded']:,}",
                    pct(row["completion_rate"]),
                    pct(row["reduction_rate"]),
                ]
                for key, row in sorted(r["by_one_thing"].items())
            ],
        )
    )
    out.append("\n" + _index_notes(result))
    out.append("\n<details><summary>Query plans (EXPLAIN ANALYZE, BUFFERS) at this size</summary>\n\n")
    for name, plan in result["plans"].items():
        out.append(f"**{name}** — {_top_node(plan)}\n\n```\n{plan}\n```\n\n")
    out.append("</details>\n")
    return "".join(out)


def _viewflow_md(result: dict, lifecycle: dict) -> str:
    out = ["\n## 6. Side by side: viewflow\n\n"]
    if result.get("skipped"):
        return out[0] + f"Skipped: {result['skipped']}.\n"
    t = result["times"]
    out.append(
        f"The bench's four-department flow in viewflow {result['version']} (`bench/viewflow_peer/flows.py`: a start "
        "handle, the window's view task, a parallel split into four department view tasks assigned on creation, "
        "the join; the form and the decisions in the process row's JSON; `select_for_update` locking), each step "
        "as viewflow's task view runs it on a POST, without HTTP — interleaved in its own process and database "
        "with ours (the services, as section 1 runs them) and the floor (bare SpiffWorkflow, its JSON in one "
        f"PostgreSQL row), {result['rounds']} rounds (`bench/viewflow.py`).\n\n"
    )
    rows = [
        [
            f"viewflow {result['version']}",
            f"{t['viewflow']['median']:.1f} ({t['viewflow']['p95']:.1f})",
            f"{result['ratio_floor']:.1f}×",
            str(result["sql"]["viewflow"]),
        ],
        [
            "floor: bare SpiffWorkflow, JSON in a PG row",
            f"{t['floor']['median']:.1f} ({t['floor']['p95']:.1f})",
            "1×",
            str(result["sql"]["floor"]),
        ],
    ]
    if "ours" in t:
        rows.insert(
            1,
            [
                "ours: open, accept, the reviews (as section 1 runs them)",
                f"{t['ours']['median']:.1f} ({t['ours']['p95']:.1f})",
                f"{result['ours_ratio_floor']:.2f}×",
                str(result["sql"]["ours"]),
            ],
        )
    four = lifecycle.get("flows", {}).get(FOUR)
    section1 = four.get("ratio_postgres_scenario", four["ratio_postgres"]) if four else None
    if four:
        scenario_times = four["times"].get("ours_scenario", four["times"]["ours"])
        rows.append(
            [
                "ours (section 1, its own run): open, accept, the reviews",
                f"{scenario_times['median']:.1f} ({scenario_times['p95']:.1f})",
                f"{section1:.2f}×",
                f"{four['sql']['scenario']}",
            ]
        )
    out.append(_table(["lifecycle", "median ms (p95)", "÷ floor", "statements"], rows, "lrrr"))
    if "ours" in t:
        out.append(
            f"\nOurs ÷ viewflow = {t['ours']['median']:.1f} ÷ {t['viewflow']['median']:.1f} ms = "
            f"**{result['ours_ratio_viewflow']:.2f}** (goal ≤ {GOAL_PEER:g}): medians of one interleaved run, the same "
            "steps on both sides (viewflow's lifecycle ends with the last review, as the floor's does)"
            + (
                f"; section 1's ratio to its own floor over viewflow's here, a cross-check across two runs: "
                f"{section1:.2f} ÷ {result['ratio_floor']:.2f} = {section1 / result['ratio_floor']:.2f}"
                if section1
                else ""
            )
            + ". Ours does more per step than the peer: task rows with due dates on the legal clock, the "
            "hash-chained audit trail, the lifecycle, the sandboxed engine.\n"
        )
    elif four:
        out.append(
            f"\nOurs ÷ viewflow = {section1:.2f} ÷ {result['ratio_floor']:.2f} = "
            f"**{section1 / result['ratio_floor']:.2f}** (goal ≤ {GOAL_PEER:g}), the same steps on both sides "
            "(viewflow's lifecycle ends with the last review, as the floor's does). Ours does more per "
            "step than the peer: task rows with due dates on the legal clock, the hash-chained audit trail, the "
            "lifecycle, the sandboxed engine.\n"
        )
    return "".join(out)


def _index_notes(result: dict) -> str:
    import re

    out = ["### Index notes\n\n"]
    plan = result["plans"].get("inbox page (market_regulation, open)", "")
    removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
    scan = next((line.strip().lstrip("-> ") for line in plan.splitlines() if "on workflow_humantask" in line), "")
    if removed and max(removed) > 10_000:
        out.append(
            "The inbox reads are slow at a year's size for one reason, visible in the plans below: `task_list` "
            "orders the inbox by `due_date` (nulls last), `created_at`, `id`, and no index has that order after the "
            "inbox's filter (`task_inbox` is `(department_code, state, created_at)`). PostgreSQL therefore walks "
            "an index in due-date order over *every* task of every department and filters it — "
            f"`{scan.split('  (')[0]}`, {max(removed):,} rows removed to find one page of market_regulation's "
            "open tasks — instead of "
            "reading the department's few hundred open tasks and sorting them.\n\n"
        )
    else:
        out.append(f"The open inbox page is read by `{scan.split('  (')[0] or '?'}` (plan below).\n\n")
    proposed = result.get("proposed_indexes")
    if not proposed:
        return "".join(out)
    out.append(
        "Tried on the bench's copy of the year only (the models are not changed by the bench — report, not edit; "
        f"building them took {proposed['build_seconds']:.0f} s):\n\n"
    )
    uses = {
        "bench_task_department_due": "a department's inbox in due order (the goal)",
        "bench_task_lane_due": "the window's inbox",
        "bench_task_state_due": "the supervisor's inbox (every department)",
        "bench_case_opened": "the year's case statistics (index-only scan)",
        "bench_task_created": "the year's department statistics (index-only scan)",
    }
    out.append(
        _table(
            ["index", "for"],
            [[f"`{definition}`", uses.get(name, "")] for name, definition in proposed["indexes"].items()],
            "ll",
        )
    )
    rows = []
    labels = {
        "reviewers_open_selector": "inbox: `task_list` + page 1, reviewers, open tab (goal ≤ 50 ms p95)",
        "reviewers_open_view": "inbox: whole view, reviewers, open tab",
        "reviewers_all_view": "inbox: whole view, reviewers, *all* tab",
        "window_open_view": "inbox: whole view, window staff",
        "supervisor_open_view": "inbox: whole view, supervisor",
    }
    for key, label in labels.items():
        before, after = result["inbox"][key], proposed["inbox"][key]
        rows.append(
            [label, f"{before['median']:.1f} / {before['p95']:.1f}", f"**{after['median']:.1f} / {after['p95']:.1f}**"]
        )
    before, after = result["statistics"]["times"], proposed["statistics"]["times"]
    rows.append(["the year's statistics (goal ≤ 1 s)", f"{before['median']:.0f}", f"**{after['median']:.0f}**"])
    out.append("\n")
    out.append(_table(["read (ms, p50 / p95)", "as the models are", "with these indexes"], rows, "lrr"))
    fixed = proposed["inbox"]["reviewers_open_selector"]["p95"] <= GOAL_INBOX_P95
    out.append(
        "\n"
        + (
            "With them the department inbox meets its goal. "
            if fixed
            else "Even with them the department inbox misses its goal. "
        )
        + "The department inbox's own index (`task_inbox_due`, migration 0003) and the statistics' covering "
        "indexes (`case_opened_stats`, `task_case_state`, migration 0008) are in the models, so they are in both "
        "columns. The exact count of the *all* tab stays proportional to a department's whole history.\n"
    )
    return "".join(out)


def _goal(goal: float | None, stat: str | None, s: dict) -> str:
    if goal is None:
        return ""
    return f"≤ {goal:g} ms {stat}: {'met' if s[stat] <= goal else '**not met**'}"


def _pdf_md(result: dict) -> str:
    out = ["\n## 4. The acceptance receipt as a sealed PDF\n\n"]
    out.append(
        "`workflow.documents.render_pdf` (WeasyPrint, CJK fonts, QR code, seal image) and `sign_pdf` (pyHanko, "
        "PAdES B-B) on a realistic receipt. Cold = the first document in a fresh process (imports, fonts, "
        f"stylesheet); warm = each of the next {result['render']['n']}.\n\n"
    )
    rows = [
        [
            "render",
            _ms(result["cold_render_ms"]),
            f"{result['render']['median']:.0f}",
            f"{result['render']['p95']:.0f}",
        ],
        ["seal (sign)", _ms(result["cold_sign_ms"]), f"{result['sign']['median']:.0f}", f"{result['sign']['p95']:.0f}"],
        [
            "render + seal",
            _ms(result["cold_render_ms"] + result["cold_sign_ms"]),
            f"{result['total']['median']:.0f}",
            f"{result['total']['p95']:.0f}",
        ],
    ]
    out.append(_table(["", "cold", "warm p50 ms", "warm p95 ms"], rows))
    out.append(f"\nThe receipt is {_kb(result['pdf_bytes'])}, {_kb(result['signed_bytes'])} sealed.\n")
    return "".join(out)


def _state_md(result: dict) -> str:
    out = ["\n## 5. Stored state per case\n\n"]
    out.append(
        "Bytes of `Case.process_state` (JSON text, gzip in brackets) of a case driven to approval through a "
        "generated model with N departments, with k correction rounds (each round one department asks, the "
        "applicant corrects once, only that department reopens). The spec is stored once per version (right).\n\n"
    )
    rounds = sorted({row["rounds"] for row in result["rows"]})
    departments = sorted({row["departments"] for row in result["rows"]})
    index = {(row["departments"], row["rounds"]): row for row in result["rows"]}
    rows = []
    for d in departments:
        cells = [f"{_kb(index[d, k]['bytes'])} ({_kb(index[d, k]['gzip'])})" for k in rounds]
        rows.append([str(d), *cells, _kb(index[d, rounds[0]]["spec_bytes"])])
    out.append(_table(["departments", *(f"{k} round{'' if k == 1 else 's'}" for k in rounds), "spec (once)"], rows))
    return "".join(out)


METHOD = """
## Method and caveats

- Every section runs in its own process against its own fresh database (`onething_bench_<section>`, dropped
  afterwards; schema from: {schema}) with the demo catalogue and users; documents are
  not issued during the lifecycle runs (`ONETHING_ISSUE_DOCUMENTS=0`; in production a Celery worker issues them
  after commit) and are measured on their own in section 4.
- "Ours" includes everything a service call does in production: row lock, restoring the instance, the
  RestrictedPython sandbox with its step/size guards, task rows, lifecycle, hash-chained audit events, the
  legal clock. The bare baselines use SpiffWorkflow's defaults (plain `eval`, no locking, no task rows, no
  audit), which is what makes them a floor rather than an alternative.
- Ratios are of medians over interleaved rounds (rotating order), so a burst of noise on the shared machine
  hits all four measurements of a round. Absolute milliseconds move with the machine's load; the statement
  counts and the state sizes do not.
- The year is cloned from real template cases; clones are read-only data (their audit hash chain and engine
  task ids are not re-derived), which is all the measured reads need.
"""
