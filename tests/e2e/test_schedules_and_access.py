"""Schedules in the weekly grid (issue 11 item 5; R12, R18): edit the demo's "Cleaning" schedule
(the cleaners' E2 keys carry it), see the server's refusal on the window it names, then save and
see the keys that get the new windows. Checked with axe-core and photographed at laptop and
tablet width."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Site, assert_accessible, screenshot

SCHEDULE = "{ schedules { name windows { days start end } } }"


def test_edit_a_schedule_in_the_weekly_grid_and_see_its_effect(site: Site, page: Any) -> None:
    # given: the Superadmin on the schedules screen
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Keys").wait_for()
    page.get_by_role("link", name="Schedules", exact=True).click()
    table = page.get_by_role("table", name="Schedules and their weekly time windows")
    expect(table.get_by_role("row", name="Cleaning")).to_contain_text("18:00–22:00")
    assert_accessible(page)
    screenshot(page, "schedules")

    # when: editing "Cleaning" by keyboard: Saturday ticked, a second window ending before it starts
    page.get_by_role("button", name="Edit schedule Cleaning").click()
    dialog = page.get_by_role("dialog", name="Edit schedule Cleaning")
    saturday = dialog.get_by_role("checkbox", name="Saturday, window 1")
    saturday.focus()
    page.keyboard.press("Space")
    expect(saturday).to_be_checked()
    dialog.get_by_role("button", name="Add a weekend window").click()
    dialog.get_by_label("Start of window 2").fill("14:00")
    dialog.get_by_label("End of window 2").fill("09:00")
    dialog.get_by_role("button", name="Save schedule").click()

    # then: the server's message stands on window 2, nothing is saved
    expect(dialog.get_by_role("alert")).to_contain_text("Window 2")
    expect(dialog.get_by_role("alert")).to_contain_text("start must be before end")
    expect(dialog.get_by_label("End of window 2")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, "schedule-grid-error")
    saved = {s["name"]: s for s in site.graphql(SCHEDULE)["schedules"]}
    workdays = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    assert saved["Cleaning"]["windows"] == [{"days": workdays, "start": "18:00", "end": "22:00"}]

    # when: window 2 removed and the schedule saved
    dialog.get_by_role("button", name="Remove window 2").click()
    dialog.get_by_role("button", name="Save schedule").click()

    # then: the cleaners' E2 keys get the new windows as remote jobs (R18), the list shows Saturday
    expect(dialog).to_have_count(0)
    status = page.get_by_role("status").filter(has_text="Schedule Cleaning saved")
    expect(status).to_contain_text("get the new windows at a remote device")
    expect(status.get_by_role("listitem").first).to_contain_text("Schedule")
    expect(table.get_by_role("row", name="Cleaning")).to_contain_text("Mon–Sat 18:00–22:00")
    saved = {s["name"]: s for s in site.graphql(SCHEDULE)["schedules"]}
    assert saved["Cleaning"]["windows"][0]["days"][-1] == "SATURDAY"
    assert_accessible(page)
    screenshot(page, "schedule-saved")


def test_schedules_in_german_at_tablet_width(site: Site, german_page: Any) -> None:
    page = german_page
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Schlüssel").wait_for()
    page.goto(site.url + "/schedules")
    page.get_by_role("heading", name="Zeitpläne").wait_for()
    page.get_by_role("button", name="Neuer Zeitplan").click()
    dialog = page.get_by_role("dialog", name="Neuer Zeitplan")
    expect(dialog.get_by_role("checkbox", name="Montag, Fenster 1")).to_be_checked()
    assert_accessible(page)
    screenshot(page, "schedule-new-de")
