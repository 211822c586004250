"""Path converters: a case number in a URL is exactly 20 digits, or the URL does not match (JSON 404)."""


class CaseNumberConverter:
    regex = "[0-9]{20}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
