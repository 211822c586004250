"""Signing an applicant in through the HTTP API, reading the code off the console SMS backend."""

from __future__ import annotations

import re

from rest_framework.test import APIClient

from workflow.sms.providers import ConsoleProvider

MOTHER = {"id_number": "11010519491231002X", "phone": "13912345678"}
WANG = {"id_number": "110105199003070017", "phone": "13800138000"}


def last_code(phone: str) -> str:
    for message in reversed(ConsoleProvider.outbox):
        if message["phone"] == phone and message["template"] == "login_code":
            return re.search(r"验证码为(\d{6})", message["body"]).group(1)
    raise AssertionError(f"no code sent to {phone}")


def sent_to(phone: str) -> int:
    return sum(1 for message in ConsoleProvider.outbox if message["phone"] == phone)


def sign_in(person: dict, client: APIClient | None = None, address: str = "10.0.0.1") -> APIClient:
    """An APIClient carrying ``Authorization: Applicant <token>`` for this person (id_number, phone)."""
    client = client or APIClient()
    answer = client.post("/api/applicant/identity/code", person, format="json", REMOTE_ADDR=address)
    assert answer.status_code == 202, answer.content
    verified = client.post(
        "/api/applicant/identity/verify", {**person, "code": last_code(person["phone"])}, format="json"
    )
    assert verified.status_code == 200, verified.content
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Applicant {verified.json()['token']}")
    return signed_in
