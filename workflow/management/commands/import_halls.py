import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflow.errors import ValidationFailed
from workflow.services import halls_import


class Command(BaseCommand):
    help = (
        "导入政务服务大厅（收受分离）：UTF-8 JSON 列表，每项含 code（6 位，办件编号前缀）、name、region_code、"
        "region_name，可选 is_active；按 code 新增或更新，全部通过校验才导入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="大厅文件（UTF-8 JSON），如 workflow/demo_data/halls.json")

    def handle(self, *args, file, **options):
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{file}: 文件不存在") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{file}: 不是有效的 UTF-8 JSON 文件（{exc}）") from None
        try:
            halls = halls_import(rows=data.get("halls") if isinstance(data, dict) else data)
        except ValidationFailed as exc:
            for field, messages in exc.field_errors.items():
                for message in messages:
                    self.stderr.write(f"{field}: {message}")
            raise CommandError(f"未导入：{exc.message}") from None
        self.stdout.write(f"已导入大厅 {len(halls)} 个：" + "、".join(hall.name for hall in halls))
