"""The pytest plugin: an `idstore` fixture, the in-process identitystore for one test.

    def test_users(idstore):
        client = boto3.client("identitystore")
        client.create_user(IdentityStoreId=idstore.store_id, ...)

    @pytest.mark.idstore(auto_create_stores=True, faults={"ThrottlingException": 0.2}, seed=7)
    def test_with_options(idstore): ...

The fixture yields an active `idstore.testing.IdentityStoreMock` for the test's duration; the
`idstore` marker passes its keyword arguments to the mock. pytest loads this module through the
`pytest11` entry point in every project that has idstore installed, so it must cost nothing
there: it imports only pytest, registers the marker (for `--strict-markers` suites), and
imports the test mode (botocore, SQLAlchemy, the service model) when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from idstore.testing import IdentityStoreMock

__all__ = ["idstore"]

_MARKER = "idstore"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**options): options for the `idstore` fixture's mock_identitystore "
        "(auto_create_stores=, faults=, seed=)",
    )


@pytest.fixture
def idstore(request: pytest.FixtureRequest) -> Iterator[IdentityStoreMock]:
    """An in-process identitystore, empty, active for the test (see idstore.testing)."""
    from idstore.testing import mock_identitystore

    marker = request.node.get_closest_marker(_MARKER)
    options = dict(marker.kwargs) if marker is not None else {}
    with mock_identitystore(**options) as mock:
        yield mock
