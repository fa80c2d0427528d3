"""Import the directory from an HR export (CSV).

All or nothing: the whole file is read and checked first, every problem is reported with its
line number, and only a file without problems is written, in one transaction. The steps are
parse (text → rows with line numbers), validate (each row, then the rows against each other and
the database), plan (what would be created, updated and deactivated) and apply (bulk writes).

The rules are the directory service's (people/services.py), which SCIM provisioning uses too:
how a value is read, how a department is found by name, what a management loop is, that a site
admin is never deactivated, and what follows an applied change (`directory_changed`).
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.models import Department, User, normalise_email
from people.services import (
    DepartmentNames,
    clean_value,
    deactivation_forbidden,
    describe_manager_cycle,
    directory_changed,
    manager_cycles,
)
from policyhub.db import contention

COLUMNS = (
    "email",
    "full_name",
    "employee_id",
    "department",
    "manager_email",
    "job_title",
    "location",
    "time_zone",
    "start_date",
    "active",
    "language",
)
REQUIRED_COLUMNS = ("email", "full_name")
BATCH_SIZE = 500

# Columns whose User attribute has another name; email is the key, not an attribute to compare.
_ATTRIBUTES = {"manager_email": "manager", "active": "is_active"}
_TEXT_COLUMNS = ("full_name", "employee_id", "job_title", "location", "time_zone")
# Everything the plan reads, so loading everyone is one query and no per-person query follows.
_LOADED_FIELDS = (
    "id",
    "email",
    "is_superuser",
    "department",
    "manager",
    "start_date",
    "is_active",
    "language",
)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class PersonChange:
    line: int | None  # None: deactivated because they were missing from the file
    email: str
    full_name: str
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # column → (old, new)


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    created: list[PersonChange] = field(default_factory=list)
    updated: list[PersonChange] = field(default_factory=list)
    deactivated: list[PersonChange] = field(default_factory=list)
    unchanged: int = 0
    departments_created: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def fingerprint(self) -> str:
        """A digest of what the import does, so that applying a preview can insist on
        doing exactly what was shown."""
        parts = [("create", c.email, sorted(c.changes.items())) for c in self.created] + [
            ("update", c.email, sorted(c.changes.items())) for c in self.updated
        ]
        parts += [("deactivate", c.email, sorted(c.changes.items())) for c in self.deactivated]
        parts.append(("departments", "", sorted(self.departments_created)))
        return hashlib.sha256(repr(parts).encode()).hexdigest()


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header); no row was looked at."""

    def __init__(self, *messages: str, line: int = 1):
        super().__init__(" ".join(messages))
        self.line = line
        self.messages = messages


@dataclass
class _Row:
    line: int
    cells: dict[str, str]  # only the columns the file has, stripped
    values: dict[str, object] = field(default_factory=dict)  # cleaned, for valid cells
    errors: list[str] = field(default_factory=list)

    @property
    def email(self) -> str:
        return self.values.get("email", "")


def import_people(
    *,
    source: str | bytes,
    deactivate_missing: bool = False,
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> ImportReport:
    """Check the whole export, then create, update and deactivate people in one transaction.

    With ``deactivate_missing``, active people who are not in the file are deactivated, except
    superusers: site admin accounts are never in an HR export, and locking them out would leave
    nobody able to fix the directory. For the same reason a row never deactivates one.

    With ``expected_fingerprint`` (from a dry run's report), nothing is written unless the
    import would do exactly what that dry run showed.
    """
    try:
        rows = _parse(_decode(source))
    except ImportFileError as exc:
        return ImportReport(errors=[RowError(exc.line, message) for message in exc.messages])
    if deactivate_missing and not rows:
        # An empty export by mistake must not deactivate the whole company.
        return ImportReport(
            errors=[RowError(1, _("The file lists nobody, so nobody is deactivated."))]
        )
    committed = []  # set first thing once the import commits, before what follows it
    try:
        # Read, check and write in one transaction: what is written is what was checked.
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))
            report = _check_plan_apply(
                rows,
                deactivate_missing=deactivate_missing,
                dry_run=dry_run,
                expected_fingerprint=expected_fingerprint,
            )
    except IntegrityError:
        if committed:
            raise  # from what follows the committed import, not the import
        # Someone changed the directory (an email or employee id) while this ran.
        return ImportReport(errors=[RowError(0, str(_CHANGED_MEANWHILE))])
    except OperationalError as error:
        # Another write was in the way (a deadlock with it, or its lock held past the
        # timeout): everything was rolled back, and trying again will most likely work.
        # Not so once the import has committed: then it was imported, and a failure of
        # what follows it is not "nothing was imported".
        if committed or not contention(error):
            raise
        return ImportReport(errors=[RowError(0, str(_CHANGED_MEANWHILE))])
    return report


_CHANGED_MEANWHILE = gettext_lazy(
    "The directory changed while the import was running. Nothing was imported; try again."
)


def _check_plan_apply(
    rows: list[_Row], *, deactivate_missing: bool, dry_run: bool, expected_fingerprint: str | None
) -> ImportReport:
    everyone = User.objects.only(*_LOADED_FIELDS, *_TEXT_COLUMNS).order_by()
    people = {normalise_email(p.email): p for p in everyone}
    departments = list(Department.objects.only("id", "name"))
    _validate(rows, people=people)
    for row in rows:
        existing = people.get(row.email)
        if (
            existing
            and deactivation_forbidden(existing)
            and existing.is_active
            and row.values.get("active") is False
        ):
            row.errors.append(
                _(
                    "%(email)s is a site admin account; an import never deactivates one "
                    "(use the Django admin)."
                )
                % {"email": row.email}
            )
    errors = [RowError(row.line, message) for row in rows for message in row.errors]
    if errors:
        return ImportReport(errors=sorted(errors, key=lambda error: error.line))

    plan = _plan(
        rows,
        people=people,
        departments=departments,
        deactivate_missing=deactivate_missing,
    )
    if expected_fingerprint is not None and plan.report.fingerprint != expected_fingerprint:
        return ImportReport(
            errors=[
                RowError(
                    0,
                    _(
                        "The directory changed since the preview, so this file would now do "
                        "something else. Nothing was imported; preview it again."
                    ),
                )
            ]
        )
    if not dry_run:
        _apply(plan)
        plan.report.applied = True
        directory_changed()
    return plan.report


# Parse ----------------------------------------------------------------------------------------


def _decode(source: str | bytes) -> str:
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = source[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            _(
                "The file is not UTF-8 text (byte %(byte)s cannot be read). "
                "Save it as “CSV UTF-8” and try again."
            )
            % {"byte": f"0x{source[exc.start]:02x}"},
            line=line,
        ) from exc


def _parse(text: str) -> list[_Row]:
    # newline="" lets the csv module see quoted line breaks, so line_num stays physical.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        columns = [name.strip().lower() for name in next(reader, [])]
        _check_header(columns, empty_file=not text.strip())
        rows: list[_Row] = []
        last_line = reader.line_num
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            row = _Row(line, dict(zip(columns, (cell.strip() for cell in cells), strict=False)))
            if len(cells) != len(columns):
                row.errors.append(
                    _(
                        "This line has %(values)s value(s) but the header has %(columns)s "
                        "columns (look for a stray comma or quote)."
                    )
                    % {"values": len(cells), "columns": len(columns)}
                )
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(
            _("The file is not valid CSV: %(problem)s.") % {"problem": exc}, line=reader.line_num
        ) from exc
    return rows


def _check_header(columns: list[str], *, empty_file: bool) -> None:
    known = ", ".join(COLUMNS)
    if empty_file:
        raise ImportFileError(
            _("The file is empty: the first line must name the columns (%(known)s).")
            % {"known": known}
        )
    if not any(columns):
        raise ImportFileError(
            _("The first line must name the columns (%(known)s).") % {"known": known}
        )
    problems = []
    if missing := [name for name in REQUIRED_COLUMNS if name not in columns]:
        problems.append(
            _("Missing required column: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    # A typo in a column name must not silently leave that field untouched.
    named = [
        name or _("(column %(number)s has no name)") % {"number": i}
        for i, name in enumerate(columns, 1)
    ]
    if unknown := [name for name in named if name not in COLUMNS]:
        problems.append(
            _("Unknown column: %(unknown)s. Known columns: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": known}
        )
    if repeated := sorted({name for name in columns if name and columns.count(name) > 1}):
        problems.append(
            _("Column given more than once: %(columns)s.") % {"columns": ", ".join(repeated)}
        )
    if problems:
        raise ImportFileError(*problems)


# Validate -------------------------------------------------------------------------------------


def _validate(rows: list[_Row], *, people: dict[str, User]) -> None:
    for row in rows:
        if not row.errors:  # a line with the wrong number of values cannot be read cell by cell
            _clean_cells(row)
    file_emails = _check_duplicates(
        rows, "email", _("Duplicate email address %(value)s (first on line %(line)s).")
    )
    _check_duplicates(
        rows, "employee_id", _("Duplicate employee id %(value)s (first on line %(line)s).")
    )
    owners = {p.employee_id: email for email, p in people.items() if p.employee_id}
    for row in rows:
        employee_id = row.values.get("employee_id")
        owner = owners.get(employee_id)
        if owner and owner != row.email and owner not in file_emails:
            row.errors.append(
                _("Employee id “%(employee_id)s” already belongs to %(email)s.")
                % {"employee_id": employee_id, "email": owner}
            )
        manager = row.values.get("manager_email")
        if manager and manager not in file_emails and manager not in people:
            row.errors.append(
                _("Manager %(email)s is neither in this file nor in the directory.")
                % {"email": manager}
            )
    _check_manager_cycles(rows, people=people)


def _clean_cells(row: _Row) -> None:
    for column, text in row.cells.items():
        try:
            row.values[column] = clean_value(column, text)
        except ValidationError as exc:
            row.errors.append(exc.messages[0])


def _check_duplicates(rows: list[_Row], column: str, message: str) -> set[str]:
    first_line: dict[str, int] = {}
    for row in rows:
        value = row.values.get(column)
        if not value:
            continue
        if value in first_line:
            row.errors.append(message % {"value": value, "line": first_line[value]})
        else:
            first_line[value] = row.line
    return set(first_line)


def _check_manager_cycles(rows: list[_Row], *, people: dict[str, User]) -> None:
    # The final state: managers from the file, and existing managers for everyone else
    # (including people in the file when it has no manager_email column).
    email_by_pk = {p.pk: email for email, p in people.items()}
    manager_of = {email: email_by_pk.get(p.manager_id) for email, p in people.items()}
    row_of: dict[str, _Row] = {}
    for row in rows:
        if row.email and row.email not in row_of:
            row_of[row.email] = row
            if "manager_email" in row.cells:
                manager_of[row.email] = row.values.get("manager_email")
            else:
                manager_of.setdefault(row.email, None)
    for cycle in manager_cycles(manager_of, row_of):
        for member in cycle:
            if member in row_of:
                row_of[member].errors.append(describe_manager_cycle(cycle, seen_from=member))


# Plan -----------------------------------------------------------------------------------------


@dataclass
class _Plan:
    report: ImportReport
    new_departments: list[Department] = field(default_factory=list)
    to_create: list[User] = field(default_factory=list)
    to_update: list[User] = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    employee_ids_to_free: list[int] = field(default_factory=list)  # pks whose id moves on
    managers: list[tuple[User, User | None]] = field(default_factory=list)  # once all exist


def _plan(
    rows: list[_Row],
    *,
    people: dict[str, User],
    departments: list[Department],
    deactivate_missing: bool,
) -> _Plan:
    plan = _Plan(ImportReport())
    report = plan.report
    department_by_name = DepartmentNames(departments)
    department_name = {d.pk: d.name for d in departments}
    email_by_pk = {p.pk: email for email, p in people.items()}
    holder_of_employee_id = {p.employee_id: p for p in people.values() if p.employee_id}
    new_people = {row.email: User(email=row.email) for row in rows if row.email not in people}

    def department(name: str | None) -> Department | None:
        if not name:
            return None
        found = department_by_name.find(name)
        if found is None:
            found = Department(name=name)
            department_by_name.add(found)
            plan.new_departments.append(found)
            report.departments_created.append(name)
        return found

    for row in rows:
        person = people.get(row.email) or new_people[row.email]
        is_new, was_active = person.pk is None, person.is_active
        changes: dict[str, tuple[str, str]] = {}
        if person.email != row.email:
            changes["email"] = (person.email, row.email)
            person.email = row.email
        for column in (c for c in COLUMNS if c in row.cells and c != "email"):
            new = row.values[column]
            if column == "language" and new is None:
                continue  # an empty cell keeps the person's language (a new one: the default)
            if column == "manager_email":
                old = email_by_pk.get(person.manager_id)
                if old != new:
                    plan.managers.append((person, new and (people.get(new) or new_people[new])))
            elif column == "department":
                new_department = department(new)
                old = department_name.get(person.department_id)
                new = new_department.name if new_department else None
                person.department = new_department
            else:
                old = getattr(person, _ATTRIBUTES.get(column, column))
                setattr(person, _ATTRIBUTES.get(column, column), new)
            if old != new:
                changes[column] = (_display(old), _display(new))
        holder = holder_of_employee_id.get(row.values.get("employee_id"))
        if holder is not None and holder is not person:
            plan.employee_ids_to_free.append(holder.pk)

        entry = PersonChange(row.line, row.email, person.full_name, changes)
        if is_new:
            entry.changes = {}
            plan.to_create.append(person)
            report.created.append(entry)
            continue
        if not changes:
            report.unchanged += 1
            continue
        plan.to_update.append(person)
        plan.update_fields |= {_ATTRIBUTES.get(column, column) for column in changes}
        if was_active and not person.is_active:
            # Other changes on a leaver's line are applied too, and shown with the deactivation.
            del changes["active"]
            report.deactivated.append(entry)
        else:
            report.updated.append(entry)

    if deactivate_missing:
        in_file = {row.email for row in rows}
        for email, person in sorted(people.items()):
            if email not in in_file and person.is_active and not deactivation_forbidden(person):
                person.is_active = False
                plan.to_update.append(person)
                plan.update_fields.add("is_active")
                report.deactivated.append(PersonChange(None, email, person.full_name))
    plan.update_fields.discard("manager")  # set in a pass of its own, once everyone exists
    return plan


def _display(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        # Not translated: the changes make the preview's fingerprint, which must not
        # depend on the language of the page that showed it.
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# Apply ----------------------------------------------------------------------------------------


def _apply(plan: _Plan) -> None:
    with transaction.atomic():
        Department.objects.bulk_create(plan.new_departments, batch_size=BATCH_SIZE)
        # Employee ids are unique row by row, so an id passed from one person in the file to
        # another must be free before anyone takes it.
        free = plan.employee_ids_to_free
        for start in range(0, len(free), BATCH_SIZE):
            User.objects.filter(pk__in=free[start : start + BATCH_SIZE]).update(employee_id="")
        for person in plan.to_create:
            person.set_unusable_password()
        User.objects.bulk_create(plan.to_create, batch_size=BATCH_SIZE)
        if plan.update_fields:
            User.objects.bulk_update(plan.to_update, sorted(plan.update_fields), BATCH_SIZE)
        for person, manager in plan.managers:
            person.manager = manager
        User.objects.bulk_update([person for person, _ in plan.managers], ["manager"], BATCH_SIZE)
