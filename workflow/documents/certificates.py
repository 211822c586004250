"""Development certificates: a root CA and a signing certificate issued by it, for the hall's name.

Production configures a real key and certificate (see ``signing.py``); these exist so that a fresh checkout,
CI and tests sign and verify notices end to end. Both carry the organisational unit ``DEV_MARKER`` so that
nobody mistakes them for the real seal, and so that ``make_dev_certificate --force`` can refuse to overwrite
anything that is not a development certificate.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEV_MARKER = "开发测试用，非正式印章"
ROOT_YEARS = 10
SIGNING_YEARS = 3


@dataclass(frozen=True)
class DevCertificatePaths:
    key: Path  # the signing key (PEM, PKCS#8, encrypted when a password is given)
    cert: Path  # the signing certificate (PEM)
    root: Path  # the root CA certificate, the only trust anchor of verify_pdf (PEM)


def _name(hall_name: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, hall_name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_MARKER),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def is_dev_certificate(pem: bytes) -> bool:
    cert = x509.load_pem_x509_certificate(pem)
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return any(unit.value == DEV_MARKER for unit in units)


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # Keys are created 0600 from the start rather than chmod-ed after being written world-readable.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def department_paths(paths: DevCertificatePaths, code: str, folder: Path | None = None) -> DevCertificatePaths:
    """Where a department's signing key and certificate live: ``<folder>/<code>-key.pem`` and ``-cert.pem``
    (folder: ``departments/`` beside the hall's certificate), chaining to the same root."""
    folder = folder or paths.cert.parent / "departments"
    return DevCertificatePaths(key=folder / f"{code}-key.pem", cert=folder / f"{code}-cert.pem", root=paths.root)


def root_key_path(paths: DevCertificatePaths) -> Path:
    """The development root's private key, kept (0600) so that departments added later get certificates too."""
    return paths.root.with_name("root-ca-key.pem")


def _leaf(root_key, root_name: x509.Name, subject: x509.Name, start: datetime.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * SIGNING_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: the key usage of a seal
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return key, cert


def _write_leaf(target: DevCertificatePaths, key, cert, password: bytes | None) -> None:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    _write(
        target.key,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption),
        secret=True,
    )
    _write(target.cert, cert.public_bytes(serialization.Encoding.PEM))


def create_department_certificates(
    paths: DevCertificatePaths,
    departments: dict[str, str],
    *,
    hall_name: str,
    password: bytes | None = None,
    folder: Path | None = None,
    now: datetime.datetime | None = None,
) -> list[str]:
    """A signing key + certificate per department (``{code: name}``) that has none yet, issued by the kept
    development root. Returns the codes written; none when the root's key is not kept (regenerate with --force)."""
    key_path = root_key_path(paths)
    if not key_path.exists() or not paths.root.exists():
        return []
    root_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    root = x509.load_pem_x509_certificate(paths.root.read_bytes())
    start = (now or datetime.datetime.now(tz=datetime.UTC)) - datetime.timedelta(days=1)
    written = []
    for code, name in sorted(departments.items()):
        target = department_paths(paths, code, folder)
        if target.cert.exists() and target.key.exists():
            continue
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, hall_name),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEV_MARKER),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name}电子印章"),
            ]
        )
        key, cert = _leaf(root_key, root.subject, subject, start)
        _write_leaf(target, key, cert, password)
        written.append(code)
    return written


def create_dev_certificates(
    paths: DevCertificatePaths,
    *,
    hall_name: str,
    password: bytes | None = None,
    now: datetime.datetime | None = None,
    departments: dict[str, str] | None = None,
    departments_folder: Path | None = None,
) -> None:
    """Write a fresh root CA and signing key + certificate (EC P-256, SHA-256) to ``paths``, and one per
    department in ``departments`` ({code: name}): each department signs its own licences."""
    now = now or datetime.datetime.now(tz=datetime.UTC)
    start = now - datetime.timedelta(days=1)  # tolerate clocks a little behind

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(hall_name, f"{hall_name}开发测试根证书")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    key, cert = _leaf(root_key, root_name, _name(hall_name, f"{hall_name}电子印章"), start)
    _write_leaf(paths, key, cert, password)
    _write(paths.root, root.public_bytes(serialization.Encoding.PEM))
    # Development only: the root's key is kept so that departments added later get their certificates.
    _write(
        root_key_path(paths),
        root_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        secret=True,
    )
    for target in (departments_folder or paths.cert.parent / "departments").glob("*-cert.pem"):
        target.unlink()  # issued by the previous root: they would no longer verify
    create_department_certificates(
        paths, departments or {}, hall_name=hall_name, password=password, folder=departments_folder, now=now
    )
