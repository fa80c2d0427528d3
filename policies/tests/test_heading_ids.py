"""Headings of a rendered policy carry ids made from their text, so that a link can point
at a section; a body cannot bring ids of its own, and the acknowledged text's hash is the
Markdown's, not the HTML's."""

import pytest
from django.urls import reverse

from policies.models import sha256_text
from policies.rendering import heading_id, render_markdown, split_sections
from policies.tests.factories import published_policy

BODY = """\
Intro for everyone.

## Confidential information

Never post customer data.

## Fees & *prices*

Prices are announced by comms.

## Confidential information

The same heading twice.
"""


def test_each_heading_gets_an_id_from_its_text():
    html = render_markdown(BODY)
    assert '<h2 id="section-confidential-information">Confidential information</h2>' in html
    assert '<h2 id="section-fees-prices">Fees &amp; <em>prices</em></h2>' in html
    # A repeated heading still gets an id of its own.
    assert 'id="section-confidential-information_1"' in html


def test_heading_id_matches_the_rendered_id_of_each_section():
    html = render_markdown(BODY)
    for section in split_sections(BODY):
        if section.heading:
            assert f'id="{heading_id(section.heading)}"' in html
    assert heading_id("Fees & *prices*") == "section-fees-prices"
    assert heading_id("  Größe der Daten ") == "section-größe-der-daten"


@pytest.mark.parametrize(
    "raw",
    [
        '<h2 id="main">Raw heading</h2>',
        '<h2 id="section-confidential-information">A copy</h2>',
        '<h3 id="x" onclick="alert(1)">Handler</h3>',
        '<p id="section-confidential-information">A paragraph</p>',
    ],
)
def test_a_body_cannot_bring_ids_of_its_own(raw):
    html = render_markdown(f"## Confidential information\n\nText.\n\n{raw}\n")
    assert html.count('id="') == 1
    assert '<h2 id="section-confidential-information">' in html
    assert "onclick" not in html and 'id="main"' not in html and 'id="x"' not in html


def test_a_heading_cannot_break_out_of_its_id():
    html = render_markdown("## Say \"hi\" <script>alert(1)</script> & 'bye'\n")
    assert "<script" not in html
    assert '<h2 id="section-say-hi-alert1-bye">' in html


def test_toc_marker_stays_text():
    assert render_markdown("[TOC]\n\n## A\n") == '<p>[TOC]</p>\n<h2 id="section-a">A</h2>'


@pytest.mark.django_db
def test_policy_page_shows_section_ids_and_the_hash_is_of_the_markdown(
    client, employee, policy_admin, make_person
):
    policy, version = published_policy(
        title="Social media policy", owner=policy_admin, approver=make_person(), body=BODY
    )
    assert version.body_sha256 == sha256_text(BODY)
    client.force_login(employee)
    html = client.get(reverse("policies:detail", args=[policy.slug])).content.decode()
    assert 'id="section-confidential-information"' in html
    assert 'id="section-fees-prices"' in html
