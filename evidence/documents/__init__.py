"""What each PDF says, one module a document:

- `acknowledgement_receipt`: the receipt of one acknowledgement
- `policy_evidence_pack`: the evidence pack of a policy version
- `incident_closure_report`: the closure report of a closed incident
- `shared`: what they share (a person's name on paper, the time zone line)

Each builder reads through the owning app's own queries and helpers (compliance figures,
the chain check, the incident's exposure window and history) and lays the facts out with
evidence.pdf. Permission is checked before a builder is called (evidence.services); the
closure report is the one builder that also takes the viewer, since what of an incident
it shows depends on who asks.

The words are in the language active while a builder runs: evidence.services builds each
document under its requester's language. The titles kept in the manifest are written in
the site's language (evidence.services), like any record other people read later.
"""

from evidence.documents.acknowledgement_receipt import RECEIPT, WEB_METHOD, receipt, receipt_title
from evidence.documents.incident_closure_report import (
    CLOSURE_REPORT,
    closure_assessments,
    closure_report,
    closure_report_title,
)
from evidence.documents.policy_evidence_pack import (
    ATTENDANCE,
    CHUNK,
    EVIDENCE_PACK,
    evidence_pack,
    evidence_pack_title,
)

__all__ = [
    "ATTENDANCE",
    "CHUNK",
    "CLOSURE_REPORT",
    "EVIDENCE_PACK",
    "RECEIPT",
    "WEB_METHOD",
    "closure_assessments",
    "closure_report",
    "closure_report_title",
    "evidence_pack",
    "evidence_pack_title",
    "receipt",
    "receipt_title",
]
