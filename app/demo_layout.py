"""The demo campus's layout: two office buildings, their people, cylinders, keys and profiles.

Pure data for :func:`app.demo.seed_demo`: what stands where (cylinders by
marking code, R11), who works there (positions, R4), which keys they carry and
what those keys may open (R10, R12, R13), and the programming keys that
administer it (R5). Names and UIDs are drawn at seeding time from the seed.
"""

from __future__ import annotations

from typing import NamedTuple

from app.models import KeyGeneration, KeyStatus, KeyType, ProgrammingKeyKind

BUILDING_A = "Default"
BUILDING_B = "Building B"
# Access entries left desired but not yet programmed: the demo's open programming jobs (R15).
OPEN_CHANGES = 6

_WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
SCHEDULES: dict[str, list[dict[str, object]]] = {
    "Office hours": [{"days": _WEEKDAYS, "start": "07:00", "end": "19:00"}],
    "Cleaning": [{"days": _WEEKDAYS, "start": "18:00", "end": "22:00"}],
    "Weekend security": [{"days": ["SATURDAY", "SUNDAY"], "start": "00:00", "end": "23:59"}],
}

# (marking code, name, security relevant): the "A-" cylinders are building A (the
# default domain), the "B-" cylinders building B. Security-relevant cylinders are
# cleared first when a key is lost (R19).
CYLINDERS: tuple[tuple[str, str, bool], ...] = (
    ("A-001", "Main entrance", True),
    ("A-002", "Side entrance", False),
    ("A-003", "Delivery entrance", False),
    ("A-004", "Garage gate", False),
    ("A-005", "Garage stairwell", False),
    ("A-006", "Reception", False),
    ("A-007", "Server room", True),
    ("A-008", "Network closet ground floor", False),
    ("A-009", "Network closet 1st floor", False),
    ("A-010", "Archive", True),
    ("A-011", "HR records", True),
    ("A-012", "Finance office", False),
    ("A-013", "Managing director", False),
    ("A-014", "Management assistant", False),
    ("A-015", "Meeting room Rhein", False),
    ("A-016", "Meeting room Main", False),
    ("A-017", "Office 1.01 Human resources", False),
    ("A-018", "Office 1.02 Human resources", False),
    ("A-019", "Office 1.03 Sales", False),
    ("A-020", "Office 1.04 Sales", False),
    ("A-021", "Office 2.01 IT", False),
    ("A-022", "Office 2.02 IT", False),
    ("A-023", "Office 2.03 Facility management", False),
    ("A-024", "Works council", False),
    ("A-025", "Kitchen ground floor", False),
    ("A-026", "Kitchen 1st floor", False),
    ("A-027", "Cleaning storeroom", False),
    ("A-028", "Heating room", False),
    ("A-029", "Electrical room", False),
    ("A-030", "Roof access", False),
    ("A-031", "Post room", False),
    ("A-032", "Print room", False),
    ("A-033", "Bicycle room", False),
    ("A-034", "Waste room", False),
    ("A-035", "First aid room", False),
    ("A-036", "Security lodge", False),
    ("B-001", "Main entrance", True),
    ("B-002", "Side entrance", False),
    ("B-003", "Loading bay", False),
    ("B-004", "Garage gate", False),
    ("B-005", "Server room", True),
    ("B-006", "Network closet", False),
    ("B-007", "Laboratory 1", False),
    ("B-008", "Laboratory 2", False),
    ("B-009", "Chemicals store", True),
    ("B-010", "Workshop", False),
    ("B-011", "Office 0.01 Research", False),
    ("B-012", "Office 0.02 Research", False),
    ("B-013", "Office 0.03 Sales", False),
    ("B-014", "Office 0.04 IT", False),
    ("B-015", "Meeting room Elbe", False),
    ("B-016", "Kitchen", False),
    ("B-017", "Cleaning storeroom", False),
    ("B-018", "Technical room", False),
    ("B-019", "Electrical room", False),
    ("B-020", "Archive", True),
    ("B-021", "Sample storage", False),
    ("B-022", "Changing room", False),
    ("B-023", "Bicycle room", False),
    ("B-024", "Waste room", False),
)


class ProfileSpec(NamedTuple):
    name: str
    schedule: str
    extension_interval_hours: int | None
    cylinders: tuple[str, ...]


def _codes(prefix: str, first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{n:03d}" for n in range(first, last + 1))


PROFILES: tuple[ProfileSpec, ...] = (
    ProfileSpec(
        "All staff", "Always", None,
        ("A-001", "A-002", "A-005", "A-025", "A-026", "A-033", "A-035",
         "B-001", "B-002", "B-016", "B-022", "B-023"),
    ),
    ProfileSpec(
        "IT", "Always", 24,
        ("A-007", "A-008", "A-009", "A-021", "A-022", "A-029", "B-005", "B-006", "B-014", "B-019"),
    ),
    ProfileSpec(
        "Cleaning", "Cleaning", None,
        ("A-001", "A-002", "A-006", *_codes("A", 12, 27), "A-031", "A-032", "A-034", "A-035",
         "B-001", "B-002", *_codes("B", 11, 17), "B-022", "B-024"),
    ),
    ProfileSpec(
        "Security patrol", "Weekend security", None,
        ("A-001", "A-002", "A-003", "A-004", "A-005", "A-006", "A-036",
         "B-001", "B-002", "B-003", "B-004"),
    ),
    ProfileSpec(
        "Research", "Office hours", None,
        ("B-007", "B-008", "B-009", "B-010", "B-011", "B-012", "B-015", "B-021"),
    ),
)

# (tag, department, building, has e-mail). Cleaning is an external contractor
# whose staff have no company e-mail.
POSITIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("md", "Management", "A", True),
    ("assistant", "Management", "A", True),
    ("finance_head", "Finance", "A", True),
    ("accountant", "Finance", "A", True),
    ("hr_head", "Human resources", "A", True),
    ("hr_officer", "Human resources", "A", True),
    ("works_council", "Works council", "A", True),
    ("it_head", "IT", "A", True),
    ("it_admin", "IT", "A", True),
    ("it_support", "IT", "A", True),
    ("sales_a", "Sales", "A", True),
    ("sales_intern", "Sales", "A", True),
    ("facility_head", "Facility management", "A", True),
    ("caretaker", "Facility management", "A", True),
    ("cleaner_a1", "Cleaning", "A", False),
    ("cleaner_a2", "Cleaning", "A", False),
    ("security", "Security", "A", True),
    ("research_lead", "Research", "B", True),
    ("scientist_1", "Research", "B", True),
    ("scientist_2", "Research", "B", True),
    ("postdoc", "Research", "B", True),
    ("it_b", "IT", "B", True),
    ("technician_b", "Facility management", "B", True),
    ("cleaner_b", "Cleaning", "B", False),
    ("sales_b", "Sales", "B", True),
)

FIRST_NAMES = (
    "Anna", "Lukas", "Sophie", "Jürgen", "Katrin", "Matthias", "Elena", "Tobias", "Sabine",
    "Florian", "Lea", "Stefan", "Miriam", "Andreas", "Johanna", "Klaus", "Petra", "Sebastian",
    "Ines", "Marco", "Claudia", "Henrik", "Nadine", "Sören", "Birgit", "Tomasz", "Giulia",
    "Pieter", "Agnieszka", "Lars", "Hanna", "Dominik", "Zeynep", "Felix", "Marta",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Weiß", "Kowalski", "Rossi",
    "de Vries", "Novak", "Jansen", "Berger", "Lehmann", "Kaya", "Fuchs", "Vogel", "Roth",
    "Dąbrowski",
)


class KeySpec(NamedTuple):
    """One user key of the demo (R10); ``validity`` is (days before today, days after)."""

    holder: str | None
    type: KeyType
    generation: KeyGeneration
    firmware: str
    status: KeyStatus = KeyStatus.ISSUED
    profiles: tuple[str, ...] = ()
    direct: tuple[str, ...] = ()
    schedule: str = "Always"
    validity: tuple[int, int] | None = None
    in_group: bool = False


E1, E2, E3 = KeyType.E1, KeyType.E2, KeyType.E3
G1, G2 = KeyGeneration.GEN1, KeyGeneration.GEN2
STAFF = ("All staff",)

# K-0001 … K-0040 in this order. E1 keys have no clock (R10): "Always", always
# valid, and only profiles whose schedule is "Always".
KEYS: tuple[KeySpec, ...] = (
    KeySpec("md", E3, G2, "16.3.7", profiles=STAFF,
             direct=("A-013", "A-014", "A-015", "A-016", "A-010")),
    KeySpec("assistant", E2, G2, "12.3.0", profiles=STAFF,
             direct=("A-014", "A-015", "A-016", "A-031", "A-032")),
    KeySpec("finance_head", E2, G1, "6.1.0", profiles=STAFF, direct=("A-012", "A-010")),
    KeySpec("accountant", E2, G1, "6.1.0", profiles=STAFF, direct=("A-012",)),
    KeySpec("hr_head", E2, G2, "10.4.2", profiles=STAFF, direct=("A-017", "A-018", "A-011")),
    KeySpec("hr_officer", E2, G2, "10.4.2", profiles=STAFF, direct=("A-017", "A-018")),
    KeySpec("works_council", E1, G1, "4.2.1", profiles=STAFF, direct=("A-024",)),
    KeySpec("it_head", E3, G2, "16.3.7", profiles=(*STAFF, "IT"), direct=("A-021", "A-022")),
    KeySpec("it_admin", E3, G2, "12.3.0", profiles=(*STAFF, "IT"), direct=("A-021", "A-022")),
    KeySpec("it_support", E3, G1, "6.1.0", profiles=(*STAFF, "IT"), direct=("A-022", "A-032")),
    KeySpec("sales_a", E1, G1, "4.2.1", profiles=STAFF, direct=("A-019", "A-020")),
    KeySpec("sales_intern", E2, G2, "12.3.0", profiles=STAFF, direct=("A-019", "A-020"),
             schedule="Office hours", validity=(14, 76)),
    KeySpec("facility_head", E3, G2, "16.3.7", profiles=STAFF,
             direct=("A-023", "A-003", "A-027"), in_group=True),
    KeySpec("caretaker", E3, G2, "16.3.7", profiles=STAFF,
             direct=("A-023", "A-003", "A-033"), in_group=True),
    # The cleaners' keys get the "Cleaning" profile through their holder (R13).
    KeySpec("cleaner_a1", E2, G1, "6.1.0", schedule="Cleaning", validity=(90, 275)),
    KeySpec("cleaner_a2", E2, G1, "6.1.0", schedule="Cleaning", validity=(90, 275)),
    KeySpec("security", E3, G2, "16.3.7", profiles=(*STAFF, "Security patrol"),
             direct=("A-036",), in_group=True),
    KeySpec("research_lead", E3, G2, "12.3.0", profiles=(*STAFF, "Research"),
             direct=("B-011", "B-012", "B-015", "B-020")),
    KeySpec("scientist_1", E3, G2, "12.3.0", profiles=(*STAFF, "Research"), direct=("B-011",)),
    KeySpec("scientist_2", E2, G1, "6.1.0", profiles=(*STAFF, "Research"), direct=("B-012",)),
    KeySpec("postdoc", E2, G1, "6.1.0", profiles=(*STAFF, "Research"), direct=("B-012",),
             schedule="Office hours", validity=(200, 165)),
    KeySpec("it_b", E3, G2, "16.3.7", profiles=(*STAFF, "IT"), direct=("B-014",)),
    KeySpec("technician_b", E3, G2, "16.3.7", profiles=STAFF, direct=("B-010", "B-003"),
             in_group=True),
    KeySpec("cleaner_b", E2, G2, "10.4.2", schedule="Cleaning", validity=(60, 305)),
    KeySpec("sales_b", E1, G2, "10.4.2", profiles=STAFF, direct=("B-013",)),
    # Garage keys: a second, simple key for those with a parking space.
    KeySpec("md", E1, G1, "4.2.1", direct=("A-004",)),
    KeySpec("it_head", E1, G2, "10.4.2", direct=("A-004",)),
    KeySpec("finance_head", E1, G1, "4.2.1", direct=("A-004",)),
    KeySpec("hr_head", E1, G2, "10.4.2", direct=("A-004",)),
    KeySpec("facility_head", E1, G1, "4.2.1", direct=("A-004", "A-005")),
    KeySpec("research_lead", E1, G2, "10.4.2", direct=("B-004",)),
    KeySpec("it_b", E1, G2, "10.4.2", direct=("B-004",)),
    # Spare keys in the facility manager's cabinet.
    KeySpec(None, E1, G2, "10.4.2", KeyStatus.IN_STOCK),
    KeySpec(None, E1, G2, "10.4.2", KeyStatus.IN_STOCK),
    KeySpec(None, E2, G2, "12.3.0", KeyStatus.IN_STOCK),
    KeySpec(None, E2, G2, "12.3.0", KeyStatus.IN_STOCK),
    KeySpec(None, E3, G2, "16.3.7", KeyStatus.IN_STOCK),
    KeySpec(None, E3, G2, "16.3.7", KeyStatus.IN_STOCK),
    # Reported lost by its holder, already taken out of every cylinder (R19).
    KeySpec("accountant", E2, G1, "6.1.0", KeyStatus.LOST),
    # A generation-1 key pulled out too early during a firmware update (R26).
    KeySpec(None, E3, G1, "4.2.1", KeyStatus.DEFECTIVE),
)

KEY_GROUP = "Facility E3"
KEY_GROUP_CYLINDERS = ("A-028", "A-029", "A-030", "A-034", "B-018", "B-019", "B-024")
EMPLOYEE_PROFILES = (
    ("cleaner_a1", "Cleaning"), ("cleaner_a2", "Cleaning"), ("cleaner_b", "Cleaning"),
)
E3_EXTENSION_INTERVAL_HOURS = 168


class ProgrammingKeySpec(NamedTuple):
    marking: str
    kind: ProgrammingKeyKind
    holder: str
    firmware: str
    role: str
    domains: tuple[str, ...]


# R5: one main key; sub keys get only what their roles and domains grant. The
# Approver's holder has an e-mail (R29).
PROGRAMMING_KEYS: tuple[ProgrammingKeySpec, ...] = (
    ProgrammingKeySpec("PR-0001", ProgrammingKeyKind.MAIN, "facility_head", "16.3.7",
                        "Superadmin", (BUILDING_A, BUILDING_B)),
    ProgrammingKeySpec("PN-0001", ProgrammingKeyKind.SUB, "it_b", "12.3.0", "Admin",
                        (BUILDING_B,)),
    ProgrammingKeySpec("PN-0002", ProgrammingKeyKind.SUB, "works_council", "12.3.0",
                        "Approver", (BUILDING_A, BUILDING_B)),
)
