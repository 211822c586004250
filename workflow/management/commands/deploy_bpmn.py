from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflow.errors import DeploymentRefused
from workflow.services import process_versions_deploy


class Command(BaseCommand):
    help = "部署 BPMN 流程模型：全部通过校验才部署，每个文件成为其一件事的一个新的不可变版本。"

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="BPMN 文件")
        parser.add_argument("--by", default="", help="部署人（记录在版本上）")

    def handle(self, *args, files, by, **options):
        loaded = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: 文件不存在")
            loaded.append((path.name, path.read_bytes()))
        try:
            results = process_versions_deploy(files=loaded, deployed_by=by)
        except DeploymentRefused as exc:
            for problem in exc.extra["problems"]:
                self.stderr.write(str(problem))
            raise CommandError(f"未部署：发现 {len(exc.extra['problems'])} 个问题") from None
        for result in results:
            version = result.version
            verb = "已部署" if result.created else "内容未变，沿用"
            self.stdout.write(f"{verb} {version.one_thing.key} v{version.number}（{version.content_hash[:12]}）")
