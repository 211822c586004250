"""Every state change, one typed function each, one transaction each."""

from . import applicant_apply, applicant_identity  # noqa: F401 - services.applicant_apply.…
from .calendar import Recomputed, due_dates_recompute
from .case_migration import CaseMigration, case_migrate, migration_candidates
from .cases import (
    CORRECTION_MAX_FILES,
    OpenedCase,
    case_accept,
    case_conclude,
    case_correction_submit,
    case_open,
    case_refuse,
    case_withdraw,
)
from .catalogue import (
    CatalogueImportPreview,
    CompositionImpact,
    ItemLink,
    catalogue_export,
    catalogue_import,
    catalogue_import_preview,
    one_thing_compose,
    one_thing_compose_preview,
    one_thing_recompose,
    one_thing_recompose_preview,
    one_things_with_item,
    process_xml,
    service_item_save,
)
from .claims import human_task_claim, human_task_reassign, human_task_unclaim
from .clock import (
    case_deadline_extend,
    case_procedure_end,
    case_procedure_start,
    case_timers_fire,
    deemed_acceptance_sweep,
    due_timer_fire,
    due_timers_claim,
    notification_deliver,
    supervision_sweep,
)
from .commitments import commitment_check_decide
from .delivery import (
    DeliveryUpdateResult,
    Signature,
    applicant_delivery_change,
    case_delivery_change,
    case_handover,
    case_mail,
    delivery_status_update,
    result_download_record,
)
from .deployment import Deployed, process_versions_deploy
from .documents import document_issue
from .extensions import case_extension_request, extension_request_decide
from .halls import halls_import
from .lookups import applicant_lookup, licence_lookup
from .post_review import auto_approval_review
from .promises import case_promise_fulfil, promises_lapse
from .query_codes import case_query_code_reissue
from .ratings import case_rate, rectification_resolve
from .sms import sms_deliver, sms_resend, sms_sweep
from .tasks import human_task_complete
from .uploads import material_file_remove, material_file_upload

__all__ = [
    "CORRECTION_MAX_FILES",
    "CaseMigration",
    "CatalogueImportPreview",
    "CompositionImpact",
    "DeliveryUpdateResult",
    "Deployed",
    "ItemLink",
    "OpenedCase",
    "Recomputed",
    "Signature",
    "applicant_delivery_change",
    "applicant_lookup",
    "auto_approval_review",
    "case_accept",
    "case_conclude",
    "case_correction_submit",
    "case_deadline_extend",
    "case_delivery_change",
    "case_extension_request",
    "case_handover",
    "case_mail",
    "case_migrate",
    "case_open",
    "case_procedure_end",
    "case_procedure_start",
    "case_promise_fulfil",
    "case_query_code_reissue",
    "case_rate",
    "case_refuse",
    "case_timers_fire",
    "case_withdraw",
    "catalogue_export",
    "catalogue_import",
    "catalogue_import_preview",
    "commitment_check_decide",
    "deemed_acceptance_sweep",
    "delivery_status_update",
    "document_issue",
    "due_dates_recompute",
    "due_timer_fire",
    "due_timers_claim",
    "extension_request_decide",
    "halls_import",
    "human_task_claim",
    "human_task_complete",
    "human_task_reassign",
    "human_task_unclaim",
    "licence_lookup",
    "material_file_remove",
    "material_file_upload",
    "migration_candidates",
    "notification_deliver",
    "one_thing_compose",
    "one_thing_compose_preview",
    "one_thing_recompose",
    "one_thing_recompose_preview",
    "one_things_with_item",
    "process_versions_deploy",
    "process_xml",
    "promises_lapse",
    "rectification_resolve",
    "result_download_record",
    "service_item_save",
    "sms_deliver",
    "sms_resend",
    "sms_sweep",
    "supervision_sweep",
]
