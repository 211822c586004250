from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = "一件事办理"

    def ready(self):
        from django.db.backends.signals import connection_created

        from .timestamp_loader import use_c_loader

        connection_created.connect(use_c_loader, dispatch_uid="workflow.timestamp_loader")
        from . import (
            checks,  # noqa: F401  (registers system checks)
            clock,  # noqa: F401  (drops cached calendar years when one is edited)
            halls,  # noqa: F401  (drops cached halls when one is saved)
            # Registers the Celery tasks in every process, not only in workers: the write path queues them by
            # name (workflow/reactions.py), and an unregistered name is sent to the broker even when tasks run
            # eagerly (the embedded demo), where nobody consumes it.
            tasks,  # noqa: F401
        )
