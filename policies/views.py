"""The reader's pages: the Policies list, a policy with its forms, and receipts."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from policies import reading, services
from policies.forms import AcknowledgeForm, DeclineForm, QuizForm
from policies.models import PolicyError, language_name
from policies.permissions import get_acknowledgement_for, get_policy_for

PAGE_SIZE = 25


@require_safe
def index(request):
    """Mine first (what I still have to acknowledge), then every policy I may read."""
    today = timezone.localdate()
    outstanding = list(reading.outstanding_assignments(request.user))
    page = Paginator(reading.readable_policies_list(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "policies/index.html",
        {
            "outstanding": outstanding,
            "today": today,
            "page": page,
            "rows": reading.policy_rows(request.user, page.object_list, today=today),
        },
    )


@require_safe
def detail(request, slug):
    """The policy in the reader's language when the version has a translation into it;
    `?lang=` switches to any language the version has (the authoritative one included)."""
    policy = get_policy_for(request.user, slug)
    return _detail_page(request, policy, language=request.GET.get("lang"))


def _detail_page(request, policy, *, language=None, **posted):
    """The policy page; `posted` holds a form sent back with its errors."""
    state = reading.reader_state(
        request.user, policy, today=timezone.localdate(), language=language
    )
    initial = {"version": state.version.pk}
    forms = {
        "acknowledge_form": AcknowledgeForm(
            initial={
                **initial,
                "language": state.shown.language,
                "text_sha256": state.shown.sha256,
            }
        ),
        "quiz_form": QuizForm(initial=initial, questions=state.questions),
        "decline_form": DeclineForm(initial=initial),
    }
    forms.update(posted)
    if "acknowledge_form" in posted:
        posted["acknowledge_form"].point_at(state.version, state.shown)
    shown = {
        "quiz_form": bool(state.assignment and state.questions and not state.quiz_passed),
        "acknowledge_form": state.may_acknowledge,
        "decline_form": state.assignment is not None,
    }
    # A refused form that the page no longer offers (already acknowledged, say):
    # its refusal is still shown.
    refusals = [
        error
        for name, form in posted.items()
        if not shown[name]
        for error in form.non_field_errors()
    ]
    return render(
        request,
        "policies/detail.html",
        {
            "policy": policy,
            "version": state.version,
            "state": state,
            "text": state.shown,
            "body": reading.safe_markdown(state.shown.body),
            "shown": shown,
            "refusals": refusals,
            **forms,
        },
    )


def _request_meta(request) -> dict:
    return {
        "ip_address": request.META.get("REMOTE_ADDR"),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }


@require_POST
def acknowledge(request, slug):
    policy = get_policy_for(request.user, slug)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            acknowledgement = services.acknowledge(
                version=_version_of(policy, form),
                user=request.user,
                full_name=form.cleaned_data["full_name"],
                request_meta=_request_meta(request),
                language=form.cleaned_data["language"],
                text_sha256=form.cleaned_data["text_sha256"],
            )
        except PolicyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Thank you: you acknowledged %(title)s %(number)s. This is your receipt.")
                % {"title": policy.title, "number": acknowledgement.version.number},
            )
            return redirect("policies:receipt", pk=acknowledgement.pk)
    # Shown again for the version and text on the page now (see _detail_page).
    return _detail_page(request, policy, language=form.data.get("language"), acknowledge_form=form)


@require_POST
def quiz(request, slug):
    policy = get_policy_for(request.user, slug)
    version = reading.current_version(policy)
    form = QuizForm(request.POST, questions=version.questions.all())
    if form.is_valid():
        try:
            if _version_of(policy, form) != version:
                raise PolicyError(
                    _("This policy is now at version %(number)s: read it and answer its questions.")
                    % {"number": version.number}
                )
            if services.open_assignment(policy=policy, person=request.user) is None:
                raise PolicyError(_("This policy is not waiting for your acknowledgement."))
            attempt = services.submit_quiz(
                version=version, user=request.user, answers=form.answers()
            )
        except PolicyError as error:
            form.add_error(None, str(error))
        else:
            if attempt.passed:
                messages.success(
                    request,
                    _("You passed with %(score)s%%. You can now acknowledge it.")
                    % {"score": attempt.score},
                )
            else:
                messages.warning(
                    request,
                    _(
                        "You scored %(score)s%%; the pass mark is %(mark)s%%. Read the policy "
                        "again and try once more."
                    )
                    % {"score": attempt.score, "mark": version.pass_mark},
                )
            return redirect("policies:detail", slug=policy.slug)
    form.point_at(version)
    return _detail_page(request, policy, quiz_form=form)


@require_POST
def decline(request, slug):
    policy = get_policy_for(request.user, slug)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            declined = services.decline(
                version=_version_of(policy, form),
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except PolicyError as error:
            form.add_error(None, str(error))
        else:
            messages.info(
                request,
                _(
                    "You declined %(title)s %(number)s. %(owner)s, who owns it, has been told "
                    "and will follow up with you."
                )
                % {
                    "title": policy.title,
                    "number": declined.version.number,
                    "owner": policy.owner.get_full_name(),
                },
            )
            return redirect("policies:detail", slug=policy.slug)
    form.point_at(reading.current_version(policy))
    return _detail_page(request, policy, decline_form=form)


def _version_of(policy, form):
    """The version the form was filled in for, which the services judge (a replaced
    one is refused with a message saying so)."""
    version = reading.posted_version(policy, form.cleaned_data["version"])
    if version is None:
        raise PolicyError(_("This page is out of date. Reload it and try again."))
    return version


@require_safe
def receipt(request, pk):
    acknowledgement = get_acknowledgement_for(request.user, pk)
    shown = acknowledgement.shown_language
    return render(
        request,
        "policies/receipt.html",
        {
            "ack": acknowledgement,
            "text_language": language_name(shown),
            "text_is_translation": shown != acknowledgement.version.language,
            "authoritative_language": language_name(acknowledgement.version.language),
        },
    )
