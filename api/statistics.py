"""效能监督 statistics, read-only, for supervisors and administrators: the serializers render the view objects of
``workflow.selectors.statistics`` (the same the dashboard renders). Definitions: docs/statistics.md."""

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from workflow.selectors import statistics

from .catalogue import ItemLimitSerializer
from .errors import error_responses

RATE = "比率（0–1，四位小数）；无可计算的分母时为 null"


def _rate(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=f"{help_text}。{RATE}")


EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(9998, 12, 31)  # any period a hall can mean; no date overflow


class PeriodSerializer(serializers.Serializer):
    since = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="收件日期自（含），YYYY-MM-DD；不填为不限"
    )
    until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="收件日期至（含），YYYY-MM-DD；不填为不限"
    )

    def _within(self, value):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise serializers.ValidationError(f"日期应在 {EARLIEST} 至 {LATEST} 之间")
        return value

    validate_since = validate_until = _within

    def validate(self, attrs):
        if attrs["since"] and attrs["until"] and attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": ["结束日期不能早于开始日期"]})
        return attrs

    @classmethod
    def period_of(cls, request) -> statistics.Period:
        """``?since=&until=`` with either left empty or out means open on that side."""
        data = cls(data={key: value for key, value in request.query_params.items() if value != ""})
        data.is_valid(raise_exception=True)
        return statistics.Period.of_days(data.validated_data["since"], data.validated_data["until"])


PERIOD_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, description="收件日期自（含），YYYY-MM-DD；不填为不限"),
    OpenApiParameter("until", OpenApiTypes.DATE, description="收件日期至（含），YYYY-MM-DD；不填为不限"),
]


class CaseCountsSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="收件数：期间内收件的办件")
    accepted = serializers.IntegerField(help_text="受理件：已受理或依法视为受理")
    in_progress = serializers.IntegerField(help_text="在办：已受理、尚未办结/撤回")
    concluded = serializers.IntegerField(help_text="办结件：已受理且已办结")
    not_accepted = serializers.IntegerField(help_text="不予受理")
    withdrawn = serializers.IntegerField(help_text="已撤回（受理前或受理后）")
    timed = serializers.IntegerField(help_text="可计算用时的办结件（工作日历已录入）")
    working_days = serializers.IntegerField(help_text="这些办结件的用时合计（工作日）")
    immediate = serializers.IntegerField(help_text="其中用时为 0 个工作日的（即办件）")
    with_due_date = serializers.IntegerField(help_text="有承诺办结期限的办结件")
    on_time = serializers.IntegerField(help_text="其中在承诺办结期限当日或之前作出决定的")
    rated = serializers.IntegerField(help_text="有评价的办件（以最新一次评价计）")
    rated_good = serializers.IntegerField(help_text="其中评价为非常满意、满意、基本满意的")
    zero_trips = serializers.IntegerField(help_text="办结件中没有到现场记录的（零跑动）")
    at_most_one_trip = serializers.IntegerField(help_text="办结件中到现场不超过一次的（最多跑一次）")
    trips = serializers.IntegerField(help_text="办结件的到现场次数合计（跑动台账：每次到现场一条记录）")


class IndicatorsSerializer(serializers.Serializer):
    completion_rate = _rate("办结率 = 办结件 ÷ 受理件")
    immediate_share = _rate("即办件占比 = 用时 0 个工作日的办结件 ÷ 可计算用时的办结件")
    reduction_rate = _rate("时限压减率：一件事为其各事项之平均；大厅为各一件事按受理件加权")
    average_working_days = serializers.FloatField(
        allow_null=True, help_text="平均办理用时（工作日，两位小数）：受理至作出决定，暂停计时不计；无办结件时为 null"
    )
    on_time_rate = _rate("按时办结率 = 按时作出决定的办结件 ÷ 有承诺办结期限的办结件")
    good_rate = _rate("好评率 = 好评 ÷ 评价数")
    zero_trip_rate = _rate("零跑动率 = 零跑动的办结件 ÷ 办结件")
    at_most_one_trip_rate = _rate("最多跑一次率 = 跑动不超过一次的办结件 ÷ 办结件")
    average_trips = serializers.FloatField(
        allow_null=True, help_text="平均跑动次数（两位小数）= 办结件的跑动次数合计 ÷ 办结件；无办结件时为 null"
    )


class OneThingStatisticsSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    promised_limit_days = serializers.IntegerField(help_text="一件事的承诺时限（工作日）")
    items = ItemLimitSerializer(many=True, help_text="所含事项及其时限")
    counts = CaseCountsSerializer()
    indicators = IndicatorsSerializer()


class DepartmentStatisticsSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="部门编码")
    name = serializers.CharField()
    open = serializers.IntegerField(help_text="待办任务")
    completed = serializers.IntegerField(help_text="已办任务（每轮审查各计一次）")
    approve = serializers.IntegerField(help_text="准予")
    need_correction = serializers.IntegerField(help_text="需补正")
    reject = serializers.IntegerField(help_text="不予许可")
    total = serializers.IntegerField(help_text="待办 + 已办")


class StatusCountSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class LevelCountSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class RectificationStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="未完成且已过期限")
    done = serializers.IntegerField()
    on_time = serializers.IntegerField(help_text="在期限内完成")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按时完成 / (已完成 + 已逾期未完成)")


class RatingStatisticsSerializer(serializers.Serializer):
    ratings = serializers.IntegerField(help_text="评价数（每个办件以最新一次评价计）")
    good = serializers.IntegerField(help_text="好评数：非常满意、满意、基本满意")
    good_rate = serializers.FloatField(allow_null=True, help_text="好评率；没有评价时为 null")
    by_level = LevelCountSerializer(many=True)
    rectifications = RectificationStatsSerializer()


class ChannelStatisticsSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="申办渠道：window 窗口 / online 网上 / kiosk 自助终端")
    label = serializers.CharField()
    received = serializers.IntegerField(help_text="收件数")
    share = _rate("占全部收件的比例")
    accepted = serializers.IntegerField(help_text="受理件")
    concluded = serializers.IntegerField(help_text="办结件")
    timed = serializers.IntegerField(help_text="可计算用时的办结件")
    immediate = serializers.IntegerField(help_text="即办件：用时 0 个工作日的办结件")
    immediate_share = _rate("即办件占比 = 即办件 ÷ 可计算用时的办结件")
    zero_trips = serializers.IntegerField(help_text="办结件中零跑动的")
    at_most_one_trip = serializers.IntegerField(help_text="办结件中最多跑一次的")
    zero_trip_rate = _rate("零跑动率 = 零跑动的办结件 ÷ 办结件")
    at_most_one_trip_rate = _rate("最多跑一次率 = 跑动不超过一次的办结件 ÷ 办结件")


class HallStatisticsSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="收件大厅编码")
    name = serializers.CharField()
    received = serializers.IntegerField(help_text="收件数")
    concluded = serializers.IntegerField(help_text="办结件")
    zero_trips = serializers.IntegerField(help_text="办结件中零跑动的")
    at_most_one_trip = serializers.IntegerField(help_text="办结件中最多跑一次的")
    trips = serializers.IntegerField(help_text="办结件的跑动次数合计")
    zero_trip_rate = _rate("零跑动率 = 零跑动的办结件 ÷ 办结件")
    at_most_one_trip_rate = _rate("最多跑一次率 = 跑动不超过一次的办结件 ÷ 办结件")
    average_trips = serializers.FloatField(allow_null=True, help_text="平均跑动次数（两位小数）")


class HallRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class StatisticsSerializer(serializers.Serializer):
    since = serializers.DateField(source="period.first_day", allow_null=True, help_text="收件日期自（含）")
    until = serializers.DateField(source="period.last_day", allow_null=True, help_text="收件日期至（含）")
    hall = HallRefSerializer(allow_null=True, help_text="调用者所属大厅（收受分离：仅统计该大厅收件或审批的办件）")
    by_status = StatusCountSerializer(many=True)
    counts = CaseCountsSerializer()
    indicators = IndicatorsSerializer()
    one_things = OneThingStatisticsSerializer(many=True)
    departments = DepartmentStatisticsSerializer(many=True)
    ratings = RatingStatisticsSerializer()
    channels = ChannelStatisticsSerializer(many=True, help_text="各申办渠道（窗口、网上、自助终端各一行）")
    online_application_rate = _rate("网上申办率 = 网上及自助终端申办的办件 ÷ 收件数")
    halls = HallStatisticsSerializer(many=True, help_text="各收件大厅的跑动统计（期间内有收件的大厅各一行）")
    calendar_gaps = serializers.ListField(
        child=serializers.IntegerField(), help_text="工作日历尚未录入的年份：其中的办件未计入用时"
    )


class StatisticsApi(APIView):
    """效能监督统计（监督人员、系统管理员）：期间内收件的办件的各项指标，及各一件事、各部门、好差评的分项。

    与监督人员工作台（/dashboard/）显示的数字相同。各指标的定义见 docs/statistics.md。"""

    @extend_schema(
        operation_id="statistics",
        parameters=PERIOD_PARAMETERS,
        responses={200: StatisticsSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        board = statistics.statistics(user=request.user, period=PeriodSerializer.period_of(request))
        return Response(StatisticsSerializer(board).data)


class OneThingStatisticsApi(APIView):
    """各一件事的指标（监督人员、系统管理员）：含已启用的一件事和期间内有办件的一件事。"""

    @extend_schema(
        operation_id="statistics_one_things",
        parameters=PERIOD_PARAMETERS,
        responses={200: OneThingStatisticsSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        rows = statistics.one_thing_statistics(user=request.user, period=PeriodSerializer.period_of(request))
        return Response(OneThingStatisticsSerializer(rows, many=True).data)


class DepartmentStatisticsApi(APIView):
    """各部门审查任务（监督人员、系统管理员）：期间内收件的办件的部门任务，每轮审查各计一次。"""

    @extend_schema(
        operation_id="statistics_departments",
        parameters=PERIOD_PARAMETERS,
        responses={200: DepartmentStatisticsSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        rows = statistics.department_statistics(user=request.user, period=PeriodSerializer.period_of(request))
        return Response(DepartmentStatisticsSerializer(rows, many=True).data)


class RatingStatisticsApi(APIView):
    """好差评统计（监督人员、系统管理员）：好评率（非常满意、满意、基本满意占比）与差评整改按时率；期间内收件的办件。"""

    @extend_schema(
        operation_id="rating_statistics",
        parameters=PERIOD_PARAMETERS,
        responses={200: RatingStatisticsSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        stats = statistics.rating_statistics(user=request.user, period=PeriodSerializer.period_of(request))
        return Response(RatingStatisticsSerializer(stats).data)
