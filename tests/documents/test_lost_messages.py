"""A document whose Celery message was lost is queued again by beat (issue 18): the acceptance receipt first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from tests.documents.test_issuing import accepted
from tests.workflow.helpers import decide
from workflow import notices
from workflow.models import Document
from workflow.services.documents import documents_requeue_missing

pytestmark = pytest.mark.django_db


def later(minutes: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_a_lost_receipt_is_queued_again_after_the_grace_and_only_while_missing(users, issuing):
    ref = accepted(users, issuing)
    issuing.queued.clear()  # the broker lost the message
    assert documents_requeue_missing(now=later(1)) == []  # within the grace: the worker may still be on it
    assert documents_requeue_missing(now=later(11)) == [(ref.pk, notices.RECEIPT)]
    issuing.run()  # the worker issues it this time
    assert Document.objects.filter(case_id=ref.pk, key=notices.RECEIPT).exists()
    assert documents_requeue_missing(now=later(12)) == []
    hours = settings.ONETHING_DOCUMENT_SWEEP_LOOKBACK_HOURS
    assert documents_requeue_missing(now=later(hours * 60 + 20)) == []  # past the look-back


def test_lost_conclusion_and_licences_are_queued_again(users, issuing):
    from tests.conftest import DEPARTMENTS
    from workflow.models import Case

    ref = accepted(users, issuing)
    issuing.run()
    case = Case.objects.get(pk=ref.pk)
    for department in DEPARTMENTS:
        decide(users, case, department)
    issuing.queued.clear()
    keys = [key for _, key in documents_requeue_missing(now=later(11))]
    assert notices.CONCLUSION in keys and any(key.startswith("e_licence:") for key in keys)
    assert notices.RECEIPT not in keys


def test_beat_runs_the_sweep():
    entry = settings.CELERY_BEAT_SCHEDULE["documents-missing"]
    assert entry["task"] == "workflow.tasks.documents.sweep_missing_documents"
    from workflow.tasks.documents import sweep_missing_documents

    assert sweep_missing_documents.name == entry["task"]
