"""An OpenID Connect provider in this test process, on a free port of 127.0.0.1, whose keys
and answers each test chooses: to hand PolicyHub forged, expired or misaddressed ID tokens.

It serves the discovery document, the JWKS, the token endpoint (answering with whatever ID
token the test set) and userinfo, and records every request it was sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.oidc.switch import CLIENT_ID


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class LocalProvider:
    def __init__(self):
        self.key = new_key()
        self.kid = "local-key-1"
        self.requests: list[tuple[str, str, dict]] = []
        self.token_response: dict | None = None
        self.userinfo: dict | None = None
        self.discovery_overrides: dict = {}
        self.fail_discovery = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LocalProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- What the provider says ---------------------------------------------------------

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            **self.discovery_overrides,
        }

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def claims(self, *, nonce: str, email: str = "employee@example.com", **changes) -> dict:
        """Claims of a good ID token for this nonce; keyword arguments change or (None) drop."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": f"subject-{email}",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": email,
            "email_verified": True,
            "amr": ["pwd", "mfa"],
            "acr": "urn:test:mfa",
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, claims: dict, *, key=None, kid: str | None = None, alg: str = "RS256") -> str:
        return jwt.encode(claims, key or self.key, algorithm=alg, headers={"kid": kid or self.kid})

    def answer_with(self, id_token: str, *, userinfo: dict | None = None) -> None:
        """The token endpoint's next answers; userinfo defaults to the token's own subject."""
        self.token_response = {
            "access_token": "access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }
        if userinfo is None:
            unverified = jwt.decode(id_token, options={"verify_signature": False})
            userinfo = {"sub": unverified.get("sub")}
        self.userinfo = userinfo

    def requests_to(self, path: str) -> list[dict]:
        return [data for method, seen, data in self.requests if seen == path]

    # --- HTTP ---------------------------------------------------------------------------

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path = urlsplit(self.path).path
                provider.requests.append(("GET", path, dict(self.headers)))
                if path == "/.well-known/openid-configuration":
                    if provider.fail_discovery:
                        return self._json(503, {"error": "down"})
                    return self._json(200, provider.discovery())
                if path == "/jwks":
                    return self._json(200, provider.jwks())
                if path == "/userinfo":
                    return self._json(200, provider.userinfo or {})
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                form = {
                    name: values[0]
                    for name, values in parse_qs(self.rfile.read(length).decode()).items()
                }
                provider.requests.append(("POST", path, form))
                if path == "/token" and provider.token_response is not None:
                    return self._json(200, provider.token_response)
                return self._json(400, {"error": "invalid_grant"})

        return Handler
