"""Section 3: a district's year — 163,506 cases — then the reads that must stay fast at that size.

Loading. Running the engine 163,506 times would take hours, so a few dozen *template* cases are first driven
through the real services (each demo one-thing through each path: approved, approved after a correction,
rejected, refused at the window, and the in-flight states), and the year is then cloned from them in
PostgreSQL, in chunks: every Case, HumanTask and CaseEvent column is copied from the template (process state,
form, opinions, audit data), timestamps are moved to the clone's opening time (the template's seconds
stretched to hours), dates shifted by whole days, and the unique columns renewed (case number, engine task
id, audit sequence). Cases are spread over the year's days in office hours; those of the last week are still
in flight, the rest are final. Clones are read-only data: their audit hash chain is not re-computed.

Reads measured, each as the API does it:
- the department inbox: ``selectors.task_list`` + page 1 (the brief's figure), and the whole ``GET /api/tasks``
  view (selector, pagination, the tab counts, serializer, JSON), for every reviewer, window and supervisor;
- every staff list and page as a whole view (``_views``: Django's whole request cycle with authentication — a
  token for the API, a session for the screens): the inboxes (API and screen), the window's worklist, the case
  page and the task page (API and screen), the statistics API, the dashboard and its CSV;
- the applicant's status lookup: ``selectors.case_for_applicant`` for random cases of the year, and with the
  reads of the status page (tasks and events);
- the year's statistics: ``workflow.selectors.statistics.statistics`` for the year — the call the supervisor's dashboard
  and ``GET /api/statistics`` make — then the whole dashboard page and the whole CSV export as served.
"""

from __future__ import annotations

import datetime
import gc
import json
import random
import time
from zoneinfo import ZoneInfo

from .common import (
    ENTERPRISE_FORM,
    REVIEWER_OF,
    build_schema,
    checklist_codes,
    hand_over,
    load_demo_data,
    log,
    summary,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2025
DISTRICT_YEAR = 163_506
STRETCH = 100_000  # a template's second becomes ~28 hours of the clone's life
RECENT_DAYS = 7  # cases opened in the year's last week are still in flight

NEWBORN_FORM = {
    "newborn_name": "李沐阳",
    "newborn_gender": "男",
    "birth_date": (
        datetime.datetime.now(SHANGHAI).date() - datetime.timedelta(days=20)
    ).isoformat(),  # within the item's year
    "birth_place": "示范区妇幼保健院",
    "mother_name": "张晓红",
    "mother_id": "11010519491231002X",
    "father_name": "李建国",
    "father_id": "440524198801010011",
    "contact_phone": "13912345678",
    "address": "示范区幸福路 12 号 3 栋 402",
    "ethnicity": "汉族",
    "household_head_relation": "子",
    "household_address": "示范区幸福路 12 号 3 栋 402",
    "payment_method": "银行代扣",
    "card_bank": "建设银行",
    "pickup_method": "窗口领取",
}
RESTAURANT_FORM = {
    **{k: v for k, v in ENTERPRISE_FORM.items() if k not in ("invoice_needed", "seal_count")},
    "business_scope": "餐饮服务；食品销售",
    "public_gathering_place": True,
    "floor_area": 260,
    "seat_count": 80,
    "outdoor_signboard": True,
    "signboard_text": "星火小馆",
    "signboard_length": 4,
    "signboard_height": 1,
    "food_business_type": "餐饮服务经营者",
    "food_categories": ["热食类食品制售"],
    "food_safety_officer": "赵敏",
}
APPLICANTS = {
    "enterprise_start": {"name": "王䶮", "id_number": "110105199003070017", "phone": "13800138000"},
    "newborn": {"name": "张晓红", "id_number": "11010519491231002X", "phone": "13912345678"},
    "restaurant_start": {"name": "赵敏", "id_number": "110105199003070017", "phone": "13700137000"},
}
FORMS = {"enterprise_start": ENTERPRISE_FORM, "newborn": NEWBORN_FORM, "restaurant_start": RESTAURANT_FORM}
ONE_THING_SHARE = {"enterprise_start": 0.50, "newborn": 0.35, "restaurant_start": 0.15}
# Paths of a case and their shares: cases of the year's last week, and all earlier ones.
PAST = {
    "approved_concluded": 0.875,
    "corrected_concluded": 0.08,
    "rejected_concluded": 0.01,
    "not_accepted": 0.02,
    "withdrawn": 0.012,
    "correction_required": 0.003,  # the applicant never answered
}
RECENT = {
    "received": 0.10,
    "in_review": 0.45,
    "correction_required": 0.12,
    "approved": 0.13,
    "approved_concluded": 0.20,
}
OPINIONS = {
    "approve": "经审查，材料齐全，符合法定条件，准予办理",
    "reject": "经营范围含需前置审批项目，未取得许可",
    "need_correction": "住所证明材料不清晰，请一次性补正",
}


# --- templates: real cases through the services ------------------------------------------------------------


def _drive(users: dict, key: str, path: str) -> tuple[int, str]:
    from workflow import services
    from workflow.models import HumanTask, HumanTaskState

    window = users["window1"]
    opened = services.case_open(user=window, one_thing_key=key, applicant=APPLICANTS[key], form=FORMS[key])
    case_no, pk = opened.case.case_no, opened.case.pk

    def open_tasks():
        return list(
            HumanTask.objects.filter(case_id=pk, state=HumanTaskState.OPEN)
            .exclude(department=None)
            .order_by("id")
            .values_list("pk", "lane")
        )

    def decide(task_id, lane, decision):
        services.human_task_complete(
            user=users[REVIEWER_OF[lane]],
            task_id=task_id,
            decision=decision,
            opinion=OPINIONS[decision],
            corrections=[{"item": "address", "reason": "住所证明不清晰，门牌号无法辨认"}]
            if decision == "need_correction"
            else [],
        )

    if path == "received":
        return pk, opened.query_code
    if path == "withdrawn":
        services.case_withdraw(case_no=case_no, reason="申请人另行办理", actor=window)
        return pk, opened.query_code
    if path == "not_accepted":
        services.case_refuse(user=window, case_no=case_no, reasons="申请材料不齐全，且不属于本大厅受理范围")
        return pk, opened.query_code
    services.case_accept(user=window, case_no=case_no, materials=checklist_codes(key))
    tasks = open_tasks()
    if path == "in_review":
        decide(*tasks[0], "approve")
        return pk, opened.query_code
    first = {
        "rejected_concluded": "reject",
        "correction_required": "need_correction",
        "corrected_concluded": "need_correction",
    }.get(path, "approve")
    decide(*tasks[0], first)
    for task_id, lane in tasks[1:]:
        decide(task_id, lane, "approve")

    def approve_the_rest():  # later stages (the newborn's departments review in batches) open as earlier ones end
        while tasks := open_tasks():
            for task_id, lane in tasks:
                decide(task_id, lane, "approve")

    if path == "corrected_concluded":
        address = FORMS[key]["address"].replace("3", "5", 1)
        services.case_correction_submit(case_no=case_no, changes={"address": address}, actor=window)
    if path not in ("rejected_concluded", "correction_required"):
        approve_the_rest()
    if path.endswith("_concluded"):
        hand_over(window, case_no)  # the proof of delivery concludes the case
    return pk, opened.query_code


def _templates(users: dict) -> dict[tuple[str, str], tuple[int, str]]:
    paths = sorted(set(PAST) | set(RECENT))
    return {(key, path): _drive(users, key, path) for key in ONE_THING_SHARE for path in paths}


# --- the plan: which template each case of the year clones, when it was opened, its number -------------------


def _plan(total: int, templates: dict, seed: int = 20250101) -> list[tuple]:
    rng = random.Random(seed)
    keys, key_weights = zip(*ONE_THING_SHARE.items(), strict=True)
    past_paths, past_weights = zip(*PAST.items(), strict=True)
    recent_paths, recent_weights = zip(*RECENT.items(), strict=True)
    start = datetime.datetime(YEAR, 1, 1, tzinfo=SHANGHAI)
    per_day: dict[int, int] = {}
    rows = []
    for n in range(total):
        day = n * 365 // total
        recent = day >= 365 - RECENT_DAYS
        key = rng.choices(keys, key_weights)[0]
        path = rng.choices(*((recent_paths, recent_weights) if recent else (past_paths, past_weights)))[0]
        opened_at = start + datetime.timedelta(days=day, hours=8.5 + 9 * (n * 365 % total) / total)
        per_day[day] = per_day.get(day, 0) + 1
        case_no = f"110105{opened_at:%Y%m%d}{per_day[day]:06d}"
        rows.append((n, templates[(key, path)][0], opened_at, case_no))
    return rows


# --- cloning in PostgreSQL ----------------------------------------------------------------------------------


def _columns(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [(name, kind) for name, kind in cursor.fetchall() if name != "id"]


def _select_list(columns, overrides: dict[str, str], source: str) -> str:
    parts = []
    for name, kind in columns:
        if name in overrides:
            parts.append(overrides[name])
        elif kind == "timestamp with time zone":
            parts.append(f"p.opened_at + ({source}.{name} - tc.opened_at) * {STRETCH}")
        elif kind == "date":
            parts.append(f"{source}.{name} + (p.opened_at::date - tc.opened_at::date)")
        else:
            parts.append(f"{source}.{name}")
    return ", ".join(parts)


def _clone(plan: list[tuple], chunk: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_plan (n integer PRIMARY KEY, template_id bigint NOT NULL, "
            "opened_at timestamptz NOT NULL, case_no varchar(32) NOT NULL)"
        )
        cursor.execute("CREATE UNLOGGED TABLE bench_map (n integer PRIMARY KEY, case_id bigint NOT NULL)")
        with cursor.cursor.copy("COPY bench_plan (n, template_id, opened_at, case_no) FROM STDIN") as copy:
            for row in plan:
                copy.write_row(row)
        cursor.execute("CREATE UNIQUE INDEX ON bench_plan (case_no)")
        cursor.execute("ANALYZE bench_plan")
        case_cols = _columns(cursor, "workflow_case")
        task_cols = _columns(cursor, "workflow_humantask")
        event_cols = _columns(cursor, "workflow_caseevent")
    # The year's dates are on a known calendar: none is provisional (a template opened today may have one).
    known = {name: "false" for name, _ in case_cols if name.endswith("_provisional")}
    # Each cloned case its own applicant (name, ID number, phone), so the staff case search finds one, not the year.
    applicants = {
        "applicant_name": "'申请人' || p.n",
        "applicant_id_number": "lpad(p.n::text, 18, '0')",
        "applicant_phone": "'139' || lpad(p.n::text, 8, '0')",
    }
    case_select = _select_list(
        case_cols, {"case_no": "p.case_no", "opened_at": "p.opened_at", **known, **applicants}, "tc"
    )
    task_select = _select_list(
        task_cols, {"case_id": "m.case_id", "engine_task_id": "md5(m.case_id || ':' || t.id)::uuid::text"}, "t"
    )
    event_select = _select_list(
        event_cols, {"case_id": "m.case_id", "seq": "%s + row_number() OVER (ORDER BY m.n, t.seq)"}, "t"
    )
    names = {table: ", ".join(name for name, _ in cols) for table, cols in
             (("case", case_cols), ("task", task_cols), ("event", event_cols))}  # fmt: skip
    started = time.monotonic()
    for low in range(0, len(plan), chunk):
        high = low + chunk
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH cloned AS (INSERT INTO workflow_case ({names['case']}) "
                f"SELECT {case_select} FROM bench_plan p JOIN workflow_case tc ON tc.id = p.template_id "
                f"WHERE p.n >= %s AND p.n < %s ORDER BY p.n RETURNING id, case_no) "
                f"INSERT INTO bench_map (n, case_id) "
                f"SELECT p.n, cloned.id FROM cloned JOIN bench_plan p USING (case_no)",
                [low, high],
            )
            cursor.execute(
                f"INSERT INTO workflow_humantask ({names['task']}) SELECT {task_select} "
                f"FROM bench_map m JOIN bench_plan p USING (n) JOIN workflow_case tc ON tc.id = p.template_id "
                f"JOIN workflow_humantask t ON t.case_id = p.template_id "
                f"WHERE m.n >= %s AND m.n < %s ORDER BY m.n, t.id",
                [low, high],
            )
            cursor.execute("SELECT coalesce(max(seq), 0) FROM workflow_caseevent")
            (base,) = cursor.fetchone()
            cursor.execute(
                f"INSERT INTO workflow_caseevent ({names['event']}) SELECT {event_select} "
                f"FROM bench_map m JOIN bench_plan p USING (n) JOIN workflow_case tc ON tc.id = p.template_id "
                f"JOIN workflow_caseevent t ON t.case_id = p.template_id WHERE m.n >= %s AND m.n < %s",
                [base, low, high],
            )
        done = min(high, len(plan))
        rate = done / (time.monotonic() - started)
        log(f"year: {done:,} of {len(plan):,} cases cloned ({rate:,.0f}/s)")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_map")
        cursor.execute("DROP TABLE bench_plan")
    load_seconds = time.monotonic() - started
    connection.ensure_connection()
    old_autocommit = connection.get_autocommit()
    started = time.monotonic()
    with connection.cursor() as cursor:
        # What autovacuum would have done over a year: visibility map and planner statistics.
        for table in ("workflow_case", "workflow_humantask", "workflow_caseevent"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    connection.set_autocommit(old_autocommit)
    sizes = {}
    with connection.cursor() as cursor:
        for table in ("workflow_case", "workflow_humantask", "workflow_caseevent"):
            cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")
            rows, size = cursor.fetchone()
            sizes[table] = {"rows": rows, "bytes": size}
    return {"load_seconds": load_seconds, "vacuum_seconds": time.monotonic() - started, "tables": sizes}


# --- the reads --------------------------------------------------------------------------------------------


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _inbox(users: dict, samples: int) -> dict:
    from django.core.paginator import Paginator
    from rest_framework.test import APIRequestFactory, force_authenticate

    from api.tasks import TaskListApi
    from workflow import selectors

    factory = APIRequestFactory()
    view = TaskListApi.as_view()

    def selector_page(user, state):
        paginator = Paginator(selectors.task_list(user=user, state=state), 20)
        page = paginator.page(1)
        return paginator.count, list(page.object_list)

    def whole_view(user, query):
        request = factory.get("/api/tasks", query)
        force_authenticate(request, user=user)
        response = view(request)
        if response.status_code != 200:
            raise RuntimeError(f"/api/tasks answered {response.status_code}: {response.data}")
        response.render()
        return response

    reviewers = [users[name] for name in REVIEWER_OF.values() if name in users]
    groups = {
        "reviewers_open_selector": [],
        "reviewers_open_view": [],
        "reviewers_all_view": [],
        "window_open_view": [],
        "supervisor_open_view": [],
    }
    open_counts = {}
    for user in reviewers:
        open_counts[user.staff.department_id] = selector_page(user, "open")[0]
    for i in range(samples):
        user = reviewers[i % len(reviewers)]
        groups["reviewers_open_selector"].append(_timed(lambda user=user: selector_page(user, "open")))
        groups["reviewers_open_view"].append(_timed(lambda user=user: whole_view(user, {})))
        groups["reviewers_all_view"].append(_timed(lambda user=user: whole_view(user, {"state": "all"})))
        if i % 4 == 0:
            groups["window_open_view"].append(_timed(lambda: whole_view(users["window1"], {})))
            groups["supervisor_open_view"].append(_timed(lambda: whole_view(users["supervisor1"], {})))
    return {"open_tasks_per_department": open_counts, **{name: summary(values) for name, values in groups.items()}}


# Whole views as people wait for them: each through Django's full request cycle (middleware, authentication —
# a token for the API, a session for the screens — the view, the serializer or template, the rendered body).
VIEW_GROUPS = {
    # name: (kind, label) — kind "list" (goal p95 ≤ 50 ms) or "page" (same goal) or "board" (≤ 1 s); "floor":
    # the cheapest authenticated request, measured in the same rotation, so that each view's time can also be read
    # as a multiple of what any request costs on the machine at that moment (the machine is shared and noisy)
    "api_me": ("floor", "`GET /api/auth/me` (the floor: authentication and one small answer)"),
    "api_tasks_reviewer": ("list", "`GET /api/tasks`, reviewers, open tab"),
    "api_tasks_reviewer_all": ("list", "`GET /api/tasks?state=all`, reviewers"),
    "api_tasks_window": ("list", "`GET /api/tasks`, window staff"),
    "api_tasks_supervisor": ("list", "`GET /api/tasks`, supervisor (every department)"),
    "screen_inbox_reviewer": ("list", "inbox screen `/tasks/`, reviewers"),
    "screen_inbox_window": ("list", "inbox screen `/tasks/`, window staff"),
    "screen_inbox_supervisor": ("list", "inbox screen `/tasks/`, supervisor"),
    "screen_window_home": ("list", "window's worklist screen `/window/`"),
    "api_case": ("page", "case page `GET /api/cases/{no}`, window staff"),
    "screen_case": ("page", "case page screen `/cases/{no}/`, window staff"),
    "api_task": ("page", "task page `GET /api/tasks/{id}`, reviewers"),
    "screen_task": ("page", "task page screen `/tasks/{id}/`, reviewers"),
    "api_search_name": ("list", "case search `GET /api/cases?applicant_name=` (a name's prefix), window staff"),
    "api_search_id": ("list", "case search `POST /api/cases/search` by ID number, window staff"),
    "api_search_status_hall": ("list", "case search `GET /api/cases?status=concluded&hall=` (a year's page 1)"),
    "api_search_reviewer": ("list", "case search `GET /api/cases?applicant_name=`, reviewers (their department's)"),
    "screen_search": ("list", "search screen `POST /cases/search/` by ID number, window staff"),
    "api_statistics": ("board", "`GET /api/statistics`, every case (the year)"),
    "screen_dashboard": ("board", "dashboard screen `/dashboard/?period=all` (the year)"),
    "csv_export": ("board", "dashboard CSV `/dashboard/cases.csv?period=all` (the year), read to the end"),
}


def _views(users: dict, plan: list[tuple], samples: int) -> dict:
    """Each whole view ``samples`` times (the dashboard rows a few times), interleaved, with the statements each
    sends (the most of its samples)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from workflow.models import Case, HumanTask, HumanTaskState

    def api_client(name):
        token = Token.objects.get_or_create(user=users[name])[0].key
        return Client(HTTP_AUTHORIZATION=f"Token {token}")

    def screen_client(name):
        client = Client()
        client.force_login(users[name])
        return client

    reviewers = [name for name in REVIEWER_OF.values() if name in users]
    api = {name: api_client(name) for name in [*reviewers, "window1", "supervisor1"]}
    screen = {name: screen_client(name) for name in [*reviewers, "window1", "supervisor1"]}
    rng = random.Random(11)
    # Case pages: cases of the year at random; task pages: each reviewer's open tasks at random.
    case_nos = [plan[rng.randrange(len(plan))][3] for _ in range(samples)]
    open_tasks = {
        name: list(
            HumanTask.objects.filter(state=HumanTaskState.OPEN, department__staff__user=users[name])
            .order_by("?")
            .values_list("pk", flat=True)[:samples]
        )
        for name in reviewers
    }
    reviewers = [name for name in reviewers if open_tasks[name]]
    assert Case.objects.filter(case_no=case_nos[0]).exists()

    def get(client, path, stream=False):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        if stream:
            return sum(len(chunk) for chunk in response.streaming_content)
        return len(response.content)

    def post(client, path, body, *, json_body=True):
        if json_body:
            response = client.post(path, json.dumps(body), content_type="application/json")
        else:
            response = client.post(path, body)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return len(response.content)

    numbers = [rng.randrange(1, len(plan)) for _ in range(samples)]
    hall_code = settings.ONETHING_HALL_CODE

    def calls(i):
        reviewer = reviewers[i % len(reviewers)]
        number = numbers[i]
        id_number = str(number).zfill(18)
        task_id = open_tasks[reviewer][i % len(open_tasks[reviewer])]
        case_no = case_nos[i]
        out = {
            "api_me": lambda: get(api[reviewer], "/api/auth/me"),
            "api_tasks_reviewer": lambda: get(api[reviewer], "/api/tasks"),
            "api_tasks_reviewer_all": lambda: get(api[reviewer], "/api/tasks?state=all"),
            "api_tasks_window": lambda: get(api["window1"], "/api/tasks"),
            "api_tasks_supervisor": lambda: get(api["supervisor1"], "/api/tasks"),
            "screen_inbox_reviewer": lambda: get(screen[reviewer], "/tasks/"),
            "screen_inbox_window": lambda: get(screen["window1"], "/tasks/"),
            "screen_inbox_supervisor": lambda: get(screen["supervisor1"], "/tasks/"),
            "screen_window_home": lambda: get(screen["window1"], "/window/"),
            "api_case": lambda: get(api["window1"], f"/api/cases/{case_no}"),
            "screen_case": lambda: get(screen["window1"], f"/cases/{case_no}/"),
            "api_task": lambda: get(api[reviewer], f"/api/tasks/{task_id}"),
            "screen_task": lambda: get(screen[reviewer], f"/tasks/{task_id}/"),
            "api_search_name": lambda: get(api["window1"], f"/api/cases?applicant_name=申请人{number}"),
            "api_search_id": lambda: post(api["window1"], "/api/cases/search", {"id_number": id_number}),
            "api_search_status_hall": lambda: get(api["window1"], f"/api/cases?status=concluded&hall={hall_code}"),
            "api_search_reviewer": lambda: get(api[reviewer], f"/api/cases?applicant_name=申请人{number}"),
            "screen_search": lambda: post(
                screen["window1"], "/cases/search/", {"id_number": id_number}, json_body=False
            ),
        }
        if i % max(samples // 5, 1) == 0:  # the boards: about five times each
            out["api_statistics"] = lambda: get(api["supervisor1"], "/api/statistics")
            out["screen_dashboard"] = lambda: get(screen["supervisor1"], "/dashboard/?period=all")
            out["csv_export"] = lambda: get(screen["supervisor1"], "/dashboard/cases.csv?period=all", stream=True)
        return out

    times: dict[str, list[float]] = {name: [] for name in VIEW_GROUPS}
    statements: dict[str, int] = dict.fromkeys(VIEW_GROUPS, 0)
    sizes: dict[str, int] = dict.fromkeys(VIEW_GROUPS, 0)
    for name, call in calls(0).items():  # warm: templates, compiled forms, the calendar cache
        if name in VIEW_GROUPS:
            call()
    for i in range(samples):
        items = [(name, call) for name, call in calls(i).items() if name in VIEW_GROUPS]
        rotation = i % len(items)
        for name, call in items[rotation:] + items[:rotation]:
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                sizes[name] = call()
                times[name].append((time.perf_counter() - started) * 1000)
            statements[name] = max(statements[name], len(queries.captured_queries))
    return {
        name: {**summary(values), "statements": statements[name], "bytes": sizes[name], "kind": VIEW_GROUPS[name][0]}
        for name, values in times.items()
    }


def _status(plan: list[tuple], codes: dict[int, str], samples: int) -> dict:
    from workflow import selectors

    rng = random.Random(7)
    lookups, pages = [], []
    for _ in range(samples):
        _, template_id, _, case_no = plan[rng.randrange(len(plan))]
        code = codes[template_id]
        lookups.append(
            _timed(lambda case_no=case_no, code=code: selectors.case_for_applicant(case_no=case_no, query_code=code))
        )

        def page(case_no=case_no, code=code):
            case = selectors.case_for_applicant(case_no=case_no, query_code=code)
            selectors.case_tasks(case)
            selectors.case_events(case)

        pages.append(_timed(page))
    return {"lookup": summary(lookups), "status_page_reads": summary(pages)}


def _statistics(users: dict, runs: int, *, pages: bool = True) -> dict:
    """The statistics of the year as the dashboard computes them, ``runs`` times; then, once each, the dashboard
    page (``?period=all``: the year and the template cases) and the year's CSV export, read to the end."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from workflow.selectors import statistics

    supervisor = users["supervisor1"]
    period = statistics.Period(
        since=datetime.datetime(YEAR, 1, 1, tzinfo=SHANGHAI), until=datetime.datetime(YEAR + 1, 1, 1, tzinfo=SHANGHAI)
    )
    times, board = [], None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            board = statistics.statistics(user=supervisor, period=period, today=datetime.date(YEAR, 12, 31))
            times.append((time.perf_counter() - started) * 1000)
    out = {
        "first_ms": times[0],
        "times": summary(times),
        "statements": [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in queries.captured_queries],
        "result": {
            "cases": board.counts.received,
            "accepted": board.counts.accepted,
            "concluded": board.counts.concluded,
            "timed": board.counts.timed,
            "indicators": {name: getattr(board.indicators, name) for name in board.indicators.__dataclass_fields__},
            "by_one_thing": {
                row.key: {
                    "received": row.counts.received,
                    "accepted": row.counts.accepted,
                    "concluded": row.counts.concluded,
                    "completion_rate": row.indicators.completion_rate,
                    "reduction_rate": row.indicators.reduction_rate,
                }
                for row in board.one_things
            },
            "departments": len(board.departments),
            "calendar_gaps": list(board.calendar_gaps),
        },
    }
    if pages:
        client = Client()
        client.force_login(supervisor)
        out["dashboard_ms"] = _timed(lambda: _ok(client.get("/dashboard/?period=all")).content)
        rows = []

        def export():
            response = _ok(client.get("/dashboard/cases.csv?period=all"))
            rows.append(sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1)

        out["csv_ms"] = _timed(export)
        out["csv_rows"] = rows[0]
    return out


def _ok(response):
    if response.status_code != 200:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}")
    return response


def _plans(users: dict, plan: list[tuple], statistics: dict) -> dict[str, str]:
    """EXPLAIN ANALYZE of the queries behind each figure, for the index notes."""

    from django.db.models import F

    from workflow import selectors
    from workflow.models import Case

    reviewer = users["market1"]
    _, _, _, case_no = plan[len(plan) // 2]
    window, supervisor = users["window1"], users["supervisor1"]
    finished = ["concluded", "not_accepted", "withdrawn"]
    queries = {
        "inbox page (market_regulation, open)": selectors.task_list(user=reviewer, state="open")[:21],
        "inbox page (market_regulation, all)": selectors.task_list(user=reviewer, state=None)[:21],
        "inbox page (window, open)": selectors.task_list(user=window, state="open")[:21],
        "inbox page (supervisor, open)": selectors.task_list(user=supervisor, state="open")[:21],
        "tab count, completed, up to 1,000 (window)": selectors.task_list(user=window, state="completed")
        .order_by()
        .values("pk")[: selectors.COUNT_CAP],
        "最近已办 (market_regulation)": selectors.task_list(user=reviewer, state="completed").order_by("-completed_at")[
            :20
        ],
        # as selectors.window_worklist asks (index case_cross_in_flight), and 待补正 (index case_status_updated)
        "window worklist: in flight, decided here, received elsewhere": Case.objects.filter(deciding_hall_id=1)
        .exclude(accepting_hall_id=F("deciding_hall_id"))
        .exclude(status__in=finished)
        .order_by("-updated_at")[:21],
        "window worklist: 待补正": Case.objects.filter(accepting_hall_id=1, status="correction_required").order_by(
            "updated_at"
        )[:21],
        "status lookup": Case.objects.filter(case_no=case_no),
    }
    plans = {name: query.explain(analyze=True, buffers=True) for name, query in queries.items()}
    # The statistics' own statements, as the dashboard runs them: the three slowest of the last run.
    from django.db import connection

    for number, statement in enumerate(sorted(statistics["statements"], key=lambda q: -q["ms"])[:3], 1):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement['sql']}")
            text = "\n".join(row[0] for row in cursor.fetchall())
        plans[f"statistics, statement {number} of the slowest ({statement['ms']:.0f} ms)"] = text
    return plans


def _loaded_year(cases: int) -> dict | None:
    """The year a previous run left in this (kept) database: its templates and load figures, or None."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_year_info') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT info FROM bench_year_info WHERE cases = %s", [cases])
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def _remember_year(cases: int, info: dict) -> None:
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_year_info (cases integer PRIMARY KEY, info text NOT NULL)")
        cursor.execute("INSERT INTO bench_year_info VALUES (%s, %s)", [cases, json.dumps(info, default=str)])


def _load_year(params: dict) -> tuple[str, dict, dict, dict]:
    """Schema, demo data, templates and the cloned year — or, with ``reuse`` (a kept database, ``python -m
    bench --database``), the year an earlier run loaded there. Returns (schema, users, templates, load)."""
    from django.contrib.auth import get_user_model

    if params.get("reuse"):
        info = _loaded_year(params["cases"])
        if info is not None:
            build_schema()  # the migrations added since (new indexes) apply to the kept year
            users = {user.username: user for user in get_user_model().objects.filter(staff__isnull=False)}
            templates = {tuple(key.split("|")): tuple(value) for key, value in info["templates"].items()}
            log(f"year: reusing the {params['cases']:,} cases loaded before in this database")
            return info["schema"], users, templates, info["load"]
    schema = build_schema()
    users = load_demo_data(four_departments=False)
    started = time.monotonic()
    templates = _templates(users)
    log(f"year: {len(templates)} template cases through the services in {time.monotonic() - started:.1f} s")
    load = _clone(_plan(params["cases"], templates), params["chunk"])
    log(f"year: loaded in {load['load_seconds']:.0f} s (+ vacuum {load['vacuum_seconds']:.0f} s): {load['tables']}")
    if params.get("reuse"):
        _remember_year(
            params["cases"],
            {"schema": schema, "load": load, "templates": {"|".join(k): list(v) for k, v in templates.items()}},
        )
    return schema, users, templates, load


def run(params: dict) -> dict:
    schema, users, templates, load = _load_year(params)
    codes = {pk: code for pk, code in templates.values()}
    plan = _plan(params["cases"], templates)
    # The bench holds the year's plan (a tuple per case) that no web worker holds: out of the garbage collector's
    # sight, so that its full collections during the timed requests cost what they cost a worker.
    gc.collect()
    gc.freeze()
    inbox = _inbox(users, params["samples"])
    log(f"year: inbox p95 {inbox['reviewers_open_view']['p95']:.1f} ms")
    status = _status(plan, codes, params["status_samples"])
    log(f"year: status lookup p99 {status['lookup']['p99']:.1f} ms")
    statistics = _statistics(users, params["stats_runs"])
    log(
        f"year: statistics {statistics['times']['median']:.0f} ms, dashboard page {statistics['dashboard_ms']:.0f} ms, "
        f"CSV {statistics['csv_ms']:.0f} ms ({statistics['csv_rows']:,} rows)"
    )
    views = _views(users, plan, params.get("view_samples", 30))
    worst = max((v for v in views.values() if v["kind"] in ("list", "page")), key=lambda v: v["p95"])
    log(f"year: whole views, worst list/page p95 {worst['p95']:.1f} ms")
    plans = _plans(users, plan, statistics)
    return {
        "cases": params["cases"],
        "schema": schema,
        "templates": len(templates),
        "load": load,
        "inbox": inbox,
        "status": status,
        "statistics": statistics,
        "views": views,
        "plans": plans,
    }
