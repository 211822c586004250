import logging
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from workflow.documents import sha256_hex, verify_pdf


class Command(BaseCommand):
    help = "核验一份下载的文书 PDF：打印“有效，未被篡改”（退出码 0）或“无效：原因”（退出码 1）。"
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="PDF 文件")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}：文件不存在")
        data = path.read_bytes()
        # pyHanko logs a traceback for every certificate it cannot trust; the one-line reason below says it.
        logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
        result = verify_pdf(data)
        self.stdout.write(result.reason)
        if result.signer:
            self.stdout.write(f"{'签名人' if result.valid else '声称的签名人'}：{result.signer}")
        if result.signed_at:
            self.stdout.write(f"签名时间（签名人自报）：{timezone.localtime(result.signed_at):%Y-%m-%d %H:%M:%S %Z}")
        self.stdout.write(f"SHA-256：{sha256_hex(data)}")
        if not result.valid:
            sys.exit(1)
