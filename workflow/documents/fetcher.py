"""The only way a notice being rendered may read anything: ``data:`` URIs and files under ``assets/``.

WeasyPrint fetches every URL a document names — images, stylesheets, fonts, and ``<link rel="attachment">``,
which embeds the fetched bytes in the PDF. With WeasyPrint's default fetcher,
``<link rel="attachment" href="file:///etc/passwd">`` puts the server's passwd file into the notice, and
``http://169.254.169.254/`` reaches the cloud metadata service. Templates autoescape user data, so such markup
should never reach WeasyPrint; this fetcher is the second wall for when it does: everything else raises, and
WeasyPrint then leaves the resource out (with a warning in its log).
"""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

ASSETS_DIR = (Path(__file__).parent / "assets").resolve()


class BlockedURL(ValueError):
    """A URL the notice renderer refuses to fetch."""


def _asset_path(url: str) -> Path:
    """The file a ``file:`` URL names, if it lies inside ASSETS_DIR; BlockedURL otherwise."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise BlockedURL(f"blocked URL (remote file host): {url}")
    path = Path(unquote(parts.path)).resolve()  # resolves ``..`` and symlinks before the check
    if not path.is_relative_to(ASSETS_DIR) or not path.is_file():
        raise BlockedURL(f"blocked URL (outside the notice assets): {url}")
    return path


@functools.cache
def safe_url_fetcher_class() -> type:
    """``SafeURLFetcher``, built on first use: it subclasses WeasyPrint's, and importing weasyprint costs ~1 s."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeURLFetcher(URLFetcher):
        """``data:`` URIs and files under ASSETS_DIR only: no network, no redirects, no other files."""

        def __init__(self):
            # allowed_protocols and allow_redirects guard the parent's fetch(), which serves the data: URIs.
            super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=3)

        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = _asset_path(url)
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
            raise BlockedURL(f"blocked URL (scheme {scheme or 'none'!r}): {url}")

    return SafeURLFetcher


def make_safe_url_fetcher():
    """A new ``SafeURLFetcher`` for one render."""
    return safe_url_fetcher_class()()
