"""PDF evidence: a receipt, an evidence pack and a closure report, each loaded through its
own app's permission helper; the list of issued documents; and the verification page.

Each PDF link is a GET that issues a new document (a new document id, a row in the
manifest): only GET, so that a HEAD request or a link checker's probe issues nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from evidence import queries, services
from evidence.forms import MAX_UPLOAD_BYTES, VerifyForm
from evidence.models import EvidenceError
from incidents.permissions import get_incident_for
from policies.permissions import get_acknowledgement_for, get_version_to_manage
from policyhub.paging import page_of

DOCUMENTS_PER_PAGE = 25


def _context(request) -> dict:
    return {
        "user": request.user,
        "verify_url": request.build_absolute_uri(reverse("evidence:verify")),
        "tz": timezone.get_current_timezone(),
        # The page's language: the person's own when they chose one (people.middleware).
        "language": translation.get_language(),
    }


def _pdf(issued: services.Issued) -> HttpResponse:
    response = HttpResponse(issued.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issued.filename}"'
    response["Content-Length"] = str(len(issued.content))
    # Personal data: never kept by a shared cache or the browser's back button.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def receipt(request, pk: int):
    acknowledgement = get_acknowledgement_for(request.user, pk)
    return _pdf(services.issue_receipt(acknowledgement=acknowledgement, **_context(request)))


@require_GET
def evidence_pack(request, pk: int):
    version = get_version_to_manage(request.user, pk)
    try:
        issued = services.issue_evidence_pack(version=version, **_context(request))
    except EvidenceError as error:
        messages.info(request, str(error))
        return redirect("policies:manage_version", version.pk)
    return _pdf(issued)


@require_GET
def closure_report(request, pk: int):
    incident, level = get_incident_for(request.user, pk)
    if level != "full":
        # An action owner or a reporter may open the incident's page, not its record.
        raise PermissionDenied
    try:
        issued = services.issue_closure_report(incident=incident, **_context(request))
    except EvidenceError as error:
        messages.info(request, str(error))
        return redirect("incidents:detail", incident.pk)
    return _pdf(issued)


@require_safe
def issued(request):
    page = page_of(request, queries.issued_documents(request.user), per_page=DOCUMENTS_PER_PAGE)
    return render(request, "evidence/issued.html", {"page": page})


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    """Upload a PDF or enter its SHA-256: PolicyHub says whether it issued exactly that
    file, and what it is. Nothing about the check is stored."""
    context = {"max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            context["checked"] = form.cleaned_data["sha256"]
            context["verdict"] = queries.verdict(
                sha256=form.cleaned_data["sha256"],
                claimed_reference=form.cleaned_data["claimed_reference"],
            )
            form = VerifyForm()
    else:
        form = VerifyForm()
    return render(request, "evidence/verify.html", {"form": form, **context})
