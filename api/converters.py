"""Path converters: a case number in a URL is exactly 20 digits, or the URL does not match (JSON 404)."""

from workflow.labels import CASE_NO_PATTERN


class CaseNumberConverter:
    regex = CASE_NO_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
