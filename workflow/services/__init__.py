"""Every state change, one typed function each, one transaction each."""

from .cases import OpenedCase, case_accept, case_conclude, case_correction_submit, case_open, case_refuse
from .catalogue import ItemLink, catalogue_export, catalogue_import, one_thing_compose, process_xml
from .claims import human_task_claim, human_task_reassign, human_task_unclaim
from .deployment import Deployed, process_versions_deploy
from .tasks import human_task_complete

__all__ = [
    "Deployed",
    "ItemLink",
    "OpenedCase",
    "case_accept",
    "case_conclude",
    "case_correction_submit",
    "case_open",
    "case_refuse",
    "catalogue_export",
    "catalogue_import",
    "human_task_claim",
    "human_task_complete",
    "human_task_reassign",
    "human_task_unclaim",
    "one_thing_compose",
    "process_versions_deploy",
    "process_xml",
]
