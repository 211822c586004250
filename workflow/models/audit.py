"""The audit chain's head: the last link of the CaseEvent hash chain, kept on one row (see workflow/audit.py)."""

from django.db import models

GENESIS = "0" * 64


class AuditChainHead(models.Model):
    """One row (id 1): the sequence number and hash of the newest CaseEvent.

    The statement that appends events upserts this row first, which serialises concurrent writers (the lock
    is held until commit) and gives the link to chain from; on PostgreSQL a trigger (migration 0006) moves it to
    the newest inserted event after that same statement, so it cannot drift from the table.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField("最后事件链序号", default=0)
    hash = models.CharField("最后事件摘要", max_length=64, default=GENESIS)

    class Meta:
        verbose_name = verbose_name_plural = "事件哈希链链头"

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash[:12]}"
