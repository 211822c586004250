import json
from pathlib import Path

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
_CHECKLISTS: dict[str, list[str]] = {}


def handed_in(one_thing_key: str = "enterprise_start") -> list[str]:
    """Codes of every material on the one-thing's checklist: what the window records when the applicant hands
    everything in (acceptance needs every required one). From the demo catalogue file (so it can be called at
    import time), else from the database; kept per one-thing."""
    if one_thing_key not in _CHECKLISTS:
        catalogue = json.loads((Path(__file__).parents[1] / "workflow" / "demo_data" / "catalogue.json").read_text())
        materials = {item["code"]: item.get("materials", []) for item in catalogue["items"]}
        produces = {item["code"]: item.get("licence_material") for item in catalogue["items"]}
        one_thing = next((o for o in catalogue["one_things"] if o["key"] == one_thing_key), None)
        if one_thing is not None:
            # A material an item that always applies produces itself is never asked (forms/materials.py).
            inside = {produces[item["code"]] for item in one_thing["items"] if not item.get("condition")}
            codes = [
                m["code"]
                for item in one_thing["items"]
                for m in materials.get(item["code"], [])
                if m["code"] not in inside
            ]
        else:
            from workflow.models import OneThing

            one_thing = OneThing.objects.filter(key=one_thing_key).first()  # none: the test is about that
            merged = (one_thing.merged_form if one_thing else None) or {}
            codes = [material["code"] for material in merged.get("materials", [])]
        _CHECKLISTS[one_thing_key] = list(dict.fromkeys(codes))
    return list(_CHECKLISTS[one_thing_key])


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


# --- issuing documents (docs/documents.md) ------------------------------------------------------------


@pytest.fixture(scope="session")
def signing_certificate(tmp_path_factory):
    """What setup does with ``manage.py make_dev_certificate``, once per session, into a temporary folder."""
    import io

    from django.core.management import call_command
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("signing")
    paths = {
        "ONETHING_SIGNING_KEY": str(folder / "signing-key.pem"),
        "ONETHING_SIGNING_CERT": str(folder / "signing-cert.pem"),
        "ONETHING_SIGNING_TRUST_ROOTS": str(folder / "root-ca.pem"),
        "ONETHING_SIGNING_KEY_PASSWORD": "",
    }
    with override_settings(**paths):
        call_command("make_dev_certificate", stdout=io.StringIO())
    return paths


class Issuing:
    """Documents are queued after commit; here the queue is a list and ``run()`` is the worker."""

    def __init__(self, capture):
        self.capture = capture
        self.queued: list[tuple[int, str]] = []

    def committed(self):
        """Run the on-commit callbacks registered inside the block, as a real commit would."""
        return self.capture(execute=True)

    def run(self) -> list:
        """Run every queued task (and what they queue) in process; the tasks' return values."""
        from workflow.tasks.documents import issue_document

        results = []
        while self.queued:
            case_id, key = self.queued.pop(0)
            results.append(issue_document.apply(args=(case_id, key)).get())
        return results


@pytest.fixture
def issuing(settings, tmp_path, signing_certificate, monkeypatch, django_capture_on_commit_callbacks) -> Issuing:
    """Documents on: the session's development certificate, private storage in a temporary folder, and the
    broker replaced by ``Issuing.queued``."""
    for name, value in signing_certificate.items():
        setattr(settings, name, value)
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.ONETHING_ISSUE_DOCUMENTS = True
    issuing = Issuing(django_capture_on_commit_callbacks)
    monkeypatch.setattr("workflow.reactions.send", lambda case_id, key: issuing.queued.append((case_id, key)))
    return issuing


def hand_over(user, case_no: str, **overrides):
    """一窗通取 with the applicant in person: identity checked on the spot, every listed thing ticked, signed on
    the pad — the proof of delivery, which concludes the case (办结)."""
    from tests.upload_samples import png
    from workflow import selectors, services

    case = selectors.case_get(user=user, case_no=case_no)
    values = {
        "recipient": {"kind": "applicant", "id_number": case.applicant_id_number},
        "identity_method": "id_card_onsite",
        "items": selectors.delivery_view(case).handover_items,
        "signature": services.Signature(method="pad", content=png()),
        **overrides,
    }
    return services.case_handover(user=user, case_no=case_no, **values)
