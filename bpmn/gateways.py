"""A parallel join that stays correct inside a correction loop.

SpiffWorkflow 3.2's parallel join looks at every instance of itself in the task tree. In a loop the
instances left from earlier rounds (the branches that arrived first and were cancelled) still have
completed parents, so in round two the join counts them as arrived and fires before the re-opened
department has decided; its data merge also pulls those rounds' stale data back in. A join instance
belongs to the current round exactly when it descends from the join's previous firing, so both the
threshold and the merge look only at those.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState


class LoopSafeParallelGateway(ParallelGateway):
    def _previous_firing(self, my_task):
        task = my_task.parent
        while task is not None:
            if task.task_spec == self:
                return task
            task = task.parent
        return None

    def _this_round(self, my_task, tasks):
        previous = self._previous_firing(my_task)
        if previous is None:
            return list(tasks)
        return [task for task in tasks if _descends(task, previous)]

    def _check_threshold_unstructured(self, my_task):
        waiting_inputs = set(self.inputs)

        def remove_ancestor(task):
            if task.task_spec in waiting_inputs:
                waiting_inputs.remove(task.task_spec)
            elif task.parent is not None:
                remove_ancestor(task.parent)

        # The workflow's task dict, filtered by spec: the same tasks as get_tasks(spec_name=...), which walks the
        # whole tree through its iterator on every update of the join.
        instances = [task for task in my_task.workflow.tasks.values() if task.task_spec == self]
        above = _ancestors(my_task)
        for task in self._this_round(my_task, instances):
            if _descends(task, my_task):
                remove_ancestor(task)
            elif id(task) in above:
                continue
            elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return not waiting_inputs

    def _run_hook(self, my_task):
        above = _ancestors(my_task)
        finished = [
            task
            for task in my_task.workflow.tasks.values()
            if task.task_spec == self and task.has_state(TaskState.FINISHED_MASK) and id(task) not in above
        ]
        for task in sorted(self._this_round(my_task, finished), key=lambda t: t.last_state_change):
            DeepMerge.merge(my_task.data, task.parent.data)
            if task.has_state(TaskState.COMPLETED):
                task._drop_children(force=True)
        my_task._inherit_data()
        return True


# ``Task.is_descendant_of`` recurses and looks each parent up twice; the join asks it for every instance of itself on
# every update, so it walks the tree once per question here, and once in all for the questions about ``my_task``.
def _descends(task, ancestor) -> bool:
    tasks = task.workflow.tasks
    parent = tasks.get(task._parent)
    while parent is not None:
        if parent is ancestor:
            return True
        parent = tasks.get(parent._parent)
    return False


def _ancestors(task) -> set[int]:
    """The ``id()`` of each of the task's ancestors."""
    tasks = task.workflow.tasks
    found = set()
    parent = tasks.get(task._parent)
    while parent is not None:
        found.add(id(parent))
        parent = tasks.get(parent._parent)
    return found
