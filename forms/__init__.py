"""Forms: item fragments merged into one form with field provenance, and validation with Chinese errors.

Pure Python, no Django. The public API:

- :func:`merge_fragments` → :class:`MergedForm` (schema, provenance, merged materials, 减材料 report, UI hints);
  raises :class:`FragmentError` (malformed) or :class:`FragmentConflict` (incompatible, ``.conflicts``);
- :func:`check_fragment`: the problems of one fragment, for editing a catalogue item;
- :func:`validate_form`: field path → Chinese messages;
- the hall's formats (``citizen-id``, ``uscc``, ``mobile-cn``, ``date``): :func:`is_valid_citizen_id`,
  :func:`is_valid_uscc`, :func:`is_valid_mobile`, :func:`is_valid_date`.
"""

from .errors import Conflict, FragmentConflict, FragmentError
from .formats import FORMAT_CHECKER, is_valid_citizen_id, is_valid_date, is_valid_mobile, is_valid_uscc
from .fragments import check_fragment
from .merge import MergedForm, merge_fragments
from .validation import validate_form

__all__ = [
    "FORMAT_CHECKER",
    "Conflict",
    "FragmentConflict",
    "FragmentError",
    "MergedForm",
    "check_fragment",
    "is_valid_citizen_id",
    "is_valid_date",
    "is_valid_mobile",
    "is_valid_uscc",
    "merge_fragments",
    "validate_form",
]
