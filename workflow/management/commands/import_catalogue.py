import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflow.errors import ValidationFailed
from workflow.services import catalogue_import


class Command(BaseCommand):
    help = (
        "导入事项目录文件（JSON）：部门、政务服务事项（含材料和表单片段）、一件事组合。全部通过校验才导入。"
        "格式见 docs/catalogue.md；`export_catalogue` 导出同一格式。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="目录文件（UTF-8 JSON）")
        parser.add_argument("--by", default="", help="操作人（记录在生成的流程版本上）")

    def handle(self, *args, file, by, **options):
        path = Path(file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{file}: 文件不存在") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{file}: 不是有效的 UTF-8 JSON 文件（{exc}）") from None
        try:
            counts = catalogue_import(data=data, deployed_by=by)
        except ValidationFailed as exc:
            for field, messages in exc.field_errors.items():
                for message in messages:
                    self.stderr.write(f"{field}: {message}")
            raise CommandError(f"未导入：{exc.message}") from None
        self.stdout.write(
            f"已导入：部门 {counts['departments']} 个，事项 {counts['items']} 个，一件事 {counts['one_things']} 个"
        )
