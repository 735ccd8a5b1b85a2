"""Schedules in the weekly grid (issue 11 item 5; R12, R18): edit the demo's "Cleaning" schedule
(the cleaners' E2 keys carry it), see the server's refusal on the window it names, then save and
see the keys that get the new windows. Access profiles (R13, R14): one made with cylinders the
server searched. Key groups (R13): the list and the edit dialog. Cylinder groups (R13, R15): one
made with cylinders the server searched, its jobs, and the server's refusal to remove it while it
has cylinders. Each screen is checked with axe-core and photographed at laptop and tablet width."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Site, assert_accessible, screenshot

SCHEDULE = "{ schedules { name windows { days start end } } }"


def _closed(page: Any, dialog: Any) -> None:
    """The dialog is gone and so is its overlay's fade-out, which would dim the page for axe."""
    expect(dialog).to_have_count(0)
    expect(page.locator(".mantine-Modal-overlay")).to_have_count(0)


def test_edit_a_schedule_in_the_weekly_grid_and_see_its_effect(site: Site, page: Any) -> None:
    # given: the Superadmin on the schedules screen
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
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
    _closed(page, dialog)
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
    page.get_by_role("heading", name="Übersicht").wait_for()  # where sign-in lands
    page.goto(site.url + "/schedules")
    page.get_by_role("heading", name="Zeitpläne").wait_for()
    page.get_by_role("button", name="Neuer Zeitplan").click()
    dialog = page.get_by_role("dialog", name="Neuer Zeitplan")
    expect(dialog.get_by_role("checkbox", name="Montag, Fenster 1")).to_be_checked()
    assert_accessible(page)
    screenshot(page, "schedule-new-de")


PROFILES = """
{ accessProfiles { name extensionIntervalHours schedule { name } cylinders { marking } } }
"""


def test_create_an_access_profile_with_cylinders(site: Site, page: Any) -> None:
    # given: the Superadmin on the access profiles screen
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Access profiles", exact=True).click()
    table = page.get_by_role("table", name=re.compile("^Access profiles with their cylinders"))
    table.get_by_role("row").nth(1).wait_for()
    assert_accessible(page)
    screenshot(page, "access-profiles")

    # when: creating "Night watch" with two cylinders found by the server's search, a schedule
    # and an interval out of range (R14)
    page.get_by_role("button", name="New access profile").click()
    dialog = page.get_by_role("dialog", name="New access profile")
    dialog.get_by_role("textbox", name="Name").fill("Night watch")
    for marking in ("A-001", "A-007"):
        dialog.get_by_role("textbox", name="Cylinders").fill(marking)
        page.get_by_role("option", name=re.compile(rf"^{marking} .* · Default$")).click()
    dialog.get_by_role("textbox", name="Cylinders").press("Tab")  # on by keyboard; the list closes
    dialog.get_by_role("textbox", name="Schedule").click()
    page.get_by_role("option", name="Weekend security").click()
    interval = dialog.get_by_role("textbox", name="Extension interval (hours)")
    interval.fill("100000")
    dialog.get_by_role("button", name="Create access profile").click()

    # then: the server's message stands at the interval, nothing is made
    expect(interval).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_contain_text("between 1 and")
    assert "Night watch" not in str(site.graphql(PROFILES))
    assert_accessible(page)
    screenshot(page, "access-profile-error")

    # when: a valid interval
    interval.fill("48")
    dialog.get_by_role("button", name="Create access profile").click()

    # then: the profile is listed with its cylinders, schedule and interval; no key holds it yet,
    # so no job is made (R15)
    _closed(page, dialog)
    expect(page.get_by_role("status")).to_contain_text("Access profile Night watch saved")
    row = table.get_by_role("row", name=re.compile("Night watch"))
    expect(row).to_contain_text(re.compile(r"A-001 [^,]+, A-007 "))
    expect(row).to_contain_text("Weekend security")
    expect(row).to_contain_text("48 hours")
    made = next(p for p in site.graphql(PROFILES)["accessProfiles"] if p["name"] == "Night watch")
    assert made["extensionIntervalHours"] == 48
    assert made["schedule"] == {"name": "Weekend security"}
    assert [c["marking"][:5] for c in made["cylinders"]] == ["A-001", "A-007"]
    assert_accessible(page)
    screenshot(page, "access-profile-created")


def test_key_groups_list_and_edit_dialog(site: Site, page: Any) -> None:
    # given: the Superadmin on the key groups screen: the demo's "Facility E3" with its keys (R13)
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Key groups", exact=True).click()
    table = page.get_by_role("table", name="Key groups and their keys")
    expect(table.get_by_role("row", name=re.compile("Facility E3"))).to_contain_text("K-")
    assert_accessible(page)
    screenshot(page, "key-groups")

    # when: its edit dialog opens, then: its members stand as chosen keys
    page.get_by_role("button", name="Edit key group Facility E3").click()
    dialog = page.get_by_role("dialog", name="Edit key group Facility E3")
    expect(dialog).to_contain_text("· E3")
    expect(dialog).to_have_css("opacity", "1")  # faded in before axe looks at its contrast
    assert_accessible(page)
    screenshot(page, "key-group-edit")
    dialog.get_by_role("button", name="Cancel").click()
    _closed(page, dialog)


CYLINDER_GROUPS = "{ cylinderGroups { name cylinders { marking } } }"


def test_make_a_cylinder_group_and_see_why_it_cannot_be_removed(site: Site, page: Any) -> None:
    # given: the Superadmin on the cylinder groups screen
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Cylinder groups", exact=True).click()
    page.get_by_role("heading", name="Cylinder groups").wait_for()

    # when: "Server rooms" is made of two cylinders found by the server's search
    page.get_by_role("button", name="New cylinder group").click()
    dialog = page.get_by_role("dialog", name="New cylinder group")
    dialog.get_by_role("textbox", name="Name").fill("Server rooms")
    for marking in ("A-002", "A-003"):
        dialog.get_by_role("textbox", name="Cylinders").fill(marking)
        page.get_by_role("option", name=re.compile(rf"^{marking} .* · Default$")).click()
    dialog.get_by_role("textbox", name="Cylinders").press("Tab")
    dialog.get_by_role("button", name="Create cylinder group").click()

    # then: each cylinder gets a job to learn the group; no key is reprogrammed (R13, R15)
    _closed(page, dialog)
    status = page.get_by_role("status").filter(has_text="Cylinder group Server rooms saved")
    expect(status).to_contain_text("2 programming jobs made")
    jobs = page.get_by_role("table", name="Programming jobs made")
    expect(jobs).to_contain_text("A-002")
    expect(jobs).to_contain_text("Add cylinder group Server rooms")
    table = page.get_by_role("table", name="Cylinder groups and their cylinders")
    expect(table.get_by_role("row", name=re.compile("Server rooms"))).to_contain_text(
        re.compile(r"A-002 [^,]+, A-003 "))
    made = next(g for g in site.graphql(CYLINDER_GROUPS)["cylinderGroups"]
                if g["name"] == "Server rooms")
    assert [c["marking"][:5] for c in made["cylinders"]] == ["A-002", "A-003"]
    assert_accessible(page)
    screenshot(page, "cylinder-groups")

    # when: it is removed while it has cylinders
    page.get_by_role("button", name="Delete cylinder group Server rooms").click()
    confirm = page.get_by_role("dialog", name=re.compile("Server rooms"))
    confirm.get_by_role("button", name="Delete", exact=True).click()

    # then: the server's CONFLICT stands in the dialog, naming the cylinders; nothing is removed
    expect(confirm.get_by_role("alert")).to_contain_text("its cylinders: A-002")
    assert any(g["name"] == "Server rooms"
               for g in site.graphql(CYLINDER_GROUPS)["cylinderGroups"])
    expect(confirm).to_have_css("opacity", "1")
    assert_accessible(page)
    screenshot(page, "cylinder-group-refused")
