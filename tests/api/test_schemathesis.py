"""Property-based API testing against our own OpenAPI schema (schemathesis 4).

Every operation is called with generated requests — valid and invalid bodies, query strings and path
parameters — as each of four callers: window staff, a department reviewer, a supervisor and an anonymous
applicant. No response may be a 5xx, and every response must match the schema (status code documented,
body, headers and content type as declared): a few thousand requests per run.

Realistic ids: a generated case number or task id almost never exists, so every other valid example is
pointed at a real case (received, accepted, awaiting correction) or a real task and reaches the code past
the 404. Examples are derandomized, so CI sends the same requests every time; explore further with e.g.
``SCHEMATHESIS_EXAMPLES=100 SCHEMATHESIS_RANDOM=1``.

Notes (see ../shared/notes/ecosystem.md §5): the schema is loaded at module level with ``from_wsgi``
(``from_fixture`` breaks on pytest 9.2), and the request signals that close the database connection are
disconnected, because the werkzeug client would otherwise close the test's transaction.
"""

from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from config.wsgi import application
from tests.api.helpers import accept, decide, open_case


def _schema(*, coverage: bool):
    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    loaded.config.phases.coverage.enabled = coverage
    return loaded


# Window staff and anonymous callers (the most and the least trusted): the coverage phase (boundary and
# invalid values of every parameter) and then fuzzing. Reviewer and supervisor: fuzzing only, to stay in
# CI's time budget (about 3,500 requests in all).
thorough = _schema(coverage=True)
fuzzing = _schema(coverage=False)

ROLES = {"window": "window1", "reviewer": "market1", "supervisor": "supervisor1", "anonymous": None}
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
DERANDOMIZE = not os.environ.get("SCHEMATHESIS_RANDOM")
# Both checks judge the precision of the *request* schema, not our responses:
# - "schema-valid request rejected": the one form is a free object in the OpenAPI schema and is validated
#   against each one-thing's own JSON Schema, and the JSON parser refuses NUL and lone surrogates anywhere;
# - "schema-violating request accepted": DRF turns a number sent for a text field into text (reason: 0) and
#   reads an empty query value (?state=) as absent, by design.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance, schemathesis.checks.negative_data_rejection]
_turns = itertools.count()


@schemathesis.serializer("application/pdf")
def _pdf(ctx, value) -> dict:
    """The document verification endpoint takes the PDF itself as its body."""
    return {"data": value if isinstance(value, bytes) else str(value).encode()}


@pytest.fixture(autouse=True)
def keep_db_connection_open():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def world(_demo_once, django_db_blocker) -> dict:
    """Tokens and a few real cases, made once inside the module's demo-data transaction. Each test's own
    transaction is a savepoint within it, so whatever the generated requests change is rolled back."""
    with django_db_blocker.unblock():
        users = {user.username: user for user in get_user_model().objects.filter(staff__isnull=False)}
        tokens = {role: Token.objects.get_or_create(user=users[name])[0].key for role, name in ROLES.items() if name}
        received = open_case(users)
        accepted = accept(users, open_case(users))
        correction = accept(users, open_case(users))
        decide(users, correction, "market_regulation", "approve")
        decide(users, correction, "public_security", "need_correction")
        decide(users, correction, "tax", "approve")
        cases = [received, accepted, correction]
        return {
            "tokens": tokens,
            "case_no": [case.case_no for case in cases],
            "task_id": [accepted.task_id(lane) for lane in ("market_regulation", "tax", "public_security")],
            "query_code": {case.case_no: case.query_code for case in cases},
        }


def _point_at_real_objects(case, world: dict) -> None:
    """Every other valid example: real path ids, and a real case number + query code in a lookup body."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    turn = next(_turns)
    if turn % 2:
        return
    for name in ("case_no", "task_id"):
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = world[name][turn // 2 % len(world[name])]
    if isinstance(case.body, dict) and "case_no" in case.body:
        case_no = world["case_no"][turn // 2 % len(world["case_no"])]
        case.body["case_no"] = case_no
        if "query_code" in case.body:
            case.body["query_code"] = world["query_code"][case_no]


HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _call_and_validate(case, role: str, world: dict) -> None:
    _point_at_real_objects(case, world)
    headers = {"Authorization": f"Token {world['tokens'][role]}"} if role in world["tokens"] else {}
    with transaction.atomic():  # a failing request must not abort the test's transaction for the next one
        case.call_and_validate(headers=headers, excluded_checks=EXCLUDED_CHECKS)


@pytest.mark.parametrize("role", ["window", "anonymous"])
@thorough.parametrize()
@HYPOTHESIS
def test_every_response_is_documented_and_nothing_breaks_the_server(case, role, world, db):
    _call_and_validate(case, role, world)


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
@fuzzing.parametrize()
@HYPOTHESIS
def test_every_response_to_a_reviewer_or_supervisor_is_documented(case, role, world, db):
    _call_and_validate(case, role, world)
