"""The web manager's session in the browser: cookie, CSRF header, WebSocket origin (issue 11, R5).

A browser never holds its session token where scripts can read it: the token
of a programming key's login session lives in an HttpOnly, SameSite=Strict
cookie (Secure over HTTPS). Because a browser attaches cookies by itself:

- every POST authenticated by the cookie must carry the ``X-Keywarden-CSRF``
  header, which no cross-site form can send and which forces a CORS preflight
  (the server answers none, so a foreign page cannot);
- a WebSocket upgrade whose ``Origin`` is not this server's is refused before
  it is accepted, whatever credential it carries.

Bearer tokens (partners, scripts, the bridge) are unaffected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import Response

SESSION_COOKIE = "keywarden_session"
CSRF_HEADER = "x-keywarden-csrf"


def _secure(connection: HTTPConnection) -> bool:
    return connection.url.scheme in ("https", "wss")


def set_session_cookie(
    response: Response, connection: HTTPConnection, token: str, max_age: int
) -> None:
    """Hand the browser its session token, out of reach of scripts and other sites."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(connection),
    )


def clear_session_cookie(response: Response, connection: HTTPConnection) -> None:
    """Make the browser forget its session cookie (sign-out)."""
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(connection)
    )


def session_cookie(connection: HTTPConnection) -> str | None:
    """The session token the browser sent in its cookie, if any."""
    return connection.cookies.get(SESSION_COOKIE) or None


def has_csrf_header(connection: HTTPConnection) -> bool:
    """Whether the request carries the non-simple header a cross-site page cannot send."""
    return bool(connection.headers.get(CSRF_HEADER, "").strip())


def foreign_origin(connection: HTTPConnection) -> bool:
    """Whether the request names an ``Origin`` other than the host it was sent to.

    Non-browser clients (the bridge agent, partners' scripts) send no Origin and pass.
    """
    origin = connection.headers.get("origin")
    if origin is None:
        return False
    host = connection.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower()
