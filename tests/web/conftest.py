"""Fixtures of the web page tests: the API tests' app, keys and example requests."""

from tests.api.conftest import client, make_client, settings  # noqa: F401  (fixtures)
