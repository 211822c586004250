from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import auth, cases, catalogue, status, tasks
from .converters import CaseNumberConverter

register_converter(CaseNumberConverter, "case_no")

urlpatterns = [
    path("auth/login", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/logout", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me", auth.MeApi.as_view(), name="auth-me"),
    path("one-things", catalogue.OneThingListApi.as_view(), name="one-thing-list"),
    path("one-things/<slug:key>", catalogue.OneThingDetailApi.as_view(), name="one-thing-detail"),
    path("cases", cases.CaseOpenApi.as_view(), name="case-open"),
    path("cases/<case_no:case_no>", cases.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<case_no:case_no>/accept", cases.CaseAcceptApi.as_view(), name="case-accept"),
    path("cases/<case_no:case_no>/refuse", cases.CaseRefuseApi.as_view(), name="case-refuse"),
    path("cases/<case_no:case_no>/correction", cases.CaseCorrectionApi.as_view(), name="case-correction"),
    path("cases/<case_no:case_no>/conclude", cases.CaseConcludeApi.as_view(), name="case-conclude"),
    path("tasks", tasks.TaskListApi.as_view(), name="task-list"),
    path("tasks/<int:task_id>", tasks.TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<int:task_id>/complete", tasks.TaskCompleteApi.as_view(), name="task-complete"),
    path("tasks/<int:task_id>/claim", tasks.TaskClaimApi.as_view(), name="task-claim"),
    path("tasks/<int:task_id>/unclaim", tasks.TaskUnclaimApi.as_view(), name="task-unclaim"),
    path("tasks/<int:task_id>/reassign", tasks.TaskReassignApi.as_view(), name="task-reassign"),
    path("status", status.CaseStatusApi.as_view(), name="case-status"),
    path("status/correction", status.ApplicantCorrectionApi.as_view(), name="case-status-correction"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
