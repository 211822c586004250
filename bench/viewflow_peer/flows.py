"""The four-department flow of the bench (window acceptance, four parallel department reviews, the join) in
viewflow 2.4's own terms: a start handle run from code, view tasks assigned on creation to the department's
reviewer, a parallel split and join; the process row's JSON data holds the form and the decisions, as viewflow's
documentation shows. Locked per process with ``select_for_update`` (its recommended lock on PostgreSQL)."""

from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView

DEPARTMENTS = {
    "market_regulation": "market1",
    "public_security": "police1",
    "tax": "tax1",
    "fire_rescue": "fire1",
}
_REVIEW = UpdateProcessView.as_view(fields=[])


class FourDepartments(flow.Flow):
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.accept)
    accept = flow.View(_REVIEW).Assign(username="window1").Next(this.split)
    split = (
        flow.Split()
        .Next(this.review_market_regulation)
        .Next(this.review_public_security)
        .Next(this.review_tax)
        .Next(this.review_fire_rescue)
    )
    review_market_regulation = flow.View(_REVIEW).Assign(username="market1").Next(this.join)
    review_public_security = flow.View(_REVIEW).Assign(username="police1").Next(this.join)
    review_tax = flow.View(_REVIEW).Assign(username="tax1").Next(this.join)
    review_fire_rescue = flow.View(_REVIEW).Assign(username="fire1").Next(this.join)
    join = flow.Join().Next(this.end)
    end = flow.End()

    def start_process(self, activation, form, applicant):
        activation.process.data = {"form": form, "applicant": applicant, "reviews": {}}
        return activation.process
