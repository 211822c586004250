from django.conf import settings
from django.core import checks

_DEV_KEY_PREFIX = "onething-insecure-"


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_not_the_development_key(app_configs, **kwargs):
    if settings.SECRET_KEY.startswith(_DEV_KEY_PREFIX):
        return [checks.Error("DJANGO_SECRET_KEY 未设置：生产环境不能使用开发密钥", id="onething.E001")]
    return []


@checks.register(checks.Tags.database)
def next_years_calendar_is_known(app_configs, databases=None, **kwargs):
    """From October on, deadlines of new cases reach into next year: its holidays must be entered."""
    from django.db import DatabaseError
    from django.utils import timezone

    from .calendar import WorkingCalendar

    today = timezone.localdate()
    if not databases or today.month < 10:
        return []
    try:
        known = WorkingCalendar().knows_year(today.year + 1)
    except DatabaseError:  # tables not migrated yet
        return []
    if known:
        return []
    return [
        checks.Warning(
            f"{today.year + 1} 年的工作日历尚未录入：期限跨年的办件将无法计算法定期限",
            hint="国务院办公厅公布节假日安排后，用 manage.py import_calendar 导入，或在管理后台录入",
            id="onething.W001",
        )
    ]
