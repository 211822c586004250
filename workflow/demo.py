"""Demo data for the one-command run and for tests: departments, items, one-things, one user per role."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from .halls import default_hall
from .models import Hall, Staff, StaffRole
from .services import catalogue_import, halls_import, process_versions_deploy

PROCESSES_DIR = Path(__file__).resolve().parent.parent / "bpmn" / "processes"
CATALOGUE_FILE = Path(__file__).resolve().parent / "demo_data" / "catalogue.json"
# 收受分离: a second hall in another region (the default hall comes from settings, ONETHING_HALL_*).
HALLS_FILE = Path(__file__).resolve().parent / "demo_data" / "halls.json"
# One-things whose process ships as a BPMN file under bpmn/processes/<key>/<key>.bpmn.
SHIPPED_PROCESSES = ("enterprise_start", "newborn", "restaurant_start")

# username, role, department, full name
USERS = [
    ("window1", StaffRole.WINDOW, None, "综合窗口 王敏"),
    ("window2", StaffRole.WINDOW, None, "异地收件窗口 何静"),
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
# The demo users' password unless another is given; published in the README, so `check --deploy` refuses any
# user who has it (workflow/checks.py) and `make prod` creates no demo users unless ONETHING_DEMO_USERS=1.
DEMO_PASSWORD = "onething-demo"
# The hall a demo user works at (code; "" = the default hall). Everyone else is unbound and sees every case.
HALL_OF = {"window1": "", "window2": "120101"}


@transaction.atomic
def load_demo(*, password: str, users: bool = True) -> list[tuple[str, str]]:
    """Idempotent: safe to run on every start. Returns (username, role label) of the demo users; ``users=False``
    loads the catalogue, the one-things and the halls only."""
    catalogue_import(data=json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")), deployed_by="demo")
    process_versions_deploy(
        files=[(f"{key}.bpmn", (PROCESSES_DIR / key / f"{key}.bpmn").read_bytes()) for key in SHIPPED_PROCESSES],
        deployed_by="demo",
    )
    halls = {"": default_hall()}
    halls.update({hall.code: hall for hall in halls_import(rows=json.loads(HALLS_FILE.read_text("utf-8"))["halls"])})

    User = get_user_model()
    created = []
    if not users:
        return created
    for username, role, dept, full_name in USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = full_name
        user.is_staff = role == StaffRole.ADMINISTRATOR
        user.is_superuser = role == StaffRole.ADMINISTRATOR
        user.set_password(password)
        user.save()
        hall: Hall | None = halls[HALL_OF[username]] if username in HALL_OF else None
        Staff.objects.update_or_create(user=user, defaults={"role": role, "department_id": dept, "hall": hall})
        created.append((username, StaffRole(role).label))
    return created
