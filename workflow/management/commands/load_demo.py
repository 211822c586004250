import os

from django.core.management.base import BaseCommand

from workflow.demo import load_demo


class Command(BaseCommand):
    help = "载入演示数据：部门、事项、一件事（含 BPMN 部署）和每个角色一个演示用户。可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("ONETHING_DEMO_PASSWORD", "onething-demo"))

    def handle(self, *args, password, **options):
        users = load_demo(password=password)
        self.stdout.write(f"演示数据已就绪。演示用户（密码均为 {password}）：")
        for username, role in users:
            self.stdout.write(f"  {username:<12} {role}")
