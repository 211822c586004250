"""Every page carries a Content-Security-Policy, and the screens' own scripts — bpmn-js included — work under it:
Chromium reports no violation on the hall's pages (issue 18)."""

from __future__ import annotations

import pytest

from tests.web.test_e2e import (  # noqa: F401  (fixtures)
    DESKTOP,
    VENDOR,
    Hall,
    applicant_lookup,
    browser_type_launch_args,
    demo,
    expect,
)

pytestmark = pytest.mark.django_db(transaction=True)


def watch(page) -> list[str]:
    """Chromium's CSP reports: console errors and securitypolicyviolation events."""
    seen: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.append(message.text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    return seen


def test_the_hall_pages_work_under_the_policy_with_no_violation(live_server, browser, demo, users):  # noqa: F811
    from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
    from workflow import services

    assert VENDOR.exists(), "bpmn-js is missing: run scripts/dev.sh setup"
    opened = services.case_open(
        user=users["window1"],
        one_thing_key="enterprise_start",
        applicant=APPLICANT,
        form=ENTERPRISE_FORM,
        materials=handed_in(),
    )
    services.case_accept(user=users["window1"], case_no=opened.case.case_no)
    case_no = opened.case.case_no
    hall = Hall(browser, live_server.url)
    try:
        window = hall.staff("window1")
        seen = watch(window)
        response = window.goto(f"{hall.base}/cases/{case_no}/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(window.locator("#diagram[data-state=ready]")).to_be_attached()  # bpmn-js drew the diagram
        expect(window.locator("#diagram svg").first).to_be_attached()
        window.goto(f"{hall.base}/window/new/enterprise_start/")  # app.js: the one form's follow-ups
        window.goto(f"{hall.base}/window/")

        supervisor = hall.staff("supervisor1")
        seen += watch(supervisor)
        supervisor.goto(f"{hall.base}/dashboard/")  # the bars' inline colours
        supervisor.goto(f"{hall.base}/api/docs/")  # Swagger UI, split
        expect(supervisor.locator(".swagger-ui").first).to_be_attached()

        applicant = hall.new_page(DESKTOP)
        seen += watch(applicant)
        applicant_lookup(hall, applicant, case_no, opened.query_code)
        assert seen == [], seen
    finally:
        hall.close()


def test_json_and_pages_carry_the_header(client, demo):  # noqa: F811
    for path in ("/login/", "/status/", "/api/schema/", "/admin/login/"):
        policy = client.get(path)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
