"""The applicant, with no account: case number + query code → status; and the one correction."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow import clock, notices, ratings, selectors, services
from workflow.errors import NotFound
from workflow.labels import OUTCOME_LABELS, PROGRESS_LABELS
from workflow.lifecycle import CaseStatus
from workflow.models import Department, HumanTaskState
from workflow.results import case_results

from .cases import CorrectionInputSerializer
from .errors import error_responses
from .presenters import (
    RESULT_STATES,
    ClockFieldsSerializer,
    CorrectionItemSerializer,
    DocumentSerializer,
    EventSerializer,
    ItemResultSerializer,
    RatingStateSerializer,
    event_rows,
)
from .throttles import CASE_NO_RE, StatusLookupCaseThrottle, StatusLookupIpThrottle

PUBLIC_EVENTS = {
    "opened",
    "accept",
    "refuse",
    "require_correction",
    "corrected",
    "resubmit",
    "approve",
    "reject",
    "conclude",
    # The clock, which the applicant must be told about (行政许可法 Art. 32, 42, 45).
    "deemed_accepted",
    "procedure_started",
    "procedure_ended",
    "deadline_extended",
}
# Opinions are shown to the applicant only with the unified feedback, never department by department.
FEEDBACK_STATES = {CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CONCLUDED, CaseStatus.CORRECTION_REQUIRED}


class StrictStringField(serializers.CharField):
    """A JSON string as sent: no number coerced to text, no whitespace trimmed (the throttle keys on it)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LookupSerializer(serializers.Serializer):
    case_no = StrictStringField(
        trim_whitespace=False,
        validators=[RegexValidator(f"^{CASE_NO_RE.pattern}\\Z", "办件编号应为 20 位数字")],
        help_text="办件编号（20 位数字）",
    )
    query_code = StrictStringField(max_length=32, help_text="受理回执上的查询码")


class DepartmentProgressSerializer(serializers.Serializer):
    department = serializers.CharField()
    department_name = serializers.CharField()
    progress = serializers.ChoiceField(choices=list(PROGRESS_LABELS))
    progress_label = serializers.CharField()
    decision = serializers.CharField(allow_null=True)
    opinion = serializers.CharField(allow_null=True, allow_blank=True)


class CorrectionNoticeSerializer(serializers.Serializer):
    department_name = serializers.CharField()
    opinion = serializers.CharField(allow_blank=True)
    items = CorrectionItemSerializer(many=True)


class StatusSerializer(ClockFieldsSerializer):
    case_no = serializers.CharField()
    one_thing_name = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    outcome_label = serializers.CharField(allow_blank=True)
    opened_at = serializers.DateTimeField()
    concluded_at = serializers.DateTimeField(allow_null=True)
    departments = DepartmentProgressSerializer(many=True)
    refusal_reasons = serializers.CharField(allow_blank=True, help_text="不予受理时：理由")
    corrections = CorrectionNoticeSerializer(many=True, help_text="待补正时：各部门要求的一次性告知清单")
    results = ItemResultSerializer(many=True, help_text="统一反馈：各事项的办理结果与证照编号")
    timeline = EventSerializer(many=True)
    promised_date = serializers.DateField(allow_null=True, help_text="承诺办结日期（受理后）")
    documents = DocumentSerializer(many=True, help_text="可下载的文书：POST /api/status/documents/{id}/download")
    rating = RatingStateSerializer(help_text="好差评")


def _status_body(case) -> dict:
    tasks = selectors.case_tasks(case)
    show_opinions = case.status in FEEDBACK_STATES
    latest = {}
    for task in tasks:
        if task.department_id:
            latest[task.lane] = task  # tasks are in creation order: the last one is the current round
    codes = case.process_version.departments
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    departments = []
    for code in [] if case.status == CaseStatus.NOT_ACCEPTED else codes:
        task = latest.get(code)
        if task is None:
            progress = "pending"
        elif task.state == HumanTaskState.OPEN:
            progress = "reviewing"
        else:
            progress = "done"
        departments.append(
            {
                "department": code,
                "department_name": names.get(code, code),
                "progress": progress,
                "progress_label": PROGRESS_LABELS[progress],
                "decision": task.get_decision_display() if show_opinions and task and task.decision else None,
                "opinion": task.opinion if show_opinions and task else None,
            }
        )
    corrections = []
    if case.status == CaseStatus.CORRECTION_REQUIRED:
        corrections = [
            {"department_name": t.department.name, "opinion": t.opinion, "items": t.corrections}
            for t in latest.values()
            if t.decision == "need_correction"
        ]
    refusal = next((t.opinion for t in tasks if t.lane == "window" and t.decision == "refuse"), "")
    return {
        "case_no": case.case_no,
        "one_thing_name": case.one_thing.name,
        "refusal_reasons": refusal,
        "status": case.status,
        "status_label": case.get_status_display(),
        "outcome": case.outcome,
        "outcome_label": OUTCOME_LABELS.get(case.outcome, ""),
        "opened_at": case.opened_at,
        "concluded_at": case.concluded_at,
        "departments": departments,
        "corrections": corrections,
        "results": case_results(case, tasks) if case.status in RESULT_STATES else [],
        # Staff names stay inside the hall: the applicant sees what happened and when, not who did it.
        "timeline": [
            {**row, "actor": ""}
            for row in event_rows(e for e in selectors.case_events(case) if e.kind in PUBLIC_EVENTS)
        ],
        "promised_date": getattr(case, "promised_due_date", None),
        **clock.case_clock(case, tasks),
        "documents": notices.case_documents(case),
        "rating": ratings.rating_state(case),
    }


class LookupThrottledApi(APIView):
    """Public lookups: the per-case throttle counts only wrong case number / query code pairs."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [StatusLookupIpThrottle, StatusLookupCaseThrottle]

    def check_throttles(self, request):
        self._throttles = self.get_throttles()
        waits = [throttle.wait() for throttle in self._throttles if not throttle.allow_request(request, self)]
        if waits:
            self.throttled(request, max((w for w in waits if w is not None), default=None))

    def lookup(self, *, case_no: str, query_code: str):
        try:
            return selectors.case_for_applicant(case_no=case_no, query_code=query_code)
        except NotFound:
            for throttle in self._throttles:
                if isinstance(throttle, StatusLookupCaseThrottle):
                    throttle.record_failure()
            raise


class CaseStatusApi(LookupThrottledApi):
    """办件查询（无需登录）：办件编号 + 查询码。

    办件不存在与查询码错误的回答相同；按 IP 限流，并限制同一办件的错误查询次数。"""

    @extend_schema(
        operation_id="case_status",
        request=LookupSerializer,
        responses={200: StatusSerializer, **error_responses(400, 404, 429)},
    )
    def post(self, request):
        data = LookupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = self.lookup(**data.validated_data)
        return Response(StatusSerializer(_status_body(case)).data)


class ApplicantCorrectionApi(LookupThrottledApi):
    """申请人提交一次性补正（无需登录，凭办件编号 + 查询码）。"""

    class InputSerializer(LookupSerializer, CorrectionInputSerializer):
        pass

    @extend_schema(
        operation_id="case_status_correction",
        request=InputSerializer,
        responses={200: StatusSerializer, **error_responses(400, 404, 409, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lookup = {"case_no": data.validated_data["case_no"], "query_code": data.validated_data["query_code"]}
        self.lookup(**lookup)
        services.case_correction_submit(case_no=lookup["case_no"], changes=data.validated_data["form"])
        return Response(StatusSerializer(_status_body(selectors.case_for_applicant(**lookup))).data)


class ApplicantWithdrawApi(LookupThrottledApi):
    """申请人撤回申请（无需登录，凭办件编号 + 查询码；形成办理结果之前）。"""

    class InputSerializer(LookupSerializer):
        reason = serializers.CharField(max_length=1000, help_text="撤回原因")

    @extend_schema(
        operation_id="case_status_withdraw",
        request=InputSerializer,
        responses={200: StatusSerializer, **error_responses(400, 404, 409, 429)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lookup = {"case_no": data.validated_data["case_no"], "query_code": data.validated_data["query_code"]}
        self.lookup(**lookup)
        services.case_withdraw(case_no=lookup["case_no"], reason=data.validated_data["reason"])
        return Response(StatusSerializer(_status_body(selectors.case_for_applicant(**lookup))).data)
