import json
from rest_framework.test import APIClient
from tests.conftest import APPLICANT, ENTERPRISE_FORM


from django.db import transaction
def show(label, thunk):
    try:
        with transaction.atomic():
            r = thunk()
    except Exception as e:
        print(f"\n### {label}: EXC {type(e).__name__}: {str(e)[:200]}")
        return None
    body = r.content[:300]
    print(f"\n### {label}: {r.status_code} {r.get('Content-Type')} {body!r}")
    return r


def test_probe(client_for, demo):
    anon = APIClient()
    show("anon one-things", lambda: anon.get("/api/one-things"))
    show("bad token", lambda: anon.get("/api/one-things", HTTP_AUTHORIZATION="Token abc"))
    w = client_for("window1")
    r = w.post("/api/cases", {"one_thing": "enterprise_start", "applicant": APPLICANT, "form": ENTERPRISE_FORM}, format="json")
    show("open", lambda: r)
    no = r.json()["case_no"]
    show("tasks/abc", lambda: w.get("/api/tasks/abc"))
    show("tasks huge", lambda: w.get("/api/tasks/99999999999999999999999"))
    show("tasks huge complete", lambda: client_for("market1").post("/api/tasks/99999999999999999999999/complete", {"decision": "approve"}, format="json"))
    show("case NUL", lambda: w.get("/api/cases/abc%00def"))
    show("accept NUL", lambda: w.post("/api/cases/abc%00def/accept", {}, format="json"))
    show("open NUL name", lambda: w.post("/api/cases", {"one_thing": "enterprise_start", "applicant": {**APPLICANT, "name": "a\x00b"}, "form": ENTERPRISE_FORM}, format="json"))
    show("open NUL form", lambda: w.post("/api/cases", {"one_thing": "enterprise_start", "applicant": APPLICANT, "form": {**ENTERPRISE_FORM, "enterprise_name": "abcd\x00ef"}}, format="json"))
    show("open surrogate", lambda: w.post("/api/cases", data='{"one_thing": "enterprise_start", "applicant": {"name": "\\ud800", "id_number": "1"}, "form": {}}', content_type="application/json"))
    show("open surrogate form", lambda: w.post("/api/cases", data=json.dumps({"one_thing": "enterprise_start", "applicant": APPLICANT, "form": {**ENTERPRISE_FORM, "address": "xxxxx"}}).replace("xxxxx", "xx\\ud800xx"), content_type="application/json"))
    show("deep", lambda: w.post("/api/cases", data="[" * 100000 + "]" * 100000, content_type="application/json"))
    show("deep status", lambda: anon.post("/api/status", data="[" * 100000 + "]" * 100000, content_type="application/json"))
    show("one-thing NUL", lambda: w.post("/api/cases", {"one_thing": "a\x00", "applicant": APPLICANT, "form": ENTERPRISE_FORM}, format="json"))
    show("status NUL code", lambda: anon.post("/api/status", {"case_no": no, "query_code": "a\x00"}, format="json"))
    show("form-encoded", lambda: w.post("/api/cases", {"one_thing": "x"}))
    show("conclude malformed", lambda: w.post(f"/api/cases/{no}/conclude", data="{", content_type="application/json"))
    show("logout malformed", lambda: w.post("/api/auth/logout", data="{", content_type="application/json"))
    show("big", lambda: w.post("/api/cases", data=json.dumps({"x": "a" * 3_000_000}), content_type="application/json"))
    show("accept", lambda: w.post(f"/api/cases/{no}/accept", {}, format="json"))
    show("accept opinion NUL", lambda: w.post(f"/api/cases/{no}/accept", {"opinion": "\x00"}, format="json"))
    from workflow.models import HumanTask
    t = HumanTask.objects.get(case__case_no=no, lane="tax")
    show("complete NUL", lambda: client_for("tax1").post(f"/api/tasks/{t.pk}/complete", {"decision": "approve", "opinion": "o\x00k"}, format="json"))
    show("complete list", lambda: client_for("tax1").post(f"/api/tasks/{t.pk}/complete", [None, None], format="json"))
    show("complete corrections item NUL", lambda: client_for("tax1").post(f"/api/tasks/{t.pk}/complete", {"decision": "need_correction", "opinion": "x", "corrections": [{"item": "a\x00", "reason": "r"}]}, format="json"))
    show("complete state", lambda: client_for("tax1").get(f"/api/tasks/{t.pk}"))
    show("tasks?state=x", lambda: client_for("tax1").get("/api/tasks?state=x"))
    show("tasks?page=99", lambda: client_for("tax1").get("/api/tasks?page=99"))
    show("tasks?page=abc", lambda: client_for("tax1").get("/api/tasks?page=abc"))
    show("anon status garbage", lambda: anon.post("/api/status", "garbage", content_type="application/json"))
    show("status 123", lambda: anon.post("/api/status", 123, format="json"))
    show("status null", lambda: anon.post("/api/status", data="null", content_type="application/json"))
    show("complete null", lambda: client_for("tax1").post(f"/api/tasks/{t.pk}/complete", data="null", content_type="application/json"))
    show("status case_no int", lambda: anon.post("/api/status", {"case_no": 12345678901234567890, "query_code": "x"}, format="json"))
    show("status query_code dict", lambda: anon.post("/api/status", {"case_no": no, "query_code": {"a": 1}}, format="json"))
    show("correction list", lambda: anon.post("/api/status/correction", {"case_no": no, "query_code": "x", "form": []}, format="json"))
    show("docs", lambda: w.get("/api/docs/"))
