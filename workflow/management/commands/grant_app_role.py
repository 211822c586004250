"""Give the application's PostgreSQL role what it needs and nothing more (docs/security.md → "Database roles").

Run as the owner of the tables (with MIGRATE_DATABASE_URL set, `manage.py grant_app_role` connects as the owner),
after every `migrate`. Idempotent.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from config.env import database_from_url

# Rows the application only appends to or reads: no UPDATE/DELETE/TRUNCATE even by mistake.
APPEND_ONLY = ("workflow_caseevent",)
# Rows the application upserts but never deletes.
NO_DELETE = ("workflow_auditchainhead",)


class Command(BaseCommand):
    help = (
        "为应用的数据库角色授权：可读写数据行，但不拥有任何表（不能停用触发器、清空或修改表结构）。"
        "须以表的所有者身份运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", help="应用角色名（默认取 DATABASE_URL 中的用户名）")
        parser.add_argument("--create", action="store_true", help="角色不存在时创建（LOGIN，无任何特权）")
        parser.add_argument("--password-env", default="", help="创建角色时从此环境变量读取密码（不写在命令行上）")

    def handle(self, *args, role, create, password_env, **options):
        if connection.vendor != "postgresql":
            raise CommandError("只有 PostgreSQL 需要（也支持）角色分离")
        role = role or database_from_url(os.environ.get("DATABASE_URL", ""), base_dir=settings.BASE_DIR)["USER"]
        owner = connection.settings_dict["USER"]
        if role == owner:
            raise CommandError(f"应用角色 {role} 就是表的所有者：请用另一个角色连接应用（DATABASE_URL）")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s", [role]
            )
            found = cursor.fetchone()
            name = sql.Identifier(role)
            if found is None:
                if not create:
                    raise CommandError(f"角色 {role} 不存在（加 --create 创建）")
                password = os.environ.get(password_env, "") if password_env else ""
                statement = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(name)
                if password:
                    statement = statement + sql.SQL(" PASSWORD {}").format(sql.Literal(password))
                cursor.execute(statement)
            elif any(found):
                raise CommandError(f"角色 {role} 有超级用户或建库、建角色、绕过行级安全的特权：应用角色不能有")
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                "WHERE r.rolname = %s AND c.relnamespace = 'public'::regnamespace",
                [role],
            )
            if cursor.fetchone()[0]:
                raise CommandError(f"角色 {role} 拥有 public 模式中的表：应用角色不能拥有任何表")
            database = sql.Identifier(connection.settings_dict["NAME"])
            for statement in (
                sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(database, name),
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
                sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(name),
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(name),
                sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {}").format(name),
                sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
                # tables and sequences the owner creates later (the next migration) get the same grants
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
                ).format(name),
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {}"
                ).format(name),
                *(sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(t), name) for t in APPEND_ONLY),
                *(sql.SQL("REVOKE DELETE ON {} FROM {}").format(sql.Identifier(t), name) for t in NO_DELETE),
            ):
                cursor.execute(statement)
        self.stdout.write(f"已为应用角色 {role} 授权（所有者：{owner}）")
