import hashlib

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from people import roles
from people.forms import ImportPeopleForm, LanguageForm
from people.importer import import_people
from people.roles import role_required
from people.services import DirectoryError, allowed_languages_text, set_language

_PREVIEW_KEY = "people_import_preview"


def _preview_path(digest: str):
    return settings.VAR_DIR / "imports" / f"{digest}.csv"


@role_required(roles.can_import_people)
@require_http_methods(["GET", "POST"])
def import_people_page(request):
    """Upload an HR export, see a dry run of what would change, then apply it.

    The previewed file waits under var/imports/ (the session holds only its digest
    and the preview's fingerprint), so "Apply" imports exactly that file, and only
    if it would still do exactly what the preview showed.
    """
    if request.method == "POST" and request.POST.get("action") == "apply":
        return _apply_preview(request)

    form = ImportPeopleForm(request.POST or None, request.FILES or None)
    report = None
    preview = None
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        deactivate_missing = form.cleaned_data["deactivate_missing"]
        report = import_people(source=content, deactivate_missing=deactivate_missing, dry_run=True)
        request.session.pop(_PREVIEW_KEY, None)
        if report.ok:
            digest = hashlib.sha256(content).hexdigest()
            path = _preview_path(digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            preview = {
                "digest": digest,
                "fingerprint": report.fingerprint,
                "deactivate_missing": deactivate_missing,
                "file_name": form.cleaned_data["file"].name,
            }
            request.session[_PREVIEW_KEY] = preview
    return render(request, "people/import.html", _import_context(form, report, preview))


def _import_context(form, report, preview) -> dict:
    return {
        "form": form,
        "report": report,
        "preview": preview,
        "import_languages": allowed_languages_text(),
    }


def _apply_preview(request):
    preview = request.session.get(_PREVIEW_KEY)
    path = _preview_path(preview["digest"]) if preview else None
    if not preview or request.POST.get("digest") != preview["digest"] or not path.exists():
        messages.error(request, _("That preview is no longer available. Upload the file again."))
        return redirect("people:import")
    report = import_people(
        source=path.read_bytes(),
        deactivate_missing=preview["deactivate_missing"],
        expected_fingerprint=preview["fingerprint"],
    )
    del request.session[_PREVIEW_KEY]
    path.unlink(missing_ok=True)
    if not report.ok:
        messages.error(request, _("Nothing was imported."))
        return render(
            request, "people/import.html", _import_context(ImportPeopleForm(), report, None)
        )
    messages.success(
        request,
        _(
            "Imported %(file_name)s: %(created)s created, %(updated)s updated, "
            "%(deactivated)s deactivated, %(unchanged)s unchanged."
        )
        % {
            "file_name": preview["file_name"],
            "created": len(report.created),
            "updated": len(report.updated),
            "deactivated": len(report.deactivated),
            "unchanged": report.unchanged,
        },
    )
    return redirect("people:import")


@require_http_methods(["GET", "POST"])
def language_page(request):
    """Every signed-in person chooses the language of their own pages and emails (only
    their own: the page has no way to name anyone else)."""
    person = request.user
    form = LanguageForm(request.POST or None, initial={"language": person.language})
    if request.method == "POST" and form.is_valid():
        try:
            set_language(person=person, language=form.cleaned_data["language"])
        except DirectoryError as error:
            form.add_error("language", error.message)
        else:
            # Said in the language just chosen, as the next page is.
            with translation.override(person.language):
                messages.success(request, _("Your language is saved."))
            return redirect("people:language")
    return render(
        request, "people/language.html", {"form": form}, status=400 if form.errors else 200
    )
