"""The reliability scenarios reuse the API tests' fixtures (an app on each store, tokens,
a small world recorded through the API)."""

from tests.api.conftest import admin, api, app, app_client, caller, client, world  # noqa: F401
