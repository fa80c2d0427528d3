"""The acknowledgement chain: each record carries the hash of the one before it, so a
record altered, removed or slipped in afterwards shows when the chain is verified."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from policies.models import Acknowledgement, ChainHead, sha256_text

GENESIS_HASH = "0" * 64


def canonical_record(ack: Acknowledgement) -> str:
    """The fields an acknowledgement's hash covers, in one fixed text form.

    The language of the text shown is covered since translations came; records written
    before have none and keep the form they were hashed in, so they still verify."""
    fields = {
        "sequence": ack.sequence,
        "person": ack.person_id,
        "version": ack.version_id,
        "at": ack.acknowledged_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "typed_name": ack.typed_name,
        "ip": ack.ip_address or "",
        "user_agent": ack.user_agent,
        "text_sha256": ack.text_sha256,
        "method": ack.method,
        "on_behalf_by": ack.on_behalf_by_id,
        "on_behalf_reason": ack.on_behalf_reason,
        "quiz_score": ack.quiz_score,
        "previous_hash": ack.previous_hash,
    }
    if ack.language:
        fields["language"] = ack.language
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(ack: Acknowledgement) -> str:
    return sha256_text(ack.previous_hash + "\n" + canonical_record(ack))


def append_to_chain(
    *,
    person,
    version,
    typed_name,
    method,
    ip_address=None,
    user_agent="",
    on_behalf_by=None,
    on_behalf_reason="",
    quiz_score=None,
    language: str = "",
    text_sha256: str = "",
    now: datetime,
) -> Acknowledgement:
    """Add a record at the end of the chain. The head row is locked, so concurrent
    acknowledgements take turns; unique sequence and previous hash back that up."""
    # A migration creates the head; a flushed test database may lack it.
    ChainHead.objects.get_or_create(id=1, defaults={"sequence": 0, "last_hash": GENESIS_HASH})
    head = ChainHead.objects.select_for_update().get(id=1)
    # Hash the address in the form the database keeps (an IPv6 address is shortened and
    # lower-cased when saved); hashing the raw form would make the record look altered.
    ip_address = Acknowledgement._meta.get_field("ip_address").get_prep_value(ip_address or None)
    ack = Acknowledgement(
        sequence=head.sequence + 1,
        person=person,
        version=version,
        acknowledged_at=now,
        typed_name=typed_name,
        ip_address=ip_address,
        user_agent=user_agent,
        text_sha256=text_sha256 or version.body_sha256 or sha256_text(version.body),
        language=language or version.language,
        method=method,
        on_behalf_by=on_behalf_by,
        on_behalf_reason=on_behalf_reason,
        quiz_score=quiz_score,
        previous_hash=head.last_hash,
    )
    ack.record_hash = record_hash(ack)
    ack.save()
    head.sequence, head.last_hash = ack.sequence, ack.record_hash
    head.save(update_fields=["sequence", "last_hash"])
    return ack


@dataclass
class ChainVerdict:
    ok: bool
    checked: int
    message: str
    first_broken: int | None = None  # sequence number


def verify_chain() -> ChainVerdict:
    """Walk the chain from the start: every record must hash to its stored hash, point
    to its predecessor's, and follow it without a gap; the head must match the end."""
    expected_previous, expected_sequence, checked = GENESIS_HASH, 1, 0
    rows = Acknowledgement.objects.order_by("sequence").iterator(chunk_size=2000)
    for ack in rows:
        if ack.sequence != expected_sequence:
            return ChainVerdict(
                False,
                checked,
                f"Record #{expected_sequence} is missing (the next one is #{ack.sequence}).",
                expected_sequence,
            )
        if ack.previous_hash != expected_previous:
            return ChainVerdict(
                False,
                checked,
                f"Record #{ack.sequence} does not follow record #{ack.sequence - 1}.",
                ack.sequence,
            )
        if record_hash(ack) != ack.record_hash:
            return ChainVerdict(
                False,
                checked,
                f"Record #{ack.sequence} was altered after it was written.",
                ack.sequence,
            )
        expected_previous, expected_sequence = ack.record_hash, expected_sequence + 1
        checked += 1
    head = ChainHead.objects.filter(id=1).first()
    head_sequence, head_hash = (head.sequence, head.last_hash) if head else (0, GENESIS_HASH)
    if head_sequence > checked:
        return ChainVerdict(
            False,
            checked,
            f"Record #{checked + 1} is missing: the chain ends at #{checked} but "
            f"{head_sequence} were written.",
            checked + 1,
        )
    if head_sequence < checked:
        # Well chained, but appended without moving the head: not by append_to_chain.
        return ChainVerdict(
            False,
            head_sequence,
            f"Record #{head_sequence + 1} was not written by PolicyHub: the chain's end "
            f"says {head_sequence} were written, but there are {checked}.",
            head_sequence + 1,
        )
    if checked and head_hash != expected_previous:
        # Nothing follows the last record to catch a rewrite with a fresh hash; the head does.
        return ChainVerdict(
            False,
            checked - 1,
            f"Record #{checked} was altered after it was written (it no longer matches the "
            "end of the chain).",
            checked,
        )
    return ChainVerdict(True, checked, f"All {checked} acknowledgements are intact.")
