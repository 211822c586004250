import json

from django.core.management.base import BaseCommand

from workflow.services import catalogue_export


class Command(BaseCommand):
    help = "导出事项目录（JSON，与 import_catalogue 的格式相同）到标准输出或文件。"

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="输出文件；缺省为标准输出")

    def handle(self, *args, output, **options):
        text = json.dumps(catalogue_export(), ensure_ascii=False, indent=2) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
