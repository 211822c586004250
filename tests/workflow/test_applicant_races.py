"""Two taps at the same moment, in two transactions (committed rows, real PostgreSQL): one submission makes one case,
and two code requests for one number pass the per-minute throttle once."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tests.conftest import ENTERPRISE_FORM
from workflow.errors import DomainError
from workflow.models import ApplicantCode, ApplicantSession, Case
from workflow.services import applicant_apply as apply
from workflow.services import applicant_identity as identity

pytestmark = pytest.mark.django_db(transaction=True)
WANG = {"id_number": "110105199003070017", "phone": "13800138000"}


def race(target, n: int = 2) -> list:
    barrier, results = threading.Barrier(n), []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except DomainError as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_double_tap_in_two_transactions_makes_one_case(users):
    session = ApplicantSession.objects.create(
        token_hash="x" * 64,
        id_number=WANG["id_number"],
        phone=WANG["phone"],
        name="王䶮",
        method="sms",
        last_seen_at="2026-01-01T00:00:00Z",
        expires_at="2099-01-01T00:00:00Z",
        idle_seconds=1800,
    )
    draft = apply.draft_save(session=session, one_thing_key="enterprise_start", form=ENTERPRISE_FORM).draft
    results = race(lambda: apply.draft_submit(session=session, draft_id=draft.pk, idempotency_key="tap"))
    assert len(results) == 2 and all(isinstance(r, apply.Submitted) for r in results), results
    assert sorted(r.replayed for r in results) == [False, True]
    assert len({r.case.case_no for r in results}) == 1
    assert Case.objects.filter(applicant_id_number=WANG["id_number"]).count() == 1


def test_two_code_requests_at_once_pass_the_throttle_once(users):
    results = race(lambda: identity.identity_code_request(**WANG, address="10.1.1.1"))
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "TooManyCodes"]
    assert ApplicantCode.objects.filter(id_number=WANG["id_number"]).count() == 1
