"""Section 5: bytes of stored process state (``Case.process_state``) against departments and correction rounds.

For each size a standard model is generated (``bpmn.generate_process``, the pattern one-things are composed
with) and one case is driven to approval through ``bpmn.ProcessInstance`` with exactly the data the services
write, saved and restored after every step as the services do. In each correction round one department asks
for a correction and the applicant corrects once; only that department is reopened (docs/engine-contract.md).
The figure is the length of the JSON text the services store after the last step (``instance.dump()``);
the compiled spec is stored once per version and not counted.
"""

from __future__ import annotations

import gzip

from .common import ENTERPRISE_FORM, log

DEPARTMENT_CODES = (
    "market_regulation",
    "public_security",
    "tax",
    "social_security",
    "medical_insurance",
    "health",
    "housing_fund",
    "fire_rescue",
    "urban_management",
    "civil_affairs",
    "natural_resources",
)


def _model(departments: int):
    import bpmn

    codes = DEPARTMENT_CODES[:departments]
    xml = bpmn.generate_process(
        process_id=f"bench_state_{departments}",
        name=f"{departments} 个部门",
        reviews=[bpmn.ReviewSpec(department=code, task_name=f"{code} 审查") for code in codes],
    )
    compiled = bpmn.compile_model(f"state_{departments}.bpmn", xml.encode("utf-8"), departments=DEPARTMENT_CODES)
    return bpmn.load_model(compiled.content_hash, compiled.compiled), len(compiled.compiled.encode("utf-8"))


class _Driver:
    """One case, saved and restored around every step as the services do."""

    def __init__(self, model, data: dict):
        import bpmn

        self.model = model
        self.state = bpmn.ProcessInstance.start(model, data).dump()
        self.steps = 1

    def ready(self, lanes):
        import bpmn

        instance = bpmn.ProcessInstance.restore(self.model, self.state)
        task = next((t for t in sorted(instance.ready_tasks(), key=lambda t: t.lane) if lanes(t.lane)), None)
        return instance, task

    def complete(self, instance, task, data: dict) -> None:
        instance.complete(task.id, data)
        self.state = instance.dump()
        self.steps += 1


def _is_department(lane: str) -> bool:
    return lane not in ("window", "applicant")


def _drive(model, rounds: int) -> tuple[str, int]:
    """One case to approval with ``rounds`` corrections; returns the stored state and the number of steps."""
    import bpmn

    data = bpmn.initial_data(case_no="11010520260101000001", one_thing=model.process_id, form=dict(ENTERPRISE_FORM))
    case = _Driver(model, data)
    instance, task = case.ready(lambda lane: lane == "window")
    case.complete(instance, task, {"intake": {"decision": "accept"}})
    corrections = 0
    while True:
        asked = False
        while True:
            instance, task = case.ready(_is_department)
            if task is None:
                break
            decision = "need_correction" if corrections < rounds and not asked else "approve"
            asked = asked or decision == "need_correction"
            reviews = instance.task_data(task.id).get("reviews", {})
            case.complete(instance, task, {"reviews": {**reviews, task.lane: decision}})
        if not asked:
            break
        corrections += 1
        instance, task = case.ready(lambda lane: lane == "applicant")
        if task is None:
            raise RuntimeError("expected the applicant's correction task")
        round_no = instance.task_data(task.id).get("review_round", 0)
        form = {**ENTERPRISE_FORM, "address": f"示范区创新大道 88 号 {3 + corrections} 层"}
        case.complete(instance, task, {"form": form, "correction": {"round": round_no, "fields": ["address"]}})
    final = bpmn.ProcessInstance.restore(model, case.state)
    if not final.is_completed or final.data.get("outcome") != "approved":
        raise RuntimeError(f"state bench case did not end approved: {final.data.get('outcome')!r}")
    return case.state, case.steps


def run(params: dict) -> dict:
    rows = []
    for departments in params["departments"]:
        model, spec_bytes = _model(departments)
        for rounds in params["rounds"]:
            state, steps = _drive(model, rounds)
            raw = state.encode("utf-8")
            rows.append(
                {
                    "departments": departments,
                    "rounds": rounds,
                    "bytes": len(raw),
                    "gzip": len(gzip.compress(raw)),
                    "steps": steps,
                    "spec_bytes": spec_bytes,
                }
            )
        log(f"state: {departments} departments done")
    return {"rows": rows}
