"""The real seal: a PAdES signature (pyHanko) over the whole PDF, and its verification.

Configuration — each read from Django settings if defined there, else the environment, else the default:

    ONETHING_SIGNING_KEY            signing private key, PEM or DER        var/signing/signing-key.pem
    ONETHING_SIGNING_CERT           its certificate, PEM; further certificates in the same file are sent
                                    along as the chain (intermediate CAs)   var/signing/signing-cert.pem
    ONETHING_SIGNING_KEY_PASSWORD   the key's password, if it is encrypted  (none)
    ONETHING_SIGNING_TRUST_ROOTS    the root CA certificate(s), PEM: the only anchors ``verify_pdf`` trusts
                                                                            var/signing/root-ca.pem
    ONETHING_SIGNING_DEPARTMENTS_DIR  each issuing department's key and certificate from the hall's CA,
                                    ``<code>-key.pem`` / ``<code>-cert.pem`` (same password)
                                                                            <cert's folder>/departments/

A licence is signed with its issuing department's certificate (``sign_pdf(..., department=code)``); a department
without one falls back to the hall's, with a warning in the log. Notices are signed by the hall. The signature is
visible: its appearance is the seal, placed where the page shows it (``SealPlacement`` from ``render``).

``manage.py make_dev_certificate`` writes a development root and signing certificate to those paths.

Level PAdES B-B: no timestamp authority (the network is closed), so the signing time is the signer's own
claim and a signature stops validating once its certificate expires; B-T/B-LTA need a TSA.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import hashlib
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .certificates import DevCertificatePaths, department_paths

logger = logging.getLogger(__name__)
SIGNATURE_FIELD = "OneThingSeal"
VALID = "有效，未被篡改"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- configuration ---------------------------------------------------------------------------------------


def _setting(name: str) -> str | None:
    return getattr(settings, name, None) or os.environ.get(name) or None


def _path(name: str, default: str) -> Path:
    value = _setting(name)
    return Path(value) if value else Path(settings.BASE_DIR) / "var" / "signing" / default


def signing_paths() -> DevCertificatePaths:
    return DevCertificatePaths(
        key=_path("ONETHING_SIGNING_KEY", "signing-key.pem"),
        cert=_path("ONETHING_SIGNING_CERT", "signing-cert.pem"),
        root=_path("ONETHING_SIGNING_TRUST_ROOTS", "root-ca.pem"),
    )


def departments_folder() -> Path:
    value = _setting("ONETHING_SIGNING_DEPARTMENTS_DIR")
    return Path(value) if value else signing_paths().cert.parent / "departments"


def signing_paths_for(department: str | None) -> DevCertificatePaths:
    """The key and certificate that sign for ``department`` (the hall's when None or when it has none)."""
    hall = signing_paths()
    if not department:
        return hall
    own = department_paths(hall, department, departments_folder())
    if own.key.exists() and own.cert.exists():
        return own
    logger.warning("no signing certificate for department %s; the hall's seal signs instead", department)
    return hall


def signing_password() -> bytes | None:
    value = _setting("ONETHING_SIGNING_KEY_PASSWORD")
    return value.encode() if value else None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"{what}不存在：{path}。开发环境请运行 manage.py make_dev_certificate；生产环境请配置 ONETHING_SIGNING_*"
        ) from None


def _sync(call):
    """pyHanko's sync API wraps asyncio.run(), which refuses to run inside an event loop (async views)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    else:
        in_loop = True
    if not in_loop:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


# --- signing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealPlacement:
    """Where the seal is on the rendered page: the visible signature's box (PDF points, origin bottom left)."""

    page: int
    box: tuple[int, int, int, int]
    signer_name: str  # the name on the seal


def _signer(department: str | None = None):
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    paths = signing_paths_for(department)
    try:
        key = load_private_key_from_pemder_data(_read(paths.key, "签名私钥"), passphrase=signing_password())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"签名私钥无法读取（{paths.key}）：密码错误或格式不对") from exc
    certs = list(load_certs_from_pemder_data(_read(paths.cert, "签名证书")))
    if not certs:
        raise ImproperlyConfigured(f"签名证书文件中没有证书：{paths.cert}")
    return signers.SimpleSigner(
        signing_cert=certs[0], signing_key=key, cert_registry=SimpleCertificateStore.from_certs(certs[1:])
    )


@functools.cache
def _seal_pdf(name: str) -> str:
    """The seal of ``name`` as a one-page PDF (the signature's appearance), written once per process."""
    from weasyprint import HTML

    from .fetcher import make_safe_url_fetcher
    from .seal import seal_data_uri

    html = (
        "<html><head><style>@page { size: 40mm 40mm; margin: 0 } body { margin: 0 }"
        " img { width: 40mm; height: 40mm; display: block }</style></head>"
        f'<body><img src="{seal_data_uri(name)}"></body></html>'
    )
    content = HTML(string=html, url_fetcher=make_safe_url_fetcher()).write_pdf()
    folder = Path(tempfile.gettempdir()) / f"onething-seals-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.pdf"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
    return str(path)


@functools.cache
def _stamp_style(name: str):
    from pyhanko import stamp

    return stamp.StaticStampStyle.from_pdf_file(_seal_pdf(name), border_width=0)


def sign_pdf(pdf: bytes, *, department: str | None = None, seal: SealPlacement | None = None) -> bytes:
    """The PDF with a certifying PAdES B-B signature appended (any later change invalidates it): by the hall, or
    by ``department`` with its own certificate. With ``seal`` the signature is visible: its widget, at the
    seal's place on the page, shows the seal."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    hall_name = getattr(settings, "ONETHING_HALL_NAME", "")
    name = (seal.signer_name if seal else "") or hall_name
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=f"{name}出具文书（电子印章）" if name else "出具文书（电子印章）",
        location=hall_name or None,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    signer = _signer(department)
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    if seal is None:
        out = _sync(lambda: signers.sign_pdf(writer, meta, signer=signer))
        return out.getvalue()
    pdf_signer = signers.PdfSigner(
        meta,
        signer,
        stamp_style=_stamp_style(name),
        new_field_spec=fields.SigFieldSpec(SIGNATURE_FIELD, on_page=seal.page, box=seal.box),
    )
    out = _sync(lambda: pdf_signer.sign_pdf(writer))
    return out.getvalue()


# --- verification ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationResult:
    valid: bool  # intact, and signed by a certificate chaining to the configured root
    intact: bool  # not one byte changed since it was signed (by whoever signed it)
    signer: str  # the signing certificate's common name ("" when unknown)
    signed_at: datetime.datetime | None  # the signer's claimed time (no timestamp authority at B-B)
    reason: str  # 有效，未被篡改 or 无效：…


def _invalid(reason: str, *, signer: str = "", signed_at=None, intact: bool = False) -> VerificationResult:
    return VerificationResult(valid=False, intact=intact, signer=signer, signed_at=signed_at, reason=f"无效：{reason}")


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


def _trust_roots():
    from pyhanko.keys import load_certs_from_pemder_data

    path = signing_paths().root
    roots = list(load_certs_from_pemder_data(_read(path, "根证书")))
    if not roots:
        raise ImproperlyConfigured(f"根证书文件中没有证书：{path}")
    return roots


def verify_pdf(pdf: bytes) -> VerificationResult:
    """Is this exactly a PDF we signed? Trusts only the configured root(s); no network access."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = _trust_roots()
    try:
        signatures = PdfFileReader(BytesIO(pdf)).embedded_signatures
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
    return VerificationResult(valid=True, intact=True, signer=signer, signed_at=signed_at, reason=VALID)
