"""The fonts notices are set in, and a check that they have a glyph for every character of a text.

WenQuanYi Micro Hei covers GB2312/GBK but not CJK Extension A, so a rare name character such as 䶮 would
print as a blank box; WenQuanYi Zen Hei is the fallback with Extension A. Neither covers Extension B, which real
names use (e.g. 𠮷 U+20BB7): HanaMinB (Hanazono Mincho B, Debian's fonts-hanazono) is the last fallback, for
Extensions B–F (a Mincho face, used only for the characters the Hei faces lack). Emoji are not covered.
``pdftotext`` is no proof either way: it extracts the right text even when every
glyph rendered as a box, so tests ask the fonts' cmaps instead (``missing_glyphs``).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# The order is the CSS fallback order (assets/notice.css says the same).
FONT_FAMILIES: tuple[str, ...] = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "HanaMinB")

# Debian's fonts-wqy-microhei and fonts-wqy-zenhei: used when fontconfig cannot be asked.
_KNOWN_FILES = {
    "WenQuanYi Micro Hei": ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    "WenQuanYi Zen Hei": ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    "HanaMinB": ("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", 0),
}

# Characters that are never drawn, so no font needs a glyph for them.
_NOT_DRAWN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


@dataclass(frozen=True)
class FontFace:
    family: str
    path: Path
    index: int  # the face inside a .ttc collection


def _fc_match(family: str) -> FontFace | None:
    if shutil.which("fc-match") is None:
        return None
    out = subprocess.run(
        ["fc-match", "--format=%{family}|%{file}|%{index}", family],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout
    names, _, rest = out.partition("|")
    file, _, index = rest.partition("|")
    # fc-match always answers, with a substitute (DejaVu) when the family is not installed.
    if family.casefold() not in (name.strip().casefold() for name in names.split(",")) or not file:
        return None
    return FontFace(family, Path(file), int(index or 0))


@functools.cache
def font_faces() -> tuple[FontFace, ...]:
    """The installed files of ``FONT_FAMILIES``; ImproperlyConfigured if one is missing."""
    faces = []
    for family in FONT_FAMILIES:
        face = _fc_match(family)
        if face is None and family in _KNOWN_FILES and Path(_KNOWN_FILES[family][0]).is_file():
            path, index = _KNOWN_FILES[family]
            face = FontFace(family, Path(path), index)
        if face is None:
            raise ImproperlyConfigured(
                f"字体 {family!r} 未安装：请安装 Debian 包 fonts-wqy-microhei、fonts-wqy-zenhei 与 fonts-hanazono"
            )
        faces.append(face)
    return tuple(faces)


@functools.cache
def covered_code_points() -> frozenset[int]:
    """The union of the cmaps of the configured fonts (read once per process, ~0.3 s)."""
    from fontTools.ttLib import TTFont

    covered: set[int] = set()
    for face in font_faces():
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        try:
            covered.update(font.getBestCmap() or {})
        finally:
            font.close()
    return frozenset(covered)


def missing_glyphs(text: str) -> set[str]:
    """The characters of ``text`` that no configured font can draw (they would print as blank boxes)."""
    covered = covered_code_points()
    return {
        ch
        for ch in set(text)
        if ord(ch) not in covered and not ch.isspace() and unicodedata.category(ch) not in _NOT_DRAWN_CATEGORIES
    }
