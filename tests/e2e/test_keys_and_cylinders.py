"""The key card and the cylinders as their users meet them (issue 11 items 2, 3, 7, 8): issue a
key and see its jobs (R12–R15, R18); report one lost and see the blocking list and the
deprogramming jobs (R19, R21), then copy its configuration onto a replacement (R20); the list
function (R16); the cylinder card's desired and programmed access lists (R11); German at
tablet width. Every screen is checked with axe-core and photographed.

The demo's keys K-0033…K-0038 are spares in stock (E1, E1, E2, E2, E3, E3); each story uses
keys no other story of the session changes.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Site, assert_accessible, program_on_site, screenshot

EMPLOYEE = """
query($s: String) { employees(search: $s, first: 1) { edges { node { firstName lastName } } } }
"""
KEY_BY_MARKING = """
query($s: String) { keys(filter: {search: $s, advanced: true}) { edges { node { id uid } } } }
"""
BLOCKING_LIST = "{ blockingList { version keyUids } }"


def _open_key(page: Any, marking: str) -> None:
    """From the keys list: search the key and open its card by its marking's link."""
    page.get_by_role("link", name="Keys", exact=True).click()
    page.get_by_role("searchbox", name="Search keys").fill(marking)
    page.get_by_role("link", name=marking, exact=True).click()
    page.get_by_role("heading", name=f"Key {marking}").wait_for()


def _choose(page: Any, field: str, typed: str, option: str | re.Pattern[str]) -> None:
    """Type into a select field and take the option the server's search offers."""
    box = page.get_by_role("textbox", name=field)
    box.fill(typed)
    page.get_by_role("option", name=option).first.wait_for()
    page.get_by_role("option", name=option).first.click()


def _section(page: Any, title: str) -> Any:
    return page.get_by_role("region", name=title)


def test_issue_a_key_and_see_its_jobs(site: Site, page: Any) -> None:
    # given: the Superadmin on the card of K-0037, an E3 key in stock
    employee = site.graphql(EMPLOYEE)["employees"]["edges"][0]["node"]
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    _open_key(page, "K-0037")
    expect(page.get_by_text("In stock").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "key-card-in-stock")

    # when: issuing it with the IT profile, valid until a day before it starts
    page.get_by_role("button", name="Issue").click()
    dialog = page.get_by_role("dialog", name="Issue key K-0037")
    _choose(
        page,
        "Employee",
        employee["lastName"],
        re.compile(re.escape(f"{employee['lastName']}, {employee['firstName']}")),
    )
    dialog.get_by_role("switch", name="Always valid").click()
    dialog.get_by_label("Valid from").fill("2031-03-10")
    dialog.get_by_label("Valid until").fill("2031-03-01")
    _choose(page, "Access profiles", "IT", "IT")
    page.keyboard.press("Escape")  # the options close, the dialog stays
    dialog.get_by_role("button", name="Issue key").click()
    # then: the server's error stands next to the field it names (item 7), nothing issued
    expect(dialog.get_by_text("validFrom must be before validUntil")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "key-issue-error")

    # when: always valid after all
    dialog.get_by_role("switch", name="Always valid").click()
    dialog.get_by_role("button", name="Issue key").click()
    # then: issued, with a programming job per IT cylinder (R15) and remote jobs (R18)
    outcome = page.get_by_role("region", name="Key K-0037 issued")
    outcome.wait_for()
    expect(dialog).to_have_count(0)  # closed, its fade-out over before axe looks
    expect(outcome.get_by_text("10 programming jobs made.")).to_be_visible()
    expect(outcome.get_by_text(re.compile("3 remote jobs wait for the key"))).to_be_visible()
    expect(page.get_by_text("Issued").first).to_be_visible()
    # and: the card's authorizations name their origin and wait for programming
    authorizations = _section(page, "Authorizations")
    expect(authorizations.get_by_text("0 of 10 programmed")).to_be_visible()
    expect(authorizations.get_by_role("cell", name="Access profile IT").first).to_be_visible()
    # and: its open jobs are the ten that add it, the server paging them ten at a time
    jobs = _section(page, "Open programming jobs")
    expect(jobs.get_by_text("10 jobs")).to_be_visible()
    expect(jobs.get_by_text("Add K-0037")).to_have_count(10)
    remote = _section(page, "Remote jobs")
    expect(remote.get_by_text("Waiting for the key")).to_have_count(3)
    assert_accessible(page)
    screenshot(page, "key-card-issued")


def test_report_a_key_lost_see_the_blocking_list_and_deprogramming_jobs_and_copy_it(
    site: Site, page: Any
) -> None:
    # given: K-0018, the research lead's E3 key, programmed in building A and B cylinders
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    _open_key(page, "K-0018")
    expect(_section(page, "Authorizations").get_by_text(re.compile(r"programmed$"))).to_be_visible()
    uid = site.graphql(KEY_BY_MARKING, {"s": "K-0018"})["keys"]["edges"][0]["node"]["uid"]
    before = site.graphql(BLOCKING_LIST)["blockingList"]
    assert uid not in before["keyUids"]

    # when: reported lost, to be deprogrammed from chosen cylinders, none chosen yet
    page.get_by_role("button", name="Report lost").click()
    dialog = page.get_by_role("dialog", name="Report key K-0018 lost")
    dialog.get_by_role("radio", name="chosen cylinders or areas").check()
    dialog.get_by_role("button", name="Report lost").click()
    # then: the server's refusal stands next to the choice (item 7)
    expect(dialog.get_by_text("name at least one cylinder")).to_be_visible()
    assert_accessible(page)

    # when: the whole of building B is chosen (an area, R19)
    dialog.get_by_role("checkbox", name=re.compile(r"^All of Building B")).check()
    screenshot(page, "key-report-lost")
    dialog.get_by_role("button", name="Report lost").click()
    # then: LOST, on the blocking list, a deprogramming job per building-B cylinder
    outcome = page.get_by_role("region", name="Key K-0018 reported lost")
    outcome.wait_for()
    expect(dialog).to_have_count(0)
    made = outcome.get_by_role("row").filter(has_text="Remove K-0018")
    assert made.count() > 0
    assert all(text.startswith("B-") for text in made.all_inner_texts())
    expect(outcome.get_by_text(re.compile("stays in the cylinders not chosen"))).to_be_visible()
    expect(page.get_by_text("Lost", exact=True).first).to_be_visible()
    blocking = _section(page, "Key blocking list")
    listed = blocking.get_by_text(re.compile("The key is on the key blocking list, version"))
    expect(listed).to_be_visible()
    after = site.graphql(BLOCKING_LIST)["blockingList"]
    assert uid in after["keyUids"] and after["version"] > before["version"]
    jobs = _section(page, "Open programming jobs")
    expect(jobs.get_by_text("Remove K-0018").first).to_be_visible()
    expect(_section(page, "Remote jobs").get_by_role("cell", name="Blocking")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "key-card-lost")

    # when: its configuration is copied onto an E2 spare (R20)
    page.get_by_role("button", name="Copy configuration").click()
    dialog = page.get_by_role("dialog", name="Copy the configuration of K-0018")
    _choose(page, "Copy to key", "K-0035", re.compile("^K-0035"))
    dialog.get_by_role("button", name="Show what will be copied").click()
    # then: refused, and explained
    expect(dialog.get_by_text("This key cannot take the configuration")).to_be_visible()
    server_says = dialog.get_by_text(re.compile("E3 functions .* cannot be copied onto it"))
    expect(server_says).to_be_visible()
    assert_accessible(page)
    screenshot(page, "key-copy-refused")

    # when: onto the E3 spare K-0038 instead: first the preview, then the copy
    _choose(page, "Copy to key", "K-0038", re.compile("^K-0038"))
    dialog.get_by_role("button", name="Show what will be copied").click()
    preview = dialog.get_by_role("list", name="What will be copied")
    expect(preview.get_by_text("Revalidation interval:")).to_be_visible()
    expect(preview.get_by_text("Access profile:").first).to_be_visible()
    screenshot(page, "key-copy-preview")
    dialog.get_by_role("button", name="Copy configuration").click()
    # then: copied, with the jobs that give K-0038 the same cylinders
    copied = page.get_by_role("region", name="Configuration of K-0018 copied to K-0038")
    copied.wait_for()
    expect(dialog).to_have_count(0)
    expect(copied.get_by_role("row").filter(has_text="Add K-0038").first).to_be_visible()
    assert_accessible(page)


def test_the_list_function(site: Site, page: Any) -> None:
    # given: the Superadmin on the cylinders list
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Dashboard").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Cylinders", exact=True).click()
    page.get_by_role("heading", name="Cylinders").wait_for()
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "cylinders")

    # when: choosing on the first page, then A-004 after a search
    page.get_by_role("checkbox", name="Choose A-002 Side entrance").check()
    page.get_by_role("checkbox", name="Choose A-003 Delivery entrance").focus()
    page.keyboard.press("Space")  # by keyboard alone
    page.get_by_role("searchbox", name="Search cylinders").fill("A-004")
    page.get_by_text("1 cylinder", exact=True).wait_for()
    page.get_by_role("checkbox", name="Choose A-004 Garage gate").check()
    expect(page.get_by_text(re.compile("^3 cylinders chosen: A-002"))).to_be_visible()
    # and: adding K-0001 (its All staff profile gives it A-002 already) on all three (R16)
    list_function = _section(page, "List function")
    list_function.get_by_role("button", name="Add to 3 cylinders").click()
    expect(list_function.get_by_text("Choose at least one key or key group.")).to_be_visible()
    _choose(page, "Keys", "K-0001", re.compile("^K-0001"))
    page.keyboard.press("Escape")
    list_function.get_by_role("button", name="Add to 3 cylinders").click()
    # then: jobs for only; A-002 unchanged
    list_function.get_by_text("Authorizations changed").wait_for()
    summary = list_function.get_by_text("2 programming jobs made; 1 cylinder unchanged.")
    expect(summary).to_be_visible()
    made = list_function.get_by_role("table", name="Programming jobs made").get_by_role("row")
    assert sorted(r.split("\n")[0].split("\t")[0] for r in made.all_inner_texts()[1:]) == [
        "A-003 Delivery entrance",
        "A-004 Garage gate",
    ]
    unchanged = list_function.get_by_role("list", name=re.compile("^Unchanged"))
    assert unchanged.get_by_role("listitem").all_inner_texts() == ["A-002 Side entrance"]
    assert_accessible(page)
    screenshot(page, "cylinders-list-function")

    # when: opening A-003's card from the result
    list_function.get_by_role("link", name="A-003 Delivery entrance").first.click()
    page.get_by_role("heading", name="Cylinder A-003 Delivery entrance").wait_for()
    # then: K-0001 desired, not yet programmed: to be added by its open job (R11, R15)
    access = _section(page, "Access list: desired and programmed")
    row = access.get_by_role("row").filter(has_text="K-0001")
    expect(row.get_by_text("To be added")).to_be_visible()
    differing = access.get_by_text(re.compile(r"^\d+ of \d+ entries differ"))
    count = int(differing.inner_text().split()[0])
    access.get_by_text("Differences only").click()
    expect(access.get_by_role("row")).to_have_count(count + 1)
    assert all("to be" in r.lower() for r in access.get_by_role("row").all_inner_texts()[1:])
    jobs = _section(page, "Open programming jobs")
    expect(jobs.get_by_text("Add K-0001")).to_be_visible()
    expect(_section(page, "Audit trail").get_by_text("No events read out yet.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "cylinder-card")

    # when: the job is carried out on site, the cylinder's trail read out first (R15)
    cylinder_id = page.url.rsplit("/", 1)[1]
    key_uid = site.graphql(KEY_BY_MARKING, {"s": "K-0001"})["keys"]["edges"][0]["node"]["uid"]
    program_on_site(site, cylinder_id, [
        {"at": "2026-01-05T07:58:00+00:00", "keyUid": key_uid, "result": "GRANTED"},
        {"at": "2026-01-05T22:10:00+00:00", "keyUid": key_uid, "result": "DENIED_SCHEDULE"},
    ])
    page.reload()
    # then: desired and programmed agree, no job is open, and the trail shows what was read
    access = _section(page, "Access list: desired and programmed")
    expect(access.get_by_text(re.compile(r"^0 of \d+ entries differ"))).to_be_visible()
    open_jobs = _section(page, "Open programming jobs")
    expect(open_jobs.get_by_text("No open programming jobs.")).to_be_visible()
    trail = _section(page, "Audit trail")
    expect(trail.get_by_text("2 events")).to_be_visible()
    rows = [r.lower() for r in trail.get_by_role("row").all_inner_texts()[1:]]
    assert "refused: outside the schedule" in rows[0] and "k-0001" in rows[0]
    assert "access granted" in rows[1]
    assert_accessible(page)
    screenshot(page, "cylinder-card-programmed")


def test_the_key_card_and_cylinders_in_german_at_tablet_width(site: Site, german_page: Any) -> None:
    page = german_page
    page.goto(site.sign_in_url("PR-0001"))
    page.get_by_role("heading", name="Übersicht").wait_for()  # where sign-in lands
    page.get_by_role("link", name="Schlüssel", exact=True).click()
    page.get_by_role("heading", name="Schlüssel", exact=True).wait_for()
    page.get_by_role("link", name="K-0013", exact=True).focus()
    page.keyboard.press("Enter")  # by keyboard alone
    page.get_by_role("heading", name="Schlüssel K-0013").wait_for()
    # the facility manager's key: what its key group gives it, named in German
    authorizations = _section(page, "Berechtigungen")
    group = authorizations.get_by_role("cell", name="Schlüsselgruppe Facility E3")
    expect(group.first).to_be_visible()
    expect(page.get_by_role("button", name="Als verloren melden")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "key-card-de")

    page.get_by_role("link", name="Zylinder", exact=True).click()
    page.get_by_role("heading", name="Zylinder").wait_for()
    expect(page.get_by_text(re.compile(r"^\d+ Zylinder$"))).to_be_visible()
    page.get_by_role("link", name="A-001 Main entrance").click()
    page.get_by_role("heading", name="Zylinder A-001 Main entrance").wait_for()
    expect(page.get_by_role("region", name="Protokoll")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "cylinder-card-de")
