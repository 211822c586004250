"""Sample files for the upload tests, made here (no binary fixtures): each allowed type, and impostors."""

from __future__ import annotations

import io
import time
import zipfile

OFD_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD">'
    "<ofd:DocBody><ofd:DocInfo><ofd:DocID>0</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
    "</ofd:DocBody></ofd:OFD>"
)


# Pillow stamps PDFs with the time of saving; a fixed date keeps the same sample the same bytes.
_PDF_DATES = {
    "creationDate": time.strptime("2026-01-01", "%Y-%m-%d"),
    "modDate": time.strptime("2026-01-01", "%Y-%m-%d"),
}


def image(fmt: str, size=(64, 48), colour="steelblue") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt, **(_PDF_DATES if fmt == "PDF" else {}))
    return buffer.getvalue()


def pdf() -> bytes:
    return image("PDF")


def png(colour="steelblue") -> bytes:
    return image("PNG", colour=colour)


def jpeg() -> bytes:
    return image("JPEG")


def ofd() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", OFD_XML)
        archive.writestr("Doc_0/Document.xml", '<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>')
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not an OFD")
    return buffer.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'
SCRIPT = b"#!/bin/sh\nrm -rf /\n"
TEXT = "这不是 PDF 文件".encode()
PDF_THEN_HTML = b"%PDF-1.7\n<html><body><script>alert(1)</script></body></html>\nstartxref\n0\n%%EOF\n"
PDF_HEADER_ONLY = b"%PDF-1.4\n<html><script>alert(1)</script></html>"

IMPOSTORS = {
    "exe": EXE,
    "html": HTML,
    "svg": SVG,
    "script": SCRIPT,
    "text": TEXT,
    "pdf-header-then-html": PDF_THEN_HTML,
    "pdf-header-without-trailer": PDF_HEADER_ONLY,
    "zip-without-ofd-xml": plain_zip(),
    "truncated-png": png()[:60],
    "empty": b"",
}
