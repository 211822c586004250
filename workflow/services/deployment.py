"""Deploying BPMN models: all files are checked first; nothing is deployed when anything is wrong."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

import bpmn

from ..errors import DeploymentRefused
from ..models import CatalogueChangeKind, Department, OneThing, ProcessVersion
from .catalogue_history import composition_diff, record_change
from .compositions import composition_publish, current_content, published_content


@dataclass(frozen=True)
class Deployed:
    version: ProcessVersion
    created: bool  # False when identical content was already deployed


@transaction.atomic
def process_versions_deploy(
    *, files: list[tuple[str, bytes]], deployed_by: str = "", actor=None, source: str = "deploy_bpmn"
) -> list[Deployed]:
    """Deploy each file as a new immutable version of the one-thing named by its process id, and publish the
    one-thing's composition on it (a new composition version for new cases; running cases keep theirs).

    Raises DeploymentRefused with every problem of every file (``extra["problems"]``). Deploying content
    identical to an existing version deploys nothing and reports that version.
    """
    departments = set(Department.objects.values_list("code", flat=True))
    compiled: list[tuple[str, bytes, bpmn.CompiledModel]] = []
    problems: list[bpmn.ModelProblem] = []
    for filename, content in files:
        try:
            compiled.append((filename, content, bpmn.compile_model(filename, content, departments=departments)))
        except bpmn.ModelInvalid as exc:
            problems.extend(exc.problems)
    seen: dict[str, str] = {}
    for filename, _, model in compiled:
        if model.process_id in seen:
            problems.append(
                bpmn.ModelProblem(filename, model.process_id, f"与 {seen[model.process_id]} 的流程 id 重复")
            )
        seen[model.process_id] = filename
    if problems:
        raise DeploymentRefused(problems=problems)

    results = []
    for filename, content, model in compiled:
        one_thing, _ = OneThing.objects.select_for_update().get_or_create(
            key=model.process_id, defaults={"name": model.name}
        )
        existing = ProcessVersion.objects.filter(one_thing=one_thing, content_hash=model.content_hash).first()
        if existing is not None:
            results.append(Deployed(existing, created=False))
            continue
        last = one_thing.versions.order_by("-number").values_list("number", flat=True).first() or 0
        version = ProcessVersion.objects.create(
            one_thing=one_thing,
            number=last + 1,
            process_id=model.process_id,
            content_hash=model.content_hash,
            filename=filename,
            bpmn_xml=content.decode("utf-8"),
            compiled=model.compiled,
            departments=list(model.departments),
            user_tasks=[{"element_id": t.element_id, "name": t.name, "lane": t.lane} for t in model.user_tasks],
            deployed_by=deployed_by,
        )
        before = published_content(one_thing)
        OneThing.objects.filter(pk=one_thing.pk).update(current_version=version)
        one_thing.current_version = version
        composition, published = composition_publish(one_thing=one_thing, published_by=deployed_by)
        record_change(
            kind=CatalogueChangeKind.ONE_THING,
            key=one_thing.key,
            name=one_thing.name,
            action="deployed",
            summary=f"部署流程 v{version.number}（{filename}）"
            + (f"，发布组合第 {composition.number} 版" if published else ""),
            diff=composition_diff(before, current_content(one_thing)),
            source=source,
            actor=actor,
            actor_label=deployed_by,
            composition=composition if published else None,
        )
        results.append(Deployed(version, created=True))
    return results
