from people import roles
from people.audience import team_ids


def test_team_is_direct_and_indirect_active_reports(make_person, django_assert_num_queries):
    boss = make_person(email="boss@example.com")
    middle = make_person(email="middle@example.com", manager=boss)
    left = make_person(email="left@example.com", manager=boss, is_active=False)
    below_left = make_person(email="below-left@example.com", manager=left)
    bottom = make_person(email="bottom@example.com", manager=middle)
    make_person(email="elsewhere@example.com")
    # One query, however deep the line, once the roles are read (as every page does
    # first: someone at the top may head everyone, `audience.team`).
    roles.read_roles(boss)
    with django_assert_num_queries(1):
        team = team_ids(boss)
    assert team == sorted([middle.pk, below_left.pk, bottom.pk])
    assert team_ids(bottom) == []
