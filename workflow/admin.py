"""Django admin for the hall's administrators: catalogue and calendar are edited here; cases are read-only.

Catalogue changes go through the services: an item's edit is recorded in the change history; a one-thing's
items, conditions and limits change only by composing (``compose/``: preview the impact, then publish a new
composition version for new cases); published composition versions and process versions are read-only."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from . import services
from .errors import DomainError, ValidationFailed
from .halls import HALL_CODE_MESSAGE, HALL_CODE_RE
from .models import (
    CalendarDay,
    CalendarYear,
    Case,
    CaseEvent,
    CatalogueChange,
    CatalogueChangeKind,
    ClockPause,
    CompositionVersion,
    DeadlineExtension,
    Department,
    Document,
    DueTimer,
    ELicence,
    ExtensionRequest,
    Hall,
    HumanTask,
    MaterialFile,
    MaterialPromise,
    MaterialReuse,
    Notification,
    OneThing,
    OneThingItem,
    ProcessVersion,
    Rating,
    RectificationOrder,
    ServiceItem,
    Staff,
)
from .services.catalogue import auto_approval_problems
from .services.catalogue_history import record_change

admin.site.site_header = "一件事 · 系统管理"
admin.site.site_title = "一件事"
admin.site.index_title = "系统管理"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: shown, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class ServiceItemForm(forms.ModelForm):
    # No Meta: ModelAdmin.get_form builds it for ServiceItem.
    def clean_auto_approval_dmn(self):
        """秒批: a decision table is checked (XML, DMN schema, sandboxed cells) before it is saved."""
        text = self.cleaned_data.get("auto_approval_dmn") or ""
        problems = auto_approval_problems(text)
        if problems:
            raise forms.ValidationError(problems)
        return text


def _history(kind: str, key: str, limit: int = 20):
    rows = CatalogueChange.objects.filter(kind=kind, key=key).order_by("-id")[:limit]
    if not rows:
        return "（无）"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}">{} · {} · {}</a>：{}</li>',
            (
                (
                    reverse("admin:workflow_cataloguechange_change", args=[row.pk]),
                    f"{row.created_at:%Y-%m-%d %H:%M}",
                    row.actor_label,
                    row.source,
                    row.summary,
                )
                for row in rows
            ),
        ),
    )


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    """Saved through ``services.service_item_save`` (recorded in the change history). Running cases keep their
    composition's snapshot; the one-things with the item use the change once recomposed and published."""

    form = ServiceItemForm
    list_display = ["code", "name", "department", "statutory_limit_days", "promised_limit_days", "has_auto_approval"]
    list_filter = ["department"]
    search_fields = ["code", "name"]
    readonly_fields = ["change_history"]

    @admin.display(boolean=True, description="秒批")
    def has_auto_approval(self, item: ServiceItem) -> bool:
        return bool(item.auto_approval_dmn.strip())

    @admin.display(description="变更记录")
    def change_history(self, item: ServiceItem):
        return _history(CatalogueChangeKind.ITEM, item.code) if item.pk else "（新事项）"

    def has_delete_permission(self, request, obj=None):
        return False  # cases, licences and composition versions refer to items

    def save_model(self, request, obj, form, change):
        services.service_item_save(item=obj, actor=request.user)
        reached = services.one_things_with_item(obj.code)
        if reached:
            links = format_html_join(
                "、",
                '<a href="{}">{}</a>',
                ((reverse("admin:workflow_onething_compose", args=[o.pk]), o.name) for o in reached),
            )
            messages.info(
                request,
                format_html(
                    "包含本事项的一件事：{}。重新组合并发布后，新办件才使用本次修改；在办的办件保持原版本。", links
                ),
            )


class OneThingItemInline(admin.TabularInline):
    """The current composition's items, shown; changed only by composing."""

    model = OneThingItem
    extra = 0
    fields = ["position", "item", "condition"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ComposeForm(forms.Form):
    key = forms.SlugField(label="标识", max_length=64, help_text="与 BPMN 流程 id 相同")
    name = forms.CharField(label="名称", max_length=200)
    lead_department = forms.ModelChoiceField(label="牵头部门", queryset=Department.objects.all(), to_field_name="code")
    promised_limit_days = forms.IntegerField(label="承诺时限（工作日）", min_value=0)
    items = forms.CharField(
        label="包含事项",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
        help_text="每行一个事项：事项编码，或“事项编码 | 参与条件”（受限 Python 表达式，如 "
        '"餐饮" in form.get("business_scope", "")）。顺序即事项顺序。',
    )
    generate_process = forms.BooleanField(label="同时生成并部署标准流程（BPMN）", required=False)

    def clean_items(self) -> list:
        links = []
        for number, line in enumerate(self.cleaned_data["items"].splitlines(), start=1):
            if not line.strip():
                continue
            code, _, condition = line.partition("|")
            if not code.strip():
                raise forms.ValidationError(f"第 {number} 行缺少事项编码")
            links.append(services.ItemLink(code.strip(), condition.strip()))
        return links

    @classmethod
    def initial_for(cls, one_thing: OneThing) -> dict:
        links = one_thing.item_links.select_related("item").order_by("position", "id")
        return {
            "key": one_thing.key,
            "name": one_thing.name,
            "lead_department": one_thing.lead_department_id,
            "promised_limit_days": one_thing.promised_limit_days,
            "items": "\n".join(
                f"{link.item.code} | {link.condition}" if link.condition else link.item.code for link in links
            ),
        }


@admin.register(OneThing)
class OneThingAdmin(admin.ModelAdmin):
    """A one-thing changes only by composing (``compose/``): preview the impact, then publish a version."""

    list_display = [
        "key",
        "name",
        "lead_department",
        "promised_limit_days",
        "current_composition",
        "current_version",
        "is_active",
    ]
    inlines = [OneThingItemInline]
    fields = [
        "key",
        "name",
        "lead_department",
        "promised_limit_days",
        "is_active",
        "current_composition",
        "current_version",
        "compose_link",
        "change_history",
    ]
    readonly_fields = [f for f in fields if f != "is_active"]
    search_fields = ["key", "name"]
    actions = ["recompose"]
    change_list_template = "admin/workflow/onething/change_list.html"

    def has_add_permission(self, request):
        return False  # a new one-thing is composed: see the changelist's 组合新的一件事

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="组合")
    def compose_link(self, one_thing: OneThing):
        return format_html(
            '<a class="button" href="{}">重新组合（先预览影响，再发布新版本）</a>',
            reverse("admin:workflow_onething_compose", args=[one_thing.pk]),
        )

    @admin.display(description="变更记录")
    def change_history(self, one_thing: OneThing):
        return _history(CatalogueChangeKind.ONE_THING, one_thing.key)

    def save_model(self, request, obj, form, change):
        # Only 启用 is editable here: whether new cases may open. Recorded like every catalogue change.
        if "is_active" in form.changed_data:
            obj.save(update_fields=["is_active"])
            record_change(
                kind=CatalogueChangeKind.ONE_THING,
                key=obj.key,
                name=obj.name,
                action="changed",
                summary="启用" if obj.is_active else "停用（不再收新件；在办办件不受影响）",
                diff=[f"启用：{'否 → 是' if obj.is_active else '是 → 否'}"],
                source="admin",
                actor=request.user,
            )

    def get_urls(self):
        own = [
            path("compose/", self.admin_site.admin_view(self.compose_view), name="workflow_onething_compose_new"),
            path(
                "<int:object_id>/compose/",
                self.admin_site.admin_view(self.compose_view),
                name="workflow_onething_compose",
            ),
        ]
        return own + super().get_urls()

    def compose_view(self, request, object_id=None):
        """组合一件事: the form, 预览影响 (what publishing would change, how many running cases stay on their
        versions), then 发布 (a new composition version for new cases)."""
        if not self.has_change_permission(request):
            raise PermissionError
        one_thing = get_object_or_404(OneThing, pk=object_id) if object_id else None
        form = ComposeForm(request.POST or None, initial=ComposeForm.initial_for(one_thing) if one_thing else None)
        if one_thing is not None:
            form.fields["key"].disabled = True
        impact = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            arguments = {
                "key": one_thing.key if one_thing else data["key"],
                "name": data["name"],
                "lead_department": data["lead_department"].code,
                "items": data["items"],
                "promised_limit_days": data["promised_limit_days"],
            }
            try:
                if "_publish" in request.POST:
                    composed = services.one_thing_compose(
                        **arguments,
                        generate_process=data["generate_process"],
                        actor=request.user,
                        source="admin",
                        deployed_by=request.user.get_username(),
                    )
                    version = composed.current_composition
                    self.message_user(
                        request,
                        f"已发布：{composed.name}"
                        + (f" 组合第 {version.number} 版，新办件使用此版本" if version else "（尚未部署流程）"),
                        messages.SUCCESS,
                    )
                    return redirect("admin:workflow_onething_change", composed.pk)
                impact = services.one_thing_compose_preview(**arguments)
            except ValidationFailed as exc:
                for field, problems in (exc.field_errors or {}).items():
                    form.add_error(field if field in form.fields else None, problems)
                if not exc.field_errors:
                    form.add_error(None, exc.message)
            except DomainError as exc:
                form.add_error(None, exc.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"组合一件事：{one_thing.name}" if one_thing else "组合新的一件事",
            "one_thing": one_thing,
            "form": form,
            "impact": impact,
        }
        return TemplateResponse(request, "admin/workflow/onething/compose.html", context)

    @admin.action(description="重新组合并发布（采用事项目录的最新内容）")
    def recompose(self, request, queryset):
        if "_publish" in request.POST:
            for one_thing in queryset:
                composed = services.one_thing_recompose(
                    key=one_thing.key, actor=request.user, deployed_by=request.user.get_username(), source="admin"
                )
                version = composed.current_composition
                self.message_user(
                    request,
                    f"{composed.name}：新办件使用组合第 {version.number if version else '—'} 版",
                    messages.SUCCESS,
                )
            return None
        impacts = []
        for one_thing in queryset:
            try:
                impacts.append((one_thing, services.one_thing_recompose_preview(key=one_thing.key), ""))
            except DomainError as exc:
                impacts.append((one_thing, None, exc.message))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "重新组合并发布：发布前的影响",
            "impacts": impacts,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/workflow/onething/recompose_confirm.html", context)


@admin.register(CompositionVersion)
class CompositionVersionAdmin(ReadOnlyAdmin):
    """Published versions: what running cases are pinned to. Never edited (the model refuses it too)."""

    list_display = ["one_thing", "number", "name", "process_version", "promised_limit_days", "created_at", "created_by"]
    list_filter = ["one_thing"]
    fields = [
        "one_thing",
        "number",
        "name",
        "lead_department",
        "promised_limit_days",
        "process_version",
        "content_hash",
        "created_at",
        "created_by",
        "item_rows",
        "elements",
        "merged_form",
    ]
    readonly_fields = fields

    @admin.display(description="包含事项（快照）")
    def item_rows(self, version: CompositionVersion):
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} {}（{}，承诺 {} 个工作日）{}</li>",
                (
                    (
                        entry["code"],
                        entry["item"].get("name", ""),
                        entry["item"].get("department", ""),
                        entry["item"].get("promised_limit_days", ""),
                        f" · 参与条件：{entry['condition']}" if entry.get("condition") else "",
                    )
                    for entry in version.items
                ),
            ),
        )


@admin.register(CatalogueChange)
class CatalogueChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "key", "name", "action", "summary", "actor_label", "source"]
    list_filter = ["kind", "action", "source"]
    search_fields = ["key", "name", "summary"]
    fields = [
        "created_at",
        "kind",
        "key",
        "name",
        "action",
        "summary",
        "diff_lines",
        "source",
        "actor_label",
        "composition",
    ]
    readonly_fields = fields

    @admin.display(description="变更内容")
    def diff_lines(self, change: CatalogueChange):
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in change.diff)))


@admin.register(ProcessVersion)
class ProcessVersionAdmin(ReadOnlyAdmin):
    list_display = ["one_thing", "number", "process_id", "filename", "deployed_at", "deployed_by"]
    list_filter = ["one_thing"]
    exclude = ["compiled"]


class HallForm(forms.ModelForm):
    class Meta:
        model = Hall
        fields = ["code", "name", "region_code", "region_name", "is_active"]

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not HALL_CODE_RE.fullmatch(code):
            raise forms.ValidationError(HALL_CODE_MESSAGE)
        return code


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    """收受分离: the halls that accept cases and the regions that decide them (also `manage.py import_halls`)."""

    form = HallForm
    list_display = ["code", "name", "region_code", "region_name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "region_name"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "department", "hall"]
    list_filter = ["role", "department", "hall"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "case_no",
        "one_thing",
        "composition",
        "applicant_name",
        "status",
        "outcome",
        "opened_at",
        "concluded_at",
    ]
    list_filter = ["status", "one_thing", "accepting_hall", "deciding_hall"]
    search_fields = ["case_no", "applicant_name"]
    exclude = ["process_state", "query_code_hash"]


@admin.register(HumanTask)
class HumanTaskAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "name",
        "lane",
        "state",
        "decision",
        "auto_approved",
        "post_review_outcome",
        "created_at",
        "completed_at",
    ]
    list_filter = ["state", "lane"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "department", "actor_label", "created_at"]
    list_filter = ["kind"]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "complete", "source", "updated_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.complete:
            # The year is official now: its provisional due dates are counted again once this commits
            # (docs/clock.md "Provisional dates"). Idempotent, so saving again is harmless.
            from .tasks.calendar import recompute_due_dates_after_calendar_change

            reason = f"{obj.year} 年节假日安排已录入（管理后台{'：' + obj.source if obj.source else ''}）"
            transaction.on_commit(
                partial(recompute_due_dates_after_calendar_change.delay, [int(obj.year)], reason), robust=True
            )
            self.message_user(request, f"{obj.year} 年已完整录入：正在按该安排重新计算在办办件的预计期限。")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"


@admin.register(ELicence)
class ELicenceAdmin(ReadOnlyAdmin):
    list_display = ["number", "item", "holder_name", "issuer", "valid_from", "valid_to", "issued_at", "revoked_at"]
    search_fields = ["number", "holder_name", "holder_id_number"]


@admin.register(MaterialReuse)
class MaterialReuseAdmin(ReadOnlyAdmin):
    list_display = ["case", "material_name", "licence", "attached_at"]


@admin.register(MaterialPromise)
class MaterialPromiseAdmin(ReadOnlyAdmin):
    list_display = ["case", "material_name", "due_date", "fulfilled_at", "lapsed_at"]
    list_filter = ["due_date"]


@admin.register(MaterialFile)
class MaterialFileAdmin(ReadOnlyAdmin):
    # Metadata only: the bytes are served by the access-checked file views, never from the admin.
    list_display = ["case", "material_code", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["content_type"]
    search_fields = ["case__case_no", "sha256"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "key", "sha256", "size", "signed", "created_at"]
    list_filter = ["kind"]
    exclude = ["file"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["case", "level", "created_at"]
    list_filter = ["level"]


@admin.register(RectificationOrder)
class RectificationOrderAdmin(ReadOnlyAdmin):
    list_display = ["case", "department", "due_date", "state", "resolved_at"]
    list_filter = ["state", "department"]


@admin.register(ClockPause)
class ClockPauseAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "started_at", "ended_at"]
    list_filter = ["kind"]


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(ReadOnlyAdmin):
    list_display = ["case", "days", "approved_by"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["case", "days", "state", "requested_by", "decided_by"]
    list_filter = ["state"]


@admin.register(DueTimer)
class DueTimerAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "due_at", "fired_at"]
    list_filter = ["kind"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "created_at", "sent_at"]
    list_filter = ["kind"]
