"""API tokens that expire and die with a password change (docs/security.md → "Sessions and tokens").

A token (``Authorization: Token …``, from ``POST /api/auth/login``) is refused — and deleted — once it is older
than ``ONETHING_API_TOKEN_HOURS`` (10: a working day); logging in again gives a new one. Setting a new password
(any way: the admin, ``changepassword``, a form) deletes the user's tokens, as it ends their sessions.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings.ONETHING_API_TOKEN_HOURS)


def is_expired(token: Token) -> bool:
    return token.created <= timezone.now() - token_lifetime()


def fresh_token(user) -> Token:
    """The user's token, a new one if the old one has expired."""
    token, created = Token.objects.get_or_create(user=user)
    if not created and is_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if is_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed("令牌已过期，请重新登录")
        return user, token


@receiver(post_save, sender=get_user_model(), dispatch_uid="api_tokens_die_with_the_password")
def _password_changed(sender, instance, created, **kwargs):
    # set_password() leaves the new raw password in ``_password`` until save() has finished (Django uses it for
    # the validators' password_changed hook); so a save with it set is a password change.
    if not created and getattr(instance, "_password", None) is not None:
        Token.objects.filter(user=instance).delete()
