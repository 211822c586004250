import pytest
from django.core.management import call_command
from django.test import Client

from tests.conftest import APPLICANT, DEMO_PASSWORD, ENTERPRISE_FORM, handed_in
from workflow import services
from workflow.demo import load_demo


@pytest.fixture(scope="module")
def _demo_once(django_db_setup, django_db_blocker):
    """The demo catalogue and users, committed once per module instead of once per test (it takes about a
    second); each test still rolls back its own changes. Flushed afterwards: other tests expect an empty
    database."""
    with django_db_blocker.unblock():
        load_demo(password=DEMO_PASSWORD)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo(_demo_once, db):
    """Overrides tests/conftest.py's per-test load (see ``_demo_once``)."""


@pytest.fixture(autouse=True)
def _no_documents(settings):
    """The screens' tests do not issue PDFs (that has its own tests): no WeasyPrint in the request path."""
    settings.ONETHING_ISSUE_DOCUMENTS = False


@pytest.fixture
def web_client(users):
    """web_client("window1") → a django.test.Client with that demo user's session; None is anonymous."""

    def make(username):
        client = Client()
        if username is not None:
            client.force_login(users[username])
        return client

    return make


@pytest.fixture
def opened(users):
    """A received 企业开办 case and its query code."""
    return services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=dict(ENTERPRISE_FORM),
        materials=handed_in(),
    )


@pytest.fixture
def accepted(opened, users):
    services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    return opened
