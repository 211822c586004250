from django.core.management.base import BaseCommand, CommandError

from workflow.errors import DomainError
from workflow.services import case_migrate, migration_candidates


class Command(BaseCommand):
    help = (
        "把一件事的在办办件迁移到指定的组合版本：逐件检查能否迁移（不能时说明原因，办件不变），"
        "能迁移的逐件迁移（各自一个事务），并在办件轨迹中记录 migrated 事件。"
    )

    def add_arguments(self, parser):
        parser.add_argument("one_thing", help="一件事标识，如 restaurant_start")
        parser.add_argument("--to", type=int, required=True, dest="to_version", help="目标组合版本号")
        parser.add_argument("--case", nargs="+", dest="case_nos", metavar="NO", help="只迁移这些办件编号")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不迁移")
        parser.add_argument("--reason", default="", help="迁移原因（记录在办件轨迹中）")

    def handle(self, *args, one_thing, to_version, case_nos, dry_run, reason, **options):
        try:
            numbers = migration_candidates(one_thing_key=one_thing, to_version=to_version, case_nos=case_nos)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        moved = movable = refused = 0
        for case_no in numbers:
            try:
                result = case_migrate(
                    case_no=case_no, one_thing_key=one_thing, to_version=to_version, reason=reason, dry_run=dry_run
                )
            except DomainError as exc:
                refused += 1
                self.stdout.write(f"办件 {case_no}：不能迁移：{exc.message}")
                continue
            versions = f"第 {result.from_version} 版 → 第 {result.to_version} 版"
            if result.reasons:
                refused += 1
                self.stdout.write(f"办件 {case_no}：不能迁移（{versions}）：" + "；".join(result.reasons))
            elif result.moved:
                moved += 1
                self.stdout.write(f"办件 {case_no}：已迁移（{versions}）")
            else:
                movable += 1
                self.stdout.write(f"办件 {case_no}：可以迁移（{versions}）")
        summary = f"共 {len(numbers)} 件：" + (
            f"可以迁移 {movable} 件，不能迁移 {refused} 件（试运行，未做任何改动）"
            if dry_run
            else f"已迁移 {moved} 件，不能迁移 {refused} 件"
        )
        self.stdout.write(summary)
