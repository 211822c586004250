"""The signature is the seal: valid and unchanged for the original; invalid for any changed byte or foreign key."""

import datetime
import hashlib
import random
import re
import subprocess
from io import BytesIO

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.documents.conftest import CONTEXTS, HALL
from workflow.documents import DocumentKind, issue_pdf, sha256_hex, sign_pdf, verify_pdf
from workflow.documents.certificates import DevCertificatePaths, create_dev_certificates

VALID = "有效，未被篡改"


@pytest.fixture(scope="module")
def unsigned(rendered):
    return rendered[DocumentKind.ACCEPTANCE_RECEIPT].read_bytes()


@pytest.fixture
def signed(signing_settings, unsigned):
    return sign_pdf(unsigned)


def flip(data: bytes, index: int, value: int | None = None) -> bytes:
    changed = bytearray(data)
    changed[index] = value if value is not None else changed[index] ^ 0x01
    return bytes(changed)


def byte_range(data: bytes) -> list[int]:
    return [int(x) for x in re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", data).groups()]


def test_the_original_is_valid_and_unchanged(signed, unsigned):
    result = verify_pdf(signed)
    assert result.valid and result.intact
    assert result.reason == VALID
    assert HALL in result.signer
    assert result.signed_at is not None and result.signed_at.tzinfo is not None
    assert abs(result.signed_at - datetime.datetime.now(tz=datetime.UTC)) < datetime.timedelta(minutes=5)
    assert signed.startswith(unsigned)  # an incremental update: the rendered bytes are kept as they were
    assert byte_range(signed)[0] == 0 and sum(byte_range(signed)[2:]) == len(signed)  # it covers the whole file


def test_poppler_agrees_that_the_signature_is_valid(signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature Validation: Signature is Valid." in report
    assert "ETSI.CAdES.detached" in report  # PAdES
    assert "Total document signed" in report


def test_one_changed_byte_anywhere_makes_it_invalid(signed):
    _, end1, start2, _ = byte_range(signed)
    gap = range(end1, start2)  # the /Contents hex string that holds the signature itself
    positions = {0, 1, 100, len(signed) // 2, len(signed) - 1, len(signed) - 20, end1 - 1, start2}
    positions |= {end1, end1 + 1, end1 + 50, start2 - 1, start2 - 2, start2 - 100}  # inside the signature
    positions |= set(random.Random(20250304).sample(range(len(signed)), 60))
    accepted = [i for i in sorted(positions) if verify_pdf(flip(signed, i)).valid]
    assert accepted == []
    # The two changes a CMS parser cannot see: the zero padding after the signature, and a hex digit's case.
    padding = start2 - 3
    assert signed[padding : padding + 1] == b"0"
    result = verify_pdf(flip(signed, padding, ord("1")))
    assert not result.valid and not result.intact and result.reason.startswith("无效：")
    letter = next(i for i in gap if chr(signed[i]) in "ABCDEF")
    result = verify_pdf(flip(signed, letter, ord(chr(signed[letter]).lower())))
    assert not result.valid and not result.intact


def test_a_changed_byte_in_the_signed_content_says_it_was_modified(signed):
    result = verify_pdf(flip(signed, len(signed) // 3))
    assert not result.valid and not result.intact
    assert result.reason.startswith("无效：")


def test_appending_an_update_after_signing_is_invalid(signed):
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root[NameObject("/Lang")] = TextStringObject("en")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue())
    assert not result.valid
    assert result.reason == "无效：签名后文件被追加修改"


def test_a_pdf_signed_by_another_key_is_invalid(settings, unsigned, signing_settings, tmp_path):
    # Same hall name, same kind of certificate — but not issued by the configured root.
    other = DevCertificatePaths(key=tmp_path / "k.pem", cert=tmp_path / "c.pem", root=tmp_path / "r.pem")
    create_dev_certificates(other, hall_name=HALL)
    settings.ONETHING_SIGNING_KEY = str(other.key)
    settings.ONETHING_SIGNING_CERT = str(other.cert)
    forged = sign_pdf(unsigned)
    settings.ONETHING_SIGNING_KEY = str(signing_settings.key)
    settings.ONETHING_SIGNING_CERT = str(signing_settings.cert)

    result = verify_pdf(forged)
    assert not result.valid
    assert result.intact  # unchanged since the forger signed it — which is not the point
    assert result.reason == "无效：签名证书不是本大厅受信任的证书"
    assert HALL in result.signer


def test_unsigned_and_damaged_files_are_invalid(signing_settings, unsigned):
    assert verify_pdf(unsigned).reason == "无效：文件中没有电子签名"
    assert verify_pdf(b"not a pdf at all").reason == "无效：文件已损坏或不是 PDF"
    assert verify_pdf(b"").valid is False


def test_an_encrypted_key_needs_its_password(settings, unsigned, tmp_path):
    paths = DevCertificatePaths(key=tmp_path / "k.pem", cert=tmp_path / "c.pem", root=tmp_path / "r.pem")
    create_dev_certificates(paths, hall_name=HALL, password=b"s3cret")
    assert b"ENCRYPTED" in paths.key.read_bytes()
    settings.ONETHING_SIGNING_KEY = str(paths.key)
    settings.ONETHING_SIGNING_CERT = str(paths.cert)
    settings.ONETHING_SIGNING_TRUST_ROOTS = str(paths.root)
    settings.ONETHING_SIGNING_KEY_PASSWORD = "wrong"
    with pytest.raises(ImproperlyConfigured, match="签名私钥无法读取"):
        sign_pdf(unsigned)
    settings.ONETHING_SIGNING_KEY_PASSWORD = "s3cret"
    assert verify_pdf(sign_pdf(unsigned)).valid


def test_missing_configuration_says_how_to_fix_it(settings, unsigned, tmp_path):
    settings.ONETHING_SIGNING_KEY = str(tmp_path / "nothing.pem")
    with pytest.raises(ImproperlyConfigured, match="make_dev_certificate"):
        sign_pdf(unsigned)
    settings.ONETHING_SIGNING_TRUST_ROOTS = str(tmp_path / "nothing.pem")
    with pytest.raises(ImproperlyConfigured, match="make_dev_certificate"):
        verify_pdf(unsigned)


def test_issue_pdf_renders_signs_and_hashes(signing_settings):
    issued = issue_pdf(DocumentKind.CONCLUSION_NOTICE, CONTEXTS[DocumentKind.CONCLUSION_NOTICE])
    assert issued.sha256 == hashlib.sha256(issued.content).hexdigest() == sha256_hex(issued.content)
    assert issued.filename == "办结通知书.pdf"
    assert verify_pdf(issued.content).valid


def test_signing_and_verifying_work_inside_an_event_loop(signed, unsigned):
    """pyHanko's sync API calls asyncio.run(); from an async view that would raise without the thread hop."""
    import asyncio
    import threading

    async def in_a_view():
        return verify_pdf(signed).valid, verify_pdf(sign_pdf(unsigned)).valid

    # A thread of its own, as an async server's would be: the test process's main thread may already hold
    # an event loop (the browser tests' Playwright keeps one).
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("valid", asyncio.run(in_a_view())))
    thread.start()
    thread.join(timeout=60)
    assert outcome["valid"] == (True, True)
