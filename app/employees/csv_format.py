"""The employee CSV file shared by import and export (R4, R30); pure, no database.

The file is UTF-8, semicolon-separated, with CRLF, LF or CR line ends, and starts
with the header ``employeeNumber;firstName;lastName;email;department;phone``.
Fields may be quoted with ``"`` as the csv module understands it. The column
names are also the GraphQL input names, so one error message serves both paths.

Hostile files (issue 14 item 3): a file takes at most ``MAX_ROWS`` lines after
the header, counted on the raw bytes before anything is parsed, and a line at
most ``MAX_LINE_BYTES`` bytes (more than twice the longest valid line); a
longer line is reported, never decoded. The file is read one line at a time,
so no decoded copy of the whole file is ever made.

Export writes a UTF-8 byte order mark before the header: Excel only opens a CSV
as UTF-8 when it starts with one (without it "Müller" comes out garbled, which is
why the vendor's FAQ walks users through re-saving the file in an editor). The
importer tolerates files with and without it.

Spreadsheet formula injection: on export, a cell that starts with ``= + - @``,
tab or carriage return is prefixed with a single quote, so a spreadsheet shows
it as text instead of running it. The importer removes exactly that one quote
again. To make export followed by import give back every value unchanged, a
value that itself starts with a quote followed by one of those characters or by
another quote is prefixed too, and the importer strips one leading quote when
the rest starts with one of those characters or with a quote. (``'t Hooft``
stays as it is both ways.)
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from app.errors import INVALID, DomainError
from app.models.people import Employee
from app.uploads import not_plain_text

DELIMITER = ";"
QUOTECHAR = '"'
BOM = "\ufeff"

# One import is one transaction (R30): this many employees per file, the lines after the
# header (issue 14 item 3). Tens of thousands is a large master key system.
MAX_ROWS = 50_000
# The longest valid line is 848 characters of fields (the column widths) plus quotes and
# separators: under 3.5 KB even if every character took 4 bytes in UTF-8.
MAX_LINE_BYTES = 8192

# Characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_PREFIX = "'"


def _max_length(attribute: str) -> int:
    length = Employee.__table__.c[attribute].type.length
    assert length is not None, f"Employee.{attribute} has no length"
    return int(length)


@dataclass(frozen=True)
class Column:
    """One column of the file: its header (also the GraphQL input name) and its rules (R4)."""

    name: str
    attribute: str
    max_length: int
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("employeeNumber", "employee_number", _max_length("employee_number")),
    Column("firstName", "first_name", _max_length("first_name"), required=True),
    Column("lastName", "last_name", _max_length("last_name"), required=True),
    Column("email", "email", _max_length("email")),
    Column("department", "department", _max_length("department")),
    Column("phone", "phone", _max_length("phone")),
)
HEADER = DELIMITER.join(c.name for c in COLUMNS)

# Local part and a domain of at least two labels; no spaces, exactly one "@".
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# C0 controls except tab, DEL, and the Unicode line separators.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class RowError:
    """Why one line of the file cannot be imported; ``line`` is 1-based, the header is line 1."""

    line: int
    message: str


@dataclass(frozen=True)
class FieldError:
    """Why one field of an employee is not acceptable; ``field`` is the column/GraphQL name."""

    field: str
    message: str


@dataclass(frozen=True)
class EmployeeRow:
    """A valid line of the file: the employee's fields, empty optional fields as None."""

    line: int
    employee_number: str | None
    first_name: str
    last_name: str
    email: str | None
    department: str | None
    phone: str | None

    def values(self) -> dict[str, str | None]:
        """The fields by Employee attribute name."""
        return {c.attribute: getattr(self, c.attribute) for c in COLUMNS}


@dataclass(frozen=True)
class ParsedCsv:
    """The valid rows of a file and the errors of the others, both in file order."""

    rows: list[EmployeeRow]
    errors: list[RowError]


class EmployeeLike(Protocol):
    """Anything with an employee's fields: the model, a result row, an EmployeeRow."""

    @property
    def employee_number(self) -> str | None: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def department(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...


def clean_employee_fields(
    values: Mapping[str, str | None],
) -> tuple[dict[str, str | None], list[FieldError]]:
    """Check an employee's fields (R4) as entered, whitespace around them already removed.

    ``values`` is keyed by Employee attribute name. Returns the fields with empty
    optional ones as None, and every problem found: first and last name are
    mandatory, no field is longer than its database column, none holds a line
    break or control character, the e-mail address has the form ``local@domain.tld``.
    """
    cleaned: dict[str, str | None] = {}
    problems: list[FieldError] = []
    for column in COLUMNS:
        value = values.get(column.attribute) or ""
        if not value:
            if column.required:
                problems.append(FieldError(column.name, f"{column.name} is mandatory"))
            cleaned[column.attribute] = None
            continue
        cleaned[column.attribute] = value
        if len(value) > column.max_length:
            problems.append(
                FieldError(
                    column.name,
                    f"{column.name} is longer than {column.max_length} characters ({len(value)})",
                )
            )
            continue
        control = _CONTROL.search(value)
        if control is not None:
            char = control.group()
            if char in "\r\n":
                message = f"{column.name} contains a line break (each employee must be one line)"
            else:
                message = f"{column.name} contains the control character U+{ord(char):04X}"
            problems.append(FieldError(column.name, message))
            continue
        if column.attribute == "email" and _EMAIL.fullmatch(value) is None:
            message = f"email {value!r} is not a valid e-mail address"
            problems.append(FieldError(column.name, message))
    return cleaned, problems


def parse_employees_csv(data: bytes) -> ParsedCsv:
    """Read an uploaded employee file (R30) into valid rows and per-line errors.

    Whole-file problems raise DomainError(INVALID, field="file"): the file is an
    archive or UTF-16 text (said so at once), has more than ``MAX_ROWS`` lines
    after the header (said before any parsing), is not UTF-8 (the message names
    the byte offset and line), is empty, or does not start with the header.
    Each other line is either a valid row or one RowError naming all its
    problems: longer than ``MAX_LINE_BYTES``, wrong number of columns, broken
    quoting, a line break inside a field, a field rejected by
    ``clean_employee_fields``, or an employee number that an earlier line
    already used (R4: numbers are unique; the later line is the error). Lines
    that are empty or hold only separators are skipped. Employee numbers are
    kept as written ("007" stays "007").
    """
    _check_whole_file(data)
    lines = _Lines(data)
    records = _records(lines)
    first = next(records, None)
    if (
        first is None
        or first[1] is None
        or [f.strip() for f in first[1]] != [c.name for c in COLUMNS]
    ):
        if _BLANK.fullmatch(data):
            raise DomainError(INVALID, "the file is empty", field="file")
        found = _first_line(data)
        raise DomainError(
            INVALID,
            f"the first line must be the header {HEADER!r}, found {found!r}",
            field="file",
        )

    rows: list[EmployeeRow] = []
    errors: list[RowError] = []
    first_line_of_number: dict[str, int] = {}
    for line, fields, problem in records:
        if fields is None:
            errors.append(RowError(line, problem))
            continue
        if all(not f.strip() for f in fields):
            continue
        if len(fields) != len(COLUMNS):
            errors.append(
                RowError(
                    line,
                    f"expected {len(COLUMNS)} columns separated by {DELIMITER!r}, "
                    f"found {len(fields)}",
                )
            )
            continue
        values = {
            c.attribute: _unescape_formula(f.strip()) for c, f in zip(COLUMNS, fields, strict=True)
        }
        cleaned, problems = clean_employee_fields(values)
        messages = [p.message for p in problems]
        number = cleaned["employee_number"]
        if number is not None and not any(p.field == "employeeNumber" for p in problems):
            earlier = first_line_of_number.setdefault(number, line)
            if earlier != line:
                messages.append(f"employeeNumber {number!r} already appears on line {earlier}")
        if messages:
            errors.append(RowError(line, "; ".join(messages)))
            continue
        first_name, last_name = cleaned["first_name"], cleaned["last_name"]
        assert first_name is not None and last_name is not None  # mandatory, checked above
        rows.append(
            EmployeeRow(
                line=line,
                employee_number=number,
                first_name=first_name,
                last_name=last_name,
                email=cleaned["email"],
                department=cleaned["department"],
                phone=cleaned["phone"],
            )
        )
    return ParsedCsv(rows=rows, errors=errors)


def export_employees_csv(rows: Iterable[EmployeeLike]) -> str:
    """Write employees in the import's format (R30), BOM first, CRLF line ends.

    Cells that a spreadsheet would run as a formula are prefixed with a single
    quote; ``parse_employees_csv`` removes it again, so the export can be edited
    and imported back unchanged.
    """
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=DELIMITER, quotechar=QUOTECHAR, lineterminator="\r\n")
    writer.writerow([c.name for c in COLUMNS])
    for row in rows:
        writer.writerow([escape_formula(getattr(row, c.attribute) or "") for c in COLUMNS])
    return out.getvalue()


def _check_whole_file(data: bytes) -> None:
    """Refuse, before any parsing, a file that is packed, UTF-16 or has too many lines."""
    problem = not_plain_text(data)
    if problem is not None:
        raise DomainError(INVALID, f'{problem}; save it as "CSV UTF-8"', field="file")
    # Line ends as the csv module sees them (CRLF, LF or a lone CR), counted in C.
    line_ends = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    lines = line_ends + (0 if data.endswith((b"\n", b"\r")) or not data else 1)
    if lines - 1 > MAX_ROWS:
        raise DomainError(
            INVALID,
            f"the file has {lines - 1:,} lines after the header; one import takes at most "
            f"{MAX_ROWS:,} employees: split the file",
            field="file",
        )


_BLANK = re.compile(rb"(?:\xef\xbb\xbf)?\s*")
# One physical line with its line end (universal line ends, as csv reads them).
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|\Z)")
_FIRST_LINE_SHOWN = 200


def _first_line(data: bytes) -> str:
    """The start of the file's first line for a message, however long the line is."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    head = data[start : start + _FIRST_LINE_SHOWN * 4].decode("utf-8", errors="replace")
    return head.splitlines()[0][:_FIRST_LINE_SHOWN] if head.strip() else ""


class _Lines:
    """The file's physical lines, decoded one at a time, for the csv module.

    A line longer than ``MAX_LINE_BYTES`` is never decoded: it comes out as an
    empty line and ``too_long`` maps its number to its length in bytes. A line
    that is not UTF-8 stops the reading with the whole-file error. ``taken``
    holds the lines handed out since it was last cleared, so that a record the
    csv module could not read can be read again line by line.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        self._matches = _LINE.finditer(data, start)
        self.number = 0
        self.too_long: dict[int, int] = {}
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        start, end = next(self._matches).span()
        if start == end:  # the empty match at the end of the file
            raise StopIteration
        self.number += 1
        if end - start > MAX_LINE_BYTES:
            self.too_long[self.number] = end - start
            line = ""
        else:
            try:
                line = self._data[start:end].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self._not_utf8(start + exc.start) from None
        self.taken.append(line)
        return line

    def _not_utf8(self, position: int) -> DomainError:
        return DomainError(
            INVALID,
            f"the file is not UTF-8: byte 0x{self._data[position]:02X} at byte offset {position} "
            f'(line {self.number}) is not valid UTF-8; save the file as "CSV UTF-8"',
            field="file",
        )


def _too_long(length: int) -> str:
    return (
        f"the line is {length:,} bytes long, more than the {MAX_LINE_BYTES:,} "
        "one employee's line can take"
    )


def _records(lines: _Lines) -> Iterator[tuple[int, list[str] | None, str]]:
    """Yield (line number, fields, "") or (line number, None, problem) for each record.

    A record that spans several lines (a quoted field with a line break) is a
    problem, and so is a line longer than ``MAX_LINE_BYTES``. When the quoting
    breaks, e.g. a quote that is never closed, the csv module has joined lines
    that do not belong together: those lines are read again one by one, so each
    gets its own verdict. Every line is read at most twice.
    """
    reader = csv.reader(lines, delimiter=DELIMITER, quotechar=QUOTECHAR, strict=True)
    while True:
        first = reader.line_num
        lines.taken.clear()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield from _records_line_by_line(list(lines.taken), first, lines.too_long)
            continue
        if reader.line_num - first > 1:
            broken = [
                c.name for c, f in zip(COLUMNS, fields, strict=False) if "\n" in f or "\r" in f
            ]
            where = f" ({', '.join(broken)})" if broken else ""
            problem = (
                f"a quoted field contains a line break{where} (each employee must be one line)"
            )
            yield first + 1, None, problem
            continue
        if first + 1 in lines.too_long:
            yield first + 1, None, _too_long(lines.too_long[first + 1])
            continue
        yield first + 1, fields, ""


def _records_line_by_line(
    lines: list[str], offset: int, too_long: dict[int, int]
) -> Iterator[tuple[int, list[str] | None, str]]:
    for index, line in enumerate(lines, start=offset + 1):
        if index in too_long:
            yield index, None, _too_long(too_long[index])
            continue
        reader = csv.reader([line], delimiter=DELIMITER, quotechar=QUOTECHAR, strict=True)
        try:
            fields = next(reader, [])
        except csv.Error as exc:
            yield index, None, _quoting_problem(exc)
            continue
        yield index, fields, ""


def _quoting_problem(exc: csv.Error) -> str:
    if "end of data" in str(exc):
        return "a quoted field starting on this line is never closed"
    return f"malformed quoting ({exc})"


def escape_formula(value: str) -> str:
    """``value`` as a spreadsheet shows it as text: a quote before a formula's first
    character (and before a quote that the importer would remove); every CSV export uses it."""
    if value.startswith(FORMULA_TRIGGERS) or _unescape_formula(value) != value:
        return TEXT_PREFIX + value
    return value


def _unescape_formula(value: str) -> str:
    if value.startswith(TEXT_PREFIX) and value[1:].startswith((*FORMULA_TRIGGERS, TEXT_PREFIX)):
        return value[1:]
    return value
