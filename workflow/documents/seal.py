"""The visible seal: a red round stamp drawn in code (the hall's name along the rim, a star, its purpose).

It is decoration that people expect to see. What makes a notice authentic is the PDF signature
(``signing.py``); a picture of a seal proves nothing, which is why it is generated rather than scanned.
"""

from __future__ import annotations

import base64
import functools
import math
from xml.sax.saxutils import escape

RED = "#d6000f"
PURPOSE = "政务服务专用章"
_SIZE = 200  # the SVG's user units; the stylesheet sets the printed size (42 mm, a common seal diameter)
_FONT = "'WenQuanYi Zen Hei', 'WenQuanYi Micro Hei', sans-serif"


def _star(cx: float, cy: float, outer: float) -> str:
    inner = outer * 0.382
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append(f"{cx + r * math.cos(angle):.2f},{cy + r * math.sin(angle):.2f}")
    return f'<polygon points="{" ".join(points)}" fill="{RED}"/>'


def _rim_text(text: str, *, radius: float, font_size: float) -> str:
    """Each character on the rim with its foot towards the centre, centred on the top, reading clockwise."""
    c = _SIZE / 2
    span = min(260.0, 30.0 * max(len(text) - 1, 1))  # degrees the name occupies
    step = span / max(len(text) - 1, 1)
    first = -90 - span / 2
    glyphs = []
    for i, ch in enumerate(text):
        angle = first + i * step if len(text) > 1 else -90
        x = c + radius * math.cos(math.radians(angle))
        y = c + radius * math.sin(math.radians(angle))
        glyphs.append(
            f'<text x="{x:.2f}" y="{y:.2f}" transform="rotate({angle + 90:.2f} {x:.2f} {y:.2f})" '
            f'font-size="{font_size}" text-anchor="middle">{escape(ch)}</text>'
        )
    return "".join(glyphs)


def seal_svg(hall_name: str, purpose: str = PURPOSE) -> str:
    c = _SIZE / 2
    font_size = 26 if len(hall_name) <= 10 else max(14, 260 // len(hall_name))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_SIZE} {_SIZE}" width="{_SIZE}" height="{_SIZE}">'
        f'<g fill="{RED}" font-family="{_FONT}" font-weight="bold">'
        f'<circle cx="{c}" cy="{c}" r="{c - 5}" fill="none" stroke="{RED}" stroke-width="6"/>'
        f"{_rim_text(hall_name, radius=c - 36, font_size=font_size)}"
        f"{_star(c, c, 30)}"
        f'<text x="{c}" y="{c + 52}" font-size="17" text-anchor="middle">{escape(purpose)}</text>'
        "</g></svg>"
    )


@functools.cache
def seal_data_uri(hall_name: str, purpose: str = PURPOSE) -> str:
    encoded = base64.b64encode(seal_svg(hall_name, purpose).encode()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"
