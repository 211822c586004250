"""Demo data once per module, and the case states the API tests start from (built through the service layer)."""

import pytest
from django.db import transaction

from tests.api.helpers import CaseRef, accept, decide, open_case
from tests.conftest import DEMO_PASSWORD, DEPARTMENTS
from workflow.demo import load_demo


@pytest.fixture(scope="module")
def _demo_once(django_db_setup, django_db_blocker):
    """The setUpTestData pattern: load the demo data once per module inside a transaction that is rolled back
    when the module ends. Each test's own transaction nests inside it as a savepoint, so tests stay isolated.
    (load_demo costs ~0.2 s; paying it for each of ~250 API tests would double the run time.)
    Do not use ``transaction=True`` tests in tests/api: they would flush the data under this transaction."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        load_demo(password=DEMO_PASSWORD)
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def demo(_demo_once, db):
    """Overrides tests/conftest.py's ``demo`` for the API tests: the data is already loaded."""


@pytest.fixture
def received_case(users) -> CaseRef:
    """Opened at the window, waiting for 受理: no department has a task yet."""
    return open_case(users)


@pytest.fixture
def accepted_case(users) -> CaseRef:
    """Accepted: the three departments each have an open review task."""
    return accept(users, open_case(users))


@pytest.fixture
def correction_case(users) -> CaseRef:
    """Market regulation and tax approved, public security asked for a correction: waiting for the applicant."""
    ref = accept(users, open_case(users))
    decide(users, ref, "market_regulation", "approve")
    decide(users, ref, "public_security", "need_correction")
    decide(users, ref, "tax", "approve")
    assert ref.status == "correction_required"
    return ref


@pytest.fixture
def approved_case(users) -> CaseRef:
    """Every department approved: the unified result is 准予, waiting for 办结."""
    ref = accept(users, open_case(users))
    for department in DEPARTMENTS:
        decide(users, ref, department, "approve")
    assert ref.status == "approved"
    return ref
