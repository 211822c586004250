"""Which case statuses run, hold or end the legal clock, and the supervision states a case or task can be in."""

from __future__ import annotations

from django.db import models

from ..lifecycle import TERMINAL_STATES, CaseStatus

# 行政许可法 第三十二条第一款第（四）项：逾期不告知补正的，自收到申请材料之日起即为受理。
DEEMED_ACCEPTANCE_BASIS = "《中华人民共和国行政许可法》第三十二条第一款第（四）项"
# Cases whose clock can run (the other statuses have a result, ended, or hold the case).
RUNNING = frozenset({CaseStatus.RECEIVED, CaseStatus.IN_REVIEW, CaseStatus.CORRECTION_REQUIRED})
# Statuses with a result, or ended: the clock is over.
FINISHED = frozenset(TERMINAL_STATES | {CaseStatus.APPROVED, CaseStatus.REJECTED})
# Any other status holds the case (容缺 suspension): the clock is stopped, timers wait.
HELD = frozenset(CaseStatus.values) - RUNNING - FINISHED
SYSTEM_ACTOR = "系统（法定时限）"


class Supervision(models.TextChoices):
    NORMAL = "normal", "正常"
    WARNING = "warning", "临期预警"
    YELLOW = "yellow", "黄牌：部门任务超期"
    RED = "red", "红牌：办件超期"
    PAUSED = "paused", "暂停计时"
