"""The acknowledgement receipt: who acknowledged which version of a policy, when, how,
from where, and the hashes that tie the record to the text and to the chain, each checked
again when the receipt is issued."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from evidence.documents.shared import name_of
from evidence.pdf import EvidencePDF, Stamp, day, tz_name
from policies import services as policy_services
from policies.models import Acknowledgement, language_name

RECEIPT = gettext_lazy("Acknowledgement receipt")

WEB_METHOD = gettext_lazy(
    "In the browser: the reader ticked “I have read and understood this policy” and typed "
    "their full name"
)


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
            "name": name_of(ack.on_behalf_by),
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
