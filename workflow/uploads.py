"""What an uploaded material file really is, decided from its bytes alone (no Django here).

The client's Content-Type and the file name's extension are never believed: a script renamed ``.pdf`` or sent
as ``application/pdf`` is refused here, and the type stored and served is the one sniffed. Allowed:

- **PDF**: ``%PDF-1.x`` / ``%PDF-2.x`` at byte 0, ``startxref`` and ``%%EOF`` in the last 1 KiB, and nothing that
  looks like HTML in the first 1 KiB (where browsers sniff). Scanner PDFs with a damaged cross-reference table
  are still accepted (viewers repair them); a PDF header glued to an HTML page is not.
- **JPEG**, **PNG**: the magic bytes, then Pillow opens and verifies the image (PNG chunk CRCs, JPEG
  structure) and refuses decompression bombs. Without Pillow only the magic and the end marker are checked.
- **OFD** (GB/T 33190, China's fixed-layout e-document): a ZIP whose root holds ``OFD.xml`` with an ``OFD`` root
  element; the archive's declared sizes and entry count are bounded (no zip bombs).

Everything else (executables, HTML, SVG, plain ZIP, text, empty files) raises :class:`Rejected` with a Chinese
message naming the allowed types.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

ALLOWED_LABEL = "PDF、JPG/JPEG、PNG 或 OFD"
ACCEPT_ATTRIBUTE = ".pdf,.jpg,.jpeg,.png,.ofd,application/pdf,image/jpeg,image/png,application/ofd"

# Decoding more pixels than this is refused (a 600 dpi A3 scan is about 70 megapixels).
MAX_IMAGE_PIXELS = 100_000_000
# OFD: bounds on what the ZIP declares, checked before anything is decompressed.
MAX_OFD_ENTRIES = 10_000
MAX_OFD_UNCOMPRESSED = 512 * 1024 * 1024
MAX_OFD_ROOT_XML = 1024 * 1024

_HEAD = 1024
_TAIL = 1024
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
# What browsers look for when they sniff a body as HTML / XML / SVG (WHATWG MIME Sniffing §7.1), lower-cased.
_MARKUP = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|\?xml|object|embed|meta|style|title|a\s|img|div|table)"
)


class Rejected(Exception):
    """The content is not one of the allowed types (or is damaged); ``message`` is Chinese."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str  # with the dot, e.g. ".pdf"
    label: str  # for people: "PDF", "JPEG 图片", ...


PDF = Sniffed("application/pdf", ".pdf", "PDF")
JPEG = Sniffed("image/jpeg", ".jpg", "JPEG 图片")
PNG = Sniffed("image/png", ".png", "PNG 图片")
OFD = Sniffed("application/ofd", ".ofd", "OFD 版式文件")
ALLOWED = (PDF, JPEG, PNG, OFD)
BY_CONTENT_TYPE = {s.content_type: s for s in ALLOWED}


def not_allowed(what: str = "文件类型不允许") -> Rejected:
    return Rejected(f"{what}：只能上传 {ALLOWED_LABEL} 文件（按文件内容识别，与文件名和扩展名无关）")


def sniff(stream: BinaryIO) -> Sniffed:
    """The type of the seekable binary ``stream``, read from its content; Rejected if not allowed."""
    stream.seek(0, 2)
    size = stream.tell()
    if size == 0:
        raise Rejected(f"文件为空：请上传 {ALLOWED_LABEL} 文件")
    stream.seek(0)
    head = stream.read(_HEAD)
    if head.startswith(b"%PDF-"):
        _check_pdf(stream, head, size)
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        _check_image(stream, "JPEG", b"\xff\xd9")
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_image(stream, "PNG", b"IEND\xaeB`\x82")
        return PNG
    if head.startswith(b"PK\x03\x04"):
        _check_ofd(stream)
        return OFD
    raise not_allowed()


def normalised_name(original: str, sniffed: Sniffed, *, fallback: str = "材料") -> str:
    """The client's file name without any path, control characters or extension of its own, ending in the
    sniffed type's extension: "营业执照.exe" sniffed as PNG is stored as "营业执照.png"."""
    name = re.split(r"[\\/]", original or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    stem = name.rsplit(".", 1)[0].strip(" .") if "." in name else name
    stem = stem[:120] or fallback
    return f"{stem}{sniffed.extension}"


def _tail(stream: BinaryIO, size: int) -> bytes:
    stream.seek(max(0, size - _TAIL))
    return stream.read(_TAIL)


def _check_pdf(stream: BinaryIO, head: bytes, size: int) -> None:
    if not _PDF_HEADER.match(head):
        raise not_allowed("不是有效的 PDF 文件（文件头不正确）")
    if _MARKUP.search(head.lower()):
        raise not_allowed("不是有效的 PDF 文件（含有网页内容）")
    tail = _tail(stream, size)
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise not_allowed("不是完整的 PDF 文件（缺少文件结尾，可能已损坏或被截断）")


def _check_image(stream: BinaryIO, kind: str, end_marker: bytes) -> None:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with WeasyPrint
        stream.seek(0, 2)
        if end_marker not in _tail(stream, stream.tell()):
            raise not_allowed(f"不是完整的 {kind} 图片") from None
        return
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=[kind]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise not_allowed(f"{kind} 图片尺寸过大（超过 {MAX_IMAGE_PIXELS // 1_000_000} 百万像素）")
                image.verify()
            if kind == "JPEG":
                # verify() does not decode JPEG data: decode it at 1/8 scale (cheap) to find truncated or
                # corrupt scans.
                stream.seek(0)
                with Image.open(stream, formats=[kind]) as image:
                    image.draft("L", (max(1, width // 8), max(1, height // 8)))
                    image.load()
    except Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise not_allowed(f"{kind} 图片尺寸过大") from None
    except Exception:  # Pillow raises many kinds (SyntaxError, OSError, struct.error, ...) for a broken image
        raise not_allowed(f"不是有效的 {kind} 图片（无法解析，可能已损坏）") from None


def _check_ofd(stream: BinaryIO) -> None:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_OFD_ENTRIES or sum(e.file_size for e in entries) > MAX_OFD_UNCOMPRESSED:
                raise not_allowed("OFD 文件内容过多或过大")
            root = next((e for e in entries if e.filename == "OFD.xml"), None)
            if root is None:
                raise not_allowed("压缩包不是 OFD 文件（根目录缺少 OFD.xml）")
            if root.file_size > MAX_OFD_ROOT_XML:
                raise not_allowed("OFD 文件的 OFD.xml 过大")
            with archive.open(root) as handle:
                xml = handle.read(MAX_OFD_ROOT_XML + 1)
    except Rejected:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError):
        raise not_allowed("不是有效的 OFD 文件（压缩包已损坏）") from None
    if len(xml) > MAX_OFD_ROOT_XML or not _is_ofd_root(xml):
        raise not_allowed("不是有效的 OFD 文件（OFD.xml 不是 OFD 文档入口）")


def _is_ofd_root(xml: bytes) -> bool:
    """OFD.xml's root element is ``OFD`` (in the ofdspec namespace or none); parsed without DTDs, entities
    or network."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return False
    return etree.QName(root).localname == "OFD"
