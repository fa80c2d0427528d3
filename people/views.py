import hashlib

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from people import roles
from people.forms import ImportPeopleForm
from people.importer import import_people
from people.roles import role_required

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
    return render(
        request, "people/import.html", {"form": form, "report": report, "preview": preview}
    )


def _apply_preview(request):
    preview = request.session.get(_PREVIEW_KEY)
    path = _preview_path(preview["digest"]) if preview else None
    if not preview or request.POST.get("digest") != preview["digest"] or not path.exists():
        messages.error(request, "That preview is no longer available. Upload the file again.")
        return redirect("people:import")
    report = import_people(
        source=path.read_bytes(),
        deactivate_missing=preview["deactivate_missing"],
        expected_fingerprint=preview["fingerprint"],
    )
    del request.session[_PREVIEW_KEY]
    path.unlink(missing_ok=True)
    if not report.ok:
        messages.error(request, "Nothing was imported.")
        return render(
            request,
            "people/import.html",
            {"form": ImportPeopleForm(), "report": report, "preview": None},
        )
    messages.success(
        request,
        f"Imported {preview['file_name']}: {len(report.created)} created, "
        f"{len(report.updated)} updated, {len(report.deactivated)} deactivated, "
        f"{report.unchanged} unchanged.",
    )
    return redirect("people:import")
