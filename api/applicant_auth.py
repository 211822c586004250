"""The applicant's own authentication, separate from staff: ``Authorization: Applicant <token>`` from
``POST /api/applicant/identity/verify`` (SMS code) or ``…/identity/kiosk`` (a kiosk's ID-card reader).

A staff token or session never authenticates an applicant endpoint, and an applicant token never a staff one
(staff endpoints do not list this class)."""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from workflow.services.applicant_identity import applicant_session

KEYWORD = "Applicant"


@dataclass(frozen=True)
class Applicant:
    """``request.user`` on applicant endpoints: the holder of a verified ID number."""

    session: object  # workflow.models.ApplicantSession
    token: str

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    @property
    def id_number(self) -> str:
        return self.session.id_number


def token_from_header(request) -> str | None:
    header = authentication.get_authorization_header(request).split()
    if not header or header[0].decode(errors="replace") != KEYWORD:
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("令牌格式不正确：Authorization: Applicant <令牌>")
    return header[1].decode(errors="replace")


class ApplicantAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token = token_from_header(request)
        if token is None:
            return None
        session = applicant_session(token)  # ApplicantSignedOut: 401 applicant_not_authenticated, with why
        return Applicant(session=session, token=token), token

    def authenticate_header(self, request):
        return KEYWORD


class IsApplicant(permissions.BasePermission):
    message = "请先验证身份"

    def has_permission(self, request, view):
        return isinstance(request.user, Applicant)


class ApplicantAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.applicant_auth.ApplicantAuthentication"
    name = "applicantAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "申请人令牌：Authorization: Applicant <token>（短信验证码或自助终端读取身份证后取得）",
        }
