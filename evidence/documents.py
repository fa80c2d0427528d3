"""What each PDF says: an acknowledgement receipt, an evidence pack per policy version
and an incident's closure report. Each builder reads through the owning app's own
queries and helpers (compliance figures, the chain check, the incident's exposure window
and history) and lays the facts out with evidence.pdf. Permission is checked before a
builder is called (evidence.services); the closure report is the one builder that also
takes the viewer, since what of an incident it shows depends on who asks.

The evidence pack is built for 10,000 people: acknowledgements and attendance are read
in chunks (`iterator`) and drawn as they arrive, so memory does not grow with them and
the number of queries is the same for ten people or ten thousand.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from evidence.pdf import Column, EvidencePDF, Stamp, day, short_day, short_when, tz_name
from incidents import assessment as guide
from incidents import permissions as incident_permissions
from incidents.handling_views import RESTRICTED_NAME, describe_event, exposure_window
from incidents.models import ActionItem, Assessment, AuthorityReferral, Incident
from people.models import User
from policies import queries as policy_queries
from policies import services as policy_services
from policies.models import Acknowledgement, PolicyVersion, sha256_text
from training.models import Booking, Session

CHUNK = 2000  # rows read from the database at a time

RECEIPT = "Acknowledgement receipt"
EVIDENCE_PACK = "Evidence pack"
CLOSURE_REPORT = "Incident closure report"

WEB_METHOD = (
    "In the browser: the reader ticked “I have read and understood this policy” and typed "
    "their full name"
)


def _name(person) -> str:
    return person.get_full_name() if person else "—"


def _mb(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


# --- the acknowledgement receipt ---------------------------------------------------------


def receipt_title(acknowledgement: Acknowledgement) -> str:
    version = acknowledgement.version
    return (
        f"Acknowledgement receipt #{acknowledgement.sequence}: "
        f"{acknowledgement.person.get_full_name()}, {version.policy.title} {version.number}"
    )


def receipt(acknowledgement: Acknowledgement, stamp: Stamp) -> EvidencePDF:
    """The receipt page as a PDF: who acknowledged which version, when, how, from where,
    and the hashes that tie the record to the text and to the chain."""
    ack, version = acknowledgement, acknowledgement.version
    pdf = EvidencePDF(kind=RECEIPT, title=receipt_title(ack), stamp=stamp)
    pdf.title_block(RECEIPT, f"Record #{ack.sequence} in PolicyHub's acknowledgement chain")
    policy_line = f"{version.policy.title}, version {version.number}"
    if version.effective_from:
        policy_line += f" (in effect from {day(version.effective_from)})"
    if ack.method == Acknowledgement.Method.ON_BEHALF:
        method = (
            f"On behalf of the reader, recorded by {_name(ack.on_behalf_by)}. "
            f"Reason: {ack.on_behalf_reason}"
        )
    else:
        method = WEB_METHOD
    rows: list[tuple] = [
        ("Who", f"{ack.person.get_full_name()} <{ack.person.email}>"),
        ("Policy", policy_line),
        ("When", f"{stamp.local(ack.acknowledged_at)} ({tz_name(stamp.tz)})"),
        ("Typed name", ack.typed_name),
        ("Method", method),
    ]
    if ack.quiz_score is not None:
        rows.append(("Quiz score", f"{ack.quiz_score}% (pass mark {version.pass_mark}%)"))
    if ack.ip_address or ack.user_agent:
        origin = "\n".join(
            part
            for part in (f"IP address {ack.ip_address}" if ack.ip_address else "", ack.user_agent)
            if part
        )
        rows.append(("From", origin))
    rows += [
        ("Text acknowledged (SHA-256)", ack.text_sha256, True),
        ("Record hash", ack.record_hash, True),
        ("Previous record hash", ack.previous_hash, True),
    ]
    pdf.facts(rows)
    pdf.paragraph(
        f"The first hash is the SHA-256 of the exact text of version {version.number}. The "
        "record hash covers this record's fields and the hash of the record before it, so "
        "any later change to an acknowledgement is detected.",
        size=8.5,
        grey=True,
    )
    pdf.heading("Checked when this receipt was issued")
    if policy_services.record_hash(ack) == ack.record_hash:
        pdf.paragraph(
            "The record's hash was computed again from its details and matches the stored "
            "record hash: the record is as it was written."
        )
    else:
        pdf.paragraph(
            "ALTERED: the record's hash, computed again from its details, does not match the "
            "stored record hash. The record was changed after it was written."
        )
    current_text = version.body_sha256 or sha256_text(version.body)
    if current_text == ack.text_sha256:
        pdf.paragraph(
            f"The text of version {version.number} that PolicyHub holds has the SHA-256 above: "
            "it is the text that was acknowledged."
        )
    else:
        pdf.paragraph(
            f"The text of version {version.number} that PolicyHub holds has another SHA-256 "
            f"({current_text}): it is not the text that was acknowledged."
        )
    return pdf


# --- the evidence pack per policy version -------------------------------------------------


def evidence_pack_title(version: PolicyVersion) -> str:
    return f"Evidence pack: {version.policy.title} {version.number}"


def evidence_pack(version: PolicyVersion, stamp: Stamp) -> EvidencePDF:
    """Everything an auditor asks about one policy version: its text and the text's
    hash, every acknowledgement that counts for it, who is still outstanding, the result
    of the chain check, and who attended the briefings that covered the policy."""
    policy = version.policy
    pdf = EvidencePDF(kind=EVIDENCE_PACK, title=evidence_pack_title(version), stamp=stamp)
    pdf.title_block(EVIDENCE_PACK, f"{policy.title}, version {version.number}")
    line = list(
        PolicyVersion.objects.filter(policy=policy, major=version.major)
        .filter(status__in=PolicyVersion.LOCKED)
        .select_related("author", "approver")
        .order_by("minor")
    )
    pdf.facts(
        [
            ("Policy", f"{policy.title} ({policy.get_category_display()})"),
            ("Owner", _name(policy.owner)),
            ("Version", f"{version.number}, {version.get_status_display().lower()}"),
            ("Change", version.get_change_display()),
            ("Written by", _name(version.author)),
            ("Approved by", f"{_name(version.approver)}, {stamp.local(version.approved_at)}"),
            ("Published", stamp.local(version.published_at)),
            ("In effect from", day(version.effective_from)),
            ("Acknowledgement window", f"{policy.acknowledgement_window_days} days"),
            ("Text (SHA-256)", version.body_sha256, True),
            ("Times", f"Shown in {tz_name(stamp.tz)}"),
        ]
    )

    today = timezone.localtime(stamp.issued_at, stamp.tz).date()
    figures = policy_queries.compliance_figures(version, today=today)
    overall = figures.overall
    pdf.heading("Compliance when this pack was issued")
    pdf.facts(
        [
            ("Have to acknowledge", overall.total),
            (
                "Acknowledged",
                f"{overall.acknowledged} ({_percent(overall.acknowledged, overall.total)})",
            ),
            ("Outstanding", overall.outstanding),
            ("Of them overdue", overall.overdue),
            ("Declined", overall.declined),
        ]
    )
    pdf.table(
        [
            Column("Department", 50),
            Column("People", 18),
            Column("Acknowledged", 26),
            Column("%", 12),
            Column("Outstanding", 26),
            Column("Overdue", 22),
            Column("Declined", 26),
        ],
        (
            (
                row.name,
                row.total,
                row.acknowledged,
                _percent(row.acknowledged, row.total),
                row.outstanding,
                row.overdue,
                row.declined,
            )
            for row in figures.departments
        ),
    )

    pdf.heading("The acknowledgement chain")
    verdict = policy_services.verify_chain()
    if verdict.ok:
        pdf.paragraph(
            f"Intact. Every record of PolicyHub's acknowledgement chain was checked when this "
            f"pack was issued: {verdict.message} No record was altered or removed."
        )
    else:
        pdf.paragraph(
            f"BROKEN at record #{verdict.first_broken}. {verdict.message} "
            f"{verdict.checked} record(s) before it are intact."
        )
    pdf.paragraph(
        "Each acknowledgement's hash covers its own details and the hash of the record "
        "before it. Below, each record of this version was also computed again on its own; "
        "a record that no longer matches its hash is marked ALTERED.",
        size=8.5,
        grey=True,
    )

    pdf.heading("Texts acknowledged")
    if len(line) > 1:
        pdf.paragraph(
            f"Minor versions keep the acknowledgements of the versions before them: "
            f"acknowledgements of versions {line[0].number} to {line[-1].number} count for "
            f"version {version.number}.",
            size=8.5,
        )
    pdf.table(
        [
            Column("Version", 18),
            Column("Status", 24),
            Column("Published", 34),
            Column("Text (SHA-256)", 104, mono=True, size=7),
        ],
        (
            (
                item.number,
                item.get_status_display(),
                short_when(item.published_at, stamp.tz),
                item.body_sha256,
            )
            for item in line
        ),
    )

    pdf.heading("Acknowledgements")
    altered: list[int] = []
    listed = pdf.table(
        [
            Column("#", 12),
            Column("Person", 48),
            Column("Acknowledged", 26),
            Column("Version", 17),
            Column("Method", 29),
            Column("Record hash (SHA-256)", 48, mono=True, size=6.5),
        ],
        _acknowledgement_rows(version, stamp, altered),
    )
    if altered:
        pdf.paragraph(
            f"ALTERED: {len(altered)} of the {listed} records listed no longer match their "
            f"hash: #{', #'.join(str(number) for number in altered[:50])}"
            f"{' and more' if len(altered) > 50 else ''}."
        )
    else:
        pdf.paragraph(
            f"{listed} acknowledgement(s) listed; each was computed again and matches its "
            "record hash.",
            size=8.5,
        )

    _briefings(pdf, version, stamp)

    pdf.add_page()  # the text, as an appendix
    pdf.heading(f"The text of version {version.number}")
    pdf.paragraph(
        f"The exact text (Markdown) whose SHA-256 is {version.body_sha256}.", size=8.5, grey=True
    )
    pdf.paragraph(version.body, size=9)
    return pdf


def _acknowledgement_rows(version: PolicyVersion, stamp: Stamp, altered: list[int]):
    """Every acknowledgement of the version's line, oldest first, read in chunks; each
    record's hash is computed again on the way (`altered` collects those that differ)."""
    acknowledgements = (
        Acknowledgement.objects.filter(
            version__policy_id=version.policy_id,
            version__major=version.major,
            acknowledged_at__lte=stamp.issued_at,
        )
        .select_related("person__department", "version", "on_behalf_by")
        .order_by("sequence")
    )
    for ack in acknowledgements.iterator(chunk_size=CHUNK):
        person = ack.person
        who = f"{person.get_full_name()}\n{person.email}"
        if person.department_id:
            who += f"\n{person.department.name}"
        if ack.method == Acknowledgement.Method.ON_BEHALF:
            method = f"On behalf, by {_name(ack.on_behalf_by)}: {ack.on_behalf_reason}"
        else:
            method = "In the browser"
        # Two lines of 32 characters, so that a hash never wraps unevenly.
        record = f"{ack.record_hash[:32]}\n{ack.record_hash[32:]}"
        if policy_services.record_hash(ack) != ack.record_hash:
            altered.append(ack.sequence)
            record += "\nALTERED"
        yield (
            ack.sequence,
            who,
            short_when(ack.acknowledged_at, stamp.tz),
            ack.version.number,
            method,
            record,
        )


ATTENDANCE = (
    Booking.Status.ATTENDED,
    Booking.Status.LATE,
    Booking.Status.ABSENT,
    Booking.Status.EXCUSED,
)


def _briefings(pdf: EvidencePDF, version: PolicyVersion, stamp: Stamp) -> None:
    """The briefings that covered the policy and took place (as on the compliance page,
    policies.queries.briefing_attendance), each with its roster: two queries, the
    roster read in chunks."""
    pdf.heading("Briefings that covered this policy")
    held = (
        Session.objects.filter(policies=version.policy_id, starts_at__lte=stamp.issued_at)
        .exclude(status=Session.Status.CANCELLED)
        .distinct()
    )
    sessions = list(held.select_related("presenter", "topic").order_by("starts_at", "pk"))
    if not sessions:
        pdf.paragraph("No briefing that covered this policy has taken place yet.")
        return
    pdf.paragraph(
        f"{len(sessions)} briefing(s). Attendance is as the presenters recorded it on the "
        "roster or people checked in.",
        size=8.5,
    )
    roster = (
        Booking.objects.filter(session__in=[session.pk for session in sessions])
        .filter(status__in=ATTENDANCE)
        .select_related("person__department")
        .order_by("session__starts_at", "session_id", "person__full_name", "pk")
    )
    rows = iter(roster.iterator(chunk_size=CHUNK))
    pending = next(rows, None)
    columns = [
        Column("Person", 62),
        Column("Department", 48),
        Column("Attendance", 36),
        Column("Checked in", 34),
    ]
    for session in sessions:
        bookings = []
        while pending is not None and pending.session_id == session.pk:
            bookings.append(pending)
            pending = next(rows, None)
        counts = {status: 0 for status in ATTENDANCE}
        for booking in bookings:
            counts[booking.status] += 1
        before = version.published_at and session.starts_at < version.published_at
        pdf.heading(f"{session.title}, {short_when(session.starts_at, stamp.tz)}", level=2)
        pdf.paragraph(
            f"{session.topic.name}; presented by {_name(session.presenter)}"
            f"{'; ' + session.room if session.room else ''}. "
            f"Attended {counts[Booking.Status.ATTENDED]}, late {counts[Booking.Status.LATE]}, "
            f"absent {counts[Booking.Status.ABSENT]}, excused {counts[Booking.Status.EXCUSED]}."
            f"{' Held before this version was published.' if before else ''}",
            size=8.5,
        )
        pdf.table(
            columns,
            (
                (
                    booking.person.get_full_name(),
                    booking.person.department.name if booking.person.department_id else "",
                    booking.get_status_display(),
                    short_when(booking.checked_in_at, stamp.tz) if booking.checked_in_at else "",
                )
                for booking in bookings
            ),
        )


# --- the incident closure report ---------------------------------------------------------


def closure_report_title(incident: Incident, *, restricted: bool) -> str:
    title = f"Closure report: {incident.reference}"
    return f"{title} (with the individual assessments)" if restricted else title


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
        f"{incident.get_severity_display()} severity · {incident.get_track_display()}",
    )
    if restricted:
        pdf.paragraph(
            "RESTRICTED: this copy contains the individual assessments. Keep it to HR/legal "
            "and the incident owner."
        )
    else:
        pdf.paragraph(
            "The individual assessments are not part of this copy: only HR/legal and the "
            "incident owner see them.",
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
            return RESTRICTED_NAME
        return person.get_full_name()

    if incident.no_individual_involved:
        involved_line = "No individual involved"
    elif not people:
        involved_line = "None named"
    elif sees_people:
        involved_line = ", ".join(person.get_full_name() for person in people)
    else:
        involved_line = "Restricted: shown to HR/legal and the incident owner only"
    reach = incident.estimated_reach
    pdf.heading("Summary")
    pdf.facts(
        [
            ("Reference", incident.reference),
            ("Status", f"{incident.get_status_display()} on {stamp.local(incident.closed_at)}"),
            (
                "Reported by",
                shown(incident.reporter) + (" (self-reported)" if incident.self_reported else ""),
            ),
            ("Reported", stamp.local(incident.created_at)),
            ("Owner", shown(incident.owner)),
            ("Where", incident.get_platform_display()),
            ("Address", incident.url),
            ("Account handle", incident.account_handle),
            ("Kind of information", incident.get_information_display()),
            ("Estimated reach", f"{reach:,}" if reach is not None else ""),
            ("Severity", incident.get_severity_display()),
            ("Track", incident.get_track_display()),
            ("People involved", involved_line),
            ("Times", f"Shown in {tz_name(stamp.tz)}"),
        ]
    )
    pdf.heading("What happened", level=2)
    pdf.paragraph(incident.what_happened)

    window, exposure = exposure_window(incident, incident.closed_at or stamp.issued_at)
    pdf.heading("Exposure window")
    pdf.table(
        [Column("Stage", 40), Column("When", 70), Column("After the stage before", 70)],
        ((point["label"], stamp.local(point["at"]), point["after"]) for point in window),
    )
    pdf.paragraph(
        f"Exposed for {exposure['exposed_for'] or '—'} (posted or noticed until contained); "
        f"open for {exposure['open_for'] or '—'} (noticed until closed)."
    )

    _containment(pdf, incident, stamp, shown)
    _evidence(pdf, incident, stamp, shown)

    pdf.heading("Actions")
    actions = incident.actions.select_related("owner", "completed_by").order_by("due_date", "pk")
    pdf.table(
        [
            Column("Action", 48),
            Column("Owner", 28),
            Column("Due", 20),
            Column("Outcome", 18),
            Column("Closed", 28),
            Column("How it was done, or why waived", 38),
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

    pdf.heading("Timeline")
    events = incident.events.select_related("by").order_by("at", "pk")
    pdf.table(
        [Column("When", 32), Column("Who", 36), Column("What", 52), Column("Note", 60)],
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
    pdf.heading("Containment")
    takedowns = incident.takedowns.select_related("requested_by").order_by("requested_at", "pk")
    pdf.heading("Takedowns", level=2)
    pdf.table(
        [
            Column("What", 42),
            Column("Asked of", 30),
            Column("Requested", 34),
            Column("Outcome", 24),
            Column("Resolved", 22),
            Column("Note", 28),
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
        pdf.paragraph(f"Nothing needed taking down: {incident.no_takedown_note}")
    pdf.heading("Holding statements", level=2)
    statements = list(
        incident.statements.select_related("drafted_by", "approved_by").order_by("drafted_at")
    )
    if not statements:
        pdf.paragraph("None.")
    for statement in statements:
        approval = (
            f"approved by {shown(statement.approved_by)}, {stamp.local(statement.approved_at)}"
            if statement.approved_at
            else "not approved"
        )
        pdf.paragraph(
            f"Drafted by {shown(statement.drafted_by)}, {stamp.local(statement.drafted_at)}; "
            f"{approval}.",
            size=8.5,
            grey=True,
        )
        pdf.paragraph(statement.text)


def _evidence(pdf: EvidencePDF, incident: Incident, stamp: Stamp, shown) -> None:
    pdf.heading("Evidence")
    items = incident.evidence.select_related("captured_by", "withdrawn_by").order_by(
        "captured_at", "pk"
    )
    pdf.table(
        [
            Column("Captured", 30),
            Column("Where", 46),
            Column("File", 34),
            Column("SHA-256", 38, mono=True, size=6.5),
            Column("Withdrawn", 32),
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
    pdf.heading("Review")
    review = getattr(incident, "review", None)
    if review is None:
        pdf.paragraph("No review was written.")
    else:
        pdf.facts(
            [
                ("Written by", f"{shown(review.written_by)}, {stamp.local(review.written_at)}"),
                (
                    "Signed off by",
                    f"{shown(review.signed_off_by)}, {stamp.local(review.signed_off_at)}"
                    if review.signed_off_at
                    else "Not signed off",
                ),
            ]
        )
        for label, text in (
            ("Summary", review.summary),
            ("Contributing factors", review.contributing_factors),
            ("What would have spotted it sooner", review.spotted_sooner),
            ("What went well", review.went_well),
            ("Effectiveness check", review.effectiveness_check),
        ):
            pdf.heading(label, level=2)
            pdf.paragraph(text or "—")
    pdf.heading("Lessons")
    lessons = list(incident.lessons.order_by("pk"))
    if not lessons:
        pdf.paragraph("None.")
    for lesson in lessons:
        published = (
            f"Published anonymised in the lessons library on {stamp.local(lesson.published_at)}."
            if lesson.published
            else "Not published."
        )
        pdf.heading(lesson.title, level=2)
        pdf.paragraph(published, size=8.5, grey=True)
        pdf.paragraph(lesson.text)


def _assessments(pdf: EvidencePDF, assessments: list[Assessment], stamp: Stamp) -> None:
    pdf.heading("Individual assessments (restricted)")
    pdf.paragraph(
        "For HR/legal and the incident owner only. Each run is kept; a later run supersedes "
        "an earlier one.",
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
                ("Assessed by", run.assessor.get_full_name()),
                ("Started", stamp.local(run.started_at)),
                ("Finished", stamp.local(run.finished_at) if run.finished_at else "Not finished"),
                (
                    "Current",
                    "Superseded " + stamp.local(run.superseded_at) if run.superseded_at else "Yes",
                ),
                ("Question set", run.question_set),
                (
                    "Suggested outcome",
                    outcome(run.suggested_outcome).label if run.suggested_outcome else "—",
                ),
                ("Final outcome", outcome(run.final_outcome).label if run.final_outcome else "—"),
                ("Why the suggestion was overridden", run.override_reason),
                (
                    "Referral",
                    "Refer to HR / occupational health, not discipline" if run.referral else "None",
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
                    question.question if question else key,
                    question.label_of(value) if question else value,
                    names.get(entry.get("by"), ""),
                    short_when(datetime.fromisoformat(at), stamp.tz) if at else "",
                )
            )
        pdf.table(
            [
                Column("No.", 10),
                Column("Question", 84),
                Column("Answer", 30),
                Column("By", 28),
                Column("When", 28),
            ],
            rows,
        )
        for referral in run.authority_referrals.all():
            pdf.paragraph(
                f"{referral.get_decision_display()}: {referral.note} "
                f"({_name(referral.decided_by)}, {stamp.local(referral.decided_at)})"
            )
