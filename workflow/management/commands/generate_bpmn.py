from django.core.management.base import BaseCommand, CommandError

from workflow.errors import ValidationFailed
from workflow.models import OneThing
from workflow.services import process_xml


class Command(BaseCommand):
    help = (
        "为一件事的事项组合生成标准并联审批 BPMN（各部门一条泳道、窗口受理、并联审查、选择性补正、统一反馈），"
        "可在 bpmn.io / Camunda Modeler 中编辑后用 deploy_bpmn 部署。"
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="一件事标识")
        parser.add_argument("-o", "--output", help="输出文件；缺省为标准输出")

    def handle(self, *args, key, output, **options):
        one_thing = OneThing.objects.filter(key=key).first()
        if one_thing is None:
            raise CommandError(f"未找到一件事“{key}”")
        try:
            xml = process_xml(one_thing)
        except ValidationFailed as exc:
            raise CommandError(exc.message) from None
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(xml)
        else:
            self.stdout.write(xml, ending="")
