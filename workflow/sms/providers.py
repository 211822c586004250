"""SMS providers behind one interface (``Provider.send``): a console backend for the embedded demo and tests, and
Tencent Cloud SMS (短信 SendSms, API 3.0, TC3-HMAC-SHA256 signed requests).

Settings (docs/configuration.md "SMS"): ``ONETHING_SMS_BACKEND`` = ``console`` (default) or ``tencent``; for
Tencent ``ONETHING_SMS_TENCENT_SECRET_ID``, ``…_SECRET_KEY``, ``…_SDK_APP_ID``, ``…_SIGN_NAME``, ``…_REGION``,
``…_ENDPOINT`` and ``…_TEMPLATES`` (our template name → the template id approved in the Tencent console).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger("onething.sms")


class ProviderUnavailable(Exception):
    """Worth another try later: the service was unreachable, timed out, throttled us or failed internally."""


class ProviderRefused(Exception):
    """The service refused this message for good (a bad number, an unapproved template, a wrong key)."""


@dataclass(frozen=True)
class Sent:
    provider: str
    message_id: str


class Provider:
    name = "provider"

    def send(self, *, phone: str, template: str, params: list[str], body: str, key: str) -> Sent:
        """Send one message; ``key`` is the outbox row's idempotency key (passed where the service keeps it)."""
        raise NotImplementedError


class ConsoleProvider(Provider):
    """Writes each message to the log (``make demo`` shows it in the terminal) and keeps the last ones in memory."""

    name = "console"
    outbox: list[dict] = []

    def send(self, *, phone, template, params, body, key) -> Sent:
        logger.warning("短信 → %s：%s", phone, body)
        ConsoleProvider.outbox.append({"phone": phone, "template": template, "body": body, "key": key})
        del ConsoleProvider.outbox[:-200]
        return Sent(self.name, f"console-{len(ConsoleProvider.outbox)}")


# --------------------------------------------------------------------------- Tencent Cloud SMS


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    action: str,
    payload: bytes,
    timestamp: int,
    content_type: str = "application/json; charset=utf-8",
) -> str:
    """The ``Authorization`` header of a Tencent Cloud API 3.0 POST request (签名方法 v3, TC3-HMAC-SHA256)."""
    canonical_headers = f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    signed_headers = "content-type;host;x-tc-action"
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )

    def _hmac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    signing_key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


# Error codes worth another try (https://cloud.tencent.com/document/api/382/55981 公共错误码 and SendSms's own).
_RETRYABLE_CODES = ("InternalError", "RequestLimitExceeded", "LimitExceeded", "FailedOperation.", "ResourceUnavailable")


class TencentProvider(Provider):
    name = "tencent"
    service, action, version = "sms", "SendSms", "2021-01-11"

    def __init__(self, **options):
        conf = {**getattr(settings, "ONETHING_SMS_TENCENT", {}), **options}
        self.secret_id = conf.get("secret_id", "")
        self.secret_key = conf.get("secret_key", "")
        self.sdk_app_id = conf.get("sdk_app_id", "")
        self.sign_name = conf.get("sign_name", "")
        self.region = conf.get("region", "ap-guangzhou")
        self.endpoint = conf.get("endpoint", "https://sms.tencentcloudapi.com")
        self.templates = conf.get("templates", {})
        self.timeout = float(conf.get("timeout", 5))

    def send(self, *, phone, template, params, body, key) -> Sent:
        template_id = self.templates.get(template)
        if not template_id:
            raise ProviderRefused(f"未配置腾讯云短信模板 ID：{template}")
        payload = json.dumps(
            {
                "PhoneNumberSet": [phone if phone.startswith("+") else f"+86{phone}"],
                "SmsSdkAppId": self.sdk_app_id,
                "SignName": self.sign_name,
                "TemplateId": str(template_id),
                "TemplateParamSet": [str(p) for p in params],
                "SessionContext": key,
            },
            ensure_ascii=False,
        ).encode()
        host = urlsplit(self.endpoint).netloc
        timestamp = int(time.time())
        headers = {
            "Authorization": tc3_authorization(
                secret_id=self.secret_id,
                secret_key=self.secret_key,
                service=self.service,
                host=host,
                action=self.action,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": "application/json; charset=utf-8",
            "Host": host,
            "X-TC-Action": self.action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": self.version,
            "X-TC-Region": self.region,
        }
        request = urllib.request.Request(self.endpoint, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            raise ProviderUnavailable(f"HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:  # refused, timed out, reset; or not JSON
            raise ProviderUnavailable(str(exc) or type(exc).__name__) from None
        result = answer.get("Response") or {}
        error = result.get("Error")
        if error:
            code = str(error.get("Code", ""))
            message = f"{code}: {error.get('Message', '')}"
            if code.startswith(_RETRYABLE_CODES):
                raise ProviderUnavailable(message)
            raise ProviderRefused(message)
        statuses = result.get("SendStatusSet") or []
        if not statuses:
            raise ProviderUnavailable("应答中没有发送状态")
        status = statuses[0]
        if status.get("Code") != "Ok":
            message = f"{status.get('Code')}: {status.get('Message', '')}"
            if str(status.get("Code", "")).startswith(_RETRYABLE_CODES):
                raise ProviderUnavailable(message)
            raise ProviderRefused(message)
        return Sent(self.name, str(status.get("SerialNo", "")))


BACKENDS = {"console": ConsoleProvider, "tencent": TencentProvider}


def provider() -> Provider:
    name = getattr(settings, "ONETHING_SMS_BACKEND", "console")
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ProviderRefused(f"未知的短信服务：{name}") from None
