import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workflow.documents.certificates import (
    create_department_certificates,
    create_dev_certificates,
    is_dev_certificate,
    root_key_path,
)
from workflow.documents.signing import departments_folder, signing_password, signing_paths

DEMO_CATALOGUE = Path(__file__).resolve().parents[2] / "demo_data" / "catalogue.json"


def departments() -> dict[str, str]:
    """Every department that may issue licences: the demo catalogue's, and the database's when it is reachable
    (this command needs no database: it runs before migrations and in the test session's setup)."""
    found = {d["code"]: d["name"] for d in json.loads(DEMO_CATALOGUE.read_text()).get("departments", [])}
    try:
        from workflow.models import Department

        found.update(Department.objects.values_list("code", "name"))
    except Exception:  # no database yet, or not allowed here
        pass
    return found


class Command(BaseCommand):
    help = (
        "生成开发测试用的根证书与签名证书（电子印章），写到 ONETHING_SIGNING_KEY / _CERT / _TRUST_ROOTS 指向的路径"
        "（默认 var/signing/），并为每个部门签发其签发证照用的证书（departments/<编码>-cert.pem）。"
        "已存在则只补发缺少的部门证书；--force 重新生成（只覆盖开发证书）。"
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="重新生成（旧证书签署的文书将无法再验证）")
        parser.add_argument("--hall-name", default=None, help="证书主题中的大厅名称（默认 ONETHING_HALL_NAME）")

    def handle(self, *args, force, hall_name, **options):
        paths = signing_paths()
        files = (paths.key, paths.cert, paths.root)
        existing = [path for path in files if path.exists()]
        hall_name = hall_name or getattr(settings, "ONETHING_HALL_NAME", "") or "政务服务中心"
        if existing and not force:
            if len(existing) == len(files):
                self.stdout.write(f"签名证书已存在，未改动：{paths.cert}")
                added = create_department_certificates(
                    paths,
                    departments(),
                    hall_name=hall_name,
                    password=signing_password(),
                    folder=departments_folder(),
                )
                if added:
                    self.stdout.write("已补发部门证书：" + "、".join(added))
                elif not root_key_path(paths).exists():
                    self.stdout.write("未保存开发根证书私钥，无法补发部门证书；需要时用 --force 重新生成")
                return
            raise CommandError(
                "部分文件已存在：" + "、".join(map(str, existing)) + "。确认它们不是正式证书后用 --force 重新生成"
            )
        for path in (paths.cert, paths.root):
            if path.exists() and not is_dev_certificate(path.read_bytes()):
                raise CommandError(f"{path} 不是开发证书，拒绝覆盖")
        create_dev_certificates(
            paths,
            hall_name=hall_name,
            password=signing_password(),
            departments=departments(),
            departments_folder=departments_folder(),
        )
        self.stdout.write(f"已生成开发用签名证书（{hall_name}）：")
        for label, path in (("私钥", paths.key), ("证书", paths.cert), ("根证书", paths.root)):
            self.stdout.write(f"  {label}：{path}")
        self.stdout.write(f"  部门证书：{departments_folder()}")
