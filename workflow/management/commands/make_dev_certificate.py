from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workflow.documents.certificates import create_dev_certificates, is_dev_certificate
from workflow.documents.signing import signing_password, signing_paths


class Command(BaseCommand):
    help = (
        "生成开发测试用的根证书与签名证书（电子印章），写到 ONETHING_SIGNING_KEY / _CERT / _TRUST_ROOTS 指向的路径"
        "（默认 var/signing/）。已存在则不改动；--force 重新生成（只覆盖开发证书）。"
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="重新生成（旧证书签署的文书将无法再验证）")
        parser.add_argument("--hall-name", default=None, help="证书主题中的大厅名称（默认 ONETHING_HALL_NAME）")

    def handle(self, *args, force, hall_name, **options):
        paths = signing_paths()
        files = (paths.key, paths.cert, paths.root)
        existing = [path for path in files if path.exists()]
        if existing and not force:
            if len(existing) == len(files):
                self.stdout.write(f"签名证书已存在，未改动：{paths.cert}")
                return
            raise CommandError(
                "部分文件已存在：" + "、".join(map(str, existing)) + "。确认它们不是正式证书后用 --force 重新生成"
            )
        for path in (paths.cert, paths.root):
            if path.exists() and not is_dev_certificate(path.read_bytes()):
                raise CommandError(f"{path} 不是开发证书，拒绝覆盖")
        hall_name = hall_name or getattr(settings, "ONETHING_HALL_NAME", "") or "政务服务中心"
        create_dev_certificates(paths, hall_name=hall_name, password=signing_password())
        self.stdout.write(f"已生成开发用签名证书（{hall_name}）：")
        for label, path in (("私钥", paths.key), ("证书", paths.cert), ("根证书", paths.root)):
            self.stdout.write(f"  {label}：{path}")
