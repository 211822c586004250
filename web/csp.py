"""Content-Security-Policy on every response (docs/security.md → "Content-Security-Policy").

Scripts only from this site's own files (no inline script anywhere: the screens' app.js, diagram.js and the
vendored bpmn-js are files, Swagger UI is served split), styles from its own files plus inline style
*attributes* (the dashboard's bar colours, and what bpmn-js sets on its SVG; an attribute cannot run script),
the one inline <style> of the 500 page by its hash, images from itself and data: URLs, nothing framed, no plugins.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from django.conf import settings

_ERROR_PAGE = Path(__file__).resolve().parent / "templates" / "500.html"


def _inline_style_hashes() -> list[str]:
    text = _ERROR_PAGE.read_text(encoding="utf-8") if _ERROR_PAGE.exists() else ""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in re.findall(r"<style>(.*?)</style>", text, re.S)
    ]


def default_policy() -> str:
    styles = " ".join(["'self'", *_inline_style_hashes()])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            f"style-src-elem {styles}",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "ONETHING_CSP", "") or default_policy()

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy != "off":
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
