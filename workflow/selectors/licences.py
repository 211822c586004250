"""The public check of a licence (证照核验): its number plus the short verification code printed on it → valid,
revoked or expired, the holder's name masked. No query code, no case, nothing else of the holder's. An unknown
number and a wrong code are the same answer at the same cost."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from django.utils import timezone

from ..errors import NotFound
from ..models import ELicence

NOT_FOUND = "证照编号或核验码不正确"
STATE_LABELS = {"valid": "有效", "revoked": "已撤销", "expired": "已过期"}
_DUMMY_CODE = "\x00" * 6


@dataclass(frozen=True)
class LicenceCheck:
    number: str
    title: str
    holder: str  # masked
    issuer: str
    valid_from: dt.date
    valid_to: dt.date | None  # None: 长期
    state: str  # valid / revoked / expired
    state_label: str
    revoked_at: dt.datetime | None


def mask_name(name: str) -> str:
    """示范区老味道餐饮有限公司 → 示范******有限公司; 李沐阳 → 李**. The first character (two for an organisation)
    and an organisation's last four stay."""
    name = name or ""
    if len(name) <= 1:
        return "*"
    if len(name) >= 8:
        return name[:2] + "*" * (len(name) - 6) + name[-4:]
    return name[0] + "*" * (len(name) - 1)


def licence_check(*, number: str, code: str) -> LicenceCheck:
    licence = (
        ELicence.objects.select_related("issuer")
        .only(
            "number",
            "title",
            "item_name",
            "holder_name",
            "issuer__name",
            "valid_from",
            "valid_to",
            "revoked_at",
            "verification_code",
        )
        .filter(number=(number or "").strip())
        .first()
    )
    stored = licence.verification_code if licence is not None and licence.verification_code else _DUMMY_CODE
    given = (code or "").strip().upper()
    if not hmac.compare_digest(given.encode(), stored.encode()) or licence is None:
        raise NotFound(NOT_FOUND)
    today = timezone.localdate()
    if licence.revoked_at is not None:
        state = "revoked"
    elif licence.valid_to is not None and licence.valid_to < today:
        state = "expired"
    else:
        state = "valid"
    return LicenceCheck(
        number=licence.number,
        title=licence.title or licence.item_name,
        holder=mask_name(licence.holder_name),
        issuer=licence.issuer.name,
        valid_from=licence.valid_from,
        valid_to=licence.valid_to,
        state=state,
        state_label=STATE_LABELS[state],
        revoked_at=licence.revoked_at,
    )
