"""The dashboard (issue 12 item 1): the Superadmin signs in on the demo tenant and lands on the
dashboard, whose counts are the ones GraphQL's lists report (R10: without lost and defective
elements), with the waiting jobs per domain (R15), the blocking list against its 3,000 keys
(R11, R21) and the audit events of 30 days drawn as a chart that the keyboard reaches. Checked
with axe-core and photographed at laptop width in English and at tablet width in German."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, assert_accessible, demo_site, program_on_site, screenshot

LISTS = """
query($from: DateTime!) {
  keys { totalCount }
  cylinders { totalCount }
  employees { totalCount }
  remoteDevices { online }
  programmingJobs(filter: {status: [PENDING, ASSIGNED, ON_KEY]}) { totalCount }
  blockingList { keyUids }
  auditEvents(filter: {from: $from}) { totalCount }
}
"""
OPEN_JOB = """
{ programmingJobs(filter: {status: [PENDING]}, first: 1) { edges { node { cylinder { id } } } }
  keys(first: 1) { edges { node { uid } } } }
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """These stories program a cylinder and store its audit trail: on a demo tenant and server
    of their own, the other modules' stories find the demo as it was."""
    yield from demo_site(tmp_path_factory)


def _days_ago(days: int, hour: int) -> str:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=days, hours=-hour)).isoformat()


def _program_a_cylinder_reading_its_trail(site: Site) -> None:
    """A cylinder with open jobs programmed on site, three events read out of it first (R15,
    R28): two a day ago, one six days ago."""
    found = site.graphql(OPEN_JOB)
    cylinder = found["programmingJobs"]["edges"][0]["node"]["cylinder"]["id"]
    key_uid = found["keys"]["edges"][0]["node"]["uid"]
    events = [
        {"at": _days_ago(1, 8), "keyUid": key_uid, "result": "GRANTED"},
        {"at": _days_ago(1, 17), "keyUid": key_uid, "result": "DENIED_SCHEDULE"},
        {"at": _days_ago(6, 9), "keyUid": key_uid, "result": "GRANTED"},
    ]
    assert program_on_site(site, cylinder, events) == 3


def _reported(site: Site) -> dict[str, Any]:
    """What GraphQL's own lists say, counted the way a partner would."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    data = site.graphql(LISTS, {"from": (today - timedelta(days=29)).isoformat()})
    return {
        "keys": data["keys"]["totalCount"],
        "cylinders": data["cylinders"]["totalCount"],
        "employees": data["employees"]["totalCount"],
        "offlineDevices": sum(1 for d in data["remoteDevices"] if not d["online"]),
        "jobs": data["programmingJobs"]["totalCount"],
        "blocked": len(data["blockingList"]["keyUids"]),
        "audit": data["auditEvents"]["totalCount"],
    }


def _number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_the_superadmin_lands_on_the_dashboard_and_sees_what_graphql_reports(
    site: Site, page: Any
) -> None:
    # given: a cylinder of the demo programmed, its trail read out; what GraphQL's lists report
    _program_a_cylinder_reading_its_trail(site)
    reported = _reported(site)
    assert reported["audit"] == 3
    # when: the Superadmin signs in
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()
    # then: the dashboard is first in the menu and its counts are GraphQL's
    menu = page.get_by_role("navigation").get_by_role("link")
    expect(menu.first).to_have_text("Dashboard")
    for part in ("keys", "cylinders", "employees", "offlineDevices"):
        count = page.get_by_test_id(f"count-{part}")
        expect(count).to_be_visible()
        assert _number(count.inner_text()) == reported[part], part
    jobs = page.get_by_role("table", name="Waiting programming jobs per domain")
    waiting = [_number(r.split("\t")[-1]) for r in jobs.get_by_role("row").all_inner_texts()[1:]]
    assert sum(waiting) == reported["jobs"] > 0
    expect(page.get_by_role("link", name=re.compile(r"jobs? in all$"))).to_have_text(
        f"{reported['jobs']:,} {'job' if reported['jobs'] == 1 else 'jobs'} in all"
    )
    bar = page.get_by_role("progressbar", name=re.compile("of at most 3,000 keys"))
    expect(bar).to_have_attribute("aria-valuenow", str(reported["blocked"]))
    # and: the chart is drawn, 30 days along its axis, its figures told in words too
    chart = page.get_by_test_id("audit-chart")
    expect(chart.locator("svg.recharts-surface")).to_be_visible()
    expect(chart.locator(".recharts-xAxis-tick-labels text").first).to_be_visible()
    days = page.get_by_role("table", name="Audit events per day (UTC)")
    expect(days.get_by_role("row")).to_have_count(31)
    summed = sum(_number(r.split("\t")[-1]) for r in days.get_by_role("row").all_inner_texts()[1:])
    assert summed == reported["audit"]
    expect(chart.locator(".recharts-bar-rectangle path")).to_have_count(2)  # two days with events
    summary = re.compile(r"^3 audit events in the last 30 days; the most on .*: 2\.$")
    expect(page.get_by_text(summary)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "dashboard")
    # and: the keyboard reaches the chart and walks its days, the tooltip naming each
    chart.locator("svg.recharts-surface").focus()
    page.keyboard.press("ArrowRight")
    expect(chart.locator(".recharts-tooltip-wrapper")).to_contain_text("Audit events")

    # when: refreshed, and then the keys card's link followed
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_test_id("count-keys")).to_have_text(f"{reported['keys']:,}")
    page.get_by_role("link", name="Show Keys").click()
    # then
    page.get_by_role("heading", name="Keys", exact=True).wait_for()


def test_the_dashboard_in_german_at_tablet_width(site: Site, german_page: Any) -> None:
    page = german_page
    reported = _reported(site)
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Übersicht").wait_for()
    german_keys = f"{reported['keys']:,}".replace(",", ".")
    expect(page.get_by_test_id("count-keys")).to_have_text(german_keys)
    expect(page.get_by_role("heading", name="Wartende Programmieraufträge")).to_be_visible()
    bar = page.get_by_role("progressbar", name=re.compile("von höchstens 3.000 Schlüsseln"))
    expect(bar).to_be_visible()
    expect(page.get_by_test_id("audit-chart").locator("svg.recharts-surface")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "dashboard-de")
