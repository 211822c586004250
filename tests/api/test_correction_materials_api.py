"""A correction with materials over HTTP: multipart fields and files in one submission, the missing ones named,
a material-only correction, and the department's task API saying what was resubmitted (issue 15, point 3)."""

import io
import json

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from tests import upload_samples as samples
from tests.api.helpers import REVIEWER_OF, CaseRef, accept, assert_error, get, open_case
from workflow import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def _decide(users, ref, department, decision="approve", corrections=None):
    services.human_task_complete(
        user=users[REVIEWER_OF[department]],
        task_id=ref.task_id(department),
        decision=decision,
        opinion="请一次性补正" if corrections else "",
        corrections=corrections or [],
    )


@pytest.fixture
def asks_for_premises_proof(users) -> CaseRef:
    ref = accept(users, open_case(users))
    _decide(users, ref, "market_regulation", "need_correction", [{"item": "premises_proof", "reason": "证明不清晰"}])
    _decide(users, ref, "public_security")
    _decide(users, ref, "tax")
    assert ref.status == "correction_required"
    return ref


def multipart(client, path, data):
    with transaction.atomic():
        return client.post(path, data, format="multipart")


def pdf_file(name="住所证明.pdf"):
    f = io.BytesIO(samples.pdf())
    f.name = name
    return f


def test_the_applicant_answers_a_material_only_correction_with_the_file_alone(client_for, asks_for_premises_proof):
    ref = asks_for_premises_proof
    lookup = {"case_no": ref.case_no, "query_code": ref.query_code}
    # Without the file: refused, the material named.
    refused = assert_error(APIClient().post("/api/status/correction", lookup, format="json"), 400, "invalid")
    assert set(refused["errors"]) == {"form", "materials.premises_proof"}  # nothing at all was given
    refused = assert_error(
        multipart(APIClient(), "/api/status/correction", {**lookup, "form": json.dumps({})}), 400, "invalid"
    )
    assert set(refused["errors"]) == {"form", "materials.premises_proof"}
    # With the file alone: accepted, only the asking department reviews again.
    response = multipart(APIClient(), "/api/status/correction", {**lookup, "materials.premises_proof": pdf_file()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "in_review"
    assert [f["material_code"] for f in body["files"]].count("premises_proof") >= 1
    # The department sees what was resubmitted.
    reviewer = client_for(REVIEWER_OF["market_regulation"])
    task = get(reviewer, f"/api/tasks/{ref.task_id('market_regulation')}").json()
    assert task["resubmitted"]["form_fields"] == []
    [material] = task["resubmitted"]["materials"]
    assert material["code"] == "premises_proof" and len(material["files"]) == 1
    # …and the files themselves in the task's materials[].files (docs/api.md "Corrections with materials")
    [checklist_entry] = [m for m in task["materials"] if m["code"] == "premises_proof"]
    assert material["files"][0] in [f["id"] for f in checklist_entry["files"]]
    assert all(m["files"] == [] or m["files"][0]["material_code"] == m["code"] for m in task["materials"])


def test_the_window_keys_in_fields_and_files_together_and_a_missing_one_is_named(
    users, client_for, asks_for_premises_proof
):
    ref = asks_for_premises_proof
    window = client_for("window1")
    url = f"/api/cases/{ref.case_no}/correction"
    refused = assert_error(multipart(window, url, {"form": json.dumps({"registered_capital": 300})}), 400, "invalid")
    assert set(refused["errors"]) == {"materials.premises_proof"}
    assert "补正不完整" in refused["message"]
    response = multipart(
        window, url, {"form": json.dumps({"registered_capital": 300}), "materials.premises_proof": pdf_file()}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"


def test_a_file_part_with_another_name_is_refused(client_for, asks_for_premises_proof):
    ref = asks_for_premises_proof
    response = multipart(client_for("window1"), f"/api/cases/{ref.case_no}/correction", {"file": pdf_file()})
    assert set(assert_error(response, 400)["errors"]) == {"file"}
