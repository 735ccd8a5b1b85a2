"""``keywarden serve`` serves the built web manager at ``/`` (issue 11): hashed assets cached
for good, the page revalidated, client routes answered with the page, the API's own paths
never; and the checked-in schema of the frontend's generated types is the served one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.db import Database
from app.schema import printed_schema
from app.tenants.service import NewTenant
from app.web import create_app
from tests.conftest import superadmin_token

ROOT = Path(__file__).resolve().parent.parent
# A bundle large enough to be worth compressing, as vite's chunks are.
BUNDLE = "".join(f"export const label{i} = 'keywarden web manager {i}';\n" for i in range(400))
INDEX = "<!doctype html><title>Keywarden</title><script src=/assets/index-Ab12Cd.js></script>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build as ``vite build`` leaves it: the page, hashed assets, a public file."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-Ab12Cd.js").write_text("console.log('keywarden')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "assets" / "vendor-Ef34Gh.js").write_text(BUNDLE)
    return tmp_path


async def _client(settings: Settings, database: Database, dist: Path) -> AsyncIterator[Any]:
    app = create_app(settings.model_copy(update={"frontend_dir": dist}), database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


@pytest.fixture
async def web(settings: Settings, database: Database, dist: Path) -> AsyncIterator[Any]:
    async for client in _client(settings, database, dist):
        yield client


async def test_hashed_assets_are_cached_for_good_and_the_page_is_revalidated(web: Any) -> None:
    asset = await web.get("/assets/index-Ab12Cd.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in asset.headers["content-type"]
    for path in ("/", "/index.html"):
        page = await web.get(path)
        assert page.status_code == 200 and page.text == INDEX
        assert page.headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    icon = await web.get("/favicon.svg")
    assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"


async def test_the_files_go_gzipped_to_browsers_that_accept_it_and_api_answers_never(
    web: Any, database: Database, tenant: NewTenant
) -> None:
    # given: an API answer well above the size from which files are compressed
    token = await superadmin_token(database, tenant)
    big_query = "{ roles { id name rights } }"

    # when
    zipped = await web.get("/assets/vendor-Ef34Gh.js", headers={"Accept-Encoding": "gzip"})
    plain = await web.get("/assets/vendor-Ef34Gh.js", headers={"Accept-Encoding": "identity"})
    api = await web.post(
        "/graphql",
        json={"query": big_query},
        headers={"Accept-Encoding": "gzip", "Authorization": f"Bearer {token}"},
    )

    # then: the same bundle, a fraction of the bytes on the wire; cached for good either way
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.text == plain.text == BUNDLE
    assert int(zipped.headers["content-length"]) < len(BUNDLE) / 4
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert zipped.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-encoding" not in plain.headers
    assert api.status_code == 200 and len(api.content) > 1024, api.text
    assert "content-encoding" not in api.headers


async def test_client_routes_get_the_page(web: Any) -> None:
    for path in ("/keys", "/sign-in", "/keys/S2V5OjE", "/approvals/"):
        page = await web.get(path)
        assert (page.status_code, page.text) == (200, INDEX), path
        assert page.headers["cache-control"] == "no-cache"


async def test_the_api_paths_and_missing_files_never_get_the_page(web: Any) -> None:
    # the API's own paths keep their answers
    assert (await web.get("/health")).json() == {"status": "ok"}
    assert (await web.get("/remote/v1/x/y/heartbeat")).status_code == 405
    for path in ("/graphql/x", "/remote/v2", "/export/nothing.csv", "/health/x",
                 "/devices/x", "/bridge/x", "/assets/missing.js", "/missing.png",
                 "/assets", "/..%2f..%2fetc%2fpasswd", "/.env"):
        response = await web.get(path)
        assert response.status_code == 404, path
        assert response.text != INDEX, path
    # nothing but GET and HEAD
    assert (await web.post("/keys")).status_code == 404


async def test_without_a_build_the_root_says_how_to_build_it(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    async for client in _client(settings, database, tmp_path / "nothing"):
        response = await client.get("/keys")
        assert response.status_code == 404
        assert "make run" in response.text


def test_the_frontends_schema_is_the_served_schema() -> None:
    # The frontend's operation types are generated from frontend/schema.graphql (codegen
    # --check in `make test` holds them to it); this holds the file to the server.
    checked_in = (ROOT / "frontend" / "schema.graphql").read_text()
    assert checked_in == printed_schema() + "\n", (
        "frontend/schema.graphql differs from the served schema: run `make frontend-codegen` "
        "and commit frontend/schema.graphql and frontend/src/gql/"
    )
