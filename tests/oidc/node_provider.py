"""The real provider, panva/oidc-provider on Node (provider.mjs beside this file), started as
a separate process on a free port of 127.0.0.1 and stopped at the end."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from tests.oidc.switch import CLIENT_ID, CLIENT_SECRET
from tests.support import Process, wait_for

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")


def missing() -> str | None:
    """Why the provider cannot start here, or None."""
    if NODE is None:
        return "Node.js is not installed (the OIDC test provider runs on it)"
    if not (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return "the OIDC test provider is not installed: run `npm ci --prefix tests/oidc`"
    return None


class NodeProvider:
    def __init__(self, *, site_url: str, accounts: list[dict]):
        self.site_url = site_url.rstrip("/")
        self.accounts = accounts
        self.issuer: str | None = None
        self._folder = Path(tempfile.mkdtemp(prefix="policyhub-oidc-"))
        self._process: Process | None = None

    def __enter__(self) -> NodeProvider:
        env = {
            **os.environ,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URIS": f"{self.site_url}/accounts/sso/callback/",
            "OIDC_POST_LOGOUT_REDIRECT_URIS": f"{self.site_url}/accounts/login/",
            "OIDC_ACCOUNTS": json.dumps(self.accounts),
        }
        self._process = Process(
            [NODE, str(HERE / "provider.mjs")], env=env, log_path=self._folder / "provider.log"
        )
        wait_for(
            lambda: self._ready() or not self._process.alive(),
            timeout=30,
            on_timeout=self._process.log,
        )
        if self.issuer is None:
            raise AssertionError(f"the OIDC test provider did not start:\n{self._process.log()}")
        return self

    def _ready(self) -> bool:
        found = re.search(r"^ready (http://127\.0\.0\.1:\d+)$", self._process.log(), re.M)
        if found:
            self.issuer = found.group(1)
        return bool(found)

    def log(self) -> str:
        return self._process.log() if self._process else ""

    def __exit__(self, *exc) -> None:
        if self._process:
            self._process.stop()
        shutil.rmtree(self._folder, ignore_errors=True)
