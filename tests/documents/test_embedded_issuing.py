"""The embedded run (`make demo`: SQLite, no broker, Celery tasks run in-process) issues the notices its steps
call for. The write path queues the issuing task by name (workflow/reactions.py); a name the web process has not
registered goes to the in-memory broker, where nobody takes it — the receipt silently never exists.

Run in a child process with the demo's own settings and a database of its own, as `make demo` runs."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

PROJECT = Path(settings.BASE_DIR)

SCRIPT = textwrap.dedent(
    """
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    call_command("make_dev_certificate", verbosity=0)

    from django.contrib.auth import get_user_model
    from tests.conftest import APPLICANT, ENTERPRISE_FORM, handed_in
    from workflow import services
    from workflow.models import Document

    window = get_user_model().objects.get(username="window1")
    opened = services.case_open(user=window, one_thing_key="enterprise_start", applicant=APPLICANT,
                                form=ENTERPRISE_FORM, materials=handed_in("enterprise_start"))
    services.case_accept(user=window, case_no=opened.case.case_no)
    print("KEYS", sorted(Document.objects.filter(case=opened.case).values_list("key", flat=True)))
    """
)


@pytest.mark.slow
def test_the_embedded_run_issues_the_receipt_of_an_accepted_case(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        ONETHING_PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
        ONETHING_SIGNING_KEY=str(tmp_path / "signing" / "signing-key.pem"),
        ONETHING_SIGNING_CERT=str(tmp_path / "signing" / "signing-cert.pem"),
        ONETHING_SIGNING_TRUST_ROOTS=str(tmp_path / "signing" / "root-ca.pem"),
        PYTHONPATH=str(PROJECT),
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "KEYS ['acceptance_receipt']" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
