"""Translations of the interface: extract, check, and fill from part files.

    python scripts/i18n.py extract            # locale/<lang>/LC_MESSAGES/django.po from the code
    python scripts/i18n.py check              # every string translated, nothing fuzzy
    python scripts/i18n.py missing NAME PATH...  # strings under PATHs not yet translated
    python scripts/i18n.py merge              # fill django.po from locale/parts/*.json

English is the source language: the strings in templates and code are the English words,
so English needs no catalog. German and French (settings.LANGUAGES) each have one
catalog for the whole project under locale/, compiled to django.mo (committed, so a fresh
machine needs no gettext tools). Extraction needs GNU gettext (xgettext, msgmerge).

A part file (locale/parts/NAME.json) lets several people translate separate corners of
the code at once without editing the same catalog:
    {"msgid": {"de": "...", "fr": "..."},
     "context\u0004msgid": {...},                     # pgettext
     "msgid\u0000plural": {"de": ["one", "many"], "fr": ["one", "many"]}}
`merge` writes them into the catalogs; the catalogs stay the record, and the part files are
deleted once merged.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
PARTS = LOCALE / "parts"
TARGETS = ("de", "fr")

# Code whose words are not the interface's: tests, the demo's story, migrations, tools.
IGNORE = [
    ".venv",
    "venv",
    "node_modules",
    "tests",
    "bench",
    "scripts",
    "static",
    "staticfiles",
    "var",
    "test-artifacts",
    "migrations",
    "demo",
    "demo.py",
    "conftest.py",
    "drf_spectacular",
]


def _django():
    if "DJANGO_SETTINGS_MODULE" in os.environ and "django.conf" in sys.modules:
        return  # already set up (the tests)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
    import django

    django.setup()


def _makemessages(source: Path, locale_dir: Path, *, symlinks: bool = False) -> None:
    """Run Django's makemessages over `source` into `locale_dir`."""
    from django.conf import settings
    from django.core.management import call_command

    old_cwd, old_paths = os.getcwd(), settings.LOCALE_PATHS
    settings.LOCALE_PATHS = [locale_dir]
    os.chdir(source)
    try:
        call_command(
            "makemessages",
            locale=list(TARGETS),
            ignore_patterns=IGNORE,
            no_location=True,
            no_obsolete=True,
            symlinks=symlinks,
            verbosity=0,
        )
    finally:
        os.chdir(old_cwd)
        settings.LOCALE_PATHS = old_paths


def fresh_keys(workdir: Path) -> set[str]:
    """Every string the code marks for translation today, extracted into `workdir`.

    makemessages writes next to the nearest locale/ folder it knows, so it runs in a
    folder of links to the project's top-level entries without locale/ (the committed
    catalogs stay untouched).
    """
    view = workdir / "src"
    view.mkdir()
    for entry in ROOT.iterdir():
        if entry.name != "locale" and entry.name not in IGNORE and not entry.name.startswith("."):
            (view / entry.name).symlink_to(entry)
    _makemessages(view, workdir / "locale", symlinks=True)
    po_path = workdir / "locale" / TARGETS[0] / "LC_MESSAGES" / "django.po"
    return {key(entry) for entry in polib.pofile(str(po_path))} if po_path.exists() else set()


def catalog_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def key(entry: polib.POEntry) -> str:
    text = entry.msgid
    if entry.msgid_plural:
        text += "\0" + entry.msgid_plural
    if entry.msgctxt:
        text = entry.msgctxt + "\x04" + text
    return text


def translated(entry: polib.POEntry) -> bool:
    if entry.obsolete or "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def _load_parts() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in sorted(PARTS.glob("*.json")):
        for msg, languages in json.loads(path.read_text(encoding="utf-8")).items():
            found.setdefault(msg, languages)
    return found


def _fill(entry: polib.POEntry, text) -> None:
    if entry.msgid_plural:
        forms = text if isinstance(text, list) else [text, text]
        entry.msgstr_plural = {i: form for i, form in enumerate(forms)}
    else:
        entry.msgstr = text if isinstance(text, str) else text[0]
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")


def extract() -> None:
    _django()
    _makemessages(ROOT, LOCALE)
    for language in TARGETS:
        _header(catalog_path(language), language)


def _header(path: Path, language: str) -> None:
    if not path.exists():
        return
    po = polib.pofile(str(path))
    po.metadata["Language"] = language
    po.metadata["Project-Id-Version"] = "PolicyHub"
    po.metadata["Plural-Forms"] = (
        "nplurals=2; plural=(n != 1);" if language == "de" else "nplurals=2; plural=(n > 1);"
    )
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.header = "PolicyHub's interface. English is the source; see scripts/i18n.py."
    po.metadata_is_fuzzy = False
    for entry in po:
        if "fuzzy" in entry.flags:  # msgmerge's guesses are not translations
            entry.flags.remove("fuzzy")
            entry.msgstr = ""
            entry.msgstr_plural = {i: "" for i in entry.msgstr_plural} if entry.msgid_plural else {}
            entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    po.save(str(path))


def untranslated(language: str) -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(catalog_path(language))) if not translated(e)]


def check() -> int:
    bad = 0
    for language in TARGETS:
        missing = untranslated(language)
        for entry in missing[:20]:
            print(f"{language}: not translated: {key(entry)!r}")
        if missing:
            print(f"{language}: {len(missing)} strings not translated")
        bad += len(missing)
    return 1 if bad else 0


def missing(name: str, paths: list[str]) -> None:
    """Print, as a part-file skeleton, the strings under `paths` that nobody translated."""
    _django()
    known = _load_parts()
    for language in TARGETS:
        if catalog_path(language).exists():
            for entry in polib.pofile(str(catalog_path(language))):
                if translated(entry):
                    known.setdefault(key(entry), {})
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "src"
        for raw in paths:
            source = ROOT / raw
            target = work / raw
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        _makemessages(work, Path(tmp) / "locale")
        po_path = Path(tmp) / "locale" / TARGETS[0] / "LC_MESSAGES" / "django.po"
        entries = polib.pofile(str(po_path)) if po_path.exists() else []
        todo = {}
        for entry in entries:
            if key(entry) not in known:
                todo[key(entry)] = {
                    lang: (["", ""] if entry.msgid_plural else "") for lang in TARGETS
                }
    print(f"# {len(todo)} strings to translate into locale/parts/{name}.json", file=sys.stderr)
    print(json.dumps(todo, ensure_ascii=False, indent=1))


def merge() -> int:
    parts = _load_parts()
    left = 0
    for language in TARGETS:
        po = polib.pofile(str(catalog_path(language)))
        for entry in po:
            if translated(entry):
                continue
            text = parts.get(key(entry), {}).get(language)
            if text:
                _fill(entry, text)
            else:
                left += 1
        po.save(str(catalog_path(language)))
        po.save_as_mofile(str(catalog_path(language).with_suffix(".mo")))
    print(f"{left} strings still not translated")
    return 1 if left else 0


def compile_catalogs() -> None:
    for language in TARGETS:
        if not catalog_path(language).exists():
            continue
        po = polib.pofile(str(catalog_path(language)))
        po.save_as_mofile(str(catalog_path(language).with_suffix(".mo")))


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "extract":
        extract()
        compile_catalogs()
        return 0
    if command == "check":
        return check()
    if command == "missing":
        missing(argv[1], argv[2:])
        return 0
    if command == "merge":
        return merge()
    if command == "compile":
        compile_catalogs()
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
