"""Demo data for the one-command run and for tests: departments, items, one-things, one user per role."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Staff, StaffRole
from .services import catalogue_import, process_versions_deploy

PROCESSES_DIR = Path(__file__).resolve().parent.parent / "bpmn" / "processes"
CATALOGUE_FILE = Path(__file__).resolve().parent / "demo_data" / "catalogue.json"
# One-things whose process ships as a BPMN file under bpmn/processes/<key>/<key>.bpmn.
SHIPPED_PROCESSES = ("enterprise_start", "newborn", "restaurant_start")

# username, role, department, full name
USERS = [
    ("window1", StaffRole.WINDOW, None, "综合窗口 王敏"),
    ("market1", StaffRole.REVIEWER, "market_regulation", "市场监管 李强"),
    ("police1", StaffRole.REVIEWER, "public_security", "公安 张伟"),
    ("tax1", StaffRole.REVIEWER, "tax", "税务 刘洋"),
    ("health1", StaffRole.REVIEWER, "health", "卫健 赵丽"),
    ("insurance1", StaffRole.REVIEWER, "medical_insurance", "医保 孙浩"),
    ("social1", StaffRole.REVIEWER, "social_security", "人社 周敏"),
    ("fire1", StaffRole.REVIEWER, "fire_rescue", "消防 吴刚"),
    ("urban1", StaffRole.REVIEWER, "urban_management", "城管 郑涛"),
    ("supervisor1", StaffRole.SUPERVISOR, None, "效能监督 陈静"),
    ("admin", StaffRole.ADMINISTRATOR, None, "系统管理员"),
]


@transaction.atomic
def load_demo(*, password: str) -> list[tuple[str, str]]:
    """Idempotent: safe to run on every start. Returns (username, role label) of the demo users."""
    catalogue_import(data=json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")), deployed_by="demo")
    process_versions_deploy(
        files=[(f"{key}.bpmn", (PROCESSES_DIR / key / f"{key}.bpmn").read_bytes()) for key in SHIPPED_PROCESSES],
        deployed_by="demo",
    )

    User = get_user_model()
    created = []
    for username, role, dept, full_name in USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = full_name
        user.is_staff = role == StaffRole.ADMINISTRATOR
        user.is_superuser = role == StaffRole.ADMINISTRATOR
        user.set_password(password)
        user.save()
        Staff.objects.update_or_create(user=user, defaults={"role": role, "department_id": dept})
        created.append((username, StaffRole(role).label))
    return created
