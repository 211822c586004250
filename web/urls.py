"""The hall's screens, mounted at "/" (config/urls.py)."""

from django.urls import path, register_converter

from workflow.labels import CASE_NO_PATTERN

from .views import (
    apply,
    auth,
    cases,
    clock,
    dashboard,
    delivery,
    files,
    reassign,
    sms,
    status,
    tasks,
    window,
    window_tools,
)


class CaseNumberConverter:
    regex = CASE_NO_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseNumberConverter, "web_case_no")

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("no-role/", auth.no_role, name="no-role"),
    # 综合窗口
    path("window/", window.window_home, name="window-home"),
    path("window/new/<slug:key>/", window.case_new, name="case-new"),
    # 办件
    path("cases/", cases.case_find, name="case-find"),
    path("cases/search/", cases.case_search, name="case-search"),
    path("cases/<web_case_no:case_no>/", cases.case_detail, name="case"),
    path("cases/<web_case_no:case_no>/diagram.json", cases.case_diagram, name="case-diagram"),
    path("cases/<web_case_no:case_no>/receipt/", window.receipt, name="receipt"),
    path("cases/<web_case_no:case_no>/accept/", window.case_accept, name="case-accept"),
    path("cases/<web_case_no:case_no>/refuse/", window.case_refuse, name="case-refuse"),
    path("cases/<web_case_no:case_no>/conclude/", window.case_conclude, name="case-conclude"),
    path("cases/<web_case_no:case_no>/delivery/", delivery.delivery_change, name="case-delivery"),
    path("cases/<web_case_no:case_no>/handover/", delivery.handover, name="case-handover"),
    path("cases/<web_case_no:case_no>/mail/", delivery.mail, name="case-mail"),
    path("cases/<web_case_no:case_no>/correction/", window.case_correction, name="case-correction"),
    path("cases/<web_case_no:case_no>/promises/<slug:code>/fulfil/", window.promise_fulfil, name="promise-fulfil"),
    path("cases/<web_case_no:case_no>/documents/<int:document_id>/", cases.case_document, name="case-document"),
    # 申请材料文件: upload and remove at the window, preview / download for whoever sees the case
    path("cases/<web_case_no:case_no>/files/", files.file_upload, name="file-upload"),
    path("cases/<web_case_no:case_no>/files/<uuid:public_id>/remove/", files.file_remove, name="file-remove"),
    path("files/<uuid:public_id>/", files.file_view, name="file"),
    path("cases/<web_case_no:case_no>/withdraw/", window_tools.case_withdraw, name="case-withdraw"),
    path("cases/<web_case_no:case_no>/query-code/", window_tools.query_code_reissue, name="query-code"),
    path("cases/<web_case_no:case_no>/query-code/issued/", window_tools.query_code_issued, name="query-code-issued"),
    path("cases/<web_case_no:case_no>/procedures/start/", clock.procedure_start, name="procedure-start"),
    path("cases/<web_case_no:case_no>/procedures/<int:pause_id>/end/", clock.procedure_end, name="procedure-end"),
    path("cases/<web_case_no:case_no>/extensions/request/", clock.extension_request, name="extension-request"),
    # 部门
    path("tasks/", tasks.inbox, name="inbox"),
    path("tasks/<int:task_id>/", tasks.task_detail, name="task"),
    path("tasks/<int:task_id>/claim/", tasks.task_claim, name="task-claim"),
    path("tasks/<int:task_id>/unclaim/", tasks.task_unclaim, name="task-unclaim"),
    path("tasks/<int:task_id>/post-review/", tasks.task_post_review, name="task-post-review"),
    path("tasks/<int:task_id>/reassign/", reassign.task_reassign, name="task-reassign"),
    # 效能监督
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/cases.csv", dashboard.dashboard_export, name="dashboard-export"),
    path("extensions/", clock.extension_list, name="extensions"),
    path("extensions/<int:request_id>/decide/", clock.extension_decide, name="extension-decide"),
    path("sms/", sms.sms_outbox, name="sms"),
    path("sms/<int:message_id>/resend/", sms.sms_resend, name="sms-resend"),
    # 申请人自己办：网上 / 自助终端（docs/ui.md "Apply online"）
    path("apply/", apply.apply_home, name="apply"),
    path("apply/home/", apply.apply_home, name="apply-home"),
    path("apply/kiosk/", apply.apply_kiosk, name="apply-kiosk"),
    path("apply/code/", apply.apply_code, name="apply-code"),
    path("apply/verify/", apply.apply_verify, name="apply-verify"),
    path("apply/card/", apply.apply_card, name="apply-card"),
    path("apply/sign-out/", apply.apply_sign_out, name="apply-sign-out"),
    path("apply/start/<slug:key>/", apply.apply_start, name="apply-start"),
    path("apply/resume/", apply.apply_resume, name="apply-resume"),
    path("apply/drafts/<int:draft_id>/", apply.apply_draft, name="apply-draft"),
    path("apply/drafts/<int:draft_id>/files/", apply.apply_upload, name="apply-upload"),
    path("apply/done/<web_case_no:case_no>/", apply.apply_done, name="apply-done"),
    path("apply/cases/", apply.apply_cases, name="apply-cases"),
    # 申请人（无需登录）
    path("status/", status.status, name="status"),
    path("licences/", status.licence_check, name="licence-check"),
    path("status/correction/", status.status_correction, name="status-correction"),
    path("status/rating/", status.status_rating, name="status-rating"),
    path("status/documents/<int:document_id>/", status.status_document, name="status-document"),
    path("status/withdraw/", status.status_withdraw, name="status-withdraw"),
]
