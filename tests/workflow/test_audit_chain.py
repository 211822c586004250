"""The audit trail is append-only and hash-chained; the verify command names the first tampered row."""

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.conftest import DEPARTMENTS, hand_over
from tests.workflow.helpers import decide, open_and_accept, open_case
from workflow.audit import GENESIS, case_event, content_digest, head_mismatch, iterate_chain, link_hash, verify
from workflow.models import AuditChainHead, CaseEvent

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


# --------------------------------------------------------------------------- the chain head (migration 0006)


def _needs_head_trigger():
    if connection.vendor != "postgresql":
        pytest.skip("the chain head and its trigger are PostgreSQL's (SQLite's writers are serialised anyway)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'workflow_caseevent_chain_head'")
        if cursor.fetchone() is None:
            pytest.skip("the head's trigger is installed by migration 0006 (not with --nomigrations)")


def test_the_head_is_the_newest_event_after_every_step(users):
    _needs_head_trigger()
    case = open_and_accept(users)
    for department in DEPARTMENTS:
        decide(users, case, department)
        newest = CaseEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        assert AuditChainHead.objects.values_list("seq", "hash").get(pk=1) == newest
    assert head_mismatch() is None


def test_a_missing_head_is_rebuilt_from_the_newest_event(lifecycle, users):
    """A test runner's TRUNCATE, or a database restored without the row: the next append starts from the
    newest event, not from the genesis."""
    _needs_head_trigger()
    AuditChainHead.objects.all().delete()
    hand_over(users["window1"], lifecycle.case_no)
    events = list(CaseEvent.objects.order_by("seq"))
    assert verify(iterate_chain()) == (len(events), None)
    assert AuditChainHead.objects.values_list("seq", flat=True).get(pk=1) == events[-1].seq


def test_the_verify_command_sees_events_deleted_from_the_end(lifecycle):
    """Walking the chain cannot see a cut tail; the head remembers how far it went."""
    _needs_head_trigger()
    last = CaseEvent.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM workflow_caseevent WHERE id = %s", [last.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(CommandError, match=f"第 {last.seq} 条.*链尾事件可能已被删除"):
        call_command("verify_audit_chain")


def _open_cases(barrier, count):
    from django.contrib.auth import get_user_model

    users = {"window1": get_user_model().objects.get(username="window1")}
    barrier.wait(timeout=60)  # every process appends to the one chain at the same instant
    return [open_case(users).case.case_no for _ in range(count)]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain(users):
    from tests.workflow.test_races import _run_in_processes

    _needs_head_trigger()
    results = _run_in_processes(_open_cases, [(4,)] * 4)
    assert all(isinstance(result, list) for result in results), results
    events = list(CaseEvent.objects.order_by("seq"))
    assert len({no for result in results for no in result}) == 16
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert verify(iterate_chain()) == (len(events), None)
    call_command("verify_audit_chain")


def test_a_batch_is_appended_in_one_statement_with_the_python_hashes(lifecycle, users):
    """PostgreSQL chains the batch in SQL; the hashes are those Python computes (SQLite's path, the verifier)."""
    before = CaseEvent.objects.order_by("-seq").first()
    events = [case_event(lifecycle, "extension_requested", users["window1"], days=n, reason="备注") for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        CaseEvent.objects.bulk_create(events)
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1
    single = CaseEvent.objects.create(case=lifecycle, kind="noted", actor_label="系统")
    previous, seq = before.hash, before.seq
    for event in [*events, single]:
        seq += 1
        stored = CaseEvent.objects.get(pk=event.pk)
        assert (
            (stored.seq, stored.prev_hash, stored.hash)
            == (event.seq, event.prev_hash, event.hash)
            == (
                seq,
                previous,
                link_hash(previous, seq, content_digest(stored)),
            )
        )
        previous = stored.hash
    assert verify(iterate_chain()) == (seq, None)
