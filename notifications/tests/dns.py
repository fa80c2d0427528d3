"""A DNS for the tests: names under example.com resolve to a public address unless a
test says otherwise, any other name but localhost is not found (the tests never ask
the real DNS). Every lookup is recorded."""

from __future__ import annotations

import ipaddress
import socket

from notifications import http

PUBLIC = "93.184.215.14"  # a global address: vetting accepts it


class FakeDNS:
    def __init__(self, monkeypatch):
        self.names: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self._real = http.resolve
        monkeypatch.setattr(http, "resolve", self.resolve)

    def resolve(self, host: str, port: int):
        self.lookups.append(host)
        if host in self.names:
            return [ipaddress.ip_address(address) for address in self.names[host]]
        if host == "localhost":
            return self._real(host, port)
        if host == "example.com" or host.endswith(".example.com"):
            return [ipaddress.ip_address(PUBLIC)]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
