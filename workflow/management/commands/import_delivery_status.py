import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from workflow.errors import NotFound, ValidationFailed
from workflow.services import delivery_status_update


class Command(BaseCommand):
    help = (
        "导入寄递状态（邮寄送达）：UTF-8 CSV，表头 waybill,status,occurred_at；"
        "status 为 sent（已寄出）、delivered（已妥投）或 returned（邮件退回），"
        "occurred_at 为带时区的 ISO 8601 时间。每行单独生效；"
        "重复的行（同一运单、状态和时间）不再改变任何内容；出错的行列出后跳过。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="寄递企业导出的状态文件（UTF-8 CSV）")

    def handle(self, *args, file, **options):
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"{file}: 文件不存在") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: 不是 UTF-8 文本（{exc}）") from None
        reader = csv.DictReader(text.splitlines())
        if not {"waybill", "status", "occurred_at"} <= set(reader.fieldnames or ()):
            raise CommandError(f"{file}: 表头须包含 waybill,status,occurred_at")
        applied = replayed = failed = 0
        for line, row in enumerate(reader, start=2):
            occurred_at = parse_datetime((row.get("occurred_at") or "").strip())
            if occurred_at is None:
                self.stderr.write(f"第 {line} 行：occurred_at 不是有效时间")
                failed += 1
                continue
            try:
                result = delivery_status_update(
                    waybill=(row.get("waybill") or "").strip(),
                    status=(row.get("status") or "").strip(),
                    occurred_at=occurred_at,
                    source="import",
                )
            except (ValidationFailed, NotFound) as exc:
                details = "；".join(m for ms in getattr(exc, "field_errors", {}).values() for m in ms)
                self.stderr.write(f"第 {line} 行：{details or exc.message}")
                failed += 1
                continue
            applied += result.applied
            replayed += not result.applied
        self.stdout.write(f"寄递状态：生效 {applied} 行，重复 {replayed} 行，出错 {failed} 行")
        if failed:
            raise CommandError(f"{failed} 行未导入")
