"""The evidence pack of a policy version: everything an auditor asks about it (its
text and hashes, the translations, compliance, the chain check, every acknowledgement,
the briefings that covered the policy).

It is built for 10,000 people: acknowledgements and attendance are read in chunks
(`iterator`) and drawn as they arrive, so memory does not grow with them and the number
of queries is the same for ten people or ten thousand."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from evidence.documents.shared import name_of, times_shown
from evidence.pdf import Column, EvidencePDF, Stamp, day, short_when
from policies import queries as policy_queries
from policies import services as policy_services
from policies.models import Acknowledgement, PolicyTranslation, PolicyVersion, language_name
from training.models import Booking, Session

CHUNK = 2000  # rows read from the database at a time

EVIDENCE_PACK = gettext_lazy("Evidence pack")


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


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
            (_("Owner"), name_of(policy.owner)),
            (_("Version"), f"{version.number}, {version.get_status_display().lower()}"),
            (_("Change"), version.get_change_display()),
            (_("Written by"), name_of(version.author)),
            (_("Approved by"), f"{name_of(version.approver)}, {stamp.local(version.approved_at)}"),
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
            (_("Times"), times_shown(stamp)),
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
            method = on_behalf % {"name": name_of(ack.on_behalf_by), "reason": ack.on_behalf_reason}
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
            "presenter": name_of(session.presenter),
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
