"""A local fake of Tencent Cloud SMS's SendSms (API 3.0) on 127.0.0.1, verifying each request's TC3-HMAC-SHA256
signature as the documentation specifies (computed here independently of workflow/sms/providers.py).

``FakeTencentSms().start()`` serves in a thread; ``requests`` lists what was accepted; ``down = True`` answers
every request with HTTP 503 (an outage); ``fail_code`` answers with that error code in the JSON body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_ID, SECRET_KEY = "AKIDfakeSecretId123", "fakeSecretKey456"
APP_ID, SIGN = "1400000000", "示范区政务服务"


def expected_signature(headers, body: bytes, secret_key: str) -> tuple[str, str]:
    """(credential scope, signature) of a request, by the doc's four steps."""
    timestamp = int(headers["X-TC-Timestamp"])
    date = datetime.fromtimestamp(timestamp, UTC).date().isoformat()
    canonical = (
        "POST\n/\n\n"
        f"content-type:{headers['Content-Type']}\nhost:{headers['Host']}\nx-tc-action:{headers['X-TC-Action'].lower()}\n"
        "\ncontent-type;host;x-tc-action\n" + hashlib.sha256(body).hexdigest()
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    k = hmac.new(("TC3" + secret_key).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"sms", hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    return scope, hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeTencentSms:
    def __init__(self):
        self.requests: list[dict] = []
        self.rejected: list[str] = []
        self.down = False
        self.fail_code = ""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if fake.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                self._answer(fake.handle(self.headers, body))

            def _answer(self, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, headers, body: bytes) -> dict:
        request_id = f"req-{len(self.requests) + len(self.rejected) + 1}"
        auth = headers.get("Authorization", "")
        scope, signature = expected_signature(headers, body, SECRET_KEY)
        signed = "content-type;host;x-tc-action"
        wanted = f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{scope}, SignedHeaders={signed}, Signature={signature}"
        if auth != wanted:
            self.rejected.append(auth)
            return {
                "Response": {
                    "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "签名错误"},
                    "RequestId": request_id,
                }
            }
        if abs(time.time() - int(headers["X-TC-Timestamp"])) > 300 or headers.get("X-TC-Version") != "2021-01-11":
            return {
                "Response": {
                    "Error": {"Code": "AuthFailure.SignatureExpire", "Message": "过期"},
                    "RequestId": request_id,
                }
            }
        if self.fail_code:
            return {"Response": {"Error": {"Code": self.fail_code, "Message": "fake failure"}, "RequestId": request_id}}
        payload = json.loads(body)
        self.requests.append(payload)
        return {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": f"serial-{len(self.requests)}",
                        "PhoneNumber": payload["PhoneNumberSet"][0],
                        "Fee": 1,
                        "SessionContext": payload.get("SessionContext", ""),
                        "Code": "Ok",
                        "Message": "send success",
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": request_id,
            }
        }

    def start(self) -> FakeTencentSms:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings(self) -> dict:
        return {
            "secret_id": SECRET_ID,
            "secret_key": SECRET_KEY,
            "sdk_app_id": APP_ID,
            "sign_name": SIGN,
            "region": "ap-guangzhou",
            "endpoint": self.url,
            "templates": {
                "accepted": "2001",
                "correction": "2002",
                "pickup": "2003",
                "concluded": "2004",
                "mailed": "2005",
                "download": "2006",
                "login_code": "2000",
            },
        }
