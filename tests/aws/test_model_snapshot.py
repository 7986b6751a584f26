"""The service model idstore serves is its snapshot, and the snapshot is botocore's current one.

The first test fails when a newer botocore has changed the identitystore model: run
`scripts/snapshot-model`, review the diff (it is the API change idstore will serve), and adapt
what the change needs. The others check that the server serves the snapshot, not the installed
model (which, in the botocore matrix, is years older).
"""

from __future__ import annotations

import botocore
import botocore.session

from idstore.aws import snapshot
from idstore.aws.spec import load_spec


def test_the_snapshot_is_the_installed_botocores_model() -> None:
    loader = botocore.session.get_session().get_component("data_loader")
    installed = snapshot.structure(loader.load_service_model("identitystore", "service-2"))
    model, taken_from = snapshot.load()
    assert installed == model, (
        f"botocore {botocore.__version__}'s identitystore model differs from the snapshot "
        f"(taken from {taken_from}): run scripts/snapshot-model and review the diff"
    )


def test_the_snapshot_holds_structure_and_no_documentation() -> None:
    model, _ = snapshot.load()
    text = repr(model)
    assert "documentation" not in text
    assert len(model["operations"]) == 22
    assert model["shapes"]["UserName"]["max"] == 128
    assert "pattern" in model["shapes"]["ResourceId"]


def test_the_server_serves_the_snapshot() -> None:
    spec = load_spec()
    assert spec.operation_names == frozenset(snapshot.load()[0]["operations"])
    assert {"ListIdentityStores", "DescribeIdentityStore", "UpdateIdentityStore"} <= (
        spec.operation_names
    )
    assert spec.target_prefix == "AWSIdentityStore"
