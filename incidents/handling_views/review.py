"""The blameless review, its sign-off, and lessons: published to the library, turned into a
policy revision or a talking point."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents import services
from incidents.handling_forms import BriefingForm, LessonForm, PolicyRevisionForm, ReviewForm
from incidents.handling_views.page import detail_context
from incidents.handling_views.shared import act, detail_url, handled_incident
from incidents.models import IncidentError, Lesson, Review
from incidents.permissions import can_handle, get_incident_for, sees_people_involved
from people import roles
from policies.models import Policy
from training.models import Topic


@require_POST
def write_review(request, pk: int):
    incident = handled_incident(request, pk)
    form = ReviewForm(request.POST, auto_id="review_%s")
    if form.is_valid():
        try:
            services.write_review(incident=incident, by=request.user, **form.cleaned_data)
        except IncidentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The review is saved. A manager signs it off."))
            return redirect(detail_url(incident, "review"))
    context = detail_context(request, incident, "full", review_form=form)
    return render(request, "incidents/detail.html", context, status=400)


@require_POST
def sign_off_review(request, pk: int):
    incident, level = get_incident_for(request.user, pk)
    if level == "reporter":
        raise PermissionDenied
    review = get_object_or_404(Review, incident=incident)
    review.incident = incident
    return act(
        request,
        incident,
        "review",
        lambda: services.sign_off_review(review=review, by=request.user),
        _("You signed off the review."),
    )


@require_POST
def publish_lesson(request, pk: int):
    incident = handled_incident(request, pk)
    form = LessonForm(request.POST, auto_id="lesson_%s")
    identifying = []
    if form.is_valid():
        data = form.cleaned_data
        if sees_people_involved(request.user, incident):
            identifying = services.identifying_details(incident, f"{data['title']}\n{data['text']}")
        try:
            lesson = services.publish_lesson(
                incident=incident,
                by=request.user,
                title=data["title"],
                text=data["text"],
                keep_identifying=data["keep_identifying"],
            )
        except IncidentError as error:
            if not identifying:  # otherwise the warning above the form says it all
                form.add_error("text", str(error))
        else:
            messages.success(
                request, _("“%(title)s” is in the lessons library.") % {"title": lesson.title}
            )
            return redirect(detail_url(incident, "lessons"))
    context = detail_context(request, incident, "full", lesson_form=form, identifying=identifying)
    return render(request, "incidents/detail.html", context, status=400)


def _after_lesson(request, lesson: Lesson):
    """Back to the incident for the team; to the lesson for anyone else."""
    if lesson.incident_id is not None:
        try:
            _incident, level = get_incident_for(request.user, lesson.incident_id)
        except Http404:
            level = ""
        if level == "full":
            return redirect(detail_url(lesson.incident, "lessons"))
    try:
        return redirect(reverse("incidents:lesson", args=[lesson.pk]))
    except NoReverseMatch:
        return redirect("my_tasks")


def _published_lesson(pk: int) -> Lesson:
    return get_object_or_404(Lesson.objects.select_related("incident"), pk=pk, published=True)


@require_POST
def lesson_policy_revision(request, lesson_pk: int):
    if not roles.is_policy_admin(request.user):
        raise PermissionDenied
    lesson = _published_lesson(lesson_pk)
    form = PolicyRevisionForm(request.POST)
    policy = (
        Policy.objects.filter(pk=form.cleaned_data["policy"]).first() if form.is_valid() else None
    )
    if policy is None:
        messages.error(request, _("Choose the policy to revise."))
        return _after_lesson(request, lesson)
    try:
        draft = services.open_policy_revision(lesson=lesson, policy=policy, by=request.user)
    except IncidentError as error:
        messages.error(request, str(error))
        return _after_lesson(request, lesson)
    messages.success(
        request,
        _("Draft %(number)s of “%(policy)s” is open, linked to the lesson “%(lesson)s”.")
        % {"number": draft.number, "policy": policy.title, "lesson": lesson.title},
    )
    return redirect("policies:manage_version", draft.pk)


@require_POST
def lesson_briefing(request, lesson_pk: int):
    if not (roles.is_policy_admin(request.user) or can_handle(request.user)):
        raise PermissionDenied
    lesson = _published_lesson(lesson_pk)
    form = BriefingForm(request.POST)
    topic = Topic.objects.filter(pk=form.cleaned_data["topic"]).first() if form.is_valid() else None
    if topic is None:
        messages.error(request, _("Choose the training topic."))
        return _after_lesson(request, lesson)
    try:
        services.add_to_briefing(
            lesson=lesson, topic=topic, by=request.user, text=form.cleaned_data["text"]
        )
    except IncidentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("A talking point from “%(lesson)s” is on “%(topic)s”.")
            % {"lesson": lesson.title, "topic": topic.name},
        )
    return _after_lesson(request, lesson)
