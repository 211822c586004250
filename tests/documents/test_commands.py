"""make_dev_certificate sets signing up once; verify_document answers with a sentence and an exit code."""

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from tests.documents.conftest import HALL
from workflow.documents import DocumentKind, sign_pdf, verify_pdf
from workflow.documents.certificates import DEV_MARKER

PROJECT = Path(django_settings.BASE_DIR)


@pytest.fixture
def fresh_signing(settings, tmp_path):
    folder = tmp_path / "var" / "signing"
    settings.ONETHING_SIGNING_KEY = str(folder / "signing-key.pem")
    settings.ONETHING_SIGNING_CERT = str(folder / "signing-cert.pem")
    settings.ONETHING_SIGNING_TRUST_ROOTS = str(folder / "root-ca.pem")
    settings.ONETHING_SIGNING_KEY_PASSWORD = ""
    settings.ONETHING_HALL_NAME = HALL
    return folder


def make(*args) -> str:
    out = StringIO()
    call_command("make_dev_certificate", *args, stdout=out)
    return out.getvalue()


def test_make_dev_certificate_creates_a_working_pair_once(fresh_signing, rendered):
    assert "已生成" in make()
    files = {
        name: (fresh_signing / name).read_bytes() for name in ("signing-key.pem", "signing-cert.pem", "root-ca.pem")
    }
    assert stat.S_IMODE(os.stat(fresh_signing / "signing-key.pem").st_mode) == 0o600
    signed = sign_pdf(rendered[DocumentKind.ACCEPTANCE_RECEIPT].read_bytes())
    result = verify_pdf(signed)
    assert result.valid and result.signer == f"{HALL}电子印章"

    assert "已存在，未改动" in make()  # idempotent
    assert all((fresh_signing / name).read_bytes() == data for name, data in files.items())

    assert "已生成" in make("--force")
    assert (fresh_signing / "signing-key.pem").read_bytes() != files["signing-key.pem"]
    assert not verify_pdf(signed).valid  # a new root: what the old one signed no longer verifies


def test_the_certificate_names_the_hall_and_says_it_is_for_development(fresh_signing):
    from cryptography import x509

    make()
    cert = x509.load_pem_x509_certificate((fresh_signing / "signing-cert.pem").read_bytes())
    subject = cert.subject.rfc4514_string()
    assert f"O={HALL}" in subject and DEV_MARKER in subject


def _self_signed_pem(common_name: str) -> bytes:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, HALL), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )
    now = datetime.datetime.now(tz=datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM)


def test_make_dev_certificate_never_overwrites_a_real_certificate(fresh_signing):
    make()
    real = fresh_signing / "signing-cert.pem"
    # A certificate without the development marker stands for the real one.
    real.write_bytes(_self_signed_pem("正式印章"))
    before = real.read_bytes()
    with pytest.raises(CommandError, match="不是开发证书，拒绝覆盖"):
        make("--force")
    assert real.read_bytes() == before


def test_a_half_present_set_is_not_guessed_at(fresh_signing):
    fresh_signing.mkdir(parents=True)
    (fresh_signing / "signing-key.pem").write_text("whatever")
    with pytest.raises(CommandError, match="部分文件已存在"):
        make()


def test_verify_document_says_valid_or_invalid(signing_settings, rendered, tmp_path):
    original = tmp_path / "受理回执.pdf"
    original.write_bytes(sign_pdf(rendered[DocumentKind.ACCEPTANCE_RECEIPT].read_bytes()))
    copy = tmp_path / "copy.pdf"
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x20
    copy.write_bytes(bytes(data))

    out = StringIO()
    call_command("verify_document", str(original), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "有效，未被篡改"
    assert f"签名人：{HALL}电子印章" in lines

    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("verify_document", str(copy), stdout=out)
    assert exited.value.code == 1
    assert out.getvalue().startswith("无效：")

    with pytest.raises(CommandError, match="文件不存在"):
        call_command("verify_document", str(tmp_path / "missing.pdf"))


def test_verify_document_exit_codes_from_the_shell(signing_settings, rendered, tmp_path):
    original = tmp_path / "notice.pdf"
    original.write_bytes(sign_pdf(rendered[DocumentKind.ACCEPTANCE_RECEIPT].read_bytes()))
    copy = tmp_path / "copy.pdf"
    data = bytearray(original.read_bytes())
    data[-30] ^= 0x01
    copy.write_bytes(bytes(data))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ONETHING_SIGNING_KEY": str(signing_settings.key),
        "ONETHING_SIGNING_CERT": str(signing_settings.cert),
        "ONETHING_SIGNING_TRUST_ROOTS": str(signing_settings.root),
    }

    def verify(path):
        return subprocess.run(
            [sys.executable, "manage.py", "verify_document", str(path)],
            cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    good, bad = verify(original), verify(copy)
    assert (good.returncode, good.stdout.splitlines()[0]) == (0, "有效，未被篡改"), good.stderr
    assert bad.returncode == 1 and bad.stdout.startswith("无效："), bad.stderr
