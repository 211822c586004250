"""Query codes (查询码): shown once to the applicant, stored only as a keyed digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from django.conf import settings

# No 0/O, 1/I/L: the code is read off paper and typed on a phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8  # 31^8 ≈ 8.5e11; with per-IP and per-case throttles guessing is hopeless


def _key() -> bytes:
    return hashlib.sha256(b"onething.query-code:" + settings.SECRET_KEY.encode()).digest()


def normalise(code: str) -> str:
    """As typed → as issued: full-width forms to ASCII (NFKC), upper case, whitespace and hyphens dropped."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", code).upper() if not ch.isspace() and ch != "-")


def new_query_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def digest(code: str) -> str:
    return hmac.new(_key(), normalise(code).encode(), hashlib.sha256).hexdigest()


def matches(code: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(code), stored_digest)


# Compared against when the case number is unknown, so both answers cost the same.
DUMMY_DIGEST = "0" * 64
