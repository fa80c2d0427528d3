"""Fixtures for the cross-app tests: the system Chromium driven by Playwright."""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

from conftest import needs

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artifacts"


@pytest.fixture
def browser_page(monkeypatch):
    needs(bool(shutil.which(CHROMIUM)), f"Chromium is not installed at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; Django's ORM in the
    # test itself is still synchronous and safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        try:
            yield page
        finally:
            browser.close()
            # Database connections opened by the test while Playwright ran belong to
            # this context; close them here, or the test database cannot be dropped.
            connections.close_all()
