"""``python -m bench [--quick] [--year-cases N] [--only a,b] [--output PATH]`` — see bench/__init__.py.

Each section runs in its own process against its own fresh database ``onething_bench_<section>`` on the
PostgreSQL server of ``--pg`` (default: ``BENCH_PG_URL`` or postgresql://postgres@127.0.0.1:5432), which is
dropped afterwards unless ``--keep-databases``. Prints the table and writes docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .common import ROOT

SECTIONS = ("state", "pdf", "lifecycle", "viewflow", "http", "year")
NEEDS_DATABASE = {"lifecycle", "viewflow", "http", "year"}
SETTINGS = {"viewflow": "bench.viewflow_peer.settings"}  # the peer's section adds viewflow to the settings
FULL = {
    "state": {"departments": [1, 3, 5, 10], "rounds": [0, 1, 3, 10]},
    "pdf": {"warm": 20},
    "lifecycle": {"rounds": 30, "warmup": 5},
    "viewflow": {"rounds": 60, "warmup": 5},  # warm-up as section 1's: ours' batch shapes get their generic plans
    "http": {"clients": [1, 4, 16], "lifecycles": {"1": 20, "4": 40, "16": 64}},
    "year": {
        "cases": 163_506,
        "chunk": 20_000,
        "samples": 200,
        "status_samples": 2000,
        "stats_runs": 5,
        "view_samples": 60,
    },
}
QUICK = {
    "state": {"departments": [1, 3, 5, 10], "rounds": [0, 1, 3]},
    "pdf": {"warm": 5},
    "lifecycle": {"rounds": 8, "warmup": 2},
    "viewflow": {"rounds": 6, "warmup": 2},
    "http": {"clients": [1, 4, 16], "lifecycles": {"1": 4, "4": 8, "16": 16}},
    "year": {"cases": 5_000, "chunk": 2_500, "samples": 40, "status_samples": 300, "stats_runs": 3, "view_samples": 10},
}


def _admin(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def _run_section(name: str, params: dict, pg_url: str, keep: bool, scratch: Path, database: str | None = None) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS.get(name, "config.settings"),
        "DJANGO_DEBUG": "0",
        # Documents are issued by Celery workers after commit; section 4 measures them on their own.
        "ONETHING_ISSUE_DOCUMENTS": "0",
        # Likewise the applicant's SMS: the outbox row is written in the step (counted); its sending is a worker's.
        "ONETHING_SMS_DISPATCH": "0",
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "REDIS_URL": "",
        "LOG_LEVEL": "ERROR",
        "DATABASE_URL": f"sqlite:///{scratch / 'unused.sqlite3'}",
    }
    if database:  # a kept database of one's own: created if missing, never dropped, its year reused
        keep = True
        params = {**params, "reuse": True}
        with __import__("psycopg").connect(f"{pg_url}/postgres", autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
                connection.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = f"{pg_url}/{database}"
    database = database or f"onething_bench_{name}"
    if name in NEEDS_DATABASE and not keep:
        _admin(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _admin(pg_url, f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = f"{pg_url}/{database}"
    params_file, result_file = scratch / f"{name}-params.json", scratch / f"{name}-result.json"
    params_file.write_text(json.dumps(params), encoding="utf-8")
    started = time.monotonic()
    try:
        subprocess.run(
            [sys.executable, "-m", "bench.run_section", name, str(params_file), str(result_file)],
            cwd=ROOT,
            env=env,
            check=True,
        )
    finally:
        if name in NEEDS_DATABASE and not keep:
            _admin(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["wall_seconds"] = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run for CI: a 5,000-case year, few rounds")
    parser.add_argument("--year-cases", type=int, help="cases in the year (default 163,506; 5,000 with --quick)")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"), help="'-' to write no file")
    parser.add_argument("--keep-databases", action="store_true")
    parser.add_argument(
        "--year-database",
        help="run the year section in this database, kept between runs: the year is loaded once and reused",
    )
    args = parser.parse_args(argv)

    params = {name: dict(values) for name, values in (QUICK if args.quick else FULL).items()}
    if args.year_cases:
        params["year"]["cases"] = args.year_cases
    sections = [s.strip() for s in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    machine = report.machine_info(args.pg)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="onething-bench-") as scratch:
        for name in sections:
            sys.stderr.write(f"== {name}\n")
            results[name] = _run_section(
                name,
                params[name],
                args.pg.rstrip("/"),
                args.keep_databases,
                Path(scratch),
                args.year_database if name == "year" else None,
            )
    machine["load_after"] = report.load_average()
    sys.stdout.write(report.terminal(results, params, machine))
    if args.output != "-":
        Path(args.output).write_text(report.markdown(results, params, machine, quick=args.quick), encoding="utf-8")
        sys.stdout.write(f"\nwrote {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
