"""The audit trail is append-only and hash-chained; the verify command names the first tampered row."""

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tests.conftest import DEPARTMENTS
from tests.workflow.helpers import decide, open_and_accept
from workflow.audit import GENESIS, iterate_chain, verify
from workflow.models import CaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def lifecycle(users):
    case = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, case, department)
    return case


def test_every_event_links_to_the_one_before(lifecycle):
    events = list(CaseEvent.objects.order_by("seq"))
    assert events[0].prev_hash == GENESIS
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    assert verify(iterate_chain()) == (len(events), None)
    call_command("verify_audit_chain")


def test_the_orm_refuses_to_change_or_delete_events(lifecycle):
    event = CaseEvent.objects.first()
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        CaseEvent.objects.filter(pk=event.pk).update(kind="x")
    with pytest.raises(ValueError):
        CaseEvent.objects.filter(pk=event.pk).delete()


def _trigger_installed() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'workflow_caseevent_append_only'")
        return cursor.fetchone() is not None


def test_the_database_refuses_raw_updates_and_deletes(lifecycle):
    if not _trigger_installed():
        pytest.skip("the append-only trigger is installed by migration 0002 on PostgreSQL (not with --nomigrations)")
    for sql in ("UPDATE workflow_caseevent SET kind = 'x'", "DELETE FROM workflow_caseevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_verify_command_names_the_first_tampered_row(lifecycle):
    if connection.vendor != "postgresql":
        pytest.skip("tampering past the trigger needs PostgreSQL's replica role")
    target = CaseEvent.objects.order_by("seq")[3]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # what a DBA could do: triggers off
        cursor.execute("UPDATE workflow_caseevent SET actor_label = %s WHERE id = %s", ["篡改者", target.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(CommandError, match=f"第 {target.seq} 条"):
        call_command("verify_audit_chain")
