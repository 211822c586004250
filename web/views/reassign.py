"""转办: a department task handed to a colleague of the same department, with a reason."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from workflow import selectors, services
from workflow.labels import StaffRole

from ..access import SUPERVISORS, staff_view
from .tools import form_page, submit, text_field

# As human_task_reassign: a reviewer (their own or an unclaimed task), a supervisor or an administrator.
MAY_REASSIGN = (StaffRole.REVIEWER, *SUPERVISORS)


class ReassignForm(forms.Form):
    to = forms.ChoiceField(
        label="转办给",
        error_messages={"required": "请选择转办对象", "invalid_choice": "只能转办给本部门的审查人员"},
    )
    reason = text_field("转办理由", required_message="转办须说明理由")

    def __init__(self, *args, candidates: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [("", "— 本部门审查人员 —"), *candidates]


@require_http_methods(["GET", "POST"])
@staff_view(*MAY_REASSIGN)
def task_reassign(request, task_id: int):
    task = selectors.task_row_get(user=request.user, task_id=task_id)  # another department's task: 404
    if task.department is None:
        raise Http404("未找到该任务")
    # The service decides who may take it (and refuses a colleague's claimed task).
    candidates = selectors.reassign_candidates(user=request.user, task_id=task.id)
    form = ReassignForm(request.POST if request.method == "POST" else None, candidates=candidates)
    done = submit(
        request,
        form,
        lambda data: services.human_task_reassign(
            user=request.user, task_id=task.id, to_username=data["to"], reason=data["reason"]
        ),
        success=lambda moved: f"已转办给 {moved.assignee.get_full_name() or moved.assignee.get_username()}",
        done=reverse("web:task", args=[task.id]),
    )
    if done:
        return done
    return form_page(
        request,
        form=form,
        title=f"转办：{task.name}",
        action=reverse("web:task-reassign", args=[task.id]),
        submit="转办",
        back=reverse("web:task", args=[task.id]),
        about=[f"办件 {task.case_no} · {task.one_thing_name}", "转办给本部门的其他审查人员，须说明理由。"],
    )
