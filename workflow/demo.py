"""Demo data for the one-command run and for tests: departments, items, one-things, one user per role."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Department, OneThing, ServiceItem, Staff, StaffRole
from .services import process_versions_deploy

PROCESSES_DIR = Path(__file__).resolve().parent.parent / "bpmn" / "processes"

DEPARTMENTS = {
    "market_regulation": "区市场监督管理局",
    "public_security": "公安分局",
    "tax": "区税务局",
    "social_security": "区人力资源和社会保障局",
    "medical_insurance": "区医疗保障局",
    "health": "区卫生健康局",
    "housing_fund": "住房公积金管理中心",
    "fire_rescue": "消防救援大队",
    "urban_management": "区城市管理和综合执法局",
    "civil_affairs": "区民政局",
    "natural_resources": "自然资源局",
}

ITEMS = [
    # code, name, department, statutory, promised
    ("11110105000000001A0001", "企业设立登记（营业执照）", "market_regulation", 15, 1),
    ("11110105000000002B0002", "公章刻制备案", "public_security", 5, 1),
    ("11110105000000003C0003", "税务登记信息确认及发票申领", "tax", 10, 1),
]

ONE_THINGS = [
    {
        "key": "enterprise_start",
        "name": "企业开办一件事",
        "lead": "market_regulation",
        "items": [code for code, *_ in ITEMS],
        "promised_limit_days": 1,
    }
]

# username, role, department, full name
USERS = [
    ("window1", StaffRole.WINDOW, None, "综合窗口 王敏"),
    ("market1", StaffRole.REVIEWER, "market_regulation", "市场监管 李强"),
    ("police1", StaffRole.REVIEWER, "public_security", "公安 张伟"),
    ("tax1", StaffRole.REVIEWER, "tax", "税务 刘洋"),
    ("supervisor1", StaffRole.SUPERVISOR, None, "效能监督 陈静"),
    ("admin", StaffRole.ADMINISTRATOR, None, "系统管理员"),
]


@transaction.atomic
def load_demo(*, password: str) -> list[tuple[str, str]]:
    """Idempotent: safe to run on every start. Returns (username, role label) of the demo users."""
    departments = {
        code: Department.objects.update_or_create(code=code, defaults={"name": name})[0]
        for code, name in DEPARTMENTS.items()
    }
    for code, name, dept, statutory, promised in ITEMS:
        ServiceItem.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "department": departments[dept],
                "statutory_limit_days": statutory,
                "promised_limit_days": promised,
            },
        )
    for spec in ONE_THINGS:
        folder = PROCESSES_DIR / spec["key"]
        bpmn_file = folder / f"{spec['key']}.bpmn"
        process_versions_deploy(files=[(bpmn_file.name, bpmn_file.read_bytes())], deployed_by="demo")
        one_thing = OneThing.objects.get(key=spec["key"])
        one_thing.name = spec["name"]
        one_thing.lead_department = departments[spec["lead"]]
        one_thing.promised_limit_days = spec["promised_limit_days"]
        one_thing.form_schema = json.loads((folder / f"{spec['key']}.form.json").read_text(encoding="utf-8"))
        one_thing.save()
        one_thing.items.set(ServiceItem.objects.filter(code__in=spec["items"]))

    User = get_user_model()
    created = []
    for username, role, dept, full_name in USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = full_name
        user.is_staff = role == StaffRole.ADMINISTRATOR
        user.is_superuser = role == StaffRole.ADMINISTRATOR
        user.set_password(password)
        user.save()
        Staff.objects.update_or_create(
            user=user, defaults={"role": role, "department": departments[dept] if dept else None}
        )
        created.append((username, StaffRole(role).label))
    return created
