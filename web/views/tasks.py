"""Departments: the inbox (due first, coloured by urgency) and the task page with the decision form."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from workflow import selectors, services
from workflow.errors import Conflict, ValidationFailed
from workflow.labels import Decision, StaffRole

from .. import schema_form
from ..access import staff_view
from .clock import PROCEDURE_CHOICES

REVIEWERS = (StaffRole.REVIEWER,)

DECISIONS = [
    (Decision.APPROVE, "准予", "材料齐全、符合法定形式，同意办理"),
    (Decision.NEED_CORRECTION, "需补正", "列出每一项需要补正的内容，由窗口一次性告知申请人"),
    (Decision.REJECT, "不予许可", "须写明理由和依据；任一部门不予许可即为统一结果"),
]
INBOX_PAGE = 20  # as the API's page (api/pagination.py): one page, the same rows
CORRECTION_ROWS = 3  # blank rows shown; the page's script adds more
OTHER_ITEM = "其他"


@staff_view()
def inbox(request):
    # 待复核 (?post_review=pending): the department's 秒批 tasks that no one has post-reviewed yet.
    post_review = request.GET.get("post_review") == "pending"
    filters = {"state": None, "post_review": "pending"} if post_review else {}
    is_reviewer = request.staff.role == StaffRole.REVIEWER
    # A page of the inbox at a time (the open tasks are counted: work in progress, a few thousand at most).
    page = Paginator(selectors.inbox(user=request.user, **filters), INBOX_PAGE).get_page(request.GET.get("page"))
    rows = page.object_list
    return render(
        request,
        "web/inbox.html",
        {
            "rows": rows,
            "page": page,
            "page_query": "post_review=pending&" if post_review else "",
            # 预计 dates are explained once below the table (docs/clock.md "Provisional dates").
            "provisional_due": any(row.due_date_provisional for row in rows),
            "done": [] if post_review else selectors.recent_completed_tasks(user=request.user),
            "post_review": post_review,
            "post_review_pending": selectors.post_review_pending_count(user=request.user) if is_reviewer else 0,
        },
    )


@staff_view()
def task_detail(request, task_id: int):
    task = selectors.task_row_get(user=request.user, task_id=task_id)
    if task.department is None:  # the window's and the applicant's steps live on the case page
        return redirect("web:case", case_no=task.case_no)
    posted: dict = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if "complete" not in task.allowed_actions:
            messages.error(request, "该任务已办理或您无权办理")
            return redirect("web:task", task_id=task.id)
        posted, corrections, errors = _decision_from_post(request.POST)
        if not errors:
            try:
                services.human_task_complete(
                    user=request.user,
                    task_id=task.id,
                    decision=posted["decision"],
                    opinion=posted["opinion"],
                    corrections=corrections,
                    legal_basis=posted["legal_basis"] if posted["decision"] == Decision.REJECT else "",
                )
            except ValidationFailed as exc:
                errors = {key.split(".")[0]: value for key, value in exc.field_errors.items()}
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect("web:task", task_id=task.id)
            else:
                messages.success(request, f"已提交：{Decision(posted['decision']).label}（{task.case_no}）")
                return redirect("web:inbox")
    case = selectors.case_get(user=request.user, case_no=task.case_no)
    names = selectors.department_names()
    page = selectors.task_page(user=request.user, task_id=task_id, task=task, case=case, names=names)
    merged = selectors.case_merged_form(case)
    schema = merged.get("schema") or {}
    field_departments = (merged.get("ui_hints") or {}).get("field_departments") or {}
    raw = schema_form.raw_from_data(schema, case.form_data)
    highlight = dict.fromkeys(page.corrected_fields, "申请人已补正")

    def fields(order):
        return [
            schema_form.field_view(
                schema,
                name,
                raw=raw,
                departments=[names.get(c, c) for c in field_departments.get(name, [])],
                highlight=highlight.get(name, ""),
            )
            for name in order
        ]

    own = [f.name for f in page.fields if f.needed_by_me]
    rest = [f.name for f in page.fields if not f.needed_by_me]
    title = {f.name: f.title for f in page.fields}
    return render(
        request,
        "web/task_detail.html",
        {
            "page": page,
            "task": page.task,
            "case": page.case,
            "own_fields": fields(own),
            "other_fields": fields(rest),
            "decisions": DECISIONS,
            "posted": posted,
            "errors": errors,
            "rows": posted.get("rows") or [{"item": "", "reason": ""} for _ in range(CORRECTION_ROWS)],
            "item_choices": {
                "groups": [
                    ("本部门字段", [(name, title[name]) for name in own]),
                    ("其他字段", [(name, title[name]) for name in rest]),
                    ("材料", [(m.code, m.name) for m in selectors.checklist(selectors.case_checklist(case), names)]),
                ],
                "other": OTHER_ITEM,
            },
            "reassign_candidates": (
                selectors.reassign_candidates(user=request.user, task_id=task.id, task=task, case=case)
                if page.may("reassign")
                else []
            ),
            "procedure_choices": PROCEDURE_CHOICES,
        },
        status=400 if errors else 200,
    )


def _decision_from_post(post) -> tuple[dict, list[dict], dict[str, list[str]]]:
    decision = post.get("decision", "")
    opinion = post.get("opinion", "").strip()
    rows = [
        {"item": item.strip(), "reason": reason.strip()}
        for item, reason in zip(post.getlist("correction_item"), post.getlist("correction_reason"), strict=False)
    ]
    errors: dict[str, list[str]] = {}
    if decision not in Decision.values:
        errors["decision"] = ["请选择审查决定"]
    corrections = []
    if decision == Decision.NEED_CORRECTION:
        for row in rows:
            if row["item"] and not row["reason"]:
                errors.setdefault("corrections", []).append("每一项补正都要写明理由")
            elif row["reason"] and not row["item"]:
                errors.setdefault("corrections", []).append("请为每条理由选择需补正的字段或材料")
            elif row["item"]:
                corrections.append(row)
    if "corrections" in errors:
        errors["corrections"] = list(dict.fromkeys(errors["corrections"]))
    filled = [row for row in rows if row["item"] or row["reason"]]
    posted = {
        "decision": decision,
        "opinion": opinion,
        "rows": filled,
        "legal_basis": post.get("legal_basis", "").strip(),
    }
    return posted, corrections, errors


@require_POST
@staff_view(*REVIEWERS)
def task_post_review(request, task_id: int):
    """秒批事后复核: confirm the automatic approval, or revoke the licence it produced (with a reason)."""
    try:
        services.auto_approval_review(
            user=request.user,
            task_id=task_id,
            outcome=request.POST.get("outcome", ""),
            opinion=request.POST.get("opinion", ""),
        )
    except ValidationFailed as exc:
        for messages_of_field in exc.field_errors.values():
            for message in messages_of_field:
                messages.error(request, message)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已提交复核结论")
        return redirect(reverse("web:inbox") + "?post_review=pending")
    return redirect("web:task", task_id=task_id)


@require_POST
@staff_view(*REVIEWERS)
def task_claim(request, task_id: int):
    """认领: others in the department see who is working on the task."""
    try:
        services.human_task_claim(user=request.user, task_id=task_id)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已认领")
    return redirect("web:task", task_id=task_id)


@require_POST
@staff_view(*REVIEWERS)
def task_unclaim(request, task_id: int):
    try:
        services.human_task_unclaim(user=request.user, task_id=task_id)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已退回部门待办")
    return redirect("web:task", task_id=task_id)
