"""SpiffWorkflow serialization with the spec kept apart from the instance.

The spec is stored once per deployed version; a case's state holds only its task tree and data. The
workflow converter below writes no spec and restores onto the shared, already-loaded spec objects, so
loading a case costs the task tree only. State is JSON text: a key-reordering store (PostgreSQL jsonb)
breaks SpiffWorkflow's parent-before-child data deltas.
"""

from __future__ import annotations

import json
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.task_spec import ParallelGatewayConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .gateways import LoopSafeParallelGateway

SERIALIZER_VERSION = VERSION


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        if isinstance(spec, dict):  # a full serialization (migration path): restore the spec too
            spec = self.registry.restore(spec)
            subprocess_specs = self.mapping_from_dict(subprocess_specs)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = {
    **SPIFF_CONFIG,
    BpmnWorkflow: SpecFreeWorkflowConverter,
    LoopSafeParallelGateway: ParallelGatewayConverter,
}
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = SERIALIZER.to_dict(workflow)
    dct[SERIALIZER.VERSION_KEY] = SERIALIZER_VERSION
    return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))


def restore_state(state: str, spec, subprocess_specs, *, spec_dicts=None) -> BpmnWorkflow:
    dct = json.loads(state)
    version = dct.get(SERIALIZER.VERSION_KEY)
    if version != SERIALIZER_VERSION:
        # Older formats are migrated against the full serialization, spec included.
        if spec_dicts is None:
            raise ValueError(f"state format {version} needs the spec dicts to migrate")
        dct["spec"], dct["subprocess_specs"] = spec_dicts
        SERIALIZER.migrate(dct)
    else:
        dct.pop(SERIALIZER.VERSION_KEY)
        dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    return SERIALIZER.from_dict(dct)
