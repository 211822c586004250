import pytest
from rest_framework.test import APIClient

from workflow.demo import load_demo
from workflow.models import StaffRole

DEMO_PASSWORD = "demo-password"

ENTERPRISE_FORM = {
    "enterprise_name": "示范区星火科技有限公司",
    "enterprise_type": "有限责任公司",
    "registered_capital": 100,
    "business_scope": "软件开发；信息技术咨询服务",
    "address": "示范区创新大道 88 号 3 层",
    "legal_representative": "王䶮",
    "legal_representative_id": "110105199003070017",
    "contact_phone": "13800138000",
    "seal_count": 2,
    "invoice_needed": True,
}
APPLICANT = {"name": "王䶮", "id_number": "110105199003070017", "phone": "13800138000"}
DEPARTMENTS = ("market_regulation", "public_security", "tax")
REVIEWER_OF = {"market_regulation": "market1", "public_security": "police1", "tax": "tax1"}


@pytest.fixture
def demo(db):
    load_demo(password=DEMO_PASSWORD)


@pytest.fixture
def users(demo, django_user_model):
    return {u.username: u for u in django_user_model.objects.filter(staff__isnull=False)}


@pytest.fixture
def client_for(users):
    """client_for("window1") → an APIClient logged in as that demo user; client_for(None) is anonymous."""

    def make(username):
        client = APIClient()
        if username is not None:
            client.force_authenticate(users[username])
        return client

    return make


@pytest.fixture
def window_user(users):
    assert users["window1"].staff.role == StaffRole.WINDOW
    return users["window1"]


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the shared cache (Redis in tests); every test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
