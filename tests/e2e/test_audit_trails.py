"""Audit trails of keys and cylinders in the web manager (issue 12 item 8; R28): the trail read
out of a cylinder filtered by the cylinder and a result, paged, exported as the CSV of exactly
that filter, shared by its URL; a key's trail from its card; German at tablet width. Every
screen is checked with axe-core and photographed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, assert_accessible, demo_site, program_on_site, screenshot

CYLINDER = "A-005"
KEY = "K-0036"  # an E2 spare in stock
FIND = """
query($c: String, $k: String) {
  cylinders(filter: {search: $c}) { edges { node { id marking } } }
  keys(filter: {search: $k, advanced: true}) { edges { node { id uid marking } } } }
"""
AUTHORIZE = """
mutation($i: ChangeAuthorizationsInput!) { changeAuthorizations(input: $i) { errors { message } } }
"""
RESULTS = ("GRANTED", "DENIED_SCHEDULE", "GRANTED", "DENIED_EXPIRED")
# 120 events, an hour apart from here: 30 of them refused outside the schedule.
START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A demo of its own: these stories program a cylinder and read its trail out."""
    yield from demo_site(tmp_path_factory)


@pytest.fixture(scope="module")
def cylinder_marking(site: Site) -> str:
    """A-005's trail read out when a job authorising K-0036 is carried out on site (R15, R28)."""
    found = site.graphql(FIND, {"c": CYLINDER, "k": KEY})
    cylinder = found["cylinders"]["edges"][0]["node"]
    key = next(e["node"] for e in found["keys"]["edges"] if e["node"]["marking"] == KEY)
    changed = site.graphql(AUTHORIZE, {"i": {"cylinderIds": [cylinder["id"]], "add": [key["id"]]}})
    assert changed["changeAuthorizations"]["errors"] == []
    events = [
        {
            "at": (START + timedelta(hours=i)).isoformat(),
            "keyUid": key["uid"],
            "result": RESULTS[i % len(RESULTS)],
        }
        for i in range(120)
    ]
    program_on_site(site, cylinder["id"], events)
    return str(cylinder["marking"])


def _rows(page: Any, table: str) -> list[str]:
    return [
        r.lower()
        for r in page.get_by_role("table", name=table).get_by_role("row").all_inner_texts()[1:]
    ]


def test_filter_page_and_export_a_cylinders_audit_trail(
    site: Site, page: Any, cylinder_marking: str
) -> None:
    # given: the Superadmin on the audit trail screen
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Audit trail", exact=True).click()
    page.get_by_role("heading", name="Audit trail").wait_for()
    expect(page.get_by_text("120 events")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "audit-trail")

    # when: filtering by the cylinder (searched on the server) and one result
    page.get_by_role("textbox", name="Cylinder").fill(CYLINDER)
    page.get_by_role("option", name=re.compile(f"^{cylinder_marking} · ")).click()
    page.get_by_role("textbox", name="Result").click()
    page.get_by_role("option", name="Refused: outside the schedule").click()
    page.keyboard.press("Escape")
    # then: 30 events, newest first, 25 on the first page
    expect(page.get_by_text("30 events")).to_be_visible()
    first = _rows(page, "Audit events, page 1")
    assert len(first) == 25
    assert all(
        cylinder_marking.lower() in r and "outside the schedule" in r and KEY.lower() in r
        for r in first
    )
    assert_accessible(page)
    screenshot(page, "audit-trail-filtered")

    # when: on to the next page
    page.get_by_role("button", name="Next page").click()
    # then: the other 5
    expect(page.get_by_role("table", name="Audit events, page 2").get_by_role("row")).to_have_count(
        6
    )
    screenshot(page, "audit-trail-page-2")

    # when: exporting
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    data = download.value.path().read_bytes()
    # then: the CSV holds exactly the filtered events, newest first (R28)
    assert download.value.suggested_filename == "audit-events.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["at", "key", "cylinder", "result"]
    expected = [
        (START + timedelta(hours=i)).isoformat()
        for i in range(120)
        if RESULTS[i % len(RESULTS)] == "DENIED_SCHEDULE"
    ]
    assert [r[0] for r in rows[1:]] == sorted(expected, reverse=True)
    assert {(r[1], r[2], r[3]) for r in rows[1:]} == {(KEY, cylinder_marking, "DENIED_SCHEDULE")}

    # when: the screen's address is opened again (shared, reloaded)
    page.reload()
    # then: the same filter, back on the first page
    expect(page.get_by_text("30 events")).to_be_visible()
    expect(page.get_by_role("textbox", name="Cylinder")).to_have_value(
        re.compile(f"^{cylinder_marking}")
    )


def test_a_keys_card_opens_its_audit_trail(site: Site, page: Any, cylinder_marking: str) -> None:
    # given: K-0036's card
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Keys", exact=True).click()
    page.get_by_role("searchbox", name="Search keys").fill(KEY)
    page.get_by_role("link", name=KEY, exact=True).click()
    page.get_by_role("heading", name=f"Key {KEY}").wait_for()
    # when
    page.get_by_role("region", name="Audit trail").get_by_role(
        "link", name="Show this key's audit trail"
    ).click()
    # then: the trail filtered by the key, the key named in its picker
    expect(page.get_by_text("120 events")).to_be_visible()
    expect(page.get_by_role("textbox", name="Key")).to_have_value(KEY)
    assert all(KEY.lower() in r for r in _rows(page, "Audit events, page 1"))


def test_the_audit_trail_in_german_at_tablet_width(
    site: Site, german_page: Any, cylinder_marking: str
) -> None:
    # given: signed in, in German
    page = german_page
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Übersicht").wait_for()  # where sign-in lands
    # when: on the audit trail, filtered from 3 to 4 November (the browser runs in UTC)
    page.get_by_role("link", name="Protokoll", exact=True).click()
    page.get_by_label("Von (Tag)").fill("2026-11-03")
    page.get_by_label("Bis (Tag)").fill("2026-11-04")
    # then: 48 hours of events, dates written the German way
    expect(page.get_by_text("48 Ereignisse")).to_be_visible()
    table = page.get_by_role("table", name="Protokollereignisse, Seite 1")
    expect(table.get_by_role("row").nth(1)).to_contain_text("04.11.2026, 23:00")
    expect(table.get_by_role("row").nth(2)).to_contain_text("Zutritt gewährt", ignore_case=True)
    assert_accessible(page)
    screenshot(page, "audit-trail-de-tablet")
