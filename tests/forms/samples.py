"""The sample item fragments (tests/forms/fragments/*.json) and the one-things composed from them.

The fragments are realistic demo data (the item codes are illustrative): the demo catalogue may load them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from pathlib import Path

from forms import MergedForm, merge_fragments
from forms.formats import current_day

HERE = Path(__file__).parent
FRAGMENTS_DIR = HERE / "fragments"
GOLDEN_DIR = HERE / "golden"

# one-thing key → (title, lead department, fragment file names)
ONE_THINGS = {
    "enterprise_start": (
        "企业开办一件事申请表",
        "market_regulation",
        ("business_licence", "seal_filing", "tax_registration"),
    ),
    "newborn": (
        "新生儿出生一件事申请表",
        "health",
        ("birth_certificate", "birth_registration", "medical_insurance_enrolment", "social_security_card"),
    ),
}

# Valid check characters (computed with GB 11643 / GB 32100; see test_form_formats.py).
CITIZEN_ID = "110105199003070017"
MOTHER_ID = "11010519491231002X"
FATHER_ID = "440524198801010011"
USCC = "91350100M000100Y43"

# The enterprise form data of tests/conftest.py, with a citizen ID whose check digit is right.
ENTERPRISE_FORM = {
    "enterprise_name": "示范区星火科技有限公司",
    "enterprise_type": "有限责任公司",
    "registered_capital": 100,
    "business_scope": "软件开发；信息技术咨询服务",
    "address": "示范区创新大道 88 号 3 层",
    "legal_representative": "王䶮",
    "legal_representative_id": CITIZEN_ID,
    "contact_phone": "13800138000",
    "seal_count": 2,
    "invoice_needed": True,
}

NEWBORN_FORM = {
    "newborn_name": "李沐阳",
    "newborn_gender": "男",
    # The newborn one-thing takes babies born within the last year (maxDaysAgo): always a recent day.
    "birth_date": (current_day() - timedelta(days=20)).isoformat(),
    "birth_place": "示范区妇幼保健院",
    "mother_name": "张晓红",
    "mother_id": MOTHER_ID,
    "father_name": "李建国",
    "father_id": FATHER_ID,
    "contact_phone": "13912345678",
    "address": "示范区幸福路 12 号 3 栋 402",
    "ethnicity": "汉族",
    "household_head_relation": "子",
    "household_address": "示范区幸福路 12 号 3 栋 402",
    "payment_method": "银行代扣",
    "card_bank": "建设银行",
    "pickup_method": "窗口领取",
}


@cache
def _fragment_text(name: str) -> str:
    return (FRAGMENTS_DIR / f"{name}.json").read_text(encoding="utf-8")


def fragment(name: str) -> dict:
    """A fresh copy of one sample fragment."""
    return json.loads(_fragment_text(name))


def fragments_of(key: str) -> list[dict]:
    return [fragment(name) for name in ONE_THINGS[key][2]]


def merged(key: str) -> MergedForm:
    title, lead, _ = ONE_THINGS[key]
    return merge_fragments(fragments_of(key), title=title, lead_department=lead)


# The demo catalogue (workflow/demo_data/catalogue.json) is plain JSON: its one-things merge here without Django.
CATALOGUE_FILE = HERE.parents[1] / "workflow" / "demo_data" / "catalogue.json"


@cache
def _catalogue_text() -> str:
    return CATALOGUE_FILE.read_text(encoding="utf-8")


def catalogue_fragments(key: str) -> tuple[list[dict], dict, str, str]:
    """A demo one-thing's item fragments (as ``ServiceItem.as_fragment`` builds them), item conditions, lead
    department and form title."""
    catalogue = json.loads(_catalogue_text())
    items = {item["code"]: item for item in catalogue["items"]}
    one_thing = next(one for one in catalogue["one_things"] if one["key"] == key)
    fragments = []
    for link in one_thing["items"]:
        item = items[link["code"]]
        fragments.append(
            {
                "item_code": item["code"],
                "item_name": item["name"],
                "department": item["department"],
                "schema": item["form_fragment"],
                "materials": item["materials"],
                **({"produces": item["licence_material"]} if item.get("licence_material") else {}),
            }
        )
    conditions = {link["code"]: link["condition"] for link in one_thing["items"] if link.get("condition")}
    return fragments, conditions, one_thing["lead_department"], f"{one_thing['name']}申请表"


def demo_merged(key: str) -> MergedForm:
    fragments, conditions, lead, title = catalogue_fragments(key)
    return merge_fragments(fragments, title=title, lead_department=lead, conditions=conditions)


# The restaurant form of the demo catalogue: 餐饮, no public gathering place, no signboard (answered 否).
RESTAURANT_FORM = {
    "enterprise_name": "示范区老味道餐饮有限公司",
    "enterprise_type": "有限责任公司",
    "registered_capital": 50,
    "business_scope": "餐饮服务；食品销售",
    "address": "示范区美食街 18 号一层",
    "legal_representative": "王䶮",
    "legal_representative_id": CITIZEN_ID,
    "contact_phone": "13800138000",
    "public_gathering_place": False,
    "outdoor_signboard": False,
}
