"""The real seal: a PAdES signature (pyHanko) over the whole PDF, and its verification.

Configuration — each read from Django settings if defined there, else the environment, else the default:

    ONETHING_SIGNING_KEY            signing private key, PEM or DER        var/signing/signing-key.pem
    ONETHING_SIGNING_CERT           its certificate, PEM; further certificates in the same file are sent
                                    along as the chain (intermediate CAs)   var/signing/signing-cert.pem
    ONETHING_SIGNING_KEY_PASSWORD   the key's password, if it is encrypted  (none)
    ONETHING_SIGNING_TRUST_ROOTS    the root CA certificate(s), PEM: the only anchors ``verify_pdf`` trusts
                                                                            var/signing/root-ca.pem

``manage.py make_dev_certificate`` writes a development root and signing certificate to those paths.

Level PAdES B-B: no timestamp authority (the network is closed), so the signing time is the signer's own
claim and a signature stops validating once its certificate expires; B-T/B-LTA need a TSA.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import pdfcheck
from .certificates import DevCertificatePaths

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


def _signer():
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    paths = signing_paths()
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


def sign_pdf(pdf: bytes) -> bytes:
    """The PDF with a certifying PAdES B-B signature appended (any later change invalidates it)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    hall_name = getattr(settings, "ONETHING_HALL_NAME", "")
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=f"{hall_name}出具文书（电子印章）" if hall_name else "出具文书（电子印章）",
        location=hall_name or None,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    signer = _signer()
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    out = _sync(lambda: signers.sign_pdf(writer, meta, signer=signer))
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
