"""The QR code on every notice: the public status page of its case, as an SVG ``data:`` URI for ``<img src>``."""

from __future__ import annotations

import segno


def qr_data_uri(url: str) -> str:
    # Error level M survives a crease or a stamp across the code; the quiet zone is the standard 4 modules.
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4, dark="#000")
