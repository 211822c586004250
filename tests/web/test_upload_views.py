"""Material files on the screens: the window's upload rows on the case page, Chinese errors, the size limit
before and while the body is read, CSRF, removal, and the department's preview on the task page."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tests import upload_samples as samples
from workflow import services
from workflow.models import CaseEvent, HumanTask, MaterialFile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.ONETHING_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def post_file(client, case_no, content, *, name="scan.pdf", material="premises_proof", follow=True):
    return client.post(
        f"/cases/{case_no}/files/",
        {"material_code": material, "file": SimpleUploadedFile(name, content, "application/pdf")},
        follow=follow,
    )


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class Untouchable(io.RawIOBase):
    def readable(self):
        return True

    def read(self, *args):
        raise AssertionError("the request body was read")

    readline = readinto = read


def test_the_case_page_offers_an_upload_per_material_with_the_limits_stated(web_client, opened):
    response = web_client("window1").get(f"/cases/{opened.case.case_no}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="materials"' in html and "申请材料文件" in html
    assert html.count('enctype="multipart/form-data"') == len(opened.case.one_thing.merged_form["materials"])
    assert "PDF、JPG/JPEG、PNG 或 OFD" in html and "10 MB" in html
    assert 'accept=".pdf,.jpg,.jpeg,.png,.ofd' in html


def test_the_window_uploads_sees_the_file_and_removes_it(web_client, opened):
    window = web_client("window1")
    case_no = opened.case.case_no
    response = post_file(window, case_no, samples.png(), name="住所证明.png")
    assert response.status_code == 200
    assert any("已上传" in m for m in page_messages(response))
    row = MaterialFile.objects.get(case=opened.case)
    html = response.content.decode()
    assert f"/files/{row.public_id}/" in html and "住所证明.png" in html
    removed = window.post(f"/cases/{case_no}/files/{row.public_id}/remove/", follow=True)
    assert any("已删除" in m for m in page_messages(removed))
    assert not MaterialFile.objects.filter(case=opened.case).exists()
    assert CaseEvent.objects.filter(case=opened.case, kind="material_removed").exists()


@pytest.mark.parametrize("kind", ["exe", "html", "svg", "pdf-header-then-html", "empty"])
def test_a_refused_file_shows_a_chinese_error_on_the_case_page(web_client, opened, kind):
    response = post_file(web_client("window1"), opened.case.case_no, samples.IMPOSTORS[kind])
    assert any("只能上传 PDF、JPG/JPEG、PNG 或 OFD" in m or "文件为空" in m for m in page_messages(response))
    assert not MaterialFile.objects.exists()


def test_a_wrong_state_is_a_message(web_client, accepted):
    response = post_file(web_client("window1"), accepted.case.case_no, samples.pdf())
    assert any("不能上传材料" in m for m in page_messages(response))
    html = web_client("window1").get(f"/cases/{accepted.case.case_no}/").content.decode()
    assert 'enctype="multipart/form-data"' not in html  # nothing to upload after 受理 (no promise)


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(web_client, opened):
    client = web_client("window1")
    response = client.generic(
        "POST",
        f"/cases/{opened.case.case_no}/files/",
        b"-",
        content_type=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        **{"wsgi.input": Untouchable()},
    )
    assert response.status_code == 302 and response["Location"].endswith("#materials")
    shown = client.get(response["Location"])
    assert any("文件过大：单个文件不能超过 10 MB" in m for m in page_messages(shown))


def test_a_file_over_the_limit_is_stopped_while_streaming(web_client, opened, settings):
    settings.ONETHING_UPLOAD_MAX_BYTES = 4096
    body = encode_multipart(
        BOUNDARY,
        {"material_code": "premises_proof", "file": SimpleUploadedFile("big.pdf", samples.pdf() + b" " * 9000)},
    )
    client = web_client("window1")
    response = client.generic("POST", f"/cases/{opened.case.case_no}/files/", body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 302
    shown = client.get(response["Location"])
    assert any("文件过大" in m and "4 KB" in m for m in page_messages(shown))
    assert not MaterialFile.objects.exists()


def test_the_upload_form_still_needs_its_csrf_token(users, opened):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["window1"])
    response = post_file(client, opened.case.case_no, samples.pdf(), follow=False)
    assert response.status_code == 403
    assert not MaterialFile.objects.exists()


def test_only_the_window_uploads_and_anonymous_users_log_in_first(web_client, opened):
    assert post_file(web_client("market1"), opened.case.case_no, samples.pdf(), follow=False).status_code == 403
    anonymous = post_file(web_client(None), opened.case.case_no, samples.pdf(), follow=False)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert not MaterialFile.objects.exists()


def test_the_department_task_page_previews_each_material(web_client, opened, users):
    window = users["window1"]
    case_no = opened.case.case_no
    for material, content in (
        ("legal_rep_id_card", samples.png()),
        ("premises_proof", samples.pdf()),
        ("articles_of_association", samples.ofd()),
    ):
        services.material_file_upload(
            user=window, case_no=case_no, material_code=material, file=SimpleUploadedFile("x", content)
        )
    services.case_accept(user=window, case_no=case_no)
    files = {f.material_code: f for f in MaterialFile.objects.filter(case=opened.case)}
    task = HumanTask.objects.get(case=opened.case, lane="market_regulation")
    html = web_client("market1").get(f"/tasks/{task.pk}/").content.decode()
    assert f'<img src="/files/{files["legal_rep_id_card"].public_id}/?inline=1"' in html
    assert f'<iframe src="/files/{files["premises_proof"].public_id}/?inline=1"' in html
    assert f'href="/files/{files["articles_of_association"].public_id}/"' in html and "OFD 阅读器" in html
    # The preview itself: the sniffed type, inline, sandboxed, and frameable by the hall's own pages only.
    preview = web_client("market1").get(f"/files/{files['premises_proof'].public_id}/?inline=1")
    assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
    assert preview["Content-Disposition"].startswith("inline;")
    assert preview["X-Content-Type-Options"] == "nosniff"
    assert preview["Content-Security-Policy"].startswith("sandbox")
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    download = web_client("market1").get(f"/files/{files['articles_of_association'].public_id}/?inline=1")
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_department_without_a_task_on_the_case_cannot_open_its_files(web_client, opened, users):
    row = services.material_file_upload(
        user=users["window1"],
        case_no=opened.case.case_no,
        material_code="premises_proof",
        file=SimpleUploadedFile("x.pdf", samples.pdf()),
    )
    services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    assert web_client("health1").get(f"/files/{row.public_id}/").status_code == 404
    assert web_client("supervisor1").get(f"/files/{row.public_id}/").status_code == 200
    anonymous = web_client(None).get(f"/files/{row.public_id}/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_applicants_status_page_lists_the_files_by_name_only(web_client, client, opened):
    post_file(web_client("window1"), opened.case.case_no, samples.png(), name="住所证明.png")
    page = client.post("/status/", {"case_no": opened.case.case_no, "query_code": opened.query_code})
    html = page.content.decode()
    assert "已提交的材料文件" in html and "住所证明.png" in html
    assert "/files/" not in html  # no download link: the files stay inside the hall
