"""One normaliser for typed case numbers, everywhere (issue 18)."""

from __future__ import annotations

import pytest
from django.test import Client

from workflow.labels import normalise_case_no

pytestmark = pytest.mark.django_db

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    "typed",
    [
        "11010520261207000001",
        " 11010520261207000001 ",
        "11010520261207000001\n",
        "1101 0520 2612 0700 0001",
        "110105-20261207-000001",
        "110105－20261207—000001",
        "11010520261207000001".translate(FULL_WIDTH),
        "\u300011010520261207000001\u3000",  # ideographic spaces
    ],
)
def test_every_way_of_typing_a_number_is_the_same_number(typed):
    assert normalise_case_no(typed) == "11010520261207000001"


def test_the_staff_search_box_uses_it(users):
    client = Client()
    client.force_login(users["window1"])
    typed = " 110105-20261207-000001 ".translate(FULL_WIDTH)
    response = client.get("/cases/", {"case_no": typed})
    assert response.status_code == 302 and response["Location"] == "/cases/11010520261207000001/"
