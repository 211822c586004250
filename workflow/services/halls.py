"""Loading the service halls (政务服务大厅) of 收受分离: from the demo data, a file, or the admin."""

from __future__ import annotations

from django.db import transaction

from ..errors import ValidationFailed
from ..halls import HALL_CODE_MESSAGE, HALL_CODE_RE
from ..models import Hall

_TEXT_FIELDS = {"name": ("大厅名称", 100), "region_code": ("行政区划代码", 12), "region_name": ("行政区划名称", 100)}


@transaction.atomic
def halls_import(*, rows: list[dict]) -> list[Hall]:
    """Create or update halls by code: ``[{code, name, region_code, region_name, is_active?}]``. Every row is
    checked first; one bad row imports nothing."""
    errors: dict[str, list[str]] = {}
    if not isinstance(rows, list):
        raise ValidationFailed(field_errors={"halls": ["应为大厅列表"]})
    seen: set[str] = set()
    for i, row in enumerate(rows):
        where = f"halls[{i}]"
        if not isinstance(row, dict):
            errors[where] = ["应为对象：code、name、region_code、region_name"]
            continue
        code = row.get("code")
        if not isinstance(code, str) or not HALL_CODE_RE.fullmatch(code):
            errors[f"{where}.code"] = [HALL_CODE_MESSAGE]
        elif code in seen:
            errors[f"{where}.code"] = [f"大厅编码 {code} 重复"]
        else:
            seen.add(code)
        for field, (label, limit) in _TEXT_FIELDS.items():
            value = row.get(field)
            if not isinstance(value, str) or not value.strip():
                errors[f"{where}.{field}"] = [f"请填写{label}"]
            elif len(value) > limit:
                errors[f"{where}.{field}"] = [f"{label}不能超过 {limit} 个字符"]
        if "is_active" in row and not isinstance(row["is_active"], bool):
            errors[f"{where}.is_active"] = ["应为 true 或 false"]
    if errors:
        raise ValidationFailed("大厅数据有误，未导入", field_errors=errors)
    halls = []
    for row in rows:
        hall, _ = Hall.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"].strip(),
                "region_code": row["region_code"].strip(),
                "region_name": row["region_name"].strip(),
                "is_active": row.get("is_active", True),
            },
        )
        halls.append(hall)
    return halls
