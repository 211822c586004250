from django.contrib import admin
from django.urls import include, path

from web.views.auth import admin_login

urlpatterns = [
    path("admin/login/", admin_login, name="admin-login"),  # the admin's login, throttled like every login form
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("web.urls")),
]

handler404 = "api.not_found.not_found"
