"""Who may see which issued documents in the manifest. Who may have a document made is
each app's own rule, asked in evidence.views: a receipt is the person's own or for policy
admins (policies.permissions.get_acknowledgement_for), an evidence pack is for policy
admins (get_version_to_manage, as the compliance page), a closure report is for the
incident team (incidents.permissions: full access), with the individual assessments only
for HR/legal and the incident owner (visible_assessments).

Checking a file on the verification page needs only a sign-in: whoever holds the file (or
its SHA-256) already has what it says, and a file that does not match reveals nothing
about the document it names.
"""

from django.db.models import Q

from evidence.models import EvidenceDocument
from incidents import permissions as incident_permissions
from people import roles
from policies import permissions as policy_permissions

Kind = EvidenceDocument.Kind


def visible_documents(user):
    """The manifest rows `user` may list: the documents they had made, every receipt and
    evidence pack for policy admins, every closure report for the incident team and
    leadership, everything for site admins."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return EvidenceDocument.objects.none()
    if roles.is_site_admin(user):
        return EvidenceDocument.objects.all()
    visible = Q(generated_by=user)
    if policy_permissions.can_manage(user):
        visible |= Q(kind__in=[Kind.RECEIPT, Kind.EVIDENCE_PACK])
    if incident_permissions.sees_all(user):
        visible |= Q(kind=Kind.CLOSURE_REPORT)
    return EvidenceDocument.objects.filter(visible)
