"""The closure report of an incident, from report to review: summary, exposure window,
containment, evidence, actions, the blameless review and lessons, the timeline, and, for
HR/legal and the incident owner only, the individual assessments. It is the one document
that depends on who asks (incidents.permissions decides what they see)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from evidence.documents.shared import name_of, times_shown
from evidence.pdf import Column, EvidencePDF, Stamp, short_day, short_when
from incidents import assessment as guide
from incidents import permissions as incident_permissions
from incidents.models import ActionItem, Assessment, AuthorityReferral, Incident
from incidents.timeline import describe_event, exposure_window
from incidents.wording import RESTRICTED_NAME
from people.models import User

CLOSURE_REPORT = gettext_lazy("Incident closure report")


def _mb(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{formats.number_format(size / (1024 * 1024), 1)} MB"


def closure_report_title(incident: Incident, *, restricted: bool) -> str:
    if restricted:
        return _("Closure report: %(reference)s (with the individual assessments)") % {
            "reference": incident.reference
        }
    return _("Closure report: %(reference)s") % {"reference": incident.reference}


def closure_assessments(viewer, incident: Incident) -> list[Assessment]:
    """The individual assessments `viewer` may read (incidents.permissions decides)."""
    return list(
        incident_permissions.visible_assessments(viewer, incident)
        .select_related("person", "assessor")
        .prefetch_related(
            Prefetch(
                "authority_referrals",
                queryset=AuthorityReferral.objects.select_related("decided_by"),
            )
        )
        .order_by("started_at", "pk")
    )


def closure_report(
    incident: Incident, viewer, stamp: Stamp, assessments: list[Assessment]
) -> EvidencePDF:
    """A closed incident from report to review: summary, exposure window, containment,
    evidence, actions and their outcomes, the blameless review and lessons, and the
    history. The individual assessments are in it only when `assessments` holds them
    (for HR/legal and the incident owner). Names follow the incident page's rule: on the
    accountability track only HR/legal and the owner see who was involved."""
    restricted = bool(assessments)
    title = closure_report_title(incident, restricted=restricted)
    pdf = EvidencePDF(kind=CLOSURE_REPORT, title=title, stamp=stamp)
    pdf.title_block(
        f"{CLOSURE_REPORT}: {incident.reference}",
        _("%(severity)s severity · %(track)s")
        % {"severity": incident.get_severity_display(), "track": incident.get_track_display()},
    )
    if restricted:
        pdf.paragraph(
            _(
                "RESTRICTED: this copy contains the individual assessments. Keep it to HR/legal "
                "and the incident owner."
            )
        )
    else:
        pdf.paragraph(
            _(
                "The individual assessments are not part of this copy: only HR/legal and the "
                "incident owner see them."
            ),
            size=8.5,
            grey=True,
        )

    sees_people = incident_permissions.sees_people_involved(viewer, incident)
    people = list(incident.people_involved.order_by("full_name"))
    involved = {person.pk for person in people}

    def shown(person) -> str:
        if person is None:
            return "—"
        if not sees_people and person.pk in involved:
            return restricted_name
        return person.get_full_name()

    restricted_name = _(RESTRICTED_NAME)
    if incident.no_individual_involved:
        involved_line = _("No individual involved")
    elif not people:
        involved_line = _("None named")
    elif sees_people:
        involved_line = ", ".join(person.get_full_name() for person in people)
    else:
        involved_line = _("Restricted: shown to HR/legal and the incident owner only")
    reach = incident.estimated_reach
    reporter = shown(incident.reporter)
    if incident.self_reported:
        reporter = _("%(name)s (self-reported)") % {"name": reporter}
    pdf.heading(_("Summary"))
    pdf.facts(
        [
            (_("Reference"), incident.reference),
            (
                _("Status"),
                # Translators: an incident's status and when it was reached: "Closed on 3 March
                # 2026, 14:05:09".
                _("%(status)s on %(when)s")
                % {
                    "status": incident.get_status_display(),
                    "when": stamp.local(incident.closed_at),
                },
            ),
            (_("Reported by"), reporter),
            (_("Reported"), stamp.local(incident.created_at)),
            (_("Owner"), shown(incident.owner)),
            (_("Where"), incident.get_platform_display()),
            (_("Address"), incident.url),
            (_("Account handle"), incident.account_handle),
            (_("Kind of information"), incident.get_information_display()),
            (
                _("Estimated reach"),
                formats.number_format(reach, force_grouping=True) if reach is not None else "",
            ),
            (_("Severity"), incident.get_severity_display()),
            (_("Track"), incident.get_track_display()),
            (_("People involved"), involved_line),
            (_("Times"), times_shown(stamp)),
        ]
    )
    pdf.heading(_("What happened"), level=2)
    pdf.paragraph(incident.what_happened)

    window, exposure = exposure_window(incident, incident.closed_at or stamp.issued_at)
    pdf.heading(_("Exposure window"))
    pdf.table(
        [
            Column(_("Stage"), 40),
            Column(_("When"), 70),
            Column(_("After the stage before"), 70),
        ],
        ((point["label"], stamp.local(point["at"]), point["after"]) for point in window),
    )
    pdf.paragraph(
        _(
            "Exposed for %(exposed_for)s (posted or noticed until contained); open for "
            "%(open_for)s (noticed until closed)."
        )
        % {
            "exposed_for": exposure["exposed_for"] or "—",
            "open_for": exposure["open_for"] or "—",
        }
    )

    _containment(pdf, incident, stamp, shown)
    _evidence(pdf, incident, stamp, shown)

    # Translators: the remediation actions of an incident (Maßnahmen).
    pdf.heading(pgettext("remediation", "Actions"))
    actions = incident.actions.select_related("owner", "completed_by").order_by("due_date", "pk")
    pdf.table(
        [
            Column(_("Action"), 48),
            Column(_("Owner"), 28),
            Column(_("Due"), 20),
            Column(_("Outcome"), 18),
            Column(_("Closed"), 28),
            Column(_("How it was done, or why waived"), 38),
        ],
        (
            (
                action.title,
                shown(action.owner),
                short_day(action.due_date),
                action.get_status_display(),
                ""
                if action.status == ActionItem.Status.OPEN
                else f"{short_when(action.completed_at, stamp.tz)}\n{shown(action.completed_by)}",
                action.note,
            )
            for action in actions
        ),
    )

    _review(pdf, incident, stamp, shown)

    pdf.heading(_("Timeline"))
    events = incident.events.select_related("by").order_by("at", "pk")
    pdf.table(
        [
            Column(_("When"), 32),
            Column(_("Who"), 36),
            Column(_("What"), 52),
            Column(_("Note"), 60),
        ],
        (
            (
                short_when(event.at, stamp.tz),
                shown(event.by) if event.by_id else "PolicyHub",
                describe_event(event),
                event.note,
            )
            for event in events
        ),
    )

    if restricted:
        _assessments(pdf, assessments, stamp)
    return pdf


def _containment(pdf: EvidencePDF, incident: Incident, stamp: Stamp, shown) -> None:
    pdf.heading(_("Containment"))
    takedowns = incident.takedowns.select_related("requested_by").order_by("requested_at", "pk")
    pdf.heading(_("Takedowns"), level=2)
    pdf.table(
        [
            Column(_("What"), 42),
            Column(_("Asked of"), 30),
            Column(_("Requested"), 34),
            Column(_("Outcome"), 24),
            Column(_("Resolved"), 22),
            Column(_("Note"), 28),
        ],
        (
            (
                takedown.what,
                takedown.asked_of,
                f"{short_when(takedown.requested_at, stamp.tz)}\n{shown(takedown.requested_by)}",
                takedown.get_status_display(),
                short_when(takedown.resolved_at, stamp.tz) if takedown.resolved_at else "",
                takedown.note,
            )
            for takedown in takedowns
        ),
    )
    if incident.no_takedown_note:
        pdf.paragraph(
            _("Nothing needed taking down: %(note)s") % {"note": incident.no_takedown_note}
        )
    pdf.heading(_("Holding statements"), level=2)
    statements = list(
        incident.statements.select_related("drafted_by", "approved_by").order_by("drafted_at")
    )
    if not statements:
        pdf.paragraph(_("None."))
    for statement in statements:
        drafted = {
            "name": shown(statement.drafted_by),
            "when": stamp.local(statement.drafted_at),
        }
        if statement.approved_at:
            text = _(
                "Drafted by %(name)s, %(when)s; approved by %(approver)s, %(approved_at)s."
            ) % {
                **drafted,
                "approver": shown(statement.approved_by),
                "approved_at": stamp.local(statement.approved_at),
            }
        else:
            text = _("Drafted by %(name)s, %(when)s; not approved.") % drafted
        pdf.paragraph(text, size=8.5, grey=True)
        pdf.paragraph(statement.text)


def _evidence(pdf: EvidencePDF, incident: Incident, stamp: Stamp, shown) -> None:
    pdf.heading(_("Evidence"))
    items = incident.evidence.select_related("captured_by", "withdrawn_by").order_by(
        "captured_at", "pk"
    )
    pdf.table(
        [
            Column(_("Captured"), 30),
            Column(_("Where"), 46),
            Column(_("File"), 34),
            Column("SHA-256", 38, mono=True, size=6.5),
            Column(_("Withdrawn"), 32),
        ],
        (
            (
                f"{short_when(item.captured_at, stamp.tz)}\n{shown(item.captured_by)}",
                "\n".join(
                    part
                    for part in (item.get_platform_display(), item.url, item.handle, item.note)
                    if part
                ),
                f"{item.original_name}\n{item.content_type} {_mb(item.size)}".strip()
                if item.file
                else "",
                item.sha256,
                f"{short_when(item.withdrawn_at, stamp.tz)}, {shown(item.withdrawn_by)}: "
                f"{item.withdrawn_reason}"
                if item.withdrawn_at
                else "",
            )
            for item in items
        ),
    )


def _review(pdf: EvidencePDF, incident: Incident, stamp: Stamp, shown) -> None:
    pdf.heading(_("Review"))
    review = getattr(incident, "review", None)
    if review is None:
        pdf.paragraph(_("No review was written."))
    else:
        pdf.facts(
            [
                (
                    _("Written by"),
                    f"{shown(review.written_by)}, {stamp.local(review.written_at)}",
                ),
                (
                    _("Signed off by"),
                    f"{shown(review.signed_off_by)}, {stamp.local(review.signed_off_at)}"
                    if review.signed_off_at
                    else _("Not signed off"),
                ),
            ]
        )
        for label, text in (
            (_("Summary"), review.summary),
            (_("Contributing factors"), review.contributing_factors),
            (_("What would have spotted it sooner"), review.spotted_sooner),
            (_("What went well"), review.went_well),
            (_("Effectiveness check"), review.effectiveness_check),
        ):
            pdf.heading(label, level=2)
            pdf.paragraph(text or "—")
    pdf.heading(_("Lessons"))
    lessons = list(incident.lessons.order_by("pk"))
    if not lessons:
        pdf.paragraph(_("None."))
    for lesson in lessons:
        published = (
            _("Published anonymised in the lessons library on %(when)s.")
            % {"when": stamp.local(lesson.published_at)}
            if lesson.published
            else _("Not published.")
        )
        pdf.heading(lesson.title, level=2)
        pdf.paragraph(published, size=8.5, grey=True)
        pdf.paragraph(lesson.text)


def _assessments(pdf: EvidencePDF, assessments: list[Assessment], stamp: Stamp) -> None:
    pdf.heading(_("Individual assessments (restricted)"))
    pdf.paragraph(
        _(
            "For HR/legal and the incident owner only. Each run is kept; a later run "
            "supersedes an earlier one."
        ),
        size=8.5,
        grey=True,
    )
    answerers = {entry.get("by") for run in assessments for entry in run.answers.values() if entry}
    names = {
        person.pk: person.get_full_name()
        for person in User.objects.filter(pk__in=[pk for pk in answerers if pk])
    }
    for run in assessments:
        outcome = Assessment.Outcome
        pdf.heading(f"{run.person.get_full_name()}: {run.act}", level=2)
        pdf.facts(
            [
                (_("Assessed by"), run.assessor.get_full_name()),
                (_("Started"), stamp.local(run.started_at)),
                (
                    _("Finished"),
                    stamp.local(run.finished_at) if run.finished_at else _("Not finished"),
                ),
                (
                    # Translators: whether an assessment run is the current one.
                    pgettext("assessment run", "Current"),
                    _("Superseded %(when)s") % {"when": stamp.local(run.superseded_at)}
                    if run.superseded_at
                    else _("Yes"),
                ),
                (_("Question set"), run.question_set),
                (
                    _("Suggested outcome"),
                    outcome(run.suggested_outcome).label if run.suggested_outcome else "—",
                ),
                (
                    _("Final outcome"),
                    outcome(run.final_outcome).label if run.final_outcome else "—",
                ),
                (_("Why the suggestion was overridden"), run.override_reason),
                (
                    _("Referral"),
                    _("Refer to HR / occupational health, not discipline")
                    if run.referral
                    else pgettext("referral", "None"),
                ),
            ]
        )
        question_set = guide.question_set(run.question_set)
        order = {key: index for index, key in enumerate(question_set.keys)} if question_set else {}
        answers = sorted(run.answers.items(), key=lambda item: (order.get(item[0], 99), item[0]))
        rows = []
        for key, entry in answers:
            question = question_set.question(key) if key in order else None
            value = entry.get("value", "")
            at = entry.get("at")
            rows.append(
                (
                    question.number if question else "",
                    guide.shown(question.question) if question else key,
                    guide.shown(question.label_of(value)) if question and value else value,
                    names.get(entry.get("by"), ""),
                    short_when(datetime.fromisoformat(at), stamp.tz) if at else "",
                )
            )
        pdf.table(
            [
                # Translators: a column of question numbers.
                Column(_("No."), 10),
                Column(_("Question"), 84),
                Column(_("Answer"), 30),
                Column(_("By"), 28),
                Column(_("When"), 28),
            ],
            rows,
        )
        for referral in run.authority_referrals.all():
            pdf.paragraph(
                f"{referral.get_decision_display()}: {referral.note} "
                f"({name_of(referral.decided_by)}, {stamp.local(referral.decided_at)})"
            )
