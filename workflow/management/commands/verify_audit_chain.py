from django.core.management.base import BaseCommand, CommandError

from workflow.audit import checkpoint_problem, head_mismatch, iterate_chain, verify


class Command(BaseCommand):
    help = (
        "校验办件事件哈希链：用审计密钥逐条重算摘要，报告第一条被篡改（修改、删除或调换顺序）的事件；"
        "再与链头和数据库之外的签名检查点核对，发现被删除的链尾或被清空的事件表。"
    )

    def handle(self, *args, **options):
        checked, bad = verify(iterate_chain())
        if bad is not None:
            raise CommandError(f"哈希链在第 {bad} 条事件处断开：该事件或其前一事件已被篡改（已校验 {checked} 条）")
        mismatch = head_mismatch()
        if mismatch is not None:
            head, last = mismatch
            raise CommandError(
                f"哈希链链头记录的最后一条事件是第 {head} 条，而现存最后一条是第 {last} 条：链尾事件可能已被删除"
            )
        problem = checkpoint_problem()
        if problem is not None:
            raise CommandError(problem)
        self.stdout.write(f"哈希链完整：共 {checked} 条事件")
