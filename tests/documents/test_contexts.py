"""Each kind says exactly which keys it needs, and a context without them is refused with every problem named."""

import datetime

import pytest

from tests.documents.conftest import CONTEXTS
from workflow.documents import DocumentContextError, DocumentKind, kinds, render_pdf
from workflow.documents.render import render_html


def test_the_kinds_and_their_chinese_titles():
    assert dict(DocumentKind.choices) == {
        "acceptance_receipt": "受理回执",
        "refusal_notice": "不予受理通知书",
        "correction_notice": "补正告知书",
        "conclusion_notice": "办结通知书",
        "e_licence": "电子证照",
        "extension_notice": "延期告知书",
        "procedure_notice": "特别程序告知书",
        "delivery_receipt": "送达回证",
    }
    assert set(kinds.SPECS) == set(DocumentKind)


def test_the_module_docstring_documents_every_key():
    doc = kinds.__doc__
    for kind, spec in kinds.SPECS.items():
        assert f"{kind} {DocumentKind(kind).label}" in doc
        for key in (*spec.required, *spec.optional, *spec.lists_of_text, *spec.rows):
            assert key in doc, key
        for row_keys in spec.rows.values():
            assert "{" + ", ".join(row_keys) + "}" in doc


def test_an_empty_context_names_every_missing_key():
    with pytest.raises(DocumentContextError) as caught:
        render_pdf(DocumentKind.ACCEPTANCE_RECEIPT, {})
    message = str(caught.value)
    assert message.startswith("受理回执（acceptance_receipt）的上下文有误")
    for key in ("case_no", "query_code", "items", "materials", "promised_date", "window_name", "contact_phone"):
        assert f"缺少 {key}" in message
    assert len(caught.value.problems) == len(kinds.SPECS[DocumentKind.ACCEPTANCE_RECEIPT].required) + 2


def test_rows_blank_values_naive_datetimes_and_bad_urls_are_refused():
    context = {
        **CONTEXTS[DocumentKind.ACCEPTANCE_RECEIPT],
        "items": [{"name": "企业设立登记", "department": "区市场监督管理局"}, {"name": "发票申领"}],
        "materials": [],
        "officer_name": "  ",
        "issued_at": datetime.datetime(2025, 3, 4, 10, 30),  # noqa: DTZ001 - the point of the test
        "status_url": "javascript:alert(1)",
    }
    with pytest.raises(DocumentContextError) as caught:
        render_html(DocumentKind.ACCEPTANCE_RECEIPT, context)
    assert caught.value.problems == [
        "issued_at 是无时区的 datetime",
        "officer_name 为空",
        "缺少 items[1].department",
        "materials 应为非空列表",
        "status_url 应为 http(s) 网址",
    ]


def test_an_unknown_kind_is_refused():
    with pytest.raises(DocumentContextError, match="未知的文书类型"):
        render_pdf("licence", CONTEXTS[DocumentKind.E_LICENCE])


def test_optional_keys_may_be_left_out_and_conclusion_rows_may_lack_a_licence():
    context = {key: value for key, value in CONTEXTS[DocumentKind.REFUSAL_NOTICE].items() if key != "contact_phone"}
    html = render_html(DocumentKind.REFUSAL_NOTICE, context)
    assert "咨询电话" not in html and kinds.REVIEW_RIGHTS in html
    html = render_html(DocumentKind.CONCLUSION_NOTICE, CONTEXTS[DocumentKind.CONCLUSION_NOTICE])
    assert html.count("<td>—</td>") == 2  # one cell (证照编号 / 有效期) per row without a licence


def test_dates_print_in_chinese_in_the_local_zone():
    context = {
        **CONTEXTS[DocumentKind.E_LICENCE],
        "issued_at": datetime.datetime(2025, 3, 4, 17, 0, tzinfo=datetime.UTC),  # already 5 March in Beijing
    }
    html = render_html(DocumentKind.E_LICENCE, context)
    assert '2025年3月5日</span> 至 <span class="token">长期' in html
    assert "<td>2025年3月5日</td>" in html  # 发证日期
