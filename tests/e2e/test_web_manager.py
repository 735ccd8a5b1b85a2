"""The web manager's foundation as its users meet it (issue 11 items 1 and 2, R5, R7, R29):
signing in by link and out again, the keys list paged and searched, the approver's menu in
German, and the browser session's guards in the browser itself (issue 14 item 7; R37): the CSRF
header, the WebSocket's origin, SameSite=Strict on a cross-site link, no reuse of a signed-out
cookie, the page's CSP and framing, nosniff on every answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Site, assert_accessible, screenshot

CSRF_FREE_LOGOUT = json.dumps({"query": "mutation { logout { loggedOut } }"})


def test_the_superadmin_signs_in_by_link_pages_and_searches_keys_and_signs_out(
    site: Site, page: Any
) -> None:
    # given: the one-time link `make run` prints for the demo Superadmin
    page.goto(site.sign_in_url("PR-0001"))
    # then: the dashboard (issue 12), with who and where in the header; the keys list a click away
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Keys", exact=True).click()
    page.get_by_role("heading", name="Keys", exact=True).wait_for()
    header = page.get_by_role("banner")
    assert "Demo Building Services" in header.inner_text()
    assert "Signed in as" in header.inner_text() and "SUPERADMIN" in header.inner_text().upper()
    expect(page.get_by_role("cell", name="K-0001", exact=True)).to_be_visible()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    # and: the link is gone from the address bar, the session is out of the scripts' reach
    assert "#link" not in page.url
    assert "kw_s_" not in page.evaluate("document.cookie + JSON.stringify(localStorage)")
    assert_accessible(page)
    screenshot(page, "keys")

    # when: the next page (server-side paging)
    page.get_by_role("button", name="Next page").click()
    page.get_by_text("Page 2 of 2").wait_for()
    expect(page.get_by_role("cell", name="K-0001", exact=True)).to_have_count(0)

    # when: searching as you type (a holder's name or a marking)
    page.get_by_role("searchbox", name="Search keys").fill("K-001")
    page.get_by_text("Page 1 of 1").wait_for()
    expect(page.get_by_role("cell", name="K-0010", exact=True)).to_be_visible()
    markings = page.get_by_role("row").all_inner_texts()[1:]
    assert markings and all(row.startswith("K-001") for row in markings)
    screenshot(page, "keys-search")

    # when: an advanced search (R10) for the lost keys among them
    page.get_by_role("searchbox", name="Search keys").fill("")
    page.get_by_role("switch", name="Advanced search").focus()
    page.keyboard.press("Space")  # by keyboard alone
    page.get_by_text("40 keys").wait_for()  # lost and defective ones too
    page.get_by_role("textbox", name="Status").focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name="Lost").click()
    page.keyboard.press("Escape")
    page.get_by_text("Page 1 of 1").wait_for()
    statuses = page.get_by_role("row").all_inner_texts()[1:]
    assert statuses and all("LOST" in row.upper() for row in statuses)
    assert_accessible(page)
    screenshot(page, "keys-advanced")

    # when: signing out
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    assert_accessible(page)
    screenshot(page, "sign-in")
    # then: the keys are behind the sign-in again
    page.goto(f"{site.url}/keys")
    page.get_by_role("heading", name="Sign in to Keywarden").wait_for()


def test_an_approver_sees_only_the_approvals_in_german(site: Site, german_page: Any) -> None:
    page = german_page
    # given: the demo's Approver (R29), in a German browser
    page.goto(site.sign_in_url("PN-0002"))
    # then: the approvals are the start page and the only menu entry
    page.get_by_role("heading", name="Freigaben").wait_for()
    assert page.url.endswith("/approvals")
    menu = page.get_by_role("navigation", name="Hauptmenü")
    assert menu.get_by_role("link").all_inner_texts() == ["Freigaben"]
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "approvals-de")


def test_a_used_link_and_an_offline_bridge_are_explained(site: Site, page: Any) -> None:
    # given: a link already used
    link = site.sign_in_url("PR-0001")
    page.goto(link)
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.context.clear_cookies()
    page.goto(link.replace("/sign-in#", "/sign-in?again=1#"))
    # then: it says so and offers the programming key instead
    page.get_by_role("alert").filter(has_text="cannot be used").wait_for()

    # when: signing in through a site bridge whose agent is not running (R5)
    page.get_by_label("Locking system ID").fill(site.tenant_id)
    page.get_by_label("Site bridge ID").fill(site.offline_bridge())
    page.get_by_label("PIN").fill("123456")
    page.get_by_role("button", name="Sign in").click()
    # then: what to start, next to the bridge field
    offline = page.get_by_text("The site bridge is not connected")
    offline.wait_for()
    assert "keywarden-bridge run" in offline.inner_text()
    assert_accessible(page)
    screenshot(page, "sign-in-bridge-offline")


def test_the_session_refuses_posts_without_the_csrf_header_and_foreign_websockets(
    site: Site, page: Any
) -> None:
    # given: a signed-in browser
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    # when: a POST rides on the cookie without the CSRF header
    forged = page.context.request.post(
        f"{site.url}/graphql", data=CSRF_FREE_LOGOUT,
        headers={"Content-Type": "application/json"},
    )
    # then: refused, and the session holds
    assert forged.status == 403
    page.reload()
    page.get_by_role("heading", name="Dashboard").wait_for()

    # the app's own WebSocket is authenticated by the cookie
    same_site = page.evaluate(WS_PROBE, site.url.replace("http", "ws") + "/graphql")
    assert same_site == {"opened": True, "ack": True}

    # when: another site's page opens the WebSocket to the server
    page.route("http://elsewhere.example/", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>elsewhere</title>"))
    page.goto("http://elsewhere.example/")
    foreign = page.evaluate(WS_PROBE, site.url.replace("http", "ws") + "/graphql")
    # then: the upgrade is refused, the socket never opens
    assert foreign == {"opened": False, "ack": False}


# Opens a graphql-transport-ws socket, sends connection_init without a token and reports
# whether it opened and was acknowledged.
WS_PROBE = """
url => new Promise(resolve => {
  const state = {opened: false, ack: false};
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const done = () => resolve(state);
  ws.onopen = () => { state.opened = true; ws.send(JSON.stringify({type: 'connection_init'})); };
  ws.onmessage = e => {
    if (JSON.parse(e.data).type === 'connection_ack') state.ack = true;
    ws.close();
  };
  ws.onclose = done;
  ws.onerror = () => {};
})
"""


def test_the_pages_policy_stops_injected_scripts_and_framing_in_the_browser(
    site: Site, page: Any
) -> None:
    # given: a signed-in page
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands

    # when: a script is injected inline, as a cross-site scripting flaw would (R37)
    ran = page.evaluate(
        """() => {
          const s = document.createElement('script');
          s.textContent = 'window.injected = true';
          document.head.appendChild(s);
          return window.injected === true;
        }"""
    )
    # then: the page's Content-Security-Policy keeps it from running
    assert ran is False

    # when: another site frames the web manager (clickjacking)
    page.route("http://elsewhere.example/", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body=f'<!doctype html><title>elsewhere</title><iframe src="{site.url}/keys"></iframe>'))
    page.goto("http://elsewhere.example/")
    page.wait_for_load_state("load")
    # then: the browser refuses to show it there (frame-ancestors 'none')
    framed = page.frames[1]
    assert framed.url == "chrome-error://chromewebdata/"


EXPORT = "/export/employees.csv"  # a GET the session cookie alone opens (R30)


def test_the_session_cookie_is_never_planted_stays_home_and_dies_with_sign_out_in_the_browser(
    site: Site, page: Any, chromium: Any
) -> None:
    # given: a session cookie an attacker planted before sign-in (session fixation)
    planted = "kw_s_" + "A" * 43
    page.context.add_cookies([{"name": "keywarden_session", "value": planted, "url": site.url}])
    # when: the user signs in
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    # then: the session is a new one, never the planted value
    (session,) = [c for c in page.context.cookies() if c["name"] == "keywarden_session"]
    assert session["value"] != planted and session["httpOnly"]
    # and: the browser downloads the employees export by its cookie
    page.set_content(f'<a href="{site.url}{EXPORT}">export</a>')
    with page.expect_download() as same_site:
        page.get_by_role("link", name="export").click()
    assert Path(same_site.value.path()).read_text(encoding="utf-8-sig").startswith("employeeNumber")

    # when: another site links to the export and the user follows the link
    page.route("http://elsewhere.example/", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body=f'<!doctype html><title>elsewhere</title><a href="{site.url}{EXPORT}">win</a>'))
    page.goto("http://elsewhere.example/")
    page.get_by_role("link", name="win").click()
    page.wait_for_url(f"{site.url}{EXPORT}")
    # then: SameSite=Strict kept the cookie home: the request came signed in as nobody
    assert "UNAUTHENTICATED" in page.content()

    # given: the session's cookie as it is now
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "keywarden_session"]
    assert cookie["sameSite"] == "Strict"
    # when: the user signs out, and the old cookie is planted in another browser
    page.goto(f"{site.url}/keys")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    thief = chromium.new_context()
    try:
        thief.add_cookies([cookie])
        stolen = thief.new_page()
        stolen.goto(f"{site.url}/keys")
        # then: the ended session opens nothing: the sign-in page, and no export
        stolen.get_by_role("heading", name="Sign in to Keywarden").wait_for()
        stolen.goto(f"{site.url}{EXPORT}")
        assert "UNAUTHENTICATED" in stolen.content()
    finally:
        thief.close()


def test_every_answer_of_the_web_manager_forbids_content_sniffing(site: Site, page: Any) -> None:
    # given: the answers the browser gets while it loads the web manager (page, scripts, styles)
    answers: list[Any] = []
    page.on("response", lambda answer: answers.append(answer))
    # when
    page.goto(f"{site.url}/sign-in", wait_until="networkidle")
    # then: each says nosniff, so no file is ever run as another type (R37)
    served = [a for a in answers if a.url.startswith(site.url)]
    assert {a.request.resource_type for a in served} >= {"document", "script"}
    assert all(a.headers.get("x-content-type-options") == "nosniff" for a in served), [
        a.url for a in served if a.headers.get("x-content-type-options") != "nosniff"]
