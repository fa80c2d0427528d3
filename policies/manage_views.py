"""Policy admin pages: authoring, the version workflow, differences and compliance.

Every view is for policy admins only. Each one loads its object through the
permission helpers, validates a form, calls a service and reports with `messages`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboards.services import nudge_stage
from notifications.services import notify_many
from people.roles import role_required
from policies import queries, reading, services
from policies.manage_forms import (
    CompareForm,
    DraftForm,
    NoteForm,
    OnBehalfForm,
    PolicyCreateForm,
    PolicySettingsForm,
    ScheduleForm,
    TranslationForm,
)
from policies.models import Assignment, Decline, PolicyError, PolicyVersion, language_name
from policies.permissions import (
    can_manage,
    get_policy_to_manage,
    get_translation_to_manage,
    get_version_to_manage,
)
from policies.rendering import render_markdown, section_changes
from policyhub.exports import csv_response
from policyhub.paging import page_of

Status = PolicyVersion.Status
admin_only = role_required(can_manage)

POLICIES_PER_PAGE = 25
PEOPLE_PER_PAGE = 50


def _form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


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
        messages.error(request, _form_errors(form))
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


# --- translations ------------------------------------------------------------------


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


# --- compliance -----------------------------------------------------------------


def _version_with_figures(request, pk: int) -> PolicyVersion:
    version = get_version_to_manage(request.user, pk)
    if not version.is_locked:
        raise Http404("Compliance figures start when a version is published.")
    return version


@admin_only
@require_GET
def manage_compliance(request, pk: int):
    version = get_version_to_manage(request.user, pk)
    if not version.is_locked:
        messages.info(request, _("Compliance figures start when the version is published."))
        return redirect("policies:manage_version", version.pk)
    today = timezone.localdate()
    outstanding = page_of(
        request,
        queries.outstanding_assignments(version),
        param="outstanding_page",
        per_page=PEOPLE_PER_PAGE,
        anchor="outstanding",
    )
    overdue = page_of(
        request,
        queries.overdue_assignments(version, today=today),
        param="overdue_page",
        per_page=PEOPLE_PER_PAGE,
        anchor="overdue",
    )
    declines = page_of(
        request,
        queries.declines(version),
        param="declines_page",
        per_page=PEOPLE_PER_PAGE,
        anchor="declines",
    )
    on_behalf = None
    if version.status == Status.PUBLISHED:
        on_behalf = OnBehalfForm(initial={"person": request.GET.get("on_behalf", "")})
    return render(
        request,
        "policies/manage/compliance.html",
        {
            "version": version,
            "policy": version.policy,
            "today": today,
            "figures": queries.compliance_figures(version, today=today),
            "outstanding": outstanding,
            "outstanding_rows": queries.with_days_overdue(outstanding, today=today),
            "overdue": overdue,
            "overdue_rows": queries.with_days_overdue(overdue, today=today),
            "declines": declines,
            "on_behalf_form": on_behalf,
        },
    )


CSV_HEADER = [
    "Name",
    "Email",
    "Employee ID",
    "Department",
    "Version",
    "Status",
    "Due date",
    "Days overdue",
    "Completed at",
]


@admin_only
@require_GET
def manage_compliance_csv(request, pk: int):
    version = _version_with_figures(request, pk)
    today = timezone.localdate()

    def rows():
        for assignment in queries.compliance_export_rows(version).iterator(chunk_size=2000):
            person = assignment.person
            overdue = (
                (today - assignment.due_date).days
                if assignment.status == Assignment.Status.OPEN and assignment.due_date < today
                else ""
            )
            completed = (
                f"{timezone.localtime(assignment.completed_at):%Y-%m-%d %H:%M}"
                if assignment.completed_at
                else ""
            )
            yield [
                person.get_full_name(),
                person.email,
                person.employee_id,
                person.department.name if person.department else "",
                assignment.version.number,
                assignment.get_status_display(),
                assignment.due_date.isoformat(),
                overdue,
                completed,
            ]

    filename = f"{version.policy.slug}-{version.number}-compliance-{today:%Y-%m-%d}.csv"
    return csv_response(header=CSV_HEADER, rows=rows(), filename=filename)


@require_POST
@admin_only
def manage_remind(request, pk: int):
    version = _version_with_figures(request, pk)
    assignments = list(
        queries.version_line(version)
        .filter(status=Assignment.Status.OPEN)
        .only("pk", "person_id", "policy_id", "version_id")
    )
    if not assignments:
        messages.info(request, _("Nobody has this version outstanding, so nobody was reminded."))
        return redirect("policies:manage_compliance", version.pk)
    # The stage holds the day: at most one nudge per person per day, however often
    # the button is pressed.
    sent = notify_many(
        kind="policy-nudge",
        items=[(assignment, assignment.person_id) for assignment in assignments],
        stage=nudge_stage(),  # the site's day, shared with managers' nudges
    )
    if sent:
        skipped = len(assignments) - sent
        done = ngettext("Sent %(sent)s reminder", "Sent %(sent)s reminders", sent) % {"sent": sent}
        if skipped:
            done += " " + _("(%(skipped)s already reminded today or not reachable)") % {
                "skipped": skipped
            }
        messages.success(request, f"{done}.")
    else:
        messages.info(request, _("Everyone outstanding has already been reminded today."))
    return redirect("policies:manage_compliance", version.pk)


@require_POST
@admin_only
def manage_on_behalf(request, pk: int):
    version = _version_with_figures(request, pk)
    outstanding = get_user_model().objects.filter(
        is_active=True,
        pk__in=queries.version_line(version)
        .filter(status=Assignment.Status.OPEN)
        .values("person_id"),
    )
    form = OnBehalfForm(request.POST, outstanding=outstanding)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("policies:manage_compliance", version.pk)
    person = form.cleaned_data["person"]
    try:
        services.acknowledge_on_behalf(
            version=version, person=person, by=request.user, reason=form.cleaned_data["reason"]
        )
    except PolicyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s's acknowledgement of version %(number)s is recorded, on their behalf.")
            % {"name": person.get_full_name(), "number": version.number},
        )
    return redirect("policies:manage_compliance", version.pk)


@require_POST
@admin_only
def manage_reopen_decline(request, pk: int, decline_pk: int):
    """After talking it through with the owner, the reader may acknowledge after all."""
    version = _version_with_figures(request, pk)
    decline = get_object_or_404(
        Decline.objects.select_related("person"), pk=decline_pk, version__policy=version.policy
    )
    assignment = (
        queries.version_line(version)
        .filter(person=decline.person, status=Assignment.Status.DECLINED)
        .first()
    )
    if assignment is None:
        messages.info(
            request,
            _("%(name)s has nothing declined to reopen.")
            % {"name": decline.person.get_full_name()},
        )
        return redirect("policies:manage_compliance", version.pk)
    try:
        services.reopen_declined(assignment=assignment, by=request.user)
    except PolicyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s can acknowledge again, due %(day)s.")
            % {
                "name": decline.person.get_full_name(),
                "day": date_format(assignment.due_date, "d F Y"),
            },
        )
    return redirect("policies:manage_compliance", version.pk)
