import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from workflow import notices
from workflow.models import Case
from workflow.services.documents import document_issue


class Command(BaseCommand):
    help = (
        "补出文书：为指定办件（或最近 N 天有变动的办件）出具其历史所要求、但尚未出具的文书（含电子证照）。"
        "已出具的不会重复出具。用于任务队列丢失消息后的补救。"
    )

    def add_arguments(self, parser):
        parser.add_argument("case_no", nargs="*", help="办件编号")
        parser.add_argument("--recent", type=int, default=None, metavar="DAYS", help="最近 DAYS 天内更新过的办件")

    def handle(self, *args, case_no, recent, **options):
        if not case_no and recent is None:
            raise CommandError("请给出办件编号，或用 --recent DAYS")
        cases = Case.objects.select_related("one_thing").defer("process_state")
        if case_no:
            cases = cases.filter(case_no__in=case_no)
            missing = sorted(set(case_no) - set(cases.values_list("case_no", flat=True)))
            if missing:
                raise CommandError(f"未找到办件：{'、'.join(missing)}")
        else:
            cases = cases.filter(updated_at__gte=timezone.now() - dt.timedelta(days=recent))
        issued = 0
        for case in cases.iterator():
            existing = set(case.documents.values_list("key", flat=True))
            keys = notices.expected_keys(case)
            if notices.CONCLUSION in keys:
                keys += notices.licence_keys(case.pk)
            for key in keys:
                if key in existing:
                    continue
                document = document_issue(case_id=case.pk, key=key)
                if document is not None:
                    issued += 1
                    self.stdout.write(f"{case.case_no} {document.title}（{document.sha256[:16]}…）")
        self.stdout.write(f"补出文书 {issued} 份")
