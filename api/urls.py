from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import (
    auth,
    cases,
    catalogue,
    clock,
    delivery,
    documents,
    files,
    halls,
    query_codes,
    ratings,
    statistics,
    status,
    tasks,
)
from .converters import CaseNumberConverter

register_converter(CaseNumberConverter, "case_no")

urlpatterns = [
    path("auth/login", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/logout", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me", auth.MeApi.as_view(), name="auth-me"),
    path("one-things", catalogue.OneThingListApi.as_view(), name="one-thing-list"),
    path("one-things/<slug:key>", catalogue.OneThingDetailApi.as_view(), name="one-thing-detail"),
    path("halls", halls.HallListApi.as_view(), name="hall-list"),
    path("cases", cases.CaseOpenApi.as_view(), name="case-open"),
    path("cases/<case_no:case_no>", cases.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<case_no:case_no>/accept", cases.CaseAcceptApi.as_view(), name="case-accept"),
    path("cases/<case_no:case_no>/refuse", cases.CaseRefuseApi.as_view(), name="case-refuse"),
    path("cases/<case_no:case_no>/correction", cases.CaseCorrectionApi.as_view(), name="case-correction"),
    path("cases/<case_no:case_no>/conclude", cases.CaseConcludeApi.as_view(), name="case-conclude"),
    path("cases/<case_no:case_no>/withdraw", cases.CaseWithdrawApi.as_view(), name="case-withdraw"),
    # 结果送达 (docs/api.md "Delivery")
    path("cases/<case_no:case_no>/delivery", delivery.CaseDeliveryApi.as_view(), name="case-delivery"),
    path("cases/<case_no:case_no>/handover", delivery.CaseHandoverApi.as_view(), name="case-handover"),
    path("cases/<case_no:case_no>/mail", delivery.CaseMailApi.as_view(), name="case-mail"),
    path("delivery/webhook", delivery.DeliveryWebhookApi.as_view(), name="delivery-webhook"),
    path(
        "cases/<case_no:case_no>/promises/<slug:material>/fulfil",
        cases.CasePromiseFulfilApi.as_view(),
        name="case-promise-fulfil",
    ),
    path("tasks", tasks.TaskListApi.as_view(), name="task-list"),
    path("tasks/<int:task_id>", tasks.TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<int:task_id>/complete", tasks.TaskCompleteApi.as_view(), name="task-complete"),
    path("tasks/<int:task_id>/claim", tasks.TaskClaimApi.as_view(), name="task-claim"),
    path("tasks/<int:task_id>/unclaim", tasks.TaskUnclaimApi.as_view(), name="task-unclaim"),
    path("tasks/<int:task_id>/reassign", tasks.TaskReassignApi.as_view(), name="task-reassign"),
    path("tasks/<int:task_id>/post-review", tasks.TaskPostReviewApi.as_view(), name="task-post-review"),
    path("status", status.CaseStatusApi.as_view(), name="case-status"),
    path("status/correction", status.ApplicantCorrectionApi.as_view(), name="case-status-correction"),
    path("status/withdraw", status.ApplicantWithdrawApi.as_view(), name="case-status-withdraw"),
    # documents (docs/documents.md), query-code re-issue, 好差评
    path("cases/<case_no:case_no>/documents", documents.CaseDocumentListApi.as_view(), name="case-documents"),
    path(
        "cases/<case_no:case_no>/documents/<int:document_id>/download",
        documents.CaseDocumentDownloadApi.as_view(),
        name="case-document-download",
    ),
    # material files (申请材料文件): upload, list, preview/download, remove
    path("cases/<case_no:case_no>/files", files.CaseFileListApi.as_view(), name="case-files"),
    path("files/<uuid:public_id>", files.FileDetailApi.as_view(), name="file-detail"),
    path("cases/<case_no:case_no>/query-code", query_codes.QueryCodeReissueApi.as_view(), name="case-query-code"),
    path("status/documents", documents.ApplicantDocumentListApi.as_view(), name="case-status-documents"),
    path(
        "status/documents/<int:document_id>/download",
        documents.ApplicantDocumentDownloadApi.as_view(),
        name="case-status-document-download",
    ),
    path("status/rating", ratings.ApplicantRatingApi.as_view(), name="case-status-rating"),
    path("documents/verify", documents.DocumentVerifyApi.as_view(), name="document-verify"),
    path("rectifications", ratings.RectificationListApi.as_view(), name="rectification-list"),
    path(
        "rectifications/<int:order_id>/resolve",
        ratings.RectificationResolveApi.as_view(),
        name="rectification-resolve",
    ),
    # 效能监督 statistics (docs/statistics.md)
    path("statistics", statistics.StatisticsApi.as_view(), name="statistics"),
    path("statistics/one-things", statistics.OneThingStatisticsApi.as_view(), name="statistics-one-things"),
    path("statistics/departments", statistics.DepartmentStatisticsApi.as_view(), name="statistics-departments"),
    path("statistics/ratings", statistics.RatingStatisticsApi.as_view(), name="rating-statistics"),
    # the legal clock (docs/clock.md): special procedures, extensions, supervision notifications
    path("cases/<case_no:case_no>/procedures", clock.ProcedureStartApi.as_view(), name="case-procedure-start"),
    path(
        "cases/<case_no:case_no>/procedures/<int:pause_id>/end",
        clock.ProcedureEndApi.as_view(),
        name="case-procedure-end",
    ),
    path("cases/<case_no:case_no>/extensions", clock.DeadlineExtendApi.as_view(), name="case-deadline-extend"),
    path(
        "cases/<case_no:case_no>/extension-requests",
        clock.ExtensionRequestCreateApi.as_view(),
        name="case-extension-request",
    ),
    path("extension-requests", clock.ExtensionRequestListApi.as_view(), name="extension-request-list"),
    path(
        "extension-requests/<int:request_id>/decision",
        clock.ExtensionRequestDecideApi.as_view(),
        name="extension-request-decide",
    ),
    path("notifications", clock.NotificationListApi.as_view(), name="notification-list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
