import os

from django.core.management.base import BaseCommand

from workflow.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "载入演示数据：部门、事项、一件事（含 BPMN 部署）和每个角色一个演示用户。可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("ONETHING_DEMO_PASSWORD", DEMO_PASSWORD))
        parser.add_argument("--no-users", action="store_true", help="只载入目录、一件事和大厅，不创建演示用户")

    def handle(self, *args, password, no_users, **options):
        users = load_demo(password=password, users=not no_users)
        if no_users:
            self.stdout.write("演示目录已就绪（未创建演示用户）。")
            return
        self.stdout.write(f"演示数据已就绪。演示用户（密码均为 {password}）：")
        for username, role in users:
            self.stdout.write(f"  {username:<12} {role}")
