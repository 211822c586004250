"""Applicant data cannot make the renderer read a file or reach the network, nor smuggle markup into a notice."""

import urllib.request

import pytest

from tests.documents.conftest import CONTEXTS, pdf_text, run, squash
from workflow.documents import DocumentKind, render_pdf
from workflow.documents.fetcher import (
    ASSETS_DIR,
    BlockedURL,
    _asset_path,
    make_safe_url_fetcher,
    safe_url_fetcher_class,
)
from workflow.documents.render import html_to_pdf, render_html

INJECTIONS = {
    "applicant_name": '王䶮<img src="file:///etc/passwd">',
    "one_thing_name": '企业开办<link rel="attachment" href="http://169.254.169.254/latest/meta-data/">',
    "window_name": '<link rel="attachment" href="file:///etc/passwd">',
    "officer_name": '<div style="background: url(file:///etc/hostname)">李</div>',
    "contact_phone": (
        '</td><style>@import url("http://169.254.169.254/x.css"); html { background: url(file:///etc/passwd) }</style>'
    ),
}


@pytest.fixture
def fetches(monkeypatch):
    """Every URL WeasyPrint asks for, with what happened — and every URL that reached urllib at all."""
    record = {"asked": [], "refused": [], "urllib": []}
    cls = safe_url_fetcher_class()
    original_fetch = cls.fetch
    original_open = urllib.request.OpenerDirector.open

    def fetch(self, url, headers=None):
        record["asked"].append(url)
        try:
            return original_fetch(self, url, headers)
        except BlockedURL:
            record["refused"].append(url)
            raise

    def urllib_open(self, fullurl, *args, **kwargs):
        record["urllib"].append(getattr(fullurl, "full_url", fullurl))
        return original_open(self, fullurl, *args, **kwargs)

    monkeypatch.setattr(cls, "fetch", fetch)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", urllib_open)
    return record


def attachments(path) -> str:
    return run("pdfdetach", "-list", str(path)).strip()


def test_markup_in_applicant_fields_is_printed_as_text_and_fetches_nothing(tmp_path, fetches):
    context = {**CONTEXTS[DocumentKind.ACCEPTANCE_RECEIPT], **INJECTIONS}
    context["items"] = [{"name": '<svg><image href="file:///etc/passwd"/></svg>', "department": "公安分局"}]
    html = render_html(DocumentKind.ACCEPTANCE_RECEIPT, context)
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html
    assert '<img src="file:' not in html and "<link" not in html and "<style" not in html and "<svg" not in html

    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(DocumentKind.ACCEPTANCE_RECEIPT, context))
    assert attachments(path) == "0 embedded files"
    text = squash(pdf_text(path))
    for value in INJECTIONS.values():
        assert squash(value) in text  # shown literally, as the applicant typed it
    assert "root:" not in text
    # Only our own data: URIs (QR code, seal) were asked for, and nothing else reached urllib.
    assert fetches["asked"] and all(url.startswith("data:") for url in fetches["asked"])
    assert all(url.startswith("data:") for url in fetches["urllib"])


HOSTILE_HTML = """
<link rel="attachment" href="file:///etc/passwd">
<link rel="attachment" href="http://169.254.169.254/latest/meta-data/">
<link rel="stylesheet" href="../../../../../../../etc/passwd">
<link rel="stylesheet" href="https://127.0.0.1:9/x.css">
<style>@import url("file:///etc/hostname"); p { background: url(http://169.254.169.254/) }</style>
<p style="background: url(file:///etc/passwd)">见附件</p>
<img src="file:///etc/passwd"> <img src="file://localhost/etc/hostname"> <img src="file://evil.example/share/x.png">
<img src="notice.css/../../fonts.py"> <img src="%2e%2e/fonts.py"> <img src="ftp://127.0.0.1/x.png">
<object data="file:///etc/passwd"></object> <embed src="file:///etc/passwd">
<a rel="attachment" href="file:///etc/passwd">附件</a>
"""


def test_the_fetcher_refuses_everything_but_data_and_assets_even_when_markup_gets_through(tmp_path, fetches):
    path = tmp_path / "hostile.pdf"
    path.write_bytes(html_to_pdf(HOSTILE_HTML))
    assert attachments(path) == "0 embedded files"
    assert "root:" not in pdf_text(path)
    assert fetches["asked"], "the spy saw nothing: is it patched on the class the renderer uses?"
    assert fetches["refused"] == fetches["asked"]  # every one of them, none served
    for needle in ("file:///etc/passwd", "169.254.169.254", "/etc/hostname", "127.0.0.1", "fonts.py", "evil.example"):
        assert any(needle in url for url in fetches["refused"]), needle
    assert fetches["urllib"] == []


def test_the_default_fetcher_would_have_embedded_etc_passwd(tmp_path):
    """The control: without SafeURLFetcher the attachment test above has something to catch."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    path = tmp_path / "leak.pdf"
    HTML(string='<link rel="attachment" href="file:///etc/passwd"><p>x</p>', url_fetcher=URLFetcher()).write_pdf(path)
    assert attachments(path).startswith("1 embedded files")
    assert "passwd" in attachments(path)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://example.com/etc/passwd",
        (ASSETS_DIR / "..").as_uri() + "/fonts.py",
        ASSETS_DIR.as_uri() + "/../fonts.py",
        ASSETS_DIR.as_uri() + "/%2e%2e/fonts.py",
        ASSETS_DIR.as_uri() + "/missing.css",
        ASSETS_DIR.as_uri(),  # the folder itself
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/x.png",
        "gopher://127.0.0.1/",
        "//127.0.0.1/x.png",
    ],
)
def test_urls_outside_the_assets_are_blocked(url):
    with pytest.raises(BlockedURL):
        make_safe_url_fetcher().fetch(url)


def test_assets_and_data_uris_are_served():
    fetcher = make_safe_url_fetcher()
    response = fetcher.fetch((ASSETS_DIR / "notice.css").as_uri())
    assert response.read().startswith(b"/*") and response.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,5LiA5Lu25LqL").read().decode() == "一件事"
    assert _asset_path("file://localhost" + str(ASSETS_DIR / "notice.css")) == ASSETS_DIR / "notice.css"
