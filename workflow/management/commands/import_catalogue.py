import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflow.errors import ValidationFailed
from workflow.services import catalogue_import, catalogue_import_preview


class Command(BaseCommand):
    help = (
        "导入事项目录文件（JSON）：部门、政务服务事项（含材料和表单片段）、一件事组合。全部通过校验才导入。"
        "格式见 docs/catalogue.md；`export_catalogue` 导出同一格式。每个内容有变化的一件事发布新的组合版本，"
        "只有新办件使用；在办办件保持原版本。--dry-run 先看影响。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="目录文件（UTF-8 JSON）")
        parser.add_argument("--by", default="", help="操作人（记录在变更记录和生成的版本上）")
        parser.add_argument(
            "--dry-run", action="store_true", help="只显示导入的影响（事项变化、各一件事的新版本与在办办件），不导入"
        )

    def handle(self, *args, file, by, dry_run=False, **options):
        path = Path(file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{file}: 文件不存在") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{file}: 不是有效的 UTF-8 JSON 文件（{exc}）") from None
        try:
            if dry_run:
                self._report(catalogue_import_preview(data=data))
                return
            counts = catalogue_import(data=data, deployed_by=by)
        except ValidationFailed as exc:
            for field, messages in exc.field_errors.items():
                for message in messages:
                    self.stderr.write(f"{field}: {message}")
            raise CommandError(f"未导入：{exc.message}") from None
        self.stdout.write(
            f"已导入：部门 {counts['departments']} 个，事项 {counts['items']} 个，一件事 {counts['one_things']} 个"
        )

    def _report(self, preview) -> None:
        for item in preview.items:
            self.stdout.write(f"事项 {item['code']}（{item['name']}）：{item['summary']}")
            for line in item["diff"]:
                self.stdout.write(f"  · {line}")
        for impact in preview.one_things:
            if impact.version_number is None:
                outcome = "尚未部署流程，暂不发布"
            elif impact.creates_version:
                outcome = f"将发布组合第 {impact.version_number} 版（新办件使用）"
            else:
                outcome = f"内容未变，仍为组合第 {impact.version_number} 版"
            running = "、".join(f"第 {n} 版 {c} 件" for n, c in impact.running_by_version.items()) or "无"
            self.stdout.write(f"一件事 {impact.key}（{impact.name}）：{outcome}；在办办件保持原版本：{running}")
            for line in impact.diff:
                self.stdout.write(f"  · {line}")
        self.stdout.write("试运行：未导入任何内容")
