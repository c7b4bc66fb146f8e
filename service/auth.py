"""Optional API keys: `MODERATION_API_KEYS` (comma-separated; empty = no authentication).

A key is accepted from `Authorization: Bearer <key>` (what the OpenAI SDK sends) or from
`x-api-key: <key>` (what LiteLLM's generic guardrail sends for its `api_key` setting). Keys are
compared as SHA-256 digests with `hmac.compare_digest` against every configured key, so the
time taken says nothing about a key's content, length or which key matched. `/healthz`,
`/readyz`, `/metrics` and the API docs stay open unless `MODERATION_AUTH_PROTECT_OPS=true`.

This is a plain ASGI middleware rather than a route dependency so that every route, including
ones added later, is guarded unless explicitly listed as open.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from starlette.responses import Response

from service.errors import error_response
from service.middleware import ASGIApp, Receive, Scope, Send

OPS_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class ApiKeys:
    """The configured keys, kept only as digests."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [_digest(k) for k in keys if k]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def accepts(self, presented: str) -> bool:
        digest = _digest(presented)
        matched = False
        for known in self._digests:  # no early exit: every key is compared every time
            matched |= hmac.compare_digest(digest, known)
        return matched


def presented_key(scope: Scope) -> str | None:
    """The key a request carries, from `Authorization: Bearer` or `x-api-key`."""
    api_key: str | None = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            api_key = value.decode("latin-1").strip()
    return api_key


class ApiKeyMiddleware:
    """Answers 401 with a JSON error body to any request without an accepted key."""

    def __init__(self, app: ASGIApp, *, keys: ApiKeys, open_paths: frozenset[str]) -> None:
        self.app = app
        self.keys = keys
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        key = presented_key(scope)
        if key is None:
            await _unauthorized(
                "missing_api_key",
                "this server needs an API key: send `Authorization: Bearer <key>` "
                "or `x-api-key: <key>`",
            )(scope, receive, send)
        elif not self.keys.accepts(key):
            await _unauthorized("invalid_api_key", "the API key is not valid")(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _unauthorized(code: str, message: str) -> Response:
    # The service's error shape (OpenAI's, plus `details`; `param` null as in OpenAI's auth
    # errors), so OpenAI clients raise AuthenticationError with this message.
    return error_response(
        401,
        message=message,
        type_="invalid_request_error",
        code=code,
        details=[{"field": "authorization", "reason": message}],
        headers={"www-authenticate": 'Bearer realm="moderation"'},
        param_from_details=False,
    )
