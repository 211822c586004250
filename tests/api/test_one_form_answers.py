"""The one form through the API: it asks only what applies (the restaurant's signboard and public gathering place),
and checks what it asks with Chinese messages that say what is wrong and give an example — the applicant's own
document number by its type, 民族 from GB/T 3304, bounded dates, measurements as numbers with units."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forms.formats import current_day
from tests.api.helpers import get, post
from tests.conftest import handed_in
from tests.forms.samples import CITIZEN_ID, MOTHER_ID, NEWBORN_FORM, RESTAURANT_FORM
from workflow.models import Case, HumanTask

APPLICANT = {"name": "王䶮", "id_number": CITIZEN_ID, "phone": "13800138000"}
SIGNBOARD = {"signboard_text": "老味道", "signboard_length": 6.5, "signboard_height": 1.2}


def open_case(client, one_thing: str, form: dict, applicant: dict | None = None):
    body = {"one_thing": one_thing, "applicant": applicant or APPLICANT, "form": form}
    return post(client, "/api/cases", body)


def errors_of(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    return body["errors"]


# --- the restaurant asks only what applies ---------------------------------------------------------


def test_a_signboard_answered_no_needs_no_text_or_size(client_for):
    response = open_case(client_for("window1"), "restaurant_start", {**RESTAURANT_FORM, "outdoor_signboard": False})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["form"]["outdoor_signboard"] is False
    assert {task["name"] for task in body["tasks"]} == {"窗口受理"}


def test_a_signboard_answered_yes_needs_its_text_and_both_measurements(client_for):
    client = client_for("window1")
    errors = errors_of(open_case(client, "restaurant_start", {**RESTAURANT_FORM, "outdoor_signboard": True}))
    assert errors == {
        "form.signboard_text": ["请填写招牌文字"],
        "form.signboard_length": ["请填写招牌长度"],
        "form.signboard_height": ["请填写招牌高度"],
    }

    response = open_case(client, "restaurant_start", {**RESTAURANT_FORM, "outdoor_signboard": True, **SIGNBOARD})
    assert response.status_code == 201, response.json()
    assert response.json()["form"]["signboard_length"] == 6.5


def test_answers_to_questions_that_do_not_apply_are_not_kept(client_for):
    form = {**RESTAURANT_FORM, "outdoor_signboard": False, **SIGNBOARD, "floor_area": 999}
    response = open_case(client_for("window1"), "restaurant_start", form)

    assert response.status_code == 201, response.json()
    assert response.json()["form"] == RESTAURANT_FORM  # 否 and 否: nothing of the signboard or the floor area
    assert Case.objects.get().form_data == RESTAURANT_FORM


def test_the_floor_area_is_asked_only_of_a_public_gathering_place_and_is_a_number_in_square_metres(client_for):
    client = client_for("window1")
    errors = errors_of(open_case(client, "restaurant_start", {**RESTAURANT_FORM, "public_gathering_place": True}))
    assert errors == {"form.floor_area": ["请填写营业面积"]}

    form = {**RESTAURANT_FORM, "public_gathering_place": True, "floor_area": "120平方米"}
    assert errors_of(open_case(client, "restaurant_start", form)) == {
        "form.floor_area": ["营业面积应为数字（单位：平方米）。例：120"]
    }
    form["floor_area"] = 0
    assert errors_of(open_case(client, "restaurant_start", form)) == {
        "form.floor_area": ["营业面积应大于 0 平方米。例：120"]
    }
    form["floor_area"] = 320.5
    response = open_case(client, "restaurant_start", form)
    assert response.status_code == 201, response.json()


def test_signboard_measurements_are_numbers_of_metres_within_bounds(client_for):
    form = {
        **RESTAURANT_FORM,
        "outdoor_signboard": True,
        **SIGNBOARD,
        "signboard_length": "6×1.2",
        "signboard_height": 9,
    }
    assert errors_of(open_case(client_for("window1"), "restaurant_start", form)) == {
        "form.signboard_length": ["招牌长度应为数字（单位：米）。例：6.5"],
        "form.signboard_height": ["招牌高度不能大于 5 米。例：1.2"],
    }


def test_the_one_thing_publishes_its_conditions_and_what_each_field_is_asked_for(client_for):
    body = get(client_for("window1"), "/api/one-things/restaurant_start").json()
    # the lead department by code, its name beside it (docs/api.md "Vocabulary"), in the list as in the detail
    assert (body["lead_department"], body["lead_department_name"]) == ("market_regulation", "区市场监督管理局")
    [brief] = [o for o in get(client_for("window1"), "/api/one-things").json() if o["key"] == "restaurant_start"]
    assert (brief["lead_department"], brief["lead_department_name"]) == ("market_regulation", "区市场监督管理局")

    conditions = {item["item_code"]: item.get("condition") for item in body["items"]}
    assert conditions["000120501000"] == {"field": "outdoor_signboard", "equals": True}
    assert body["logic"]["situation_fields"] == ["business_scope", "public_gathering_place", "outdoor_signboard"]
    assert body["logic"]["required_when"]["signboard_text"] == {"field": "outdoor_signboard", "equals": True}
    then = [rule["then"] for rule in body["form_schema"]["allOf"] if "if" in rule]
    assert {"required": ["signboard_text", "signboard_length", "signboard_height"]} in then
    assert "营业执照" not in {m["name"] for m in body["materials"]}  # the one-thing's own output
    assert {
        use["item_code"] for use in next(m for m in body["materials"] if m["code"] == "signboard_design")["needed_by"]
    } == {"000120501000"}


# --- the applicant's identity ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("applicant", "message"),
    [
        ({"id_number": "123"}, "证件号码应为 18 位，现为 3 位（居民身份证）。例：11010519491231002X"),
        (
            {"id_number": "110105199003070018"},
            "证件号码的校验位不正确，请核对（居民身份证）。例：11010519491231002X",
        ),
        (
            {"id_number": "110105203103070013"},
            "证件号码中的出生日期（第 7–14 位）晚于今天（居民身份证）。例：11010519491231002X",
        ),
        ({"id_type": "hk_macao_permit", "id_number": "H1234567"}, "港澳居民来往内地通行证）。例：H12345678"),
        ({"id_type": "taiwan_permit", "id_number": "1234567A"}, "应为 8 位数字（台湾居民来往大陆通行证）"),
        ({"id_type": "passport_cn", "id_number": "e12345678"}, "证件号码的字母应大写（中华人民共和国护照）"),
        ({"id_type": "passport_cn", "id_number": "P12345678"}, "应为 E 或 G 开头的 9 位护照号码"),
        ({"id_type": "passport_foreign", "id_number": "AB-12"}, "应为 5–20 位拉丁字母或数字"),
        ({"id_type": "uscc", "id_number": CITIZEN_ID}, "（统一社会信用代码（单位））。例：91350100M000100Y43"),
    ],
)
def test_the_applicants_document_number_is_checked_by_its_type(client_for, applicant, message):
    response = open_case(client_for("window1"), "enterprise_start", _enterprise(), {**APPLICANT, **applicant})

    [got] = errors_of(response)["applicant.id_number"]
    assert message in got
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("resident_id", "11010519491231002X"),
        ("hk_macao_permit", "H12345678"),
        ("hk_macao_permit", "M1234567801"),
        ("taiwan_permit", "12345678"),
        ("passport_cn", "E12345678"),
        ("passport_cn", "EA1234567"),
        ("passport_cn", "G12345678"),
        ("passport_foreign", "X1234567"),
        ("uscc", "91350100M000100Y43"),
    ],
)
def test_valid_document_numbers_of_every_type_open_the_case_and_the_type_is_recorded(client_for, id_type, number):
    response = open_case(
        client_for("window1"), "enterprise_start", _enterprise(), {**APPLICANT, "id_type": id_type, "id_number": number}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["applicant_id_type"] == id_type
    assert Case.objects.get().applicant_id_type == id_type


def test_without_a_type_the_number_is_a_resident_id_and_an_unknown_type_is_refused(client_for):
    client = client_for("window1")
    response = open_case(client, "enterprise_start", _enterprise())
    assert response.status_code == 201 and response.json()["applicant_id_type"] == "resident_id"

    errors = errors_of(
        open_case(client, "enterprise_start", _enterprise(), {**APPLICANT, "id_type": "driving_licence"})
    )
    assert list(errors) == ["applicant.id_type"]


def _enterprise() -> dict:
    from tests.conftest import ENTERPRISE_FORM

    return dict(ENTERPRISE_FORM)


# --- 民族 and dates ---------------------------------------------------------------------------------


def test_ethnicity_is_chosen_from_gb_t_3304_and_the_short_name_is_stored_in_full(client_for):
    client = client_for("window1")
    response = open_case(client, "newborn", {**NEWBORN_FORM, "ethnicity": "汉"}, {**APPLICANT, "id_number": MOTHER_ID})
    assert response.status_code == 201, response.json()
    assert response.json()["form"]["ethnicity"] == "汉族"

    errors = errors_of(open_case(client, "newborn", {**NEWBORN_FORM, "ethnicity": "汉人"}))
    assert errors == {"form.ethnicity": ["民族“汉人”不在可选项中，请选择。例：汉族"]}
    errors = errors_of(open_case(client, "newborn", {k: v for k, v in NEWBORN_FORM.items() if k != "ethnicity"}))
    assert errors == {"form.ethnicity": ["请选择民族"]}


def test_a_newborns_birth_date_is_neither_in_the_future_nor_more_than_a_year_ago(client_for):
    client = client_for("window1")
    today = current_day()
    tomorrow, long_ago = today + timedelta(days=1), today - timedelta(days=366)

    errors = errors_of(open_case(client, "newborn", {**NEWBORN_FORM, "birth_date": tomorrow.isoformat()}))
    assert errors == {"form.birth_date": [f"出生日期不能晚于今天（{today}）。例：{today}"]}
    errors = errors_of(open_case(client, "newborn", {**NEWBORN_FORM, "birth_date": long_ago.isoformat()}))
    earliest = today - timedelta(days=365)
    assert errors == {"form.birth_date": [f"出生日期不能早于 {earliest}（365 天前）。例：{today}"]}
    errors = errors_of(open_case(client, "newborn", {**NEWBORN_FORM, "birth_date": "2026/1/5"}))
    assert errors == {"form.birth_date": [f"出生日期应写成“年-月-日”（YYYY-MM-DD）。例：{today}"]}


def test_the_newborn_departments_review_in_the_order_their_results_are_needed(client_for):
    client = client_for("window1")
    response = open_case(client, "newborn", NEWBORN_FORM, {**APPLICANT, "id_number": MOTHER_ID})
    case_no = response.json()["case_no"]
    # The mother hands every material in at the window: acceptance needs the required ones.
    assert post(client, f"/api/cases/{case_no}/accept", {"materials": handed_in("newborn")}).status_code == 200

    lanes = set(HumanTask.objects.filter(case__case_no=case_no, state="open").values_list("lane", flat=True))
    assert lanes == {"health"}  # the birth certificate first; the household registration waits for it
