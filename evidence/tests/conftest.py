"""Helpers for the PDF evidence tests: read a PDF's text with an independent parser
(pypdf, a test-only dependency: page text is compressed and glyph-coded, so the bytes
alone say nothing), and the people and records the documents are about."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from people import roles
from policies import services as policy_services
from policies.tests.factories import published_policy


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page, as a PDF reader extracts it (whitespace made single)."""
    reader = PdfReader(io.BytesIO(content), strict=True)
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def pdf_text(content: bytes) -> str:
    return " ".join(pdf_pages(content))


def pdf_info(content: bytes) -> dict:
    return dict(PdfReader(io.BytesIO(content)).metadata or {})


@pytest.fixture
def approver(make_person):
    """A second policy admin: the approver is never the author."""
    return make_person(
        full_name="Aaron Approver", email="approver@example.com", group=roles.POLICY_ADMIN
    )


@pytest.fixture
def zoe(make_person, manager):
    return make_person(full_name="Zoë Ångström-Müller", email="zoe@example.com", manager=manager)


@pytest.fixture
def social_media(policy_admin, approver, employee, zoe):
    """The social media policy, published to everyone (so assigned to the fixtures'
    people); returns its version."""
    _, version = published_policy(
        title="Social media policy", owner=policy_admin, approver=approver
    )
    return version


@pytest.fixture
def zoes_acknowledgement(social_media, zoe):
    return policy_services.acknowledge(
        version=social_media,
        user=zoe,
        full_name="Zoë Ångström-Müller",
        request_meta={"ip_address": "203.0.113.7", "user_agent": "Firefox/140 “test” €"},
    )
