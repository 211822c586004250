from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = "一件事办理"

    def ready(self):
        from . import (
            checks,  # noqa: F401  (registers system checks)
            clock,  # noqa: F401  (drops cached calendar years when one is edited)
            halls,  # noqa: F401  (drops cached halls when one is saved)
        )
