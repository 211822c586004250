"""Every state change, one typed function each, one transaction each."""

from .cases import OpenedCase, case_accept, case_conclude, case_correction_submit, case_open, case_refuse
from .deployment import Deployed, process_versions_deploy
from .tasks import human_task_complete

__all__ = [
    "Deployed",
    "OpenedCase",
    "case_accept",
    "case_conclude",
    "case_correction_submit",
    "case_open",
    "case_refuse",
    "human_task_complete",
    "process_versions_deploy",
]
