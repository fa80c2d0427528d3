"""What each PDF says: an acknowledgement receipt, an evidence pack per policy version
and an incident's closure report. Each builder reads through the owning app's own
queries and helpers (compliance figures, the chain check, the incident's exposure window
and history) and lays the facts out with evidence.pdf. Permission is checked before a
builder is called (evidence.services); the closure report is the one builder that also
takes the viewer, since what of an incident it shows depends on who asks.

The evidence pack is built for 10,000 people: acknowledgements and attendance are read
in chunks (`iterator`) and drawn as they arrive, so memory does not grow with them and
the number of queries is the same for ten people or ten thousand.

The words are in the language active while a builder runs: evidence.services builds each
document under its requester's language. The titles kept in the manifest are written in
the site's language (evidence.services), like any record other people read later.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from evidence.pdf import Column, EvidencePDF, Stamp, day, short_day, short_when, tz_name
from incidents import assessment as guide
from incidents import permissions as incident_permissions
from incidents.handling_views import RESTRICTED_NAME, describe_event, exposure_window
from incidents.models import ActionItem, Assessment, AuthorityReferral, Incident
from people.models import User
from policies import queries as policy_queries
from policies import services as policy_services
from policies.models import Acknowledgement, PolicyTranslation, PolicyVersion, language_name
from training.models import Booking, Session

CHUNK = 2000  # rows read from the database at a time

RECEIPT = gettext_lazy("Acknowledgement receipt")
EVIDENCE_PACK = gettext_lazy("Evidence pack")
CLOSURE_REPORT = gettext_lazy("Incident closure report")

WEB_METHOD = gettext_lazy(
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
    return f"{formats.number_format(size / (1024 * 1024), 1)} MB"


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def _times(stamp: Stamp) -> str:
    return _("Shown in %(time_zone)s") % {"time_zone": tz_name(stamp.tz)}


# --- the acknowledgement receipt ---------------------------------------------------------


def receipt_title(acknowledgement: Acknowledgement) -> str:
    version = acknowledgement.version
    return _("Acknowledgement receipt #%(sequence)s: %(person)s, %(policy)s %(version)s") % {
        "sequence": acknowledgement.sequence,
        "person": acknowledgement.person.get_full_name(),
        "policy": version.policy.title,
        "version": version.number,
    }


def receipt(acknowledgement: Acknowledgement, stamp: Stamp) -> EvidencePDF:
    """The receipt page as a PDF: who acknowledged which version, when, how, from where,
    and the hashes that tie the record to the text and to the chain."""
    ack, version = acknowledgement, acknowledgement.version
    pdf = EvidencePDF(kind=RECEIPT, title=receipt_title(ack), stamp=stamp)
    pdf.title_block(
        RECEIPT,
        _("Record #%(sequence)s in PolicyHub's acknowledgement chain") % {"sequence": ack.sequence},
    )
    if version.effective_from:
        policy_line = _("%(policy)s, version %(version)s (in effect from %(date)s)") % {
            "policy": version.policy.title,
            "version": version.number,
            "date": day(version.effective_from),
        }
    else:
        policy_line = _("%(policy)s, version %(version)s") % {
            "policy": version.policy.title,
            "version": version.number,
        }
    if ack.method == Acknowledgement.Method.ON_BEHALF:
        method = _("On behalf of the reader, recorded by %(name)s. Reason: %(reason)s") % {
            "name": _name(ack.on_behalf_by),
            "reason": ack.on_behalf_reason,
        }
    else:
        method = WEB_METHOD
    rows: list[tuple] = [
        (_("Who"), f"{ack.person.get_full_name()} <{ack.person.email}>"),
        (_("Policy"), policy_line),
        (_("When"), f"{stamp.local(ack.acknowledged_at)} ({tz_name(stamp.tz)})"),
        (_("Typed name"), ack.typed_name),
        (_("Method"), method),
    ]
    if ack.quiz_score is not None:
        rows.append(
            (
                _("Quiz score"),
                _("%(score)s%% (pass mark %(pass_mark)s%%)")
                % {"score": ack.quiz_score, "pass_mark": version.pass_mark},
            )
        )
    if ack.ip_address or ack.user_agent:
        origin = "\n".join(
            part
            for part in (
                _("IP address %(address)s") % {"address": ack.ip_address} if ack.ip_address else "",
                ack.user_agent,
            )
            if part
        )
        # Translators: where an acknowledgement was given from (IP address, browser).
        rows.append((pgettext("origin", "From"), origin))
    # The text this record was given for: the version's own or a translation (records
    # from before translations have no language: they showed the version's own text).
    language, held = policy_services.text_held(ack)
    translated = language != version.language
    words = {"version": version.number, "language": language_name(language)}
    if translated:
        shown_in = _("%(language)s (translation; %(authoritative)s is authoritative)") % {
            "language": words["language"],
            "authoritative": language_name(version.language),
        }
    else:
        shown_in = words["language"]
    rows += [
        (_("Language of the text"), shown_in),
        (_("Text acknowledged (SHA-256)"), ack.text_sha256, True),
        (_("Record hash"), ack.record_hash, True),
        (_("Previous record hash"), ack.previous_hash, True),
    ]
    pdf.facts(rows)
    if translated:
        explained = _(
            "The first hash is the SHA-256 of the exact %(language)s text of version "
            "%(version)s. The record hash covers this record's fields and the hash of the "
            "record before it, so any later change to an acknowledgement is detected."
        )
    else:
        explained = _(
            "The first hash is the SHA-256 of the exact text of version %(version)s. The "
            "record hash covers this record's fields and the hash of the record before it, so "
            "any later change to an acknowledgement is detected."
        )
    pdf.paragraph(explained % words, size=8.5, grey=True)
    pdf.heading(_("Checked when this receipt was issued"))
    if policy_services.record_hash(ack) == ack.record_hash:
        pdf.paragraph(
            _(
                "The record's hash was computed again from its details and matches the stored "
                "record hash: the record is as it was written."
            )
        )
    else:
        pdf.paragraph(
            _(
                "ALTERED: the record's hash, computed again from its details, does not match "
                "the stored record hash. The record was changed after it was written."
            )
        )
    pdf.paragraph(
        _text_check(ack_sha256=ack.text_sha256, held=held, translated=translated)
        % {
            **words,
            "sha256": held,
        }
    )
    return pdf


def _text_check(*, ack_sha256: str, held: str | None, translated: bool) -> str:
    """What the receipt says of the text PolicyHub holds now against the hash the
    record keeps (the words still to be filled with version, language and sha256)."""
    if held is None:
        return _(
            "PolicyHub no longer holds the %(language)s translation of version %(version)s: "
            "the text that was acknowledged cannot be compared with the SHA-256 above."
        )
    if held == ack_sha256:
        if translated:
            return _(
                "The %(language)s text of version %(version)s that PolicyHub holds has the "
                "SHA-256 above: it is the text that was acknowledged."
            )
        return _(
            "The text of version %(version)s that PolicyHub holds has the SHA-256 above: "
            "it is the text that was acknowledged."
        )
    if translated:
        return _(
            "The %(language)s text of version %(version)s that PolicyHub holds has another "
            "SHA-256 (%(sha256)s): it is not the text that was acknowledged."
        )
    return _(
        "The text of version %(version)s that PolicyHub holds has another SHA-256 "
        "(%(sha256)s): it is not the text that was acknowledged."
    )


# --- the evidence pack per policy version -------------------------------------------------


def evidence_pack_title(version: PolicyVersion) -> str:
    return _("Evidence pack: %(policy)s %(version)s") % {
        "policy": version.policy.title,
        "version": version.number,
    }


def evidence_pack(version: PolicyVersion, stamp: Stamp) -> EvidencePDF:
    """Everything an auditor asks about one policy version: its text and the text's
    hash, the hashes of its translations, every acknowledgement that counts for it (with
    the language read), who is still outstanding, the result of the chain check, and who
    attended the briefings that covered the policy."""
    policy = version.policy
    pdf = EvidencePDF(kind=EVIDENCE_PACK, title=evidence_pack_title(version), stamp=stamp)
    pdf.title_block(
        EVIDENCE_PACK,
        _("%(policy)s, version %(version)s") % {"policy": policy.title, "version": version.number},
    )
    line = list(
        PolicyVersion.objects.filter(policy=policy, major=version.major)
        .filter(status__in=PolicyVersion.LOCKED)
        .select_related("author", "approver")
        .prefetch_related(
            Prefetch(
                "translations",
                # Fixed translations only: those are the texts people acknowledged.
                queryset=PolicyTranslation.objects.exclude(body_sha256="").order_by("language"),
            )
        )
        .order_by("minor")
    )
    pdf.facts(
        [
            (_("Policy"), f"{policy.title} ({policy.get_category_display()})"),
            (_("Owner"), _name(policy.owner)),
            (_("Version"), f"{version.number}, {version.get_status_display().lower()}"),
            (_("Change"), version.get_change_display()),
            (_("Written by"), _name(version.author)),
            (_("Approved by"), f"{_name(version.approver)}, {stamp.local(version.approved_at)}"),
            (_("Published"), stamp.local(version.published_at)),
            (_("In effect from"), day(version.effective_from)),
            (
                _("Acknowledgement window"),
                ngettext("%(count)s day", "%(count)s days", policy.acknowledgement_window_days)
                % {"count": policy.acknowledgement_window_days},
            ),
            (
                _("Language of the text"),
                _("%(language)s (authoritative)") % {"language": language_name(version.language)},
            ),
            (_("Text (SHA-256)"), version.body_sha256, True),
            (_("Times"), _times(stamp)),
        ]
    )

    today = timezone.localtime(stamp.issued_at, stamp.tz).date()
    figures = policy_queries.compliance_figures(version, today=today)
    overall = figures.overall
    pdf.heading(_("Compliance when this pack was issued"))
    pdf.facts(
        [
            (_("Have to acknowledge"), overall.total),
            (
                _("Acknowledged"),
                f"{overall.acknowledged} ({_percent(overall.acknowledged, overall.total)})",
            ),
            (_("Outstanding"), overall.outstanding),
            (_("Of them overdue"), overall.overdue),
            (_("Declined"), overall.declined),
        ]
    )
    pdf.table(
        [
            Column(_("Department"), 50),
            Column(_("People"), 18),
            Column(_("Acknowledged"), 26),
            Column("%", 12),
            Column(_("Outstanding"), 26),
            Column(_("Overdue"), 22),
            Column(_("Declined"), 26),
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

    pdf.heading(_("The acknowledgement chain"))
    verdict = policy_services.verify_chain()
    if verdict.ok:
        pdf.paragraph(
            _(
                "Intact. Every record of PolicyHub's acknowledgement chain was checked when "
                "this pack was issued: %(result)s No record was altered or removed."
            )
            % {"result": verdict.message}
        )
    else:
        pdf.paragraph(
            # Translators: the English keeps "record(s)" in both forms; use your plural forms.
            ngettext(
                "BROKEN at record #%(sequence)s. %(result)s %(count)s record(s) before it are "
                "intact.",
                "BROKEN at record #%(sequence)s. %(result)s %(count)s record(s) before it are "
                "intact.",
                verdict.checked,
            )
            % {
                "sequence": verdict.first_broken,
                "result": verdict.message,
                "count": verdict.checked,
            }
        )
    pdf.paragraph(
        _(
            "Each acknowledgement's hash covers its own details and the hash of the record "
            "before it. Below, each record of this version was also computed again on its "
            "own; a record that no longer matches its hash is marked ALTERED."
        ),
        size=8.5,
        grey=True,
    )

    pdf.heading(_("Texts acknowledged"))
    if len(line) > 1:
        pdf.paragraph(
            _(
                "Minor versions keep the acknowledgements of the versions before them: "
                "acknowledgements of versions %(first)s to %(last)s count for version "
                "%(version)s."
            )
            % {"first": line[0].number, "last": line[-1].number, "version": version.number},
            size=8.5,
        )
    pdf.table(
        [
            Column(_("Version"), 18),
            Column(_("Status"), 24),
            Column(_("Published"), 34),
            Column(_("Text (SHA-256)"), 104, mono=True, size=7),
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
    pdf.heading(_("Translations"), level=2)
    translations = [(item, translation) for item in line for translation in item.translations.all()]
    if translations:
        pdf.paragraph(
            _(
                "Each translation was fixed when its version was published, or when it was "
                "added later: people who read it acknowledged the text with this SHA-256. The "
                "version's own text is the authoritative one."
            ),
            size=8.5,
        )
        pdf.table(
            [
                Column(_("Version"), 18),
                Column(_("Language"), 58),
                Column(_("Text (SHA-256)"), 104, mono=True, size=7),
            ],
            (
                (item.number, language_name(translation.language), translation.body_sha256)
                for item, translation in translations
            ),
        )
    else:
        pdf.paragraph(_("None."))

    pdf.heading(_("Acknowledgements"))
    altered: list[int] = []
    listed = pdf.table(
        [
            Column("#", 10),
            Column(_("Person"), 38),
            Column(_("Acknowledged"), 26),
            Column(_("Version"), 15),
            Column(_("Language"), 18),
            Column(_("Method"), 25),
            Column(_("Record hash (SHA-256)"), 48, mono=True, size=6.5),
        ],
        _acknowledgement_rows(version, stamp, altered),
    )
    if altered:
        numbers = "#" + ", #".join(str(number) for number in altered[:50])
        if len(altered) > 50:
            text = _(
                "ALTERED: %(altered)s of the %(listed)s records listed no longer match their "
                "hash: %(numbers)s and more."
            )
        else:
            text = _(
                "ALTERED: %(altered)s of the %(listed)s records listed no longer match their "
                "hash: %(numbers)s."
            )
        pdf.paragraph(text % {"altered": len(altered), "listed": listed, "numbers": numbers})
    else:
        pdf.paragraph(
            # Translators: the English keeps "acknowledgement(s)" in both forms; use your
            # plural forms.
            ngettext(
                "%(count)s acknowledgement(s) listed; each was computed again and matches its "
                "record hash.",
                "%(count)s acknowledgement(s) listed; each was computed again and matches its "
                "record hash.",
                listed,
            )
            % {"count": listed},
            size=8.5,
        )

    _briefings(pdf, version, stamp)

    pdf.add_page()  # the text, as an appendix
    pdf.heading(_("The text of version %(version)s") % {"version": version.number})
    pdf.paragraph(
        _("The exact text (Markdown) whose SHA-256 is %(sha256)s.")
        % {"sha256": version.body_sha256},
        size=8.5,
        grey=True,
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
    # Looked up once, not once a row: a pack may list ten thousand.
    on_behalf = _("On behalf, by %(name)s: %(reason)s")
    in_browser = _("In the browser")
    altered_mark = _("ALTERED")
    languages: dict[str, str] = {}
    for ack in acknowledgements.iterator(chunk_size=CHUNK):
        # The language of the text shown (older records: the version's own, from the row
        # already joined); each name looked up once.
        language = ack.shown_language
        if language not in languages:
            languages[language] = language_name(language)
        person = ack.person
        who = f"{person.get_full_name()}\n{person.email}"
        if person.department_id:
            who += f"\n{person.department.name}"
        if ack.method == Acknowledgement.Method.ON_BEHALF:
            method = on_behalf % {"name": _name(ack.on_behalf_by), "reason": ack.on_behalf_reason}
        else:
            method = in_browser
        # Two lines of 32 characters, so that a hash never wraps unevenly.
        record = f"{ack.record_hash[:32]}\n{ack.record_hash[32:]}"
        if policy_services.record_hash(ack) != ack.record_hash:
            altered.append(ack.sequence)
            record += "\n" + altered_mark
        yield (
            ack.sequence,
            who,
            short_when(ack.acknowledged_at, stamp.tz),
            ack.version.number,
            languages[language],
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
    pdf.heading(_("Briefings that covered this policy"))
    held = (
        Session.objects.filter(policies=version.policy_id, starts_at__lte=stamp.issued_at)
        .exclude(status=Session.Status.CANCELLED)
        .distinct()
    )
    sessions = list(held.select_related("presenter", "topic").order_by("starts_at", "pk"))
    if not sessions:
        pdf.paragraph(_("No briefing that covered this policy has taken place yet."))
        return
    pdf.paragraph(
        # Translators: the English keeps "briefing(s)" in both forms; use your plural forms.
        ngettext(
            "%(count)s briefing(s). Attendance is as the presenters recorded it on the roster "
            "or people checked in.",
            "%(count)s briefing(s). Attendance is as the presenters recorded it on the roster "
            "or people checked in.",
            len(sessions),
        )
        % {"count": len(sessions)},
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
        Column(_("Person"), 62),
        Column(_("Department"), 48),
        Column(_("Attendance"), 36),
        Column(_("Checked in"), 34),
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
        figures = {
            "topic": session.topic.name,
            "presenter": _name(session.presenter),
            "room": session.room,
            "attended": counts[Booking.Status.ATTENDED],
            "late": counts[Booking.Status.LATE],
            "absent": counts[Booking.Status.ABSENT],
            "excused": counts[Booking.Status.EXCUSED],
        }
        if session.room:
            about = _(
                "%(topic)s; presented by %(presenter)s; %(room)s. Attended %(attended)s, late "
                "%(late)s, absent %(absent)s, excused %(excused)s."
            )
        else:
            about = _(
                "%(topic)s; presented by %(presenter)s. Attended %(attended)s, late %(late)s, "
                "absent %(absent)s, excused %(excused)s."
            )
        about %= figures
        if before:
            about += " " + _("Held before this version was published.")
        pdf.paragraph(about, size=8.5)
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
            (_("Times"), _times(stamp)),
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
                f"({_name(referral.decided_by)}, {stamp.local(referral.decided_at)})"
            )
