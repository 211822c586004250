"""Domain errors. Each carries a stable code and a Chinese message; api/exception_handler.py maps them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    message = "操作失败"
    http_status = 400

    def __init__(self, message: str | None = None, *, field_errors: dict[str, list[str]] | None = None, **extra):
        self.message = message or self.message
        self.field_errors = field_errors or {}
        self.extra = extra
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "invalid"
    message = "提交的数据有误"
    http_status = 400


class NotFound(DomainError):
    code = "not_found"
    message = "未找到"
    http_status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    message = "无权执行此操作"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    message = "当前状态下不能执行此操作"
    http_status = 409


class TaskAlreadyCompleted(Conflict):
    code = "task_already_completed"
    message = "该任务已办理或已取消"


class TaskClaimedByOther(Conflict):
    code = "task_claimed"
    message = "该任务已由他人认领"


class CaseSuspended(Conflict):
    code = "case_suspended"
    message = "办件因容缺承诺逾期已中止，补交材料后方可继续审查"


class PromiseOutstanding(Conflict):
    """容缺 at the end: an approved case with a promised material still outstanding neither concludes nor issues
    the licences of the items needing that material; ``field_errors`` names each (``materials.<code>``)."""

    code = "promise_outstanding"
    message = "容缺承诺的材料尚未补交，不能办结"


class NoTaskToComplete(Conflict):
    code = "no_ready_task"
    message = "当前没有可办理的任务"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = "办件当前状态不允许此操作"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"
    message = "办件已被他人同时修改，请刷新后重试"


class ProcessFailed(Conflict):
    code = "process_error"
    message = "流程无法继续执行"


class DeploymentRefused(DomainError):
    code = "deployment_refused"
    message = "流程模型未通过校验，未部署"


class AlreadyRated(Conflict):
    code = "already_rated"
    message = "该办件已评价；差评整改完成后可再评价一次"


class RectificationClosed(Conflict):
    code = "rectification_closed"
    message = "该整改工单已完成"


class NotIssuable(Conflict):
    code = "not_issuable"
    message = "该办件不需要出具此文书"


class DocumentDamaged(DomainError):
    code = "document_damaged"
    message = "文书文件已损坏或被改动，请联系政务服务大厅"
    http_status = 500


class FileTypeNotAllowed(ValidationFailed):
    code = "file_type_not_allowed"
    message = "文件类型不允许：只能上传 PDF、JPG/JPEG、PNG 或 OFD 文件"


class FileTooLarge(DomainError):
    code = "file_too_large"
    message = "文件过大"
    http_status = 413


class CaseFilesLimit(Conflict):
    code = "case_files_limit"
    message = "本办件的材料文件已达上限，请删除不需要的文件后再上传"


class FileDamaged(DomainError):
    code = "file_damaged"
    message = "材料文件已损坏或被改动，请联系政务服务大厅"
    # The stored bytes no longer match their digest: the file is gone as far as anyone may rely on it.
    http_status = 410


class NotAutoApproved(Conflict):
    code = "not_auto_approved"
    message = "该任务不是秒批任务，无需事后复核"


class AlreadyPostReviewed(Conflict):
    code = "already_post_reviewed"
    message = "该秒批任务已复核，不能重复复核"


class PostReviewTooEarly(Conflict):
    code = "post_review_too_early"
    message = "办件尚未形成统一办理结果，暂不能撤销；可先复核确认，或待统一反馈后再撤销"


class DeliveryNotProven(Conflict):
    code = "delivery_not_proven"
    message = "办理结果尚未证明送达（窗口签收、邮件妥投或申请人下载），不能办结"


class DocumentTooComplex(DomainError):
    code = "document_too_complex"
    message = "文件过于复杂，超出核验的资源限制；本系统出具的文书不会如此"
    http_status = 413


class Busy(DomainError):
    """A bounded resource is in use by others; the client may retry after ``retry_after`` seconds."""

    code = "busy"
    message = "系统繁忙，请稍后重试"
    http_status = 503


class LookupThrottled(DomainError):
    code = "throttled"
    message = "查询过于频繁，请稍后再试"
    http_status = 429
