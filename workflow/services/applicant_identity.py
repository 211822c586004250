"""The applicant's identity: one-time SMS codes to the phone bound to an ID number, a kiosk's ID-card reader, and
the applicant sessions they open (docs/api.md "Applicant").

- A code is asked for with an ID number and a phone. It is sent only when the phone is the one bound to the ID
  number (``ApplicantBinding``, else the phone of the ID number's latest case, else — a newcomer — the phone
  entered); otherwise nothing is sent, yet the answer is the same, so the door never tells whether an ID number
  is known or has cases. Codes expire (``ONETHING_APPLICANT_CODE_SECONDS``), are single-use, allow five tries,
  and are throttled per ID number, per phone and per address.
- A wrong, expired, used or never-sent code gets one and the same answer: 验证码错误或已失效.
- A kiosk device (``ONETHING_KIOSKS``: id and key) signs the holder of the ID card it read in, with the identity
  method ``id_card_reader``; its sessions end after ``ONETHING_KIOSK_IDLE_SECONDS`` without activity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

import forms

from .. import sms
from ..errors import DomainError, PermissionDenied, ValidationFailed
from ..models import ApplicantBinding, ApplicantCode, ApplicantSession, Case, IdentityMethod
from ..sms.providers import ProviderRefused, ProviderUnavailable, provider

WRONG_CODE = "验证码错误或已失效，请重新获取"
MAX_ATTEMPTS = 5
# (window seconds, most codes) per ID number and per phone; and per address.
PER_NUMBER = ((60, 1), (3600, 5), (86400, 10))
PER_ADDRESS = ((3600, 20),)


class TooManyCodes(DomainError):
    code = "throttled"
    message = "获取验证码过于频繁，请稍后再试"
    http_status = 429


class SmsUnavailable(DomainError):
    code = "sms_unavailable"
    message = "短信暂时无法发送，请稍后再试"
    http_status = 503


class ApplicantSignedOut(DomainError):
    code = "applicant_not_authenticated"
    message = "请先验证身份（登录已失效或超时，请重新验证）"
    http_status = 401


def _digest(purpose: str, value: str) -> str:
    key = hashlib.sha256(f"onething.applicant.{purpose}:".encode() + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _check_identity(id_number: str, phone: str | None, id_type: str = forms.DEFAULT_ID_TYPE) -> None:
    errors = {}
    message = forms.id_number_message(id_type, id_number)
    if message:
        errors["id_number"] = [message]
    if phone is not None and not forms.is_valid_mobile(phone):
        errors["phone"] = ["手机号码应为 11 位数字，以 1 开头，例如 13800138000"]
    if errors:
        raise ValidationFailed(field_errors=errors)


def bound_phone(id_number: str) -> str | None:
    binding = ApplicantBinding.objects.filter(id_number=id_number).values_list("phone", flat=True).first()
    if binding:
        return binding
    latest = (
        Case.objects.filter(applicant_id_number=id_number)
        .exclude(applicant_phone="")
        .order_by("-opened_at")
        .values_list("applicant_phone", flat=True)
        .first()
    )
    return latest or None


def _throttle(id_number: str, phone: str, address: str | None, now: dt.datetime) -> None:
    codes = ApplicantCode.objects
    for seconds, most in PER_NUMBER:
        since = now - dt.timedelta(seconds=seconds)
        if codes.filter(Q(id_number=id_number) | Q(phone=phone), created_at__gte=since).count() >= most:
            wait = "1 分钟" if seconds == 60 else ("1 小时" if seconds == 3600 else "明天")
            raise TooManyCodes(f"获取验证码过于频繁，请{wait}后再试")
    if address:
        for seconds, most in PER_ADDRESS:
            if codes.filter(address=address, created_at__gte=now - dt.timedelta(seconds=seconds)).count() >= most:
                raise TooManyCodes("本网络获取验证码过于频繁，请稍后再试")


def _one_at_a_time(*keys: str) -> None:
    """Serialize code requests per ID number and per phone until the transaction ends (PostgreSQL advisory
    locks; SQLite's one writer at a time does it already)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"onething.applicant-code:{key}"])


def identity_code_request(*, id_number: str, phone: str, address: str | None = None) -> None:
    """Send a one-time code to ``phone`` if it is the phone bound to ``id_number``; the same answer either way."""
    id_number = (id_number or "").strip().upper()
    phone = (phone or "").strip()
    _check_identity(id_number, phone)
    now = timezone.now()
    with transaction.atomic():
        _one_at_a_time(id_number, phone)  # two parallel requests cannot both pass the throttle
        _throttle(id_number, phone, address, now)
        bound = bound_phone(id_number)
        deliverable = bound is None or bound == phone
        code = f"{secrets.randbelow(10**6):06d}"
        ApplicantCode.objects.create(
            id_number=id_number,
            phone=phone,
            code_hash=_digest("code", f"{id_number}:{phone}:{code}"),
            deliverable=deliverable,
            address=address,
            expires_at=now + dt.timedelta(seconds=settings.ONETHING_APPLICANT_CODE_SECONDS),
        )
    if deliverable:
        minutes = max(1, settings.ONETHING_APPLICANT_CODE_SECONDS // 60)
        params = [code, str(minutes)]
        try:
            provider().send(
                phone=phone,
                template="login_code",
                params=params,
                body=sms.render("login_code", params),
                key=f"login:{id_number}:{now.timestamp()}",
            )
        except (ProviderUnavailable, ProviderRefused) as exc:
            raise SmsUnavailable() from exc


@dataclass(frozen=True)
class SignedIn:
    token: str  # shown once; the bearer is the applicant until it expires
    session: ApplicantSession


def _open_session(
    *, id_number: str, phone: str, name: str, method: str, kiosk: str = "", id_type: str = forms.DEFAULT_ID_TYPE
) -> SignedIn:
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    idle = settings.ONETHING_KIOSK_IDLE_SECONDS if kiosk else settings.ONETHING_APPLICANT_SESSION_SECONDS
    session = ApplicantSession.objects.create(
        token_hash=_digest("session", token),
        id_number=id_number,
        id_type=id_type,
        name=name,
        phone=phone,
        method=method,
        kiosk=kiosk,
        last_seen_at=now,
        expires_at=now + dt.timedelta(seconds=max(idle, settings.ONETHING_APPLICANT_SESSION_SECONDS)),
        idle_seconds=idle,
    )
    return SignedIn(token=token, session=session)


def identity_code_verify(*, id_number: str, phone: str, code: str, kiosk: str = "") -> SignedIn:
    """Sign in with the code sent to the phone bound to the ID number. Every failure is the same 400."""
    id_number = (id_number or "").strip().upper()
    phone = (phone or "").strip()
    code = (code or "").strip()
    _check_identity(id_number, phone)
    now = timezone.now()
    with transaction.atomic():
        row = (
            ApplicantCode.objects.select_for_update()
            .filter(id_number=id_number, phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        ok = False
        if row is not None:
            row.attempts += 1
            ok = (
                row.deliverable
                and row.attempts <= MAX_ATTEMPTS
                and hmac.compare_digest(row.code_hash, _digest("code", f"{id_number}:{phone}:{code}"))
            )
            if ok:
                row.used_at = now
            row.save(update_fields=["attempts", "used_at"])
        if ok:
            ApplicantBinding.objects.get_or_create(id_number=id_number, defaults={"phone": phone})
            signed_in = _open_session(id_number=id_number, phone=phone, name="", method=IdentityMethod.SMS, kiosk=kiosk)
    if not ok:  # outside the transaction: the attempt above is committed
        raise ValidationFailed(WRONG_CODE, field_errors={"code": [WRONG_CODE]})
    return signed_in


def kiosk_identify(*, kiosk: str, key: str, id_number: str, name: str) -> SignedIn:
    """自助终端: the device read the applicant's ID card; its key proves the device."""
    expected = settings.ONETHING_KIOSKS.get(kiosk or "")
    if not expected or not hmac.compare_digest(expected.encode(), (key or "").encode()):
        raise PermissionDenied("自助终端未登记或密钥不正确")
    id_number = (id_number or "").strip().upper()
    _check_identity(id_number, None)
    if not (name or "").strip():
        raise ValidationFailed(field_errors={"name": ["请读取身份证上的姓名"]})
    with transaction.atomic():
        phone = bound_phone(id_number) or ""
        return _open_session(
            id_number=id_number, phone=phone, name=name.strip(), method=IdentityMethod.ID_CARD_READER, kiosk=kiosk
        )


def applicant_session(token: str, *, touch: bool = True) -> ApplicantSession:
    """The live session of a token (its idle time restarts), or ApplicantSignedOut."""
    if not token:
        raise ApplicantSignedOut()
    now = timezone.now()
    session = ApplicantSession.objects.filter(token_hash=_digest("session", token), ended_at__isnull=True).first()
    if session is None or session.expires_at <= now:
        raise ApplicantSignedOut()
    if session.last_seen_at + dt.timedelta(seconds=session.idle_seconds) <= now:
        ApplicantSession.objects.filter(pk=session.pk).update(ended_at=now)
        raise ApplicantSignedOut("长时间未操作，已自动退出，请重新验证身份")
    if touch and (now - session.last_seen_at).total_seconds() >= 5:
        ApplicantSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now
    return session


def applicant_sign_out(*, token: str) -> None:
    ApplicantSession.objects.filter(token_hash=_digest("session", token), ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
