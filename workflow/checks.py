from django.conf import settings
from django.core import checks

_DEV_KEY_PREFIX = "onething-insecure-"


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_not_the_development_key(app_configs, **kwargs):
    if settings.SECRET_KEY.startswith(_DEV_KEY_PREFIX):
        return [checks.Error("DJANGO_SECRET_KEY 未设置：生产环境不能使用开发密钥", id="onething.E001")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def the_audit_chain_has_its_own_key(app_configs, **kwargs):
    if not getattr(settings, "ONETHING_AUDIT_KEY", ""):
        return [
            checks.Error(
                "ONETHING_AUDIT_KEY 未设置：审计事件链的密钥由 SECRET_KEY 派生，轮换 SECRET_KEY 会使既有事件链无法校验",
                hint="生成一个随机密钥（如 python -c 'import secrets; print(secrets.token_urlsafe(48))'），"
                "只放在环境变量中并妥善备份；它不进入数据库",
                id="onething.E003",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def no_user_has_the_demo_password(app_configs, **kwargs):
    """Any active user whose password is the published demo password (or ONETHING_DEMO_PASSWORD) is an error.

    One password hash per active user with a usable password (~0.5 s each with Django's PBKDF2), so it runs with
    ``check --deploy`` only. The hash is only compared, never upgraded or saved."""
    import os

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password
    from django.db import DatabaseError

    from .demo import DEMO_PASSWORD

    passwords = {DEMO_PASSWORD, os.environ.get("ONETHING_DEMO_PASSWORD") or DEMO_PASSWORD}
    try:
        users = list(get_user_model().objects.filter(is_active=True).exclude(password="").order_by("username"))
    except DatabaseError:  # no database or tables yet
        return []
    found = [
        user.get_username()
        for user in users
        if user.has_usable_password() and any(check_password(pw, user.password) for pw in passwords)
    ]
    if not found:
        return []
    return [
        checks.Error(
            f"以下用户仍在使用公开的演示密码：{'、'.join(found)}",
            hint="生产环境请删除演示用户，或用 manage.py changepassword 为其设置新密码",
            id="onething.E002",
        )
    ]


@checks.register(checks.Tags.database)
def next_years_calendar_is_known(app_configs, databases=None, **kwargs):
    """Warn while a year that deadlines of new cases reach has no official holiday arrangement entered.

    "Next year" is read from the law, not from a month: the years from today to the last day of the longest
    limit a case accepted today can have — 45 + 15 working days of joint handling (行政许可法 Art. 26), counted
    on the calendar as it is. In January to about September that is this year alone (which warns only if this
    year itself is missing); from about early October, when 60 working days from today reach past 31
    December, next year too. Dates in such a year are provisional until its arrangement is entered.
    """
    from django.db import DatabaseError
    from django.utils import timezone

    from .calendar import JOINT_EXTENSION_DAYS, JOINT_LIMIT_DAYS, CalendarUnknown, WorkingCalendar

    if not databases:
        return []
    today = timezone.localdate()
    calendar = WorkingCalendar()
    try:
        horizon = calendar.add_working_days(today, JOINT_LIMIT_DAYS + JOINT_EXTENSION_DAYS)
        missing = [year for year in range(today.year, horizon.year + 1) if not calendar.knows_year(year)]
    except DatabaseError:  # tables not migrated yet
        return []
    except CalendarUnknown as exc:  # a year no rule covers: nothing can be counted
        missing = [exc.year]
    return [
        checks.Warning(
            f"{year} 年的工作日历（国务院办公厅节假日安排）尚未录入：期限计算到该年的办件只能按法定节假日预计"
            "（未含调休），显示为“预计”",
            hint="国务院办公厅公布节假日安排后，用 manage.py import_calendar 导入，或在管理后台录入并勾选“已完整录入”；"
            "导入后预计期限自动重新计算",
            id="onething.W001",
        )
        for year in missing
    ]
