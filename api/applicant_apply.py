"""Applying online or at a kiosk through the applicant API: one-things and their one form, drafts (save, resume by
draft code, files), the pre-check and one submission (idempotency key). docs/api.md "Applicant"."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from workflow import selectors
from workflow.services import applicant_apply as apply
from workflow.services import uploads as upload_rules

from .applicant import ApplicantApi
from .catalogue import OneThingDetailSerializer, OneThingSerializer
from .delivery import DeliveryChoiceSerializer
from .errors import error_responses
from .files import UploadMixin
from .presenters import AddressSerializer

FILE_HELP = f"文件：{upload_rules.ALLOWED_LABEL}，按内容识别类型；单个文件默认不超过 10 MB"


class PrefilledSerializer(serializers.Serializer):
    field = serializers.CharField()
    title = serializers.CharField()
    value = serializers.JSONField()
    licence_no = serializers.CharField(help_text="提供该信息的电子证照编号")
    licence_name = serializers.CharField(help_text="电子证照名称（事项）")


class DraftFileSerializer(serializers.Serializer):
    id = serializers.CharField()
    material_code = serializers.CharField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class DraftDeliverySerializer(serializers.Serializer):
    method = serializers.CharField(help_text="pickup 窗口领取（未选择时）、post 邮寄送达、electronic 电子送达")
    method_label = serializers.CharField()
    address = AddressSerializer(allow_null=True, help_text="邮寄地址（post）；其他方式为 null")


DELIVERY_HELP = (
    "结果送达方式 {method, address}，与窗口收件（POST /api/cases）相同：pickup 窗口领取（未选择时的默认）、"
    "post 邮寄送达（须填写 address：recipient、phone、address）、electronic 电子送达（在办件查询页下载）"
)


class DraftSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    one_thing = serializers.CharField()
    one_thing_name = serializers.CharField()
    channel = serializers.CharField(help_text="online 网上 / kiosk 自助终端")
    channel_label = serializers.CharField()
    applicant_name = serializers.CharField(allow_blank=True)
    applicant_phone = serializers.CharField(allow_blank=True)
    form = serializers.DictField()
    materials = serializers.ListField(child=serializers.CharField())
    files = DraftFileSerializer(many=True)
    prefilled = PrefilledSerializer(many=True, help_text="电子证照已有的信息：可预填的字段及其来源证照")
    delivery = DraftDeliverySerializer(help_text="结果送达方式（申请人选择；未选择时为窗口领取）")
    submitted_at = serializers.DateTimeField(allow_null=True)
    case_no = serializers.CharField(allow_null=True, help_text="已提交时：办件编号")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DraftCreatedSerializer(DraftSerializer):
    draft_code = serializers.CharField(help_text="草稿码，仅此一次返回：凭它（并验证身份后）继续填写")


class DraftInputSerializer(serializers.Serializer):
    one_thing = serializers.SlugField(required=False, help_text="一件事标识（新建时必填）")
    applicant = serializers.DictField(
        required=False, help_text="{name, phone}：申请人姓名（单位申请为单位名称）、接收短信的手机号码"
    )
    form = serializers.DictField(required=False, help_text="一表申请的回答（可只填一部分）")
    materials = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    delivery = DeliveryChoiceSerializer(required=False, help_text=DELIVERY_HELP)


class OneThingListApi(ApplicantApi):
    """可网上申办的一件事。"""

    @extend_schema(
        operation_id="applicant_one_things", responses={200: OneThingSerializer(many=True), **error_responses(401)}
    )
    def get(self, request):
        return Response(OneThingSerializer(selectors.one_things(), many=True).data)


class OneThingDetailApi(ApplicantApi):
    """一件事的一表申请（与窗口相同的表单、条件和材料清单）。"""

    @extend_schema(
        operation_id="applicant_one_thing", responses={200: OneThingDetailSerializer, **error_responses(401, 404)}
    )
    def get(self, request, key: str):
        return Response(OneThingDetailSerializer(selectors.one_thing_get(key=key)).data)


class DraftListApi(ApplicantApi):
    """我的草稿（重新验证身份后可继续填写）；新建草稿。"""

    @extend_schema(operation_id="applicant_drafts", responses={200: DraftSerializer(many=True), **error_responses(401)})
    def get(self, request):
        return Response(DraftSerializer(selectors.own_drafts(id_number=request.user.id_number), many=True).data)

    @extend_schema(
        operation_id="applicant_draft_create",
        request=DraftInputSerializer,
        responses={201: DraftCreatedSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request):
        data = DraftInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not values.get("one_thing"):
            raise serializers.ValidationError({"one_thing": ["请选择一件事"]})
        saved = apply.draft_save(
            session=request.user.session,
            one_thing_key=values["one_thing"],
            form=values.get("form"),
            materials=values.get("materials"),
            applicant=values.get("applicant"),
            delivery=values.get("delivery"),
        )
        body = {**DraftSerializer(selectors.draft_view(saved.draft)).data, "draft_code": saved.code}
        return Response(body, status=201)


class DraftDetailApi(ApplicantApi):
    """一份草稿：读取；修改（只改所给的部分）。他人的草稿为 404。"""

    @extend_schema(operation_id="applicant_draft", responses={200: DraftSerializer, **error_responses(401, 404)})
    def get(self, request, draft_id: int):
        draft = apply.own_draft(request.user.session, draft_id=draft_id)
        return Response(DraftSerializer(selectors.draft_view(draft)).data)

    @extend_schema(
        operation_id="applicant_draft_update",
        request=DraftInputSerializer,
        responses={200: DraftSerializer, **error_responses(400, 401, 404, 409)},
    )
    def patch(self, request, draft_id: int):
        data = DraftInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        saved = apply.draft_save(
            session=request.user.session,
            draft_id=draft_id,
            form=values.get("form"),
            materials=values.get("materials"),
            applicant=values.get("applicant"),
            delivery=values.get("delivery"),
        )
        return Response(DraftSerializer(selectors.draft_view(saved.draft)).data)


class DraftResumeApi(ApplicantApi):
    """凭草稿码找回草稿（须是本人的草稿，否则为 404）。"""

    class InputSerializer(serializers.Serializer):
        draft_code = serializers.CharField(max_length=32)

    @extend_schema(
        operation_id="applicant_draft_resume",
        request=InputSerializer,
        responses={200: DraftSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = apply.own_draft(request.user.session, code=data.validated_data["draft_code"])
        return Response(DraftSerializer(selectors.draft_view(draft)).data)


class DraftFileApi(UploadMixin, ApplicantApi):
    """为草稿上传材料文件：与窗口相同的类型识别和大小限制（PDF、JPG/PNG、OFD，按内容识别；单个文件默认不超过
    10 MB）。同一材料同样内容重复上传不会重复保存。"""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        material_code = serializers.CharField(max_length=64)
        file = serializers.FileField(allow_empty_file=True, help_text=FILE_HELP)

    @extend_schema(
        operation_id="applicant_draft_file",
        request={"multipart/form-data": InputSerializer},
        responses={201: DraftFileSerializer, 200: DraftFileSerializer, **error_responses(400, 401, 404, 409, 413)},
    )
    def post(self, request, draft_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = apply.draft_upload(
            session=request.user.session,
            draft_id=draft_id,
            material_code=data.validated_data["material_code"],
            file=data.validated_data["file"],
        )
        body = {
            "id": str(row.public_id),
            "material_code": row.material_code,
            "name": row.original_name,
            "content_type": row.content_type,
            "size": row.size,
        }
        return Response(body, status=201 if row.is_new else 200)


class ProblemSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="applicant / field / material / licence / auto_approval")
    kind_label = serializers.CharField()
    target = serializers.CharField(help_text="字段名、材料编码或事项编码")
    label = serializers.CharField()
    message = serializers.CharField()
    departments = serializers.ListField(child=serializers.CharField(), help_text="涉及的部门（部门编码）")
    department_names = serializers.ListField(
        child=serializers.CharField(), help_text="涉及的部门名称（与 departments 同序）"
    )
    blocking = serializers.BooleanField(help_text="true：不改正将无法受理；false：提示（不影响提交）")


class ItemOutlookSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField(help_text="审查部门编码")
    department_name = serializers.CharField()
    auto_approval = serializers.CharField(
        allow_blank=True, help_text="approve：秒批规则将自动准予；manual：转人工审查；空：人工审查的事项"
    )
    rule = serializers.CharField(allow_blank=True)


class PrecheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="没有必须改正的问题")
    problems = ProblemSerializer(many=True, help_text="一次告知：所有缺少的和将不能通过的，一次列全")
    items = ItemOutlookSerializer(many=True, help_text="按当前回答需要办理的事项")
    reused = serializers.ListField(child=serializers.DictField(), help_text="免提交：以已有电子证照替代的材料")
    uploaded = serializers.ListField(child=serializers.CharField(), help_text="已上传文件的材料编码")
    promised_limit_days = serializers.IntegerField(help_text="承诺时限（工作日）")
    estimated_completion_date = serializers.DateField(
        allow_null=True, help_text="预计办结日期：次一工作日受理起算承诺时限（按工作日历）"
    )
    estimated_provisional = serializers.BooleanField(help_text="预计日期涉及尚未公布节假日安排的年份")


class DraftPrecheckApi(ApplicantApi):
    """智能预审：对草稿运行各部门的校验、各事项的秒批规则、必交材料和电子证照检查，一次列出所有问题，并给出预计
    办结日期。不改变任何数据。"""

    @extend_schema(
        operation_id="applicant_draft_precheck",
        request=None,
        responses={200: PrecheckSerializer, **error_responses(401, 404)},
    )
    def post(self, request, draft_id: int):
        draft = apply.own_draft(request.user.session, draft_id=draft_id)
        return Response(PrecheckSerializer(selectors.draft_precheck(draft)).data)


class SubmittedSerializer(serializers.Serializer):
    case_no = serializers.CharField()
    query_code = serializers.CharField(allow_null=True, help_text="查询码：仅第一次提交的回答中出现一次；重放时为 null")
    replayed = serializers.BooleanField(help_text="同一幂等键的重复提交：返回同一办件")
    status = serializers.CharField()
    status_label = serializers.CharField()
    channel = serializers.CharField(help_text="online 网上 / kiosk 自助终端")
    channel_label = serializers.CharField()


class DraftSubmitApi(ApplicantApi):
    """提交申请（一次）：成为办件，进入窗口的预审（待受理）列表；依法在收件后 5 个工作日内告知补正，否则视为受理。
    须带幂等键（请求体 idempotency_key 或请求头 Idempotency-Key）：同一键重复提交返回同一办件（201 → 200），
    已提交的草稿换用其他键为 409。"""

    class InputSerializer(serializers.Serializer):
        idempotency_key = serializers.CharField(
            max_length=64, required=False, help_text="幂等键（或用请求头 Idempotency-Key）"
        )

    @extend_schema(
        operation_id="applicant_draft_submit",
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={201: SubmittedSerializer, 200: SubmittedSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request, draft_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = data.validated_data.get("idempotency_key") or request.headers.get("Idempotency-Key", "")
        submitted = apply.draft_submit(session=request.user.session, draft_id=draft_id, idempotency_key=key)
        case = submitted.case
        body = {
            "case_no": case.case_no,
            "query_code": submitted.query_code,
            "replayed": submitted.replayed,
            "status": case.status,
            "status_label": case.get_status_display(),
            "channel": case.channel,
            "channel_label": case.get_channel_display(),
        }
        return Response(SubmittedSerializer(body).data, status=200 if submitted.replayed else 201)
