from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = "一件事办理"

    def ready(self):
        from . import checks  # noqa: F401  (registers system checks)
