import hashlib

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from people import roles
from people.forms import ImportPeopleForm
from people.importer import import_people
from people.roles import role_required

_PREVIEW_KEY = "people_import_preview"


@role_required(roles.can_import_people)
@require_http_methods(["GET", "POST"])
def import_people_page(request):
    """Upload an HR export, see a dry run of what would change, then apply it.

    The previewed file is kept in the session so that "Apply" imports exactly the
    file that was previewed; applying validates it again against the directory
    as it is then.
    """
    action = request.POST.get("action")
    if request.method == "POST" and action == "apply":
        return _apply_preview(request)

    form = ImportPeopleForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        deactivate_missing = form.cleaned_data["deactivate_missing"]
        report = import_people(source=content, deactivate_missing=deactivate_missing, dry_run=True)
        if report.ok:
            request.session[_PREVIEW_KEY] = {
                "content": content.decode("utf-8-sig"),
                "digest": hashlib.sha256(content).hexdigest(),
                "deactivate_missing": deactivate_missing,
                "file_name": form.cleaned_data["file"].name,
            }
        else:
            request.session.pop(_PREVIEW_KEY, None)
    preview = request.session.get(_PREVIEW_KEY) if report is not None and report.ok else None
    return render(
        request,
        "people/import.html",
        {"form": form, "report": report, "preview": preview},
    )


def _apply_preview(request):
    preview = request.session.get(_PREVIEW_KEY)
    if not preview or request.POST.get("digest") != preview["digest"]:
        messages.error(request, "That preview is no longer available. Upload the file again.")
        return redirect("people:import")
    report = import_people(
        source=preview["content"], deactivate_missing=preview["deactivate_missing"]
    )
    del request.session[_PREVIEW_KEY]
    if not report.ok:
        messages.error(
            request,
            "The directory changed since the preview and the file no longer imports cleanly. "
            "Nothing was imported.",
        )
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
