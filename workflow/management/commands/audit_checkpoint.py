from django.core.management.base import BaseCommand

from workflow.audit import write_checkpoint


class Command(BaseCommand):
    help = "写一个签名的事件链检查点（最后一条事件的序号和摘要）到 ONETHING_AUDIT_CHECKPOINT_DIR。"

    def handle(self, *args, **options):
        path = write_checkpoint()
        self.stdout.write(f"已写检查点：{path}" if path else "未写检查点：未配置检查点目录或尚无事件")
