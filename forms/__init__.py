"""Forms: item fragments merged into one form with field provenance and conditional logic, and validation with
Chinese errors. Pure Python, no Django. The public API (keep it small; the modules hold the rest):

Composing
- :func:`merge_fragments` (``conditions=`` item code → condition) → :class:`MergedForm` (schema with its
  conditionals, provenance, merged materials, 减材料 report, UI hints, ``logic``); raises :class:`FragmentError`
  (malformed) or :class:`FragmentConflict` (incompatible, ``.conflicts``);
- :func:`check_fragment`: the problems of one fragment, for editing a catalogue item.

Conditions (:mod:`forms.conditions`, one JSON format for item conditions and follow-ups)
- :func:`check_condition` (problems), :func:`condition_holds` (Python), :func:`condition_schema` (JSON Schema),
  :func:`condition_expression` (the restricted-Python text the generated BPMN evaluates),
  :func:`describe_condition` (Chinese), :func:`condition_fields`, :func:`is_declarative`.

A case's answers over a merged form (a :class:`MergedForm` or its ``to_dict()``)
- :func:`check_answers` → :class:`CheckedAnswers` (the answers to store, the field errors): the one check when
  opening or correcting a case;
- :func:`items_that_apply`, :func:`item_applies`, :func:`fields_asked`, :func:`answers_that_apply`,
  :func:`materials_required`.

Values
- :func:`validate_form`: field path → Chinese messages with an example; :func:`example_of`, :func:`type_message`;
- the hall's formats (``citizen-id``, ``hk-macao-permit``, ``taiwan-permit``, ``passport-cn``, ``passport``,
  ``uscc``, ``mobile-cn``, ``date``, ``ethnicity``) and the applicant's document types :data:`ID_TYPES` with
  :func:`id_number_message`; :data:`ETHNICITIES` (GB/T 3304).
"""

from .conditions import (
    check_condition,
    condition_expression,
    condition_fields,
    condition_holds,
    condition_schema,
    describe_condition,
    is_declarative,
)
from .errors import Conflict, FragmentConflict, FragmentError
from .formats import (
    DEFAULT_ID_TYPE,
    ETHNICITIES,
    FORMAT_CHECKER,
    ID_TYPES,
    id_number_message,
    is_valid_citizen_id,
    is_valid_date,
    is_valid_mobile,
    is_valid_uscc,
)
from .fragments import check_fragment
from .logic import answers_that_apply, fields_asked, item_applies, items_that_apply, materials_required
from .merge import MergedForm, merge_fragments
from .validation import CheckedAnswers, check_answers, example_of, type_message, validate_form

__all__ = [
    "DEFAULT_ID_TYPE",
    "ETHNICITIES",
    "FORMAT_CHECKER",
    "ID_TYPES",
    "CheckedAnswers",
    "Conflict",
    "FragmentConflict",
    "FragmentError",
    "MergedForm",
    "answers_that_apply",
    "check_answers",
    "check_condition",
    "check_fragment",
    "condition_expression",
    "condition_fields",
    "condition_holds",
    "condition_schema",
    "describe_condition",
    "example_of",
    "fields_asked",
    "id_number_message",
    "is_declarative",
    "is_valid_citizen_id",
    "is_valid_date",
    "is_valid_mobile",
    "is_valid_uscc",
    "item_applies",
    "items_that_apply",
    "materials_required",
    "merge_fragments",
    "type_message",
    "validate_form",
]
