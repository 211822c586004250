"""Checking a PDF's seal, bounded: a cheap screen before parsing, then the parse in a child process with limits.

Anyone may post a PDF to be verified, and pyHanko's parser and validator can be made to spend seconds of CPU
and gigabytes of memory on a crafted file (a field list repeating one reference 1.7 million times costs ~13 s).
So (docs/security.md → "Document verification"):

1. ``screen(pdf, limits)`` refuses, before any parsing, a file above ``max_bytes`` or one that shows more than
   ``max_objects`` ``N G obj`` headers or more than ``max_references`` ``N G R`` references. The hall's own
   notices have about 20 objects and 15 references.
2. ``run_isolated(pdf, roots_path, limits)`` runs ``check(pdf, roots)`` in a fresh Python process
   (this file, run as a script) that first lowers its own priority (nice 19) and sets hard limits:
   RLIMIT_CPU ``cpu_seconds``, RLIMIT_AS ``memory_bytes``; the parent also kills it after ``wall_seconds``.
   Content hidden in compressed object streams passes the screen; the limits stop it.

This module imports neither Django nor anything of this project, so that the child starts in ~0.4 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass

VALID = "有效，未被篡改"
TOO_COMPLEX = "文件过于复杂，超出核验的资源限制"

_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_REFERENCE = re.compile(rb"\d+\s+\d+\s+R\b")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_objects: int = 5000
    max_references: int = 20000
    cpu_seconds: int = 5
    memory_bytes: int = 768 * 1024 * 1024
    wall_seconds: float = 15.0


class TooComplex(Exception):
    """The file is refused unparsed, or its check ran out of CPU time, memory or wall time."""


def screen(pdf: bytes, limits: Limits) -> None:
    """Raise TooComplex for a file too large or with too many objects or references to be parsed."""
    if len(pdf) > limits.max_bytes:
        raise TooComplex(f"文件超过 {limits.max_bytes // (1024 * 1024)} MB")
    for count, _ in enumerate(_OBJECT.finditer(pdf), start=1):
        if count > limits.max_objects:
            raise TooComplex(f"文件中的对象超过 {limits.max_objects} 个")
    for count, _ in enumerate(_REFERENCE.finditer(pdf), start=1):
        if count > limits.max_references:
            raise TooComplex(f"文件中的引用超过 {limits.max_references} 个")


# --- the check itself (runs in the child, or in-process for trusted callers) ------------------------------


def _invalid(reason: str, *, signer: str = "", signed_at=None, intact: bool = False) -> dict:
    return {"valid": False, "intact": intact, "signer": signer, "signed_at": signed_at, "reason": f"无效：{reason}"}


def _der_length(data: bytes) -> int:
    """Length of the DER SEQUENCE at the start of ``data`` (the CMS object inside /Contents)."""
    if len(data) < 2 or data[0] != 0x30:
        raise ValueError("not a DER sequence")
    if data[1] < 0x80:
        return 2 + data[1]
    count = data[1] & 0x7F
    if not 0 < count <= 4:
        raise ValueError("unsupported DER length")
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def _contents_untouched(pdf: bytes, embedded) -> bool:
    """The one region the signature cannot cover is /Contents, the hex string holding the signature itself.

    A CMS parser ignores bytes after the signature and ``<ab>`` reads the same as ``<AB>``, so a byte changed
    there would go unnoticed. Demand the exact form the signer writes: ``<`` + hex of the DER + zero padding
    + ``>``, in one letter case.
    """
    _, end1, start2, _ = (int(x) for x in embedded.byte_range)
    raw = pdf[end1:start2]
    contents = embedded.pkcs7_content
    der_length = _der_length(contents)
    if any(contents[der_length:]):
        return False
    expected = contents.hex().encode()
    return raw in (b"<" + expected + b">", b"<" + expected.upper() + b">")


def _sync(call):
    """pyHanko's sync API wraps asyncio.run(), which refuses to run inside an event loop (async views)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def check(pdf: bytes, roots: list) -> dict:
    """Is this exactly a PDF signed under one of ``roots``? A dict of VerificationResult's fields
    (``signed_at`` a datetime or None). No network access."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(BytesIO(pdf)).embedded_signatures
    except MemoryError:
        raise
    except Exception:  # a damaged file can fail anywhere in the parser
        return _invalid("文件已损坏或不是 PDF")
    if not signatures:
        return _invalid("文件中没有电子签名")
    if len(signatures) > 1:
        return _invalid("文件中有多个签名（签名后又被签署或修改）")
    embedded = signatures[0]
    try:
        signer = embedded.signer_cert.subject.native.get("common_name", "")
        untouched = _contents_untouched(pdf, embedded)
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        status = _sync(lambda: validate_pdf_signature(embedded, context))
    except MemoryError:
        raise
    except Exception:  # a damaged signature can fail anywhere in the CMS and certificate code
        return _invalid("签名数据已损坏")
    signed_at = status.signer_reported_dt
    # Without a valid signature value the digest it vouches for proves nothing, so neither is "intact".
    intact = bool(
        untouched and status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    )
    if not untouched:
        return _invalid("签名数据区已被改动", signer=signer, signed_at=signed_at)
    if not status.intact:
        return _invalid("签名后文件内容已被改动", signer=signer, signed_at=signed_at)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return _invalid("签名后文件被追加修改", signer=signer, signed_at=signed_at)
    if not status.valid:
        return _invalid("签名值校验失败", signer=signer, signed_at=signed_at, intact=intact)
    if not status.trusted:
        return _invalid("签名证书不是本大厅受信任的证书", signer=signer, signed_at=signed_at, intact=intact)
    if not status.bottom_line:
        return _invalid("签名不符合文书的修改限制", signer=signer, signed_at=signed_at, intact=intact)
    return {"valid": True, "intact": True, "signer": signer, "signed_at": signed_at, "reason": VALID}


# --- the child process -----------------------------------------------------------------------------------


def run_isolated(pdf: bytes, roots_path: str, limits: Limits) -> dict:
    """``check`` in a child process under ``limits``; raises TooComplex when the child is stopped by them."""
    screen(pdf, limits)
    if b"%PDF-" not in pdf[:1024]:  # not a PDF at all (readers look for the header in the first 1 KB)
        return _invalid("文件已损坏或不是 PDF")
    # -P: the script's folder is not put on sys.path (its modules must not shadow anything); site-packages is.
    command = [sys.executable, "-P", os.path.abspath(__file__), json.dumps({**asdict(limits), "roots": roots_path})]
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    try:
        done = subprocess.run(
            command, input=pdf, capture_output=True, timeout=limits.wall_seconds, env=env, close_fds=True, check=False
        )
    except subprocess.TimeoutExpired:
        raise TooComplex("核验超时") from None
    if done.returncode != 0:
        # SIGXCPU/SIGKILL (CPU limit), MemoryError (address-space limit) or anything else: the file is refused.
        raise TooComplex(f"核验进程退出（{done.returncode}）")
    return json.loads(done.stdout)


def _child() -> None:
    import resource

    options = json.loads(sys.argv[1])
    os.nice(19)  # the web workers' requests come first
    cpu = int(options["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = int(options["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    pdf = sys.stdin.buffer.read()

    import warnings

    warnings.simplefilter("ignore")
    from pyhanko.keys import load_certs_from_pemder_data

    with open(options["roots"], "rb") as handle:
        roots = list(load_certs_from_pemder_data(handle.read()))
    result = check(pdf, roots)
    if result["signed_at"] is not None:
        result["signed_at"] = result["signed_at"].isoformat()
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    try:
        _child()
    except MemoryError:
        sys.exit(3)
