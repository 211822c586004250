"""Runs one section in this process: ``python -m bench.run_section <name> <params.json> <result.json>``.

The orchestrator (``python -m bench``) starts one such process per section with that section's database in
``DATABASE_URL``, so each section starts cold and alone.
"""

from __future__ import annotations

import importlib
import json
import sys
import time

from .common import setup_django

MODULES = {
    "lifecycle": "bench.lifecycle",
    "http": "bench.http_api",
    "year": "bench.year",
    "pdf": "bench.documents",
    "state": "bench.state",
    "viewflow": "bench.viewflow",
}


def main() -> None:
    name, params_file, result_file = sys.argv[1:4]
    with open(params_file, encoding="utf-8") as handle:
        params = json.load(handle)
    started = time.monotonic()
    setup_django()
    result = importlib.import_module(MODULES[name]).run(params)
    result["section_seconds"] = time.monotonic() - started
    with open(result_file, "w", encoding="utf-8") as out:
        json.dump(result, out, ensure_ascii=False, indent=1, default=str)


if __name__ == "__main__":
    main()
