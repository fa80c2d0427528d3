from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from people.importer import import_people
from people.models import Department, User

HEADER = (
    "email,full_name,employee_id,department,manager_email,job_title,location,time_zone,"
    "start_date,active"
)


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def person(email: str, full_name: str = "Someone", **fields) -> User:
    return User.objects.create_user(email, full_name=full_name, **fields)


def snapshot() -> tuple[list[dict], list[dict]]:
    """Every stored field of every person and department, to prove nothing was written."""
    users = list(User.objects.order_by("pk").values())
    departments = list(Department.objects.order_by("pk").values())
    return users, departments


def messages_by_line(report) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in report.errors]


# Creating and updating --------------------------------------------------------------------------


@pytest.mark.django_db
def test_creates_people_with_every_field_and_resolves_managers_later_in_the_file():
    report = import_people(
        source=csv_text(
            "Ana@Example.com,Ana Lima,E1,Sales,boss@example.com,Analyst,Porto,Europe/Lisbon,"
            "2024-02-01,yes",
            "boss@example.com,Bea Boss,E2,Board,,Director,London,Europe/London,,",
        )
    )

    assert report.ok and report.applied
    assert [c.email for c in report.created] == ["ana@example.com", "boss@example.com"]
    assert report.departments_created == ["Sales", "Board"]
    ana = User.objects.get(email="ana@example.com")
    boss = User.objects.get(email="boss@example.com")
    assert (ana.full_name, ana.employee_id, ana.department.name) == ("Ana Lima", "E1", "Sales")
    assert (ana.job_title, ana.location, ana.time_zone) == ("Analyst", "Porto", "Europe/Lisbon")
    assert ana.start_date == date(2024, 2, 1)
    assert ana.manager == boss and boss.manager is None
    assert ana.is_active and boss.is_active
    assert not ana.has_usable_password()


@pytest.mark.django_db
def test_existing_department_is_reused_whatever_its_case():
    sales = Department.objects.create(name="Sales")

    report = import_people(source="email,full_name,department\nana@example.com,Ana,sales\n")

    assert report.departments_created == []
    assert User.objects.get(email="ana@example.com").department == sales
    assert Department.objects.count() == 1


@pytest.mark.django_db
def test_a_department_spelled_exactly_is_preferred_to_one_differing_in_case():
    upper, lower = Department.objects.create(name="SALES"), Department.objects.create(name="sales")

    import_people(
        source="email,full_name,department\nana@example.com,Ana,sales\nbob@example.com,Bob,SALES\n"
    )

    departments = dict(User.objects.values_list("email", "department"))
    assert departments == {"ana@example.com": lower.pk, "bob@example.com": upper.pk}


@pytest.mark.django_db
def test_an_email_stored_in_mixed_case_is_matched_and_stored_lower_case():
    ana = person("ana@example.com", "Ana")
    User.objects.filter(pk=ana.pk).update(email="Ana@Example.com")  # as an older import left it

    report = import_people(source="email,full_name\nana@example.com,Ana\n")

    assert [u.changes for u in report.updated] == [
        {"email": ("Ana@Example.com", "ana@example.com")}
    ]
    ana.refresh_from_db()
    assert ana.email == "ana@example.com"


@pytest.mark.django_db
def test_updates_only_changed_fields_reports_them_and_counts_unchanged_rows():
    boss = person("boss@example.com", "Bea Boss")
    ana = person("ana@example.com", "Ana Lima", job_title="Analyst", manager=boss)
    person("carl@example.com", "Carl", job_title="Clerk")

    report = import_people(
        source=csv_text(
            "boss@example.com,Bea Boss,,,,,,,,",
            "ANA@example.com,Ana Lima,,,boss@example.com,Lead,Porto,,,",
            "carl@example.com,Carl,,,,Clerk,,,,",
        )
    )

    assert report.ok
    assert report.created == [] and report.deactivated == []
    assert [(u.line, u.email, u.changes) for u in report.updated] == [
        (3, "ana@example.com", {"job_title": ("Analyst", "Lead"), "location": ("", "Porto")})
    ]
    assert report.unchanged == 2
    ana.refresh_from_db()
    assert (ana.job_title, ana.location, ana.manager) == ("Lead", "Porto", boss)


@pytest.mark.django_db
def test_columns_absent_from_the_file_leave_those_fields_untouched():
    boss = person("boss@example.com")
    ana = person("ana@example.com", "Ana", job_title="Analyst", manager=boss, is_active=False)

    report = import_people(source="Email , FULL_NAME\nana@example.com,Ana Lima\n")

    assert [u.changes for u in report.updated] == [{"full_name": ("Ana", "Ana Lima")}]
    ana.refresh_from_db()
    assert (ana.full_name, ana.job_title, ana.manager, ana.is_active) == (
        "Ana Lima",
        "Analyst",
        boss,
        False,
    )


@pytest.mark.django_db
def test_employee_ids_can_be_swapped_between_two_people_in_the_file():
    person("ana@example.com", employee_id="E1")
    person("bob@example.com", employee_id="E2")

    report = import_people(
        source="email,full_name,employee_id\nana@example.com,Ana,E2\nbob@example.com,Bob,E1\n"
    )

    assert report.ok, report.errors
    ids = dict(User.objects.values_list("email", "employee_id"))
    assert ids == {"ana@example.com": "E2", "bob@example.com": "E1"}


# Errors ------------------------------------------------------------------------------------------

ANA = "ana@example.com,Ana,,,,,,,,"


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ("ana@,Ana,,,,,,,,", "“ana@” is not a valid email address"),
        (
            "ANA@example.com,Ana Again,,,,,,,,",
            "Duplicate email address ana@example.com (first on line 2)",
        ),
        (",Nobody,,,,,,,,", "email is empty"),
        ("bob@example.com,,,,,,,,,", "full_name is empty"),
        (
            "bob@example.com,Bob,,,ghost@example.com,,,,,",
            "ghost@example.com is neither in this file",
        ),
        ("bob@example.com,Bob,,,,,,,2024-13-01,", "start_date “2024-13-01” is not a date"),
        ("bob@example.com,Bob,,,,,,,01/02/2024,", "start_date “01/02/2024” is not a date"),
        ("bob@example.com,Bob,,,,,,Mars/Olympus,,", "“Mars/Olympus” is not a known time zone"),
        ("bob@example.com,Bob,,,,,,,,maybe", "active “maybe” is not understood"),
        ("bob@example.com," + "B" * 201 + ",,,,,,,,", "full_name is longer than 200 characters"),
        ("bob@example.com,Bob,,,,,,,", "This line has 9 value(s) but the header has 10 columns"),
    ],
)
@pytest.mark.django_db
def test_each_bad_value_is_reported_with_its_line_number(bad_line, expected):
    report = import_people(source=csv_text(ANA, "", bad_line))

    assert not report.ok and not report.applied
    assert len(report.errors) == 1
    assert report.errors[0].line == 4  # the blank line 3 still counts
    assert expected in report.errors[0].message


@pytest.mark.django_db
def test_duplicate_employee_id_in_the_file_names_the_first_line():
    report = import_people(
        source=csv_text("ana@example.com,Ana,E7,,,,,,,", "bob@example.com,Bob,E7,,,,,,,")
    )

    assert messages_by_line(report) == [(3, "Duplicate employee id E7 (first on line 2).")]


@pytest.mark.django_db
def test_employee_id_of_someone_not_in_the_file_is_refused():
    person("carl@example.com", employee_id="E7")

    report = import_people(source=csv_text("ana@example.com,Ana,E7,,,,,,,"))

    assert messages_by_line(report) == [
        (2, "Employee id “E7” already belongs to carl@example.com.")
    ]


@pytest.mark.django_db
def test_manager_cycle_is_reported_on_every_line_in_it():
    report = import_people(
        source=csv_text(
            "ana@example.com,Ana,,,bob@example.com,,,,,",
            "carl@example.com,Carl,,,ana@example.com,,,,,",
            "bob@example.com,Bob,,,ana@example.com,,,,,",
        )
    )

    assert messages_by_line(report) == [
        (2, "Manager cycle: ana@example.com → bob@example.com → ana@example.com."),
        (4, "Manager cycle: bob@example.com → ana@example.com → bob@example.com."),
    ]


@pytest.mark.django_db
def test_someone_cannot_be_their_own_manager():
    report = import_people(source=csv_text("ana@example.com,Ana,,,ANA@example.com,,,,,"))

    assert messages_by_line(report) == [(2, "ana@example.com cannot be their own manager.")]


@pytest.mark.django_db
def test_cycle_through_an_existing_manager_not_in_the_file_is_refused():
    ana = person("ana@example.com")
    person("bob@example.com", manager=ana)

    report = import_people(
        source="email,full_name,manager_email\nana@example.com,Ana,bob@example.com\n"
    )

    assert messages_by_line(report) == [
        (2, "Manager cycle: ana@example.com → bob@example.com → ana@example.com.")
    ]


@pytest.mark.django_db
def test_missing_required_column_is_named_on_line_1():
    report = import_people(source="email,job_title\nana@example.com,Analyst\n")

    assert messages_by_line(report) == [(1, "Missing required column: full_name.")]


@pytest.mark.django_db
def test_unknown_column_is_named_on_line_1_so_typos_are_not_ignored():
    report = import_people(source="email,full_name,job_tilte\nana@example.com,Ana,Analyst\n")

    assert [e.line for e in report.errors] == [1]
    assert report.errors[0].message.startswith("Unknown column: job_tilte.")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_every_bad_row_is_listed_in_line_order():
    report = import_people(
        source=csv_text(
            "bad-email,Ana,,,,,,,,",
            "bob@example.com,Bob,,,,,,Nowhere/City,,",
            "carl@example.com,Carl,,,,,,,2024-02-30,nope",
        )
    )

    assert [e.line for e in report.errors] == [2, 3, 4, 4]
    assert report.created == []


@pytest.mark.django_db
def test_one_bad_row_leaves_the_database_exactly_as_it_was():
    boss = person("boss@example.com", "Bea Boss", job_title="Director")
    person("ana@example.com", "Ana", manager=boss)
    before = snapshot()

    report = import_people(
        source=csv_text(
            "ana@example.com,Ana Lima,E1,New Dept,,Lead,Porto,,,",
            "new@example.com,New Person,E2,Other Dept,boss@example.com,,,,,",
            "boss@example.com,Bea Boss,,,,,,,,no",
            "broken@example.com,Broken,,,,,,,yesterday,",
        ),
        deactivate_missing=True,
    )

    assert messages_by_line(report) == [
        (5, "start_date “yesterday” is not a date (use YYYY-MM-DD).")
    ]
    assert not report.applied
    assert snapshot() == before


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused_and_nothing_is_imported():
    source = csv_text("ana@example.com,Ana,,,,,,,,", "jose@example.com,José,,,,,,,,").encode(
        "latin-1"
    )

    report = import_people(source=source)

    assert [e.line for e in report.errors] == [3]
    assert "not UTF-8" in report.errors[0].message
    assert not User.objects.exists()


@pytest.mark.django_db
def test_errors_name_the_physical_line_a_row_starts_on():
    source = "\ufeff" + csv_text(
        'ana@example.com,"Ana\nLima",,,,,,,,',
        ",,,,,,,,,",  # an empty row, as spreadsheets export it: skipped
        'bad,"Bob\nSmith",,,,,,,,',
        "",
        "carl@example.com,Carl,,,,,,,,never",
    )

    report = import_people(source=source.encode("utf-8"))  # UTF-8 with a byte order mark

    assert [e.line for e in report.errors] == [5, 8]
    assert report.errors[0].message == "email “bad” is not a valid email address."


# Dry run and deactivation -------------------------------------------------------------------------


def _mixed_import_scenario() -> str:
    person("ana@example.com", "Ana", job_title="Analyst")
    person("leaver@example.com", "Lee Ver")
    person("gone@example.com", "Gone")
    return csv_text(
        "ana@example.com,Ana,,,,Lead,,,,",
        "leaver@example.com,Lee Ver,,,,,,,,false",
        "new@example.com,New Person,,Ops,ana@example.com,,,,,",
    )


def _lists(report) -> tuple:
    return (report.created, report.updated, report.deactivated, report.departments_created)


@pytest.mark.django_db
def test_dry_run_reports_what_a_real_run_does_but_changes_nothing():
    source = _mixed_import_scenario()
    before = snapshot()

    dry = import_people(source=source, deactivate_missing=True, dry_run=True)

    assert dry.ok and not dry.applied
    assert snapshot() == before
    real = import_people(source=source, deactivate_missing=True)
    assert real.applied
    assert _lists(dry) == _lists(real)
    assert [c.email for c in real.deactivated] == ["leaver@example.com", "gone@example.com"]
    assert snapshot() != before


@pytest.mark.django_db
def test_deactivate_missing_deactivates_people_not_in_the_file_but_never_superusers():
    person("ana@example.com")
    person("gone@example.com")
    admin = User.objects.create_superuser("admin@example.com", "pw-admin-1", full_name="Admin")

    report = import_people(source=csv_text(ANA), deactivate_missing=True)

    assert [(c.line, c.email) for c in report.deactivated] == [(None, "gone@example.com")]
    active = dict(User.objects.values_list("email", "is_active"))
    assert active == {"ana@example.com": True, "gone@example.com": False, "admin@example.com": True}
    admin.refresh_from_db()
    assert admin.is_active


@pytest.mark.django_db
def test_an_empty_export_never_deactivates_everyone():
    person("ana@example.com")

    report = import_people(source=HEADER + "\n", deactivate_missing=True)

    assert messages_by_line(report) == [(1, "The file lists nobody, so nobody is deactivated.")]
    assert User.objects.get(email="ana@example.com").is_active


@pytest.mark.django_db
def test_without_deactivate_missing_nobody_missing_is_touched():
    person("ana@example.com")
    person("gone@example.com")

    report = import_people(source=csv_text(ANA))

    assert report.deactivated == []
    assert User.objects.get(email="gone@example.com").is_active


@pytest.mark.django_db
def test_active_false_deactivates_and_active_true_reactivates():
    person("leaver@example.com", "Lee")
    person("returner@example.com", "Ray", is_active=False)

    report = import_people(
        source="email,full_name,active\nleaver@example.com,Lee,N\nreturner@example.com,Ray,Yes\n"
    )

    assert [(c.line, c.email) for c in report.deactivated] == [(2, "leaver@example.com")]
    assert [(c.email, c.changes) for c in report.updated] == [
        ("returner@example.com", {"active": ("no", "yes")})
    ]
    active = dict(User.objects.values_list("email", "is_active"))
    assert active == {"leaver@example.com": False, "returner@example.com": True}


# Scale ------------------------------------------------------------------------------------------


def _big_file(rows: int) -> str:
    """Everyone new; every second person reports to the person after them in the file."""
    lines = []
    for i in range(rows):
        manager = f"p{i + 1}@example.com" if i % 2 == 0 else ""
        lines.append(f"p{i}@example.com,Person {i},E{i},Dept {i % 5},{manager},,,,,")
    return csv_text(*lines)


@pytest.mark.parametrize(("rows", "max_queries"), [(500, 20), (5000, 100)])
@pytest.mark.django_db
def test_large_import_runs_in_a_bounded_number_of_queries(
    rows, max_queries, django_assert_max_num_queries
):
    # Writes go in batches (SQLite allows 999 parameters per statement, so ~60 people per
    # INSERT there; 500 on PostgreSQL), so the count grows with batches, never per person.
    source = _big_file(rows)

    with django_assert_max_num_queries(max_queries):
        report = import_people(source=source)

    assert report.ok and len(report.created) == rows
    assert User.objects.count() == rows
    assert User.objects.filter(manager__isnull=False).count() == rows // 2
    assert User.objects.get(email="p0@example.com").manager.email == "p1@example.com"


# Command ----------------------------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_people", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_command_imports_and_prints_one_line_per_change(tmp_path):
    person("ana@example.com", "Ana", job_title="Analyst")
    path = tmp_path / "hr.csv"
    path.write_text(csv_text("ana@example.com,Ana,,,,Lead,,,,", "bob@example.com,Bob,,,,,,,,"))

    out, err = run_command(str(path))

    assert "Created: 1, updated: 1, deactivated: 0, unchanged: 0." in out
    assert "create  line 3  bob@example.com (Bob)" in out
    assert "update  line 2  ana@example.com: job_title 'Analyst' → 'Lead'" in out
    assert "DRY RUN" not in out and err == ""
    assert User.objects.get(email="ana@example.com").job_title == "Lead"


@pytest.mark.django_db
def test_command_dry_run_says_so_and_changes_nothing(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text(csv_text(ANA))

    out, _ = run_command(str(path), "--dry-run")

    assert "create  line 2  ana@example.com (Ana)" in out
    assert out.rstrip().endswith("DRY RUN: nothing was changed.")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_command_deactivate_missing_lists_people_not_in_the_file(tmp_path):
    person("gone@example.com")
    path = tmp_path / "hr.csv"
    path.write_text(csv_text(ANA))

    out, _ = run_command(str(path), "--deactivate-missing")

    assert "deactivate  not in file  gone@example.com" in out
    assert not User.objects.get(email="gone@example.com").is_active


@pytest.mark.django_db
def test_command_lists_every_error_with_its_line_and_fails(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text(csv_text(ANA, "bad,Bob,,,,,,,,", "carl@example.com,Carl,,,,,,,,perhaps"))
    err = StringIO()

    with pytest.raises(CommandError, match="2 errors"):
        call_command("import_people", str(path), stdout=StringIO(), stderr=err)

    assert "line 3: email “bad” is not a valid email address." in err.getvalue()
    assert "line 4: active “perhaps” is not understood" in err.getvalue()
    assert "Nothing was imported." in err.getvalue()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_command(str(tmp_path / "missing.csv"))


def test_a_failure_while_writing_leaves_the_directory_as_it_was(monkeypatch, make_person):
    from django.db import IntegrityError

    make_person(email="ana@example.com", full_name="Ana", job_title="Analyst")
    before = sorted(User.objects.values_list("email", "full_name", "job_title", "is_active"))

    def broken(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(User.objects, "bulk_update", broken)
    report = import_people(
        source="email,full_name,job_title\nana@example.com,Ana,Lead\nbo@example.com,Bo,Rep\n"
    )
    assert not report.ok and not report.applied
    assert "changed while the import was running" in report.errors[0].message
    assert (
        sorted(User.objects.values_list("email", "full_name", "job_title", "is_active")) == before
    )


def test_a_row_never_deactivates_a_site_admin(make_person):
    make_person(email="root@example.com", full_name="Root", is_superuser=True, is_staff=True)
    report = import_people(source="email,full_name,active\nroot@example.com,Root,false\n")
    assert [(e.line, "site admin account" in e.message) for e in report.errors] == [(2, True)]
    assert User.objects.get(email="root@example.com").is_active


@pytest.mark.django_db
def test_reimporting_changes_stays_within_a_bounded_number_of_queries(
    django_assert_max_num_queries,
):
    header = "email,full_name,job_title,manager_email\n"
    rows = [f"p{i}@example.com,P {i},Rep,{'p0@example.com' if i else ''}" for i in range(5000)]
    assert import_people(source=header + "\n".join(rows)).ok
    changed = [row.replace(",Rep,", ",Senior Rep,") for row in rows]
    with django_assert_max_num_queries(100):
        report = import_people(source=header + "\n".join(changed))
    assert len(report.updated) == 5000
    assert User.objects.filter(job_title="Senior Rep").count() == 5000


@pytest.mark.django_db
def test_an_applied_import_asks_for_policy_assignments_to_follow(
    monkeypatch, django_capture_on_commit_callbacks
):
    from policies import tasks

    calls = []
    monkeypatch.setattr(tasks.reconcile_assignments, "apply_async", lambda **kw: calls.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        import_people(source="email,full_name\nnew@example.com,New Person\n", dry_run=True)
    assert calls == []
    with django_capture_on_commit_callbacks(execute=True):
        import_people(source="email,full_name\nnew@example.com,New Person\n")
    assert calls == [{"retry": False}]
