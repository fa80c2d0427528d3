"""Incidents at every level of access, built through the services: used by the incident
tests and the test that walks every role through every read endpoint."""

from __future__ import annotations

from incidents import services
from incidents.models import ActionItem, Incident
from incidents.tests.factories import assessed_deliberate, in_status, reported


def incidents(*, employee, manager, comms, hr, make_person) -> dict[str, Incident]:
    """
    - own: reported by the employee (the reporter's view for them);
    - action: comms's report with an action owned by the employee (summary for them);
    - learning: a classified learning-track case involving the employee (summary for
      the manager, who manages them);
    - sign_off: in review, its action done by the employee, awaiting a manager's
      sign-off (summary for the manager through the sign-off rule);
    - restricted: an accountability-track case involving the employee, reported by a
      colleague also involved, owned by comms (people and assessments: HR and the owner);
    - unrelated: a report nobody but the incident team sees.
    """
    colleague = make_person(full_name="Colin Colleague", email="colin@example.com")
    own = reported(employee, what_happened="I saw a customer list on a forum.")
    action = reported(comms, what_happened="A leak of the price list.")
    services.add_action(incident=action, by=comms, title="Check the forum", owner=employee)
    learning = in_status(
        Incident.Status.CLASSIFIED,
        by=comms,
        what_happened="Emily posted the roadmap by mistake.",
        people_involved=[employee],
    )
    sign_off = in_status(
        Incident.Status.REMEDIATION, by=comms, what_happened="Old post resurfaced."
    )
    services.add_action(incident=sign_off, by=comms, title="Delete the old post", owner=employee)
    for item in sign_off.actions.filter(status=ActionItem.Status.OPEN):
        services.complete_action(action=item, by=item.owner, status="done", note="Done.")
    sign_off = services.transition(incident=sign_off, to=Incident.Status.REVIEW, user=comms)
    services.write_review(
        incident=sign_off,
        by=comms,
        summary="An old post came back.",
        contributing_factors="No archive policy.",
        spotted_sooner="A yearly clean-up.",
    )
    restricted = reported(
        colleague,
        what_happened="Emily and Colin leaked the figures on purpose.",
        people_involved=[employee, colleague],
    )
    restricted = services.assign_owner(incident=restricted, owner=comms, by=comms)
    restricted = assessed_deliberate(restricted, employee, by=hr)
    unrelated = reported(comms, what_happened="Someone else's post.")
    return {
        "own": own,
        "action": action,
        "learning": learning,
        "sign_off": sign_off,
        "restricted": restricted,
        "unrelated": unrelated,
        "colleague": colleague,
    }
