"""Section 2: the same lifecycle through the HTTP API under gunicorn, with 1, 4 and 16 concurrent clients.

gunicorn (sync workers, 2 × cores + 1, persistent database connections) serves the app on 127.0.0.1 against
this section's fresh database. Each client runs whole lifecycles of the generated four-department one-thing,
as the people at the hall would: the window opens and accepts the case; each department's reviewer loads
the inbox (first page) and approves its task; the window reads the case and hands the result over (一窗通取),
which concludes it — 12 requests. Request counts are fixed
per level, so the run is bounded. The clients share the machine with the server and PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict

from .common import (
    FOUR_FORM,
    FOUR_KEY,
    REVIEWER_OF,
    ROOT,
    SIGNATURE_PNG_BASE64,
    build_schema,
    checklist_codes,
    load_demo_data,
    log,
    summary,
)

APPLICANT = {"name": "王䶮", "id_number": "110105199003070017", "phone": "13800138000"}
OPINION = "经审查，材料齐全，符合法定条件，准予办理"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Client:
    """One person at a browser: one HTTP connection, reopened whenever the server closes it."""

    def __init__(self, port: int, tokens: dict[str, str], samples: list, lock: threading.Lock):
        self.port, self.tokens, self.samples, self.lock = port, tokens, samples, lock
        self.materials = checklist_codes(FOUR_KEY)  # everything handed in at the window
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, kind: str, user: str, method: str, path: str, body: dict | None = None, expect: int = 200):
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Token {self.tokens[user]}", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            status, raw = -1, b""
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.samples.append((kind, status, elapsed))
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def lifecycle(self) -> None:
        case = self.request(
            "open", "window1", "POST", "/api/cases",
            {"one_thing": FOUR_KEY, "applicant": APPLICANT, "form": FOUR_FORM, "materials": self.materials},
            expect=201,
        )  # fmt: skip
        case_no = case["case_no"]
        accepted = self.request("accept", "window1", "POST", f"/api/cases/{case_no}/accept", {})
        for task in accepted["tasks"]:
            if task["state"] != "open" or task["lane"] not in REVIEWER_OF:
                continue
            reviewer = REVIEWER_OF[task["lane"]]
            self.request("inbox", reviewer, "GET", "/api/tasks")
            self.request(
                "complete", reviewer, "POST", f"/api/tasks/{task['id']}/complete",
                {"decision": "approve", "opinion": OPINION},
            )  # fmt: skip
        # 办结 by the handover that proves the delivery (一窗通取): what to hand over is on the case
        case = self.request("case", "window1", "GET", f"/api/cases/{case_no}")
        self.request(
            "conclude", "window1", "POST", f"/api/cases/{case_no}/handover",
            {
                "recipient": {"kind": "applicant", "id_number": APPLICANT["id_number"]},
                "identity_method": "id_card_onsite",
                "items": case["delivery"]["handover_items"],
                "signature": {"method": "pad", "content_base64": SIGNATURE_PNG_BASE64},
            },
        )  # fmt: skip


def _load(port: int, tokens: dict[str, str], clients: int, lifecycles: int) -> dict:
    samples: list[tuple[str, int, float]] = []
    lock = threading.Lock()
    remaining = [lifecycles]
    lifecycle_ms: list[float] = []
    errors: list[str] = []

    def worker():
        client = Client(port, tokens, samples, lock)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                client.lifecycle()
            except RuntimeError as exc:
                with lock:
                    errors.append(str(exc))
                continue
            with lock:
                lifecycle_ms.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    by_kind = defaultdict(list)
    for kind, _, ms in samples:
        by_kind[kind].append(ms)
    return {
        "clients": clients,
        "lifecycles": len(lifecycle_ms),
        "requests": len(samples),
        "failed_requests": sum(1 for _, status, _ in samples if not 200 <= status < 300),
        "errors": errors[:5],
        "wall_s": wall,
        "requests_per_s": len(samples) / wall,
        "lifecycles_per_s": len(lifecycle_ms) / wall,
        "latency": summary([ms for _, _, ms in samples]),
        "by_kind": {kind: summary(values) for kind, values in by_kind.items()},
        "lifecycle": summary(lifecycle_ms),
    }


def run(params: dict) -> dict:
    from django.db import connections
    from rest_framework.authtoken.models import Token

    schema = build_schema()
    users = load_demo_data(four_departments=True)
    tokens = {name: Token.objects.get_or_create(user=users[name])[0].key for name in ["window1", *REVIEWER_OF.values()]}
    connections.close_all()

    workers = params.get("workers") or 2 * (os.cpu_count() or 1) + 1
    port = _free_port()
    env = {**os.environ, "DB_CONN_MAX_AGE": "600"}
    log_path = ROOT / "var" / "bench-gunicorn.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("w") as server_log:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
                *("-b", f"127.0.0.1:{port}", "-w", str(workers), "--timeout", "120", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,  # a file, never an unread pipe: a full pipe would block the workers
        )
        try:
            probe = Client(port, tokens, [], threading.Lock())
            for _ in range(150):
                try:
                    probe.request("probe", "window1", "GET", "/api/auth/me")
                    break
                except RuntimeError:
                    time.sleep(0.2)
            else:
                raise RuntimeError(f"gunicorn did not come up; see {log_path}")
            # Warm every worker (imports, compiled model cache, connections) before measuring.
            _load(port, tokens, clients=workers, lifecycles=workers * 2)
            levels = []
            for clients in params["clients"]:
                level = _load(port, tokens, clients=clients, lifecycles=params["lifecycles"][str(clients)])
                log(
                    f"http {clients:>2} clients: {level['requests_per_s']:.1f} req/s, "
                    f"p95 {level['latency']['p95']:.0f} ms, {level['failed_requests']} failed"
                )
                levels.append(level)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return {"workers": workers, "levels": levels, "requests_per_lifecycle": 11, "schema": schema}
