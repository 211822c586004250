"""Licence numbers (证照编号): the format a reviewer may type, and the checks made when the approval is decided.

Two namespaces never meet, so no data one case's actors enter can block another case's licence:

- **System numbers** — an approval without a typed number gets ``default_licence_number(case_no, item_code)``:
  the 20-digit case number, ``-``, the item code's last six characters. Case numbers are unique, so these are too.
- **Typed numbers** — ``licence_number_check`` refuses any number that starts like a system number (20 digits
  and ``-``), so a reviewer cannot take a number the system will generate for another case.

A typed number is checked when the approval is decided (``licence_number_reserve``, in the decision's
transaction): its format per item, then that no other department of the same case typed it (400) and that no
other case holds it, issued or typed on an approval (409); both answer with the field error
``result.licence_no``. A number once typed on an approval stays taken, even if that case later ends otherwise.
On PostgreSQL a transaction advisory lock on the number serialises two decisions typing it at the same moment.

Per licence kind (issue 14, ``licence_kinds``): ``licence_number_check`` receives the item's snapshot from the
case's composition; an item whose ``result`` is a 备案/登记 notice takes no number; when its licence kind has a
number ``pattern`` (or the snapshot a ``licence_number_pattern``; a regular expression, matched in full) the
number must match it, and ``licence_number_example`` is quoted in the message. Keep every rule in that one function.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping

from django.db import connection

from . import licence_kinds
from .errors import Conflict, ValidationFailed
from .models import Case, Decision, ELicence, HumanTask

FIELD = "result.licence_no"
MAX_LENGTH = 64
# Letters, digits, CJK and the punctuation licence numbers use: 京食经〔2026〕第001号, 91110105MA01ABCD2X.
_ALLOWED = re.compile(r"[0-9A-Za-z\u3400-\u9fff（）()〔〕\[\]【】\-_/·.]+")
_SYSTEM_NAMESPACE = re.compile(r"[0-9]{20}-")


class LicenceNumberTaken(Conflict):
    code = "licence_no_taken"
    message = "证照编号已被其他办件使用"


def default_licence_number(case_no: str, item_code: str) -> str:
    """The number of an approval that typed none (the system namespace)."""
    return f"{case_no}-{item_code[-6:]}"


def licence_number_check(item_snapshot: Mapping, number: str) -> list[str]:
    """The errors (Chinese, for the field ``result.licence_no``) of a typed number for this item; [] when fine."""
    errors = []
    if not number or number != number.strip():
        errors.append("证照编号不能为空，前后不能有空格")
    elif len(number) > MAX_LENGTH:
        errors.append(f"证照编号最长 {MAX_LENGTH} 个字符")
    elif not _ALLOWED.fullmatch(number):
        errors.append("证照编号只能包含字母、数字、汉字和 -_/().·〔〕【】，例如 91110105MA01ABCD2X")
    elif _SYSTEM_NAMESPACE.match(number):
        errors.append("以办件编号和“-”开头的编号由系统自动生成，请勿手工填写")
    kind = licence_kinds.result_kind(item_snapshot.get("result"))
    if not errors and not kind.issues_licence:
        errors.append(f"“{kind.title}”办结不发证照，无需填写证照编号")
    pattern = kind.number_pattern or item_snapshot.get("licence_number_pattern")
    if not errors and pattern and not re.fullmatch(pattern, number):
        example = item_snapshot.get("licence_number_example")
        title = f"{kind.title}的" if kind.title else "该证照的"
        errors.append(f"证照编号格式不符合{title}编号规则" + (f"，例如 {example}" if example else ""))
    return errors


def licence_number_reserve(*, case: Case, task: HumanTask, item_snapshot: Mapping, number: str) -> None:
    """Check a typed number at decision time, inside the decision's transaction (the case row is locked)."""
    errors = licence_number_check(item_snapshot, number)
    if errors:
        raise ValidationFailed(field_errors={FIELD: errors})
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"licence-no:{number}".encode()) - 2**31
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    typed = HumanTask.objects.filter(decision=Decision.APPROVE, result__licence_no=number)
    if typed.filter(case=case).exclude(element_id=task.element_id).exists():
        raise ValidationFailed(field_errors={FIELD: ["本办件的另一个部门已填写了相同的证照编号"]})
    if typed.exclude(case=case).exists() or ELicence.objects.filter(number=number).exclude(case=case).exists():
        raise LicenceNumberTaken(field_errors={FIELD: ["该证照编号已被其他办件使用，请核对后重新填写"]})
