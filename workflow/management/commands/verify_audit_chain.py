from django.core.management.base import BaseCommand, CommandError

from workflow.audit import iterate_chain, verify


class Command(BaseCommand):
    help = "校验办件事件哈希链：逐条重算摘要，报告第一条被篡改（修改、删除或调换顺序）的事件。"

    def handle(self, *args, **options):
        checked, bad = verify(iterate_chain())
        if bad is not None:
            raise CommandError(f"哈希链在第 {bad} 条事件处断开：该事件或其前一事件已被篡改（已校验 {checked} 条）")
        self.stdout.write(f"哈希链完整：共 {checked} 条事件")
