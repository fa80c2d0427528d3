"""Import the directory from an HR export: `manage.py import_people FILE.csv [--dry-run]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from people.importer import ImportReport, PersonChange, import_people


class Command(BaseCommand):
    help = (
        "Create, update and deactivate people from an HR export (CSV). The whole file is "
        "checked first; if any line has a problem, nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, UTF-8, with a header line.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change, change nothing."
        )
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="Deactivate active people who are not in the file (never superusers).",
        )

    def handle(self, *args, file: str, dry_run: bool, deactivate_missing: bool, **options):
        try:
            source = Path(file).read_bytes()
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror}).") from None

        report = import_people(
            source=source, deactivate_missing=deactivate_missing, dry_run=dry_run
        )
        if not report.ok:
            for error in report.errors:
                where = f"line {error.line}: " if error.line else ""
                self.stderr.write(f"{where}{error.message}")
            self.stderr.write("Nothing was imported.")
            count = len(report.errors)
            raise CommandError(f"{file}: {count} error{'s' if count != 1 else ''}.")
        self._summary(report)
        if dry_run:
            self.stdout.write("DRY RUN: nothing was changed.")

    def _summary(self, report: ImportReport) -> None:
        self.stdout.write(
            f"Created: {len(report.created)}, updated: {len(report.updated)}, "
            f"deactivated: {len(report.deactivated)}, unchanged: {report.unchanged}."
        )
        if report.departments_created:
            self.stdout.write("New departments: " + ", ".join(report.departments_created) + ".")
        for verb, people in (
            ("create", report.created),
            ("update", report.updated),
            ("deactivate", report.deactivated),
        ):
            for person in people:
                self.stdout.write(f"{verb}  {_where(person)}  {_describe(person)}")


def _where(person: PersonChange) -> str:
    return f"line {person.line}" if person.line else "not in file"


def _describe(person: PersonChange) -> str:
    if not person.changes:
        return f"{person.email} ({person.full_name})"
    changes = ", ".join(f"{name} {old!r} → {new!r}" for name, (old, new) in person.changes.items())
    return f"{person.email}: {changes}"
