"""The OpenAPI document and the Swagger UI page."""

from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.urls import URLPattern
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from api import urls as api_urls

SCHEMA_VIEWS = {"schema", "swagger-ui"}


def _openapi_path(route: str) -> str:
    """Django route "cases/<str:case_no>" → OpenAPI path "/api/cases/{case_no}"."""
    return "/api/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _api_routes() -> dict[str, set[str]]:
    """Every API path in api/urls.py with the HTTP methods its view implements."""
    routes = {}
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in SCHEMA_VIEWS:
            continue
        view = pattern.callback.view_class
        methods = {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        routes[_openapi_path(str(pattern.pattern))] = methods
    return routes


@pytest.fixture(scope="module")
def schema() -> dict:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_the_schema_is_a_valid_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
    validate_schema(schema)


def test_the_default_schema_rendering_is_yaml_with_the_same_content(schema):
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content) == schema


def test_the_schema_lists_every_path_in_api_urls_with_its_methods(schema):
    routes = _api_routes()
    assert len(routes) == len(api_urls.urlpatterns) - len(SCHEMA_VIEWS)
    assert set(schema["paths"]) == set(routes)
    for path, methods in routes.items():
        assert set(schema["paths"][path]) - {"parameters"} == methods, path


def test_every_operation_has_a_unique_id_and_documents_its_error_responses(schema):
    operations = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    error_ref = "#/components/schemas/Error"
    for path, method, op in operations:
        errors = {code for code in op["responses"] if code.startswith(("4", "5"))}
        assert errors, (method, path)
        for code in errors:
            assert op["responses"][code]["content"]["application/json"]["schema"]["$ref"] == error_ref, (path, code)
    by_id = {op["operationId"]: op for _, _, op in operations}
    assert {"409"} <= set(by_id["task_complete"]["responses"])
    assert {"400", "404", "429"} <= set(by_id["case_status"]["responses"])


def test_the_schema_declares_token_and_session_authentication(schema):
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("type") == "apiKey" and s.get("name") == "Authorization" for s in schemes.values()), schemes
    assert any(s.get("in") == "cookie" for s in schemes.values()), schemes


def test_the_swagger_ui_page_serves_its_assets_locally():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    # Split (Content-Security-Policy: no inline script): the initialiser is its own file, /api/docs/?script=
    assert "<script>" not in html and 'src="/api/docs/?script="' in html
    script = APIClient().get("/api/docs/?script=").content.decode()
    assert "SwaggerUIBundle" in script and "/api/schema/" in script

    assert not re.search(r"https?://", html), re.findall(r"https?://[^\s\"'<>]+", html)
    assert "cdn" not in html.lower()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert any(a.endswith("swagger-ui.css") for a in assets), assets
    for asset in [a for a in assets if a != "/api/docs/?script="]:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a collectable static file"
