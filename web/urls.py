"""The hall's screens, mounted at "/" (config/urls.py)."""

from django.urls import path, register_converter

from .views import auth, cases, dashboard, status, tasks, window


class CaseNumberConverter:
    regex = "[0-9]{20}"

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
    path("cases/<web_case_no:case_no>/", cases.case_detail, name="case"),
    path("cases/<web_case_no:case_no>/diagram.json", cases.case_diagram, name="case-diagram"),
    path("cases/<web_case_no:case_no>/receipt/", window.receipt, name="receipt"),
    path("cases/<web_case_no:case_no>/accept/", window.case_accept, name="case-accept"),
    path("cases/<web_case_no:case_no>/refuse/", window.case_refuse, name="case-refuse"),
    path("cases/<web_case_no:case_no>/conclude/", window.case_conclude, name="case-conclude"),
    path("cases/<web_case_no:case_no>/correction/", window.case_correction, name="case-correction"),
    path("cases/<web_case_no:case_no>/promises/<slug:code>/fulfil/", window.promise_fulfil, name="promise-fulfil"),
    path("cases/<web_case_no:case_no>/documents/<int:document_id>/", cases.case_document, name="case-document"),
    # 部门
    path("tasks/", tasks.inbox, name="inbox"),
    path("tasks/<int:task_id>/", tasks.task_detail, name="task"),
    path("tasks/<int:task_id>/claim/", tasks.task_claim, name="task-claim"),
    path("tasks/<int:task_id>/unclaim/", tasks.task_unclaim, name="task-unclaim"),
    # 效能监督
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/cases.csv", dashboard.dashboard_export, name="dashboard-export"),
    # 申请人（无需登录）
    path("status/", status.status, name="status"),
    path("status/correction/", status.status_correction, name="status-correction"),
    path("status/rating/", status.status_rating, name="status-rating"),
    path("status/documents/<int:document_id>/", status.status_document, name="status-document"),
]
