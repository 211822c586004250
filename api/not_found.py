"""404 for unrouted URLs: the API's JSON error body under /api/, Django's page elsewhere."""

from django.http import JsonResponse
from django.views.defaults import page_not_found


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "message": "未找到"}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return page_not_found(request, exception)
