"""docs/behaviour.md#api-surface: the served API is exactly the installed botocore model's."""

from __future__ import annotations

import botocore.session

from idstore.testing import IdentityStoreMock


def _model_operations() -> set[str]:
    model = botocore.session.get_session().get_service_model("identitystore")
    return set(model.operation_names)


def test_served_operations_equal_the_model(mock: IdentityStoreMock) -> None:
    assert mock.gateway is not None
    assert set(mock.gateway.operations.handlers) == _model_operations()


def test_model_has_the_22_operations_of_botocore_1_44() -> None:
    operations = _model_operations()
    assert len(operations) == 22
    assert {"DescribeIdentityStore", "ListIdentityStores", "UpdateIdentityStore"} <= operations
