"""Forms: JSON Schema validation with Chinese field errors. Pure Python, no Django."""

from .validation import validate_form

__all__ = ["validate_form"]
