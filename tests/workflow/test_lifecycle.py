from workflow.lifecycle import TERMINAL_STATES, TRANSITIONS, CaseStatus, transition_between
from workflow.models import Case


def test_the_fsm_edges_on_case_are_exactly_the_transition_table():
    declared = {
        (t.name, str(t.source), str(t.target)) for t in Case._meta.get_field("status").get_all_transitions(Case)
    }
    expected = {
        (name, str(source), str(target)) for name, (sources, target) in TRANSITIONS.items() for source in sources
    }
    assert declared == expected


def test_every_state_is_reachable_from_received_and_terminal_states_are_final():
    reached, frontier = {CaseStatus.RECEIVED}, [CaseStatus.RECEIVED]
    while frontier:
        state = frontier.pop()
        for sources, target in TRANSITIONS.values():
            if state in sources and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseStatus)
    for sources, _ in TRANSITIONS.values():
        assert not TERMINAL_STATES & set(sources)


def test_transition_between_names_the_edge_or_none():
    assert transition_between(CaseStatus.IN_REVIEW, CaseStatus.CORRECTION_REQUIRED) == "require_correction"
    assert transition_between(CaseStatus.RECEIVED, CaseStatus.APPROVED) is None
