"""Django admin for the hall's administrators: catalogue and calendar are edited here; cases are read-only."""

from django.contrib import admin

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
    HumanTask,
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


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department", "statutory_limit_days", "promised_limit_days"]
    list_filter = ["department"]
    search_fields = ["code", "name"]


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


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "department"]
    list_filter = ["role", "department"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["case_no", "one_thing", "applicant_name", "status", "outcome", "opened_at", "concluded_at"]
    list_filter = ["status", "one_thing"]
    search_fields = ["case_no", "applicant_name"]
    exclude = ["process_state", "query_code_hash"]


@admin.register(HumanTask)
class HumanTaskAdmin(ReadOnlyAdmin):
    list_display = ["case", "name", "lane", "state", "decision", "created_at", "completed_at"]
    list_filter = ["state", "lane"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "department", "actor_label", "created_at"]
    list_filter = ["kind"]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "complete", "source", "updated_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"


@admin.register(ELicence)
class ELicenceAdmin(ReadOnlyAdmin):
    list_display = ["number", "item", "holder_name", "issuer", "valid_from", "valid_to", "issued_at"]
    search_fields = ["number", "holder_name", "holder_id_number"]


@admin.register(MaterialReuse)
class MaterialReuseAdmin(ReadOnlyAdmin):
    list_display = ["case", "material_name", "licence", "attached_at"]


@admin.register(MaterialPromise)
class MaterialPromiseAdmin(ReadOnlyAdmin):
    list_display = ["case", "material_name", "due_date", "fulfilled_at", "lapsed_at"]
    list_filter = ["due_date"]


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


@admin.register(DueTimer)
class DueTimerAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "due_at", "fired_at"]
    list_filter = ["kind"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "created_at", "sent_at"]
    list_filter = ["kind"]
