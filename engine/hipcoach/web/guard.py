"""What every response and request goes through: headers, limits, the access log, no tracebacks.

One ASGI middleware, outermost in the app, so that nothing leaves without it:

* a fresh nonce per request (``scope["state"]["nonce"]``) and a Content-Security-Policy that
  allows only the page's own nonce-tagged style and script, forms posted back here, and no
  request to any other origin, no framing and no plug-ins;
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, ``Cache-Control:
  no-store`` (no personal page is kept by a browser or a proxy) on every response;
* a request body over :data:`MAX_BODY` is refused with 413, from its ``Content-Length`` or, for a
  body sent in chunks, as soon as it passes the limit;
* the access log names the method, the path without its query string, the status and the time
  taken: never a body, a query string, a header or the client's address;
* an error nothing else caught is a plain 500 page, and the log gets its kind only: a traceback
  could quote what a runner entered.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..kb.schema import MAX_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest request body: an uploaded journal is held to the same limit as any file
#: hipcoach reads (``kb/schema.py``), and the form around it fits in what is left; the body is
#: kept in memory whole, never spooled to disk.
MAX_BODY = MAX_BYTES

access = logging.getLogger("hipcoach.web.access")
log = logging.getLogger("hipcoach.web")

HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
           "cache-control": "no-store", "x-frame-options": "DENY",
           "cross-origin-opener-policy": "same-origin",
           "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()"}


def policy(nonce: str) -> str:
    """The Content-Security-Policy of a page whose style and script carry ``nonce``."""
    return (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class TooLarge(Exception):
    """The request body passed :data:`MAX_BODY`."""


class Guard:
    """The outermost middleware (see the module's docstring)."""

    def __init__(self, app: App, too_large: Callable[[Scope], Awaitable[App]],
                 failed: Callable[[Scope], Awaitable[App]]) -> None:
        self.app = app
        self.too_large = too_large
        self.failed = failed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["nonce"] = nonce
        began = time.perf_counter()
        status = {"code": 0}

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in HEADERS
                           and k.decode("latin-1").lower() != "content-security-policy"]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                headers.append((b"content-security-policy", policy(nonce).encode()))
                message["headers"] = headers
            await send(message)

        declared = dict(scope.get("headers", [])).get(b"content-length")
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    raise TooLarge
            return message

        try:
            if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
                raise TooLarge
            await self.app(scope, receive_limited, send_guarded)
        except TooLarge:
            if not status["code"]:
                await (await self.too_large(scope))(scope, receive, send_guarded)
        except Exception as exc:  # no traceback leaves, in a page or in the log
            log.error("request failed: %s", type(exc).__name__)
            if not status["code"]:
                await (await self.failed(scope))(scope, receive, send_guarded)
        finally:
            access.info("%s %s %s %.1f ms", scope.get("method"), scope.get("path"),
                        status["code"] or "-", (time.perf_counter() - began) * 1000)
