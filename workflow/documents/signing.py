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

from . import pdfcheck
from .certificates import DevCertificatePaths, department_paths

logger = logging.getLogger(__name__)
SIGNATURE_FIELD = "OneThingSeal"
VALID = pdfcheck.VALID


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


def _trust_roots():
    from pyhanko.keys import load_certs_from_pemder_data

    path = signing_paths().root
    roots = list(load_certs_from_pemder_data(_read(path, "根证书")))
    if not roots:
        raise ImproperlyConfigured(f"根证书文件中没有证书：{path}")
    return roots


def verify_pdf(pdf: bytes) -> VerificationResult:
    """Is this exactly a PDF we signed? Trusts only the configured root(s); no network access.

    In-process and unbounded: for files this system issued or a trusted caller holds. A file from anyone goes
    through ``verify_pdf_bounded``."""
    return _result(pdfcheck.check(pdf, _trust_roots()))


def verify_limits() -> pdfcheck.Limits:
    """The bounds of ``verify_pdf_bounded`` from the ONETHING_VERIFY_* settings (docs/configuration.md)."""
    return pdfcheck.Limits(
        max_bytes=settings.ONETHING_VERIFY_MAX_BYTES,
        max_objects=settings.ONETHING_VERIFY_MAX_OBJECTS,
        max_references=settings.ONETHING_VERIFY_MAX_REFERENCES,
        cpu_seconds=settings.ONETHING_VERIFY_CPU_SECONDS,
        memory_bytes=settings.ONETHING_VERIFY_MEMORY_MB * 1024 * 1024,
        wall_seconds=settings.ONETHING_VERIFY_WALL_SECONDS,
    )


def verify_pdf_bounded(pdf: bytes) -> VerificationResult:
    """``verify_pdf`` for a file from anyone: screened before parsing, then checked in a child process with
    hard CPU, memory and time limits (pdfcheck.py). Raises ``pdfcheck.TooComplex`` when refused."""
    _trust_roots()  # a missing root is a configuration error here, not a refused file
    result = pdfcheck.run_isolated(pdf, str(signing_paths().root), verify_limits())
    if result["signed_at"] is not None:
        result["signed_at"] = datetime.datetime.fromisoformat(result["signed_at"])
    return _result(result)


def _result(fields: dict) -> VerificationResult:
    return VerificationResult(**fields)
