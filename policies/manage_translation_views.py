"""Policy admin pages for a version's translations: add one, edit a draft's, read a
published one (fixed), remove a draft's. For policy admins only."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from policies import services
from policies.manage_forms import TranslationForm
from policies.models import PolicyError, PolicyVersion, language_name
from policies.permissions import admin_only, get_translation_to_manage, get_version_to_manage
from policies.rendering import render_markdown

Status = PolicyVersion.Status


def _translation_page(request, *, form, version, translation=None, status=200):
    return render(
        request,
        "policies/manage/translation_form.html",
        {
            "form": form,
            "version": version,
            "policy": version.policy,
            "translation": translation,
            "authoritative": language_name(version.language),
            "language": language_name(translation.language) if translation else "",
            "body_html": render_markdown(translation.body) if translation else "",
        },
        status=status,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def manage_add_translation(request, pk: int):
    version = get_version_to_manage(request.user, pk)
    if version.status not in services.TRANSLATION_OPEN:
        messages.error(request, services.translation_closed_reason(version))
        return redirect("policies:manage_version", version.pk)
    form = TranslationForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            translation = services.add_translation(
                version=version, user=request.user, **form.cleaned_data
            )
        except PolicyError as error:
            form.add_error(None, str(error))
        else:
            if translation.is_fixed:
                done = _(
                    "The %(language)s translation of version %(number)s is added. It is "
                    "published with the version: readers can acknowledge it, and it can no "
                    "longer be changed."
                )
            else:
                done = _(
                    "The %(language)s translation of draft %(number)s is saved. It is "
                    "published with the version."
                )
            messages.success(
                request,
                done % {"language": language_name(translation.language), "number": version.number},
            )
            return redirect("policies:manage_version", version.pk)
    status = 400 if form.errors else 200
    return _translation_page(request, form=form, version=version, status=status)


@admin_only
@require_http_methods(["GET", "POST"])
def manage_edit_translation(request, pk: int, language: str):
    """A draft's translation to edit; a published one to read (it is fixed)."""
    translation = get_translation_to_manage(request.user, pk, language)
    version = translation.version
    editable = version.status == Status.DRAFT and not translation.is_fixed
    if not editable:
        if request.method == "POST":
            try:
                services.update_translation(
                    translation=translation,
                    user=request.user,
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    change_summary=request.POST.get("change_summary", ""),
                )
            except PolicyError as error:
                messages.error(request, str(error))
            return redirect("policies:manage_edit_translation", version.pk, language)
        return _translation_page(request, form=None, version=version, translation=translation)
    form = TranslationForm(
        request.POST or None,
        version=version,
        adding=False,
        initial=TranslationForm.initial_for(translation),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_translation(
                translation=translation, user=request.user, **form.cleaned_data
            )
        except PolicyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The %(language)s translation of draft %(number)s is saved.")
                % {"language": language_name(language), "number": version.number},
            )
            return redirect("policies:manage_version", version.pk)
    status = 400 if form.errors else 200
    return _translation_page(
        request, form=form, version=version, translation=translation, status=status
    )


@require_POST
@admin_only
def manage_remove_translation(request, pk: int, language: str):
    translation = get_translation_to_manage(request.user, pk, language)
    version = translation.version
    try:
        services.remove_translation(translation=translation, user=request.user)
    except PolicyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The %(language)s translation of draft %(number)s is removed.")
            % {"language": language_name(language), "number": version.number},
        )
    return redirect("policies:manage_version", version.pk)
