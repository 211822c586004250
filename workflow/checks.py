from django.conf import settings
from django.core import checks

_DEV_KEY_PREFIX = "onething-insecure-"


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_not_the_development_key(app_configs, **kwargs):
    if settings.SECRET_KEY.startswith(_DEV_KEY_PREFIX):
        return [checks.Error("DJANGO_SECRET_KEY 未设置：生产环境不能使用开发密钥", id="onething.E001")]
    return []
