"""Staff log in and out (Django's auth views with Chinese pages); ``/`` sends each role to its screen."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.urls import reverse

from ..access import home_url_for
from ..throttles import LoginThrottle


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。",
        "inactive": "该账号已停用。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].error_messages["required"] = "请填写用户名"
        self.fields["password"].error_messages["required"] = "请填写密码"


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not LoginThrottle().check(request):
            # The password is not even checked: an unbound form and the reason.
            context = self.get_context_data(form=self.form_class(request), throttled=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return reverse(home_url_for(self.request.user))


def admin_login(request, extra_context=None):
    """/admin/login/: Django admin's own login under the same per-address budget as every other login form."""
    from django.contrib import admin

    if request.method == "POST" and not LoginThrottle().check(request):
        response = render(request, "web/login.html", {"form": LoginForm(request), "throttled": True}, status=429)
        response["Retry-After"] = "60"
        return response
    return admin.site.login(request, extra_context)


class LogoutView(auth_views.LogoutView):
    next_page = "web:login"


@login_required
def home(request):
    return redirect(home_url_for(request.user))


@login_required
def no_role(request):
    return render(request, "web/no_role.html", status=403)
