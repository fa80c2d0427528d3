"""Policy admin pages: the policy list and settings, drafts, the version workflow and
comparing versions. Translations are in manage_translation_views, compliance (figures,
export, reminders, acknowledging on someone's behalf, declines) in manage_compliance_views.

Every view is for policy admins only. Each one loads its object through the
permission helpers, validates a form, calls a service and reports with `messages`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from policies import queries, reading, services
from policies.manage_forms import (
    CompareForm,
    DraftForm,
    NoteForm,
    PolicyCreateForm,
    PolicySettingsForm,
    ScheduleForm,
    TranslationForm,
    form_errors,
)
from policies.models import Assignment, PolicyError, PolicyVersion, language_name
from policies.permissions import admin_only, get_policy_to_manage, get_version_to_manage
from policies.rendering import render_markdown, section_changes
from policyhub.paging import page_of

Status = PolicyVersion.Status

POLICIES_PER_PAGE = 25


def _pending(policy) -> PolicyVersion | None:
    return policy.versions.filter(status__in=queries.PENDING).first()


# --- policies -------------------------------------------------------------------


@admin_only
@require_GET
def manage_index(request):
    page = page_of(request, queries.policies_for_index(), per_page=POLICIES_PER_PAGE)
    return render(request, "policies/manage/index.html", {"page": page})


@admin_only
@require_http_methods(["GET", "POST"])
def manage_create(request):
    form = PolicyCreateForm(
        request.POST or None,
        initial={
            "owner": request.user,
            "audience": "everyone",
            "acknowledgement_window_days": 14,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                policy = services.create_policy(title=data["title"], **form.service_kwargs())
                draft = None
                if data["body"].strip():
                    draft = services.create_draft(
                        policy=policy,
                        author=request.user,
                        body=data["body"],
                        change_summary=data["change_summary"],
                    )
        except IntegrityError:  # someone created the same title a moment ago
            form.add_error("title", _("A policy with this title already exists."))
        else:
            if draft is not None:
                messages.success(
                    request,
                    _("“%(title)s” is created with draft %(number)s.")
                    % {"title": policy.title, "number": draft.number},
                )
                return redirect("policies:manage_version", draft.pk)
            messages.success(
                request,
                _("“%(title)s” is created. Now write its first draft.") % {"title": policy.title},
            )
            return redirect("policies:manage_new_draft", policy.pk)
    return render(request, "policies/manage/policy_form.html", {"form": form, "policy": None})


@admin_only
@require_GET
def manage_policy(request, pk: int):
    policy = get_policy_to_manage(request.user, pk)
    versions = list(queries.version_history(policy))
    compare = None
    if len(versions) > 1:
        compare = CompareForm(
            versions=versions, initial={"from": versions[1].pk, "to": versions[0].pk}
        )
    return render(
        request,
        "policies/manage/policy.html",
        {
            "policy": policy,
            "versions": versions,
            "pending": next((v for v in versions if v.status in queries.PENDING), None),
            "events": queries.policy_events(policy),
            "compare": compare,
            "departments": list(policy.audience_departments.all()),
            "groups": list(policy.audience_groups.all()),
        },
    )


@admin_only
@require_http_methods(["GET", "POST"])
def manage_edit_policy(request, pk: int):
    policy = get_policy_to_manage(request.user, pk)
    form = PolicySettingsForm(request.POST or None, initial=PolicySettingsForm.initial_for(policy))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy(policy=policy, **form.service_kwargs())
        except PolicyError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Settings saved. The published version's assignments follow the new audience."),
            )
            return redirect("policies:manage_policy", policy.pk)
    return render(request, "policies/manage/policy_form.html", {"form": form, "policy": policy})


# --- drafts ---------------------------------------------------------------------


def _draft_page(request, *, form, policy, version=None, preview=None):
    return render(
        request,
        "policies/manage/draft_form.html",
        {"form": form, "policy": policy, "version": version, "preview": preview},
    )


@admin_only
@require_http_methods(["GET", "POST"])
def manage_new_draft(request, pk: int):
    policy = get_policy_to_manage(request.user, pk)
    pending = _pending(policy)
    if pending is not None:
        messages.info(
            request,
            _(
                "Version %(number)s is still %(status)s; finish or return it before starting "
                "another."
            )
            % {"number": pending.number, "status": pending.get_status_display().lower()},
        )
        return redirect("policies:manage_version", pending.pk)
    # An edit of a published policy starts from its current text.
    latest = policy.versions.order_by("-major", "-minor").first()
    initial = {"body": latest.body, "language": latest.language} if latest else {}
    form = DraftForm(request.POST or None, initial=initial, first_version=latest is None)
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["body"])
            return _draft_page(request, form=form, policy=policy, preview=preview)
        try:
            version = services.create_draft(
                policy=policy, author=request.user, **form.service_kwargs()
            )
        except PolicyError as error:
            messages.error(request, str(error))
            return redirect("policies:manage_policy", policy.pk)
        messages.success(request, _("Draft %(number)s is saved.") % {"number": version.number})
        return redirect("policies:manage_version", version.pk)
    return _draft_page(request, form=form, policy=policy)


@admin_only
@require_http_methods(["GET", "POST"])
def manage_edit_draft(request, pk: int):
    version = get_version_to_manage(request.user, pk)
    if version.status != Status.DRAFT:
        refusal = _("Version %(number)s is %(status)s; only a draft can be edited.") % {
            "number": version.number,
            "status": version.get_status_display().lower(),
        }
        advice = (
            _("A published text never changes: write a new draft instead.")
            if version.is_locked
            else _("Return it to draft first.")
        )
        messages.error(request, f"{refusal} {advice}")
        return redirect("policies:manage_version", version.pk)
    first_version = not version.policy.versions.exclude(pk=version.pk).exists()
    form = DraftForm(
        request.POST or None,
        initial=DraftForm.initial_for(version),
        first_version=first_version,
    )
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["body"])
            return _draft_page(
                request, form=form, policy=version.policy, version=version, preview=preview
            )
        try:
            version = services.update_draft(
                version=version, user=request.user, **form.service_kwargs()
            )
        except PolicyError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Draft %(number)s is saved.") % {"number": version.number})
        return redirect("policies:manage_version", version.pk)
    return _draft_page(request, form=form, policy=version.policy, version=version)


# --- the version workflow -------------------------------------------------------


@dataclass(frozen=True)
class _Action:
    to: str  # the status the action leads to, checked against services.TRANSITIONS
    run: Callable[..., PolicyVersion]
    done: Callable[[PolicyVersion], str]


def _published_message(version: PolicyVersion) -> str:
    count = version.assignments.filter(status=Assignment.Status.OPEN).count()
    return ngettext(
        "Version %(number)s is published. %(count)s person has it to acknowledge.",
        "Version %(number)s is published. %(count)s people have it to acknowledge.",
        count,
    ) % {"number": version.number, "count": count}


ACTIONS: dict[str, _Action] = {
    "submit": _Action(
        Status.IN_REVIEW,
        lambda *, version, user, note, **_: services.submit_for_review(
            version=version, user=user, note=note
        ),
        lambda v: _("Version %(number)s is sent for review.") % {"number": v.number},
    ),
    "return": _Action(
        Status.DRAFT,
        lambda *, version, user, note, **_: services.return_to_draft(
            version=version, user=user, note=note
        ),
        lambda v: _("Version %(number)s is a draft again.") % {"number": v.number},
    ),
    "approve": _Action(
        Status.APPROVED,
        lambda *, version, user, note, **_: services.approve(version=version, user=user, note=note),
        lambda v: (
            _("Version %(number)s is approved. Publish it now or on a date.") % {"number": v.number}
        ),
    ),
    "publish": _Action(
        Status.PUBLISHED,
        lambda *, version, user, **_: services.publish(version=version, user=user),
        _published_message,
    ),
    "schedule": _Action(
        Status.PUBLISHED,
        lambda *, version, user, at, **_: services.publish(version=version, user=user, at=at),
        lambda v: (
            _("Version %(number)s will be published on %(day)s at %(time)s.")
            % {
                "number": v.number,
                "day": date_format(timezone.localtime(v.scheduled_for), "d F Y"),
                "time": f"{timezone.localtime(v.scheduled_for):%H:%M}",
            }
        ),
    ),
    "retire": _Action(
        Status.RETIRED,
        lambda *, version, user, note, **_: services.retire(version=version, user=user, note=note),
        lambda v: (
            _("Version %(number)s is retired; nobody is asked to acknowledge it any more.")
            % {"number": v.number}
        ),
    ),
}


def allowed_actions(version: PolicyVersion) -> set[str]:
    return {
        name
        for name, action in ACTIONS.items()
        if action.to in services.TRANSITIONS[version.status]
    }


@admin_only
@require_GET
def manage_version(request, pk: int):
    version = get_version_to_manage(request.user, pk)
    published = (
        version.policy.versions.filter(status=Status.PUBLISHED).exclude(pk=version.pk).first()
    )
    return render(
        request,
        "policies/manage/version.html",
        {
            "version": version,
            "policy": version.policy,
            "body_html": render_markdown(version.body),
            "actions": allowed_actions(version),
            "schedule_form": ScheduleForm(),
            "events": queries.describe_events(version.events.select_related("by")),
            "published": published,
            "own_draft": version.author_id == request.user.pk,
            "translations": list(version.translations.select_related("created_by")),
            "may_add_translation": version.status in services.TRANSLATION_OPEN
            and bool(TranslationForm(version=version).fields["language"].widget.choices),
            "language_name": language_name(version.language),
        },
    )


@require_POST
@admin_only
def manage_transition(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404("No such action.")
    version = get_version_to_manage(request.user, pk)
    form = (ScheduleForm if action == "schedule" else NoteForm)(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("policies:manage_version", version.pk)
    try:
        version = ACTIONS[action].run(version=version, user=request.user, **form.cleaned_data)
    except PolicyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, ACTIONS[action].done(version))
    return redirect("policies:manage_version", version.pk)


@admin_only
@require_GET
def manage_diff(request, pk: int):
    policy = get_policy_to_manage(request.user, pk)
    versions = list(queries.version_history(policy))
    by_pk = {v.pk: v for v in versions}
    data = request.GET if ("from" in request.GET or "to" in request.GET) else None
    initial = {}
    if len(versions) > 1:
        initial = {"from": versions[1].pk, "to": versions[0].pk}
    form = CompareForm(data, versions=versions, initial=initial)
    context = {"policy": policy, "form": form, "changes": None, "old": None, "new": None}
    if data is None:
        if len(versions) < 2:
            context["error"] = _("This policy has only one version so far: nothing to compare.")
            return render(request, "policies/manage/diff.html", context)
        old, new = versions[1], versions[0]
    elif form.is_valid():
        old, new = by_pk[form.cleaned_data["from"]], by_pk[form.cleaned_data["to"]]
    else:
        context["error"] = _("Choose two versions of this policy to compare.")
        return render(request, "policies/manage/diff.html", context, status=400)
    # One language at a time: the one asked for, else the admin's own, else the
    # authoritative text's, whichever both versions have.
    texts = {v.pk: reading.version_texts(v) for v in (old, new)}
    common = [code for code in texts[new.pk] if code in texts[old.pk]]
    language = next(
        (
            code
            for code in (request.GET.get("language"), request.user.language, new.language)
            if code in common
        ),
        None,
    )
    if language is None:  # no language in common: the two authoritative texts
        old_body, new_body, language = old.body, new.body, new.language
    else:
        old_body, new_body = texts[old.pk][language].body, texts[new.pk][language].body
    changes = section_changes(old_body, new_body)
    context.update(
        old=old,
        new=new,
        changes=changes,
        changed=sum(1 for c in changes if c.status != "unchanged"),
        compared_language_name=language_name(language),
        other_languages=[(code, language_name(code)) for code in common if code != language],
    )
    return render(request, "policies/manage/diff.html", context)
