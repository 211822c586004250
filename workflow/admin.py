"""Django admin for the hall's administrators: catalogue and calendar are edited here; cases are read-only."""

from functools import partial

from django import forms
from django.contrib import admin
from django.db import transaction

from .halls import HALL_CODE_MESSAGE, HALL_CODE_RE
from .models import (
    CalendarDay,
    CalendarYear,
    Case,
    CaseEvent,
    ClockPause,
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


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ServiceItemForm
    list_display = ["code", "name", "department", "statutory_limit_days", "promised_limit_days", "has_auto_approval"]
    list_filter = ["department"]
    search_fields = ["code", "name"]

    @admin.display(boolean=True, description="秒批")
    def has_auto_approval(self, item: ServiceItem) -> bool:
        return bool(item.auto_approval_dmn.strip())


class OneThingItemInline(admin.TabularInline):
    model = OneThingItem
    extra = 0
    autocomplete_fields = ["item"]


@admin.register(OneThing)
class OneThingAdmin(admin.ModelAdmin):
    """Compose with `manage.py import_catalogue`: the merged form is computed there, not edited here."""

    list_display = ["key", "name", "lead_department", "promised_limit_days", "current_version", "is_active"]
    inlines = [OneThingItemInline]
    readonly_fields = ["merged_form", "current_version"]
    search_fields = ["key", "name"]


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
    list_display = ["case_no", "one_thing", "applicant_name", "status", "outcome", "opened_at", "concluded_at"]
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
