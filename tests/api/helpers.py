"""Shared helpers for the HTTP API tests: request shortcuts, error-body checks, and case states built
through the service layer (fast; the API itself is exercised by the tests, not by the fixtures)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from rest_framework.test import APIClient

from tests.conftest import APPLICANT, ENTERPRISE_FORM, REVIEWER_OF, handed_in
from workflow import services
from workflow.models import Case, CaseEvent, HumanTask, HumanTaskState

CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_KEYS = {"code", "message", "errors"}


@dataclass(frozen=True)
class CaseRef:
    case_no: str
    query_code: str
    pk: int

    def task_id(self, lane: str) -> int:
        """The id of the case's open task in ``lane``, else its most recent task there."""
        tasks = HumanTask.objects.filter(case_id=self.pk, lane=lane).order_by("-created_at", "-id")
        open_task = tasks.filter(state=HumanTaskState.OPEN).first()
        return (open_task or tasks.first()).pk

    @property
    def status(self) -> str:
        return Case.objects.values_list("status", flat=True).get(pk=self.pk)


def case_body(*, one_thing: str = "enterprise_start", applicant: dict | None = None, **form_changes) -> dict:
    return {
        "one_thing": one_thing,
        "applicant": dict(APPLICANT if applicant is None else applicant),
        "form": {**ENTERPRISE_FORM, **form_changes},
        "materials": handed_in(one_thing),  # everything handed in at the window: acceptance needs the required ones
    }


def post(client: APIClient, path: str, body=None, **extra):
    """POST a JSON body. Any unhandled server exception fails the test as a 500 would, without breaking
    the test's transaction (the request runs in a savepoint)."""
    with transaction.atomic():
        return client.post(path, body, format="json", **extra)


def post_raw(client: APIClient, path: str, data, content_type: str = "application/json", **extra):
    with transaction.atomic():
        return client.generic("POST", path, data, content_type=content_type, **extra)


def get(client: APIClient, path: str, **extra):
    with transaction.atomic():
        return client.get(path, **extra)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape: {"code", "message" (Chinese), "errors"?: {field: [messages]}}."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) <= ERROR_KEYS and {"code", "message"} <= set(body), body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["message"], str) and CJK.search(body["message"]), body
    if code is not None:
        assert body["code"] == code, body
    if "errors" in body:
        assert body["errors"], body
        for field, messages in body["errors"].items():
            assert isinstance(field, str) and field, body
            assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages), body
    return body


def field_errors(response) -> dict[str, list[str]]:
    body = assert_error(response, 400, "invalid")
    assert "errors" in body, body
    return body["errors"]


def snapshot() -> tuple:
    """Everything a refused request must leave untouched."""
    return (
        Case.objects.count(),
        tuple(Case.objects.order_by("pk").values_list("pk", "status", "version", "form_data")),
        tuple(HumanTask.objects.order_by("pk").values_list("pk", "state", "decision", "opinion")),
        CaseEvent.objects.count(),
    )


# --- case states, through the service layer -------------------------------------------------------


def open_case(users, **form_changes) -> CaseRef:
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form={**ENTERPRISE_FORM, **form_changes},
        materials=handed_in(),
    )
    return CaseRef(opened.case.case_no, opened.query_code, opened.case.pk)


def accept(users, ref: CaseRef) -> CaseRef:
    services.case_accept(user=users["window1"], case_no=ref.case_no)
    return ref


OPINIONS = {
    "approve": "经审查，材料齐全，符合法定形式，准予办理",
    "reject": "经营范围含需前置审批项目，未取得许可",
    "need_correction": "住所证明材料不清晰，请一次性补正",
}
CORRECTIONS = [
    {"item": "address", "reason": "住所证明不清晰，门牌号无法辨认"},
    {"item": "seal_count", "reason": "印章数量与备案申请不一致"},
]


def decide(users, ref: CaseRef, department: str, decision: str = "approve") -> None:
    services.human_task_complete(
        user=users[REVIEWER_OF[department]],
        task_id=ref.task_id(department),
        decision=decision,
        opinion=OPINIONS[decision] + f"（{department}）",
        corrections=CORRECTIONS if decision == "need_correction" else [],
    )


# 一窗通取 of an enterprise_start case approved by every department: what the window hands over (the demo
# catalogue's handover lists), the applicant in person, signed on the pad.
ENTERPRISE_HANDOVER = [
    "办结通知书",
    "营业执照正本",
    "营业执照副本",
    "企业公章",
    "财务专用章",
    "发票专用章",
    "税务UKey",
    "首批发票",
]


def handover_body(**changes) -> dict:
    import base64

    from tests.upload_samples import png

    return {
        "recipient": {"kind": "applicant", "id_number": APPLICANT["id_number"]},
        "identity_method": "id_card_onsite",
        "items": list(ENTERPRISE_HANDOVER),
        "signature": {"method": "pad", "content_base64": base64.b64encode(png()).decode()},
        **changes,
    }
