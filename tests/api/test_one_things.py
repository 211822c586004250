"""The window's view of the catalogue: one-things, their one form, materials and savings."""

from tests.api.helpers import get


def test_the_window_lists_the_one_things_it_can_open(client_for):
    response = get(client_for("window1"), "/api/one-things")
    assert response.status_code == 200
    assert {o["key"] for o in response.json()} == {"enterprise_start", "newborn", "restaurant_start"}


def test_a_one_thing_shows_its_merged_form_checklist_provenance_and_savings(client_for):
    body = get(client_for("window1"), "/api/one-things/newborn").json()
    assert body["form_schema"]["properties"]["mother_id"]["format"] == "citizen-id"
    assert "mother_id" in body["form_schema"]["required"]
    assert {p["department"] for p in body["provenance"]["mother_id"]} == {
        "health",
        "public_security",
        "medical_insurance",
        "social_security",
    }
    # 出生医学证明 is produced by the one-thing's own first item: not on the checklist.
    assert len(body["materials"]) == body["report"]["materials_asked"] == 6
    assert "birth_medical_certificate" not in {m["code"] for m in body["materials"]}
    assert body["report"]["fields_saved"] == 21
    assert body["ui_hints"]["field_order"][0] in body["form_schema"]["properties"]


def test_an_unknown_one_thing_is_404(client_for):
    response = get(client_for("window1"), "/api/one-things/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
