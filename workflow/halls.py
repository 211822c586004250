"""Service halls for 收受分离 (accept in one hall, decide in another region): cached lookups, the default hall
from settings, who sees which hall's cases, and the identity check a cross-region acceptance needs.

Hall lookups sit on the path of every case opening, which has a statement budget (docs/architecture.md), so
they are cached in the shared cache (Redis in production) and dropped whenever a hall is saved or deleted.
Only rows known to be committed are cached: a hall created inside a transaction that then rolls back must not
leave a dangling id in the cache.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .errors import NotFound, PermissionDenied
from .models import Hall, Staff, StaffRole

# A hall code prefixes the case numbers its windows draw, and a case number is 20 digits (6 + date + 6).
HALL_CODE_RE = re.compile(r"[0-9]{6}")
HALL_CODE_MESSAGE = "大厅编码应为 6 位数字（办件编号的前 6 位）"
CACHE_SECONDS = 300

# How the accepting window verified the applicant's identity (身份核验) for a case decided elsewhere.
IDENTITY_METHODS = {
    "id_card_onsite": "居民身份证现场核验",
    "ctid": "网络身份认证（CTID）核验",
    "face": "人脸识别比对",
    "other_document": "其他有效身份证件核验",
}


def _key(kind: str, value) -> str:
    return f"onething:hall:{kind}:{value}"


_FIELDS = ("id", "code", "name", "region_code", "region_name", "is_active")


def _remember(hall: Hall) -> None:
    """Cached as plain data (the cache holds JSON, never pickles), rebuilt by ``_cached``."""
    row = [getattr(hall, name) for name in _FIELDS]
    cache.set_many({_key("id", hall.pk): row, _key("code", hall.code): row}, CACHE_SECONDS)


def _cached(key: str) -> Hall | None:
    row = cache.get(key)
    return Hall.from_db("default", _FIELDS, row) if row is not None else None


def forget(hall: Hall) -> None:
    cache.delete_many([_key("id", hall.pk), _key("code", hall.code)])


@receiver(post_save, sender=Hall, dispatch_uid="hall_saved")
@receiver(post_delete, sender=Hall, dispatch_uid="hall_deleted")
def _hall_changed(sender, instance: Hall, **kwargs) -> None:
    forget(instance)
    # A reader between the save and the commit may have cached the old row again.
    transaction.on_commit(lambda: forget(instance))


def default_hall() -> Hall:
    """The installation's own hall (ONETHING_HALL_CODE / _NAME / _REGION_*), created on first use."""
    code = settings.ONETHING_HALL_CODE
    hall = _cached(_key("code", code))
    if hall is not None:
        return hall
    hall = Hall.objects.filter(code=code).first()
    if hall is not None:
        _remember(hall)
        return hall
    hall, _ = Hall.objects.get_or_create(
        code=code,
        defaults={
            "name": settings.ONETHING_HALL_NAME,
            "region_code": getattr(settings, "ONETHING_HALL_REGION_CODE", "") or code,
            "region_name": getattr(settings, "ONETHING_HALL_REGION_NAME", "") or settings.ONETHING_HALL_NAME,
        },
    )
    transaction.on_commit(lambda: _remember(hall))
    return hall


def hall_by_id(pk: int | None) -> Hall | None:
    if pk is None:
        return None
    hall = _cached(_key("id", pk))
    if hall is None:
        hall = Hall.objects.filter(pk=pk).first()
        if hall is not None:
            _remember(hall)
    return hall


def hall_by_code(code: str) -> Hall | None:
    hall = _cached(_key("code", code))
    if hall is None:
        hall = Hall.objects.filter(code=code).first()
        if hall is not None:
            _remember(hall)
    return hall


def active_halls():
    return Hall.objects.filter(is_active=True).order_by("code")


def hall_of(staff: Staff | None) -> Hall:
    """The hall a window clerk receives at: their own, else (a single-hall deployment) the default one."""
    if staff is not None and staff.hall_id:
        return hall_by_id(staff.hall_id)
    return default_hall()


def is_cross_region(case) -> bool:
    return halls_differ(case.accepting_hall_id, case.deciding_hall_id)


def halls_differ(accepting_hall_id: int | None, deciding_hall_id: int | None) -> bool:
    """收受分离: accepted in one hall, decided in another (``is_cross_region`` of a case's two hall ids)."""
    return bool(accepting_hall_id and deciding_hall_id and accepting_hall_id != deciding_hall_id)


def hall_row(hall: Hall | None) -> dict | None:
    if hall is None:
        return None
    return {"code": hall.code, "name": hall.name, "region_code": hall.region_code, "region_name": hall.region_name}


def case_halls(case) -> dict:
    """{accepting_hall, deciding_hall, cross_region} of a case, from the cache (no statement when warm)."""
    return {
        "accepting_hall": hall_row(hall_by_id(case.accepting_hall_id)),
        "deciding_hall": hall_row(hall_by_id(case.deciding_hall_id)),
        "cross_region": is_cross_region(case),
    }


# --- who sees which hall's cases -------------------------------------------------------------------------
# Staff without a hall work in a single-hall deployment and see every case. A reviewer bound to a hall decides
# for that hall's region: only cases whose deciding hall it is. Window staff and supervisors bound to a hall
# follow the cases their hall accepted or decides.


def case_scope(staff: Staff, prefix: str = "") -> Q | None:
    """A filter on Case (``prefix`` "case__" for HumanTask) limiting ``staff`` to their hall, or None."""
    if staff is None or not staff.hall_id:
        return None
    return hall_scope(staff.hall_id, deciding_only=staff.role == StaffRole.REVIEWER, prefix=prefix)


def hall_scope(hall_id, *, deciding_only: bool, prefix: str = "") -> Q:
    """The cases of a hall: those it decides (a reviewer's), or those it accepted or decides (收受分离)."""
    if deciding_only:
        return Q(**{f"{prefix}deciding_hall_id": hall_id})
    return Q(**{f"{prefix}accepting_hall_id": hall_id}) | Q(**{f"{prefix}deciding_hall_id": hall_id})


def task_scope(staff: Staff) -> Q | None:
    """A filter on HumanTask: as ``case_scope``, except that a window clerk's tasks (the window lane: 受理) are
    those of the cases their hall accepted."""
    if staff is not None and staff.hall_id and staff.role == StaffRole.WINDOW:
        return Q(case__accepting_hall_id=staff.hall_id)
    return case_scope(staff, "case__")


def sees_case(staff: Staff, case) -> bool:
    if staff is None or not staff.hall_id:
        return True
    if staff.role == StaffRole.REVIEWER:
        return case.deciding_hall_id == staff.hall_id
    return staff.hall_id in (case.accepting_hall_id, case.deciding_hall_id)


def window_may_act(staff: Staff, case) -> bool:
    """A window clerk may act on the case: unbound (single hall), or of the hall that accepted it."""
    return staff is not None and (not staff.hall_id or case.accepting_hall_id in (None, staff.hall_id))


def require_accepting_window(staff: Staff, case) -> None:
    """The window's acts on a case (受理, 不予受理, 补正代录, 办结, 撤回, 容缺补交) belong to the hall that
    accepted it. A case the clerk's hall has nothing to do with is not found; the deciding hall's window may
    follow the case but not act on it."""
    if staff is None or window_may_act(staff, case):
        return
    if not sees_case(staff, case):
        raise NotFound("未找到该办件")
    raise PermissionDenied("只有收件大厅的综合窗口可以办理此操作")
