"""Shared by the sections: Django setup, schema, demo data, statistics of timings, SQL statement counting."""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The applicant and form every benchmark case uses: the enterprise one-thing's form (tests/conftest.py),
# which also satisfies the generated four-department composition below (it adds the fire check's fields).
APPLICANT = {"name": "王䶮", "id_number": "110105199003070017", "phone": "13800138000"}
ENTERPRISE_FORM = {
    "enterprise_name": "示范区星火科技有限公司",
    "enterprise_type": "有限责任公司",
    "registered_capital": 100,
    "business_scope": "软件开发；信息技术咨询服务",
    "address": "示范区创新大道 88 号 3 层",
    "legal_representative": "王䶮",
    "legal_representative_id": "110105199003070017",
    "contact_phone": "13800138000",
    "seal_count": 2,
    "invoice_needed": True,
}
# A generated composition of four departments' items (bpmn.generate_process via one_thing_compose).
FOUR_KEY = "bench_four_departments"
FOUR_ITEMS = ("000113101000", "000105402000", "000112103000", "000131401000")
FOUR_FORM = {**ENTERPRISE_FORM, "public_gathering_place": True, "floor_area": 180, "seat_count": 60}
REVIEWER_OF = {
    "market_regulation": "market1",
    "public_security": "police1",
    "tax": "tax1",
    "fire_rescue": "fire1",
    "health": "health1",
    "medical_insurance": "insurance1",
    "social_security": "social1",
    "urban_management": "urban1",
}


# The recipient's signature from the signature pad (an 8×4 PNG): the handover at the window (一窗通取) proves the
# delivery, which concludes the case (issue 17: 办结 needs a proven delivery).
SIGNATURE_PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAECAAAAACWpiEsAAAAEElEQVR4nGP8zwABTAw4GQAjkQEHTUuNLgAAAABJRU5ErkJggg=="
)


def handover_of(user, case_no: str) -> dict:
    """What the window's screen shows before the handover (一窗通取): who may collect and what to hand over."""
    from workflow import selectors

    case = selectors.case_get(user=user, case_no=case_no)
    return {
        "recipient": {"kind": "applicant", "id_number": case.applicant_id_number},
        "items": selectors.delivery_view(case).handover_items,
    }


def hand_over(user, case_no: str, shown: dict | None = None):
    """一窗通取 with the applicant in person (identity checked, every listed thing ticked, signed): concludes.
    ``shown``: what the screen read before (``handover_of``); read here when not given."""
    import base64

    from workflow import services

    shown = shown or handover_of(user, case_no)
    return services.case_handover(
        user=user,
        case_no=case_no,
        recipient=shown["recipient"],
        identity_method="id_card_onsite",
        items=shown["items"],
        signature=services.Signature(method="pad", content=base64.b64decode(SIGNATURE_PNG_BASE64)),
    )


def log(message: str) -> None:
    sys.stderr.write(f"  {time.strftime('%H:%M:%S')} {message}\n")
    sys.stderr.flush()


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def build_schema() -> str:
    """The production schema: the migrations, when they are up to date with the models. While a feature is
    under way and the migrations lag the models, the tables come straight from the models instead, as the test
    suite builds them (``--nomigrations``); what was used is reported."""
    from django.conf import settings
    from django.core.management import call_command

    try:
        call_command("makemigrations", check=True, dry_run=True, verbosity=0)
    except SystemExit:
        pass
    else:
        call_command("migrate", verbosity=0, interactive=False)
        return "migrations"

    class NoMigrations(dict):
        def __contains__(self, item):
            return True

        def __getitem__(self, item):
            return None

    settings.MIGRATION_MODULES = NoMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    return "models (the migrations lag the models)"


def load_demo_data(*, four_departments: bool = True) -> dict:
    """Demo catalogue, shipped processes and users; optionally the generated four-department one-thing."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    # The demo users' passwords are never checked here (token auth); don't spend seconds on PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from workflow import services
    from workflow.demo import load_demo

    load_demo(password="bench-password")
    if four_departments:
        services.one_thing_compose(
            key=FOUR_KEY,
            name="四部门并联审批（基准测试）",
            lead_department="market_regulation",
            items=[services.ItemLink(code) for code in FOUR_ITEMS],
            promised_limit_days=5,
            generate_process=True,
            deployed_by="bench",
        )
    return {user.username: user for user in get_user_model().objects.filter(staff__isnull=False)}


_CHECKLISTS: dict[str, list[str]] = {}


def checklist_codes(one_thing_key: str) -> list[str]:
    """Every material on the one-thing's checklist: the bench's applicants hand everything in (acceptance needs
    every required one). Read once per one-thing."""
    if one_thing_key not in _CHECKLISTS:
        from workflow.models import OneThing

        merged = OneThing.objects.get(key=one_thing_key).merged_form or {}
        _CHECKLISTS[one_thing_key] = [material["code"] for material in merged.get("materials", [])]
    return _CHECKLISTS[one_thing_key]


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = math.floor(k), math.ceil(k)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(values_ms: list[float]) -> dict:
    return {
        "n": len(values_ms),
        "median": statistics.median(values_ms) if values_ms else float("nan"),
        "mean": statistics.fmean(values_ms) if values_ms else float("nan"),
        "p95": percentile(values_ms, 95),
        "p99": percentile(values_ms, 99),
        "min": min(values_ms, default=float("nan")),
        "max": max(values_ms, default=float("nan")),
    }


class SqlCounter:
    """Counts what one Django connection sends to PostgreSQL: statements, and the BEGIN/COMMIT/ROLLBACK
    around them (psycopg sends BEGIN before the first statement of a transaction when autocommit is off).
    Counting is paused outside ``counting()`` blocks, so helper reads made by the bench are left out."""

    def __init__(self, connection):
        self.connection = connection
        self.statements = 0
        self.begins = 0
        self.commits = 0
        self.rollbacks = 0
        self.samples: list[str] = []
        self.db_seconds = 0.0  # wall time inside cursor.execute: round trips and PostgreSQL's work
        self.active = False

    @staticmethod
    def statement_texts(samples: list) -> list[str]:
        """The statements of ``samples`` on one line each (whitespace collapsed), for the report."""
        return [" ".join(str(sql).split()) for sql in samples]

    @property
    def total(self) -> int:
        return self.statements + self.begins + self.commits + self.rollbacks

    def reset(self) -> None:
        self.statements = self.begins = self.commits = self.rollbacks = 0
        self.samples = []
        self.db_seconds = 0.0

    def _wrapper(self, execute, sql, params, many, context):
        if self.active:
            self.statements += 1
            self.samples.append(sql)  # as sent; normalised by ``statement_texts`` after the timing
            raw = self.connection.connection
            if raw is not None and not raw.autocommit and raw.info.transaction_status == 0:  # IDLE → BEGIN
                self.begins += 1
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.db_seconds += time.perf_counter() - started
        return execute(sql, params, many, context)

    @contextmanager
    def installed(self):
        connection = self.connection
        original_commit, original_rollback = connection._commit, connection._rollback

        def commit():
            if not self.active:
                return original_commit()
            self.commits += 1
            started = time.perf_counter()
            try:
                return original_commit()
            finally:
                self.db_seconds += time.perf_counter() - started

        def rollback():
            if self.active:
                self.rollbacks += 1
            return original_rollback()

        connection._commit, connection._rollback = commit, rollback
        try:
            with connection.execute_wrapper(self._wrapper):
                yield self
        finally:
            connection._commit, connection._rollback = original_commit, original_rollback

    @contextmanager
    def counting(self):
        self.active = True
        try:
            yield
        finally:
            self.active = False
