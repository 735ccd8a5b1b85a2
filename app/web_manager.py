"""Serving the built web manager (``frontend/dist``) at ``/`` (issue 11).

- Hashed build output under ``/assets/`` never changes under its name: cached for
  a year, ``immutable``.
- ``index.html`` (and every other file) is revalidated on each load (``no-cache``),
  so a new build reaches browsers at once.
- A client route (``/keys``, ``/sign-in``: a path whose last part has no dot) gets
  ``index.html``, and the app's router takes over (the SPA fallback). Paths under
  the server's own prefixes (``/graphql``, ``/remote``, ``/export``, ``/health``…)
  never do: there an unknown path stays a 404.

The app is the router's default: it answers only what no route of the API matched
(not even by path with another method, which stays a 405).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The page's scripts and styles come from this server only; Mantine sets CSS variables
# in a style element, hence 'unsafe-inline' for styles (never for scripts).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": REVALIDATE,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
NOT_BUILT = (
    "The web manager is not built. `make run` builds it (Node.js 20 and npm), "
    "or run `make frontend`."
)


class WebManager:
    """The ASGI app of the built single-page app in ``dist``; ``reserved`` are the API's
    first path segments, where no fallback page is ever served."""

    def __init__(self, dist: Path, reserved: frozenset[str]) -> None:
        self.dist = dist.resolve()
        self.reserved = reserved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        response = self.answer(Request(scope))
        await response(scope, receive, send)

    def answer(self, request: Request) -> Response:
        path = request.url.path
        parts = [p for p in path.split("/") if p]
        if (
            request.method not in ("GET", "HEAD")
            or (parts and parts[0] in self.reserved)
            or any(p.startswith(".") for p in parts)  # dot-segments and hidden files
        ):
            return PlainTextResponse("Not Found", 404)
        file = self._file(parts)
        if file is not None and file.name == "index.html":
            return FileResponse(file, headers=PAGE_HEADERS)
        if file is not None:
            immutable = parts[0] == "assets"
            cache = IMMUTABLE if immutable else REVALIDATE
            headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": cache}
            return FileResponse(file, headers=headers)
        if parts and ("." in parts[-1] or parts[0] == "assets"):
            return PlainTextResponse("Not Found", 404)  # a missing file, not a client route
        index = self.dist / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, 404)
        return FileResponse(index, headers=PAGE_HEADERS)

    def _file(self, parts: list[str]) -> Path | None:
        if not parts:
            return None
        candidate = self.dist.joinpath(*parts).resolve()
        if not candidate.is_relative_to(self.dist) or not candidate.is_file():
            return None
        return candidate
