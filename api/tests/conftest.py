"""Fixtures for the API tests: tokens made through the service, and a client that sends
one as `Authorization: Bearer`."""

import itertools

import pytest
from rest_framework.test import APIClient

from api import services
from api.models import IntegrationToken

READ = IntegrationToken.Scope.READ
READ_WRITE = IntegrationToken.Scope.READ_WRITE
_numbers = itertools.count(1)


@pytest.fixture
def token_maker(make_person):
    """`token_maker(owner, scope=READ)` -> the key of a new token acting as `owner`."""
    admin = make_person(full_name="Token Admin", is_staff=True, is_superuser=True)

    def make(owner, scope=READ, name=None) -> str:
        _token, key = services.create_token(
            owner=owner, name=name or f"Integration {next(_numbers)}", scope=scope, by=admin
        )
        return key

    return make


@pytest.fixture
def api_as(token_maker):
    """`api_as(owner, scope=READ)` -> an API client sending a token of `owner`."""

    def make(owner, scope=READ) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_maker(owner, scope)}")
        return client

    return make
