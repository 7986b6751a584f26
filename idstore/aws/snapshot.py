"""The identitystore service model idstore serves: a snapshot of its structure, in the package.

Why a snapshot, not the installed botocore's model: idstore must answer the same API whatever
botocore a project has installed beside it (any release from 1.34.0, which aiobotocore, s3fs and
older boto3 pins need), and botocore's model of identitystore has grown since (1.44 added the
identity store operations, ARNs for ids, Revision, ...). Reading the installed model would make
the server's behaviour depend on the client library; the snapshot makes it depend on this build.

The snapshot is the model's structure, unchanged: metadata, operations (input, output, errors,
traits), shapes with their members, constraints (min, max, pattern, enum), and error traits;
only the documentation text is left out. botocore's `ServiceModel` reads it as it reads its
own files (that format is the same from 1.34 on), so the rest of `aws/` is unchanged.
`scripts/snapshot-model` writes it from the installed botocore (>= 1.44.5);
tests/aws/test_model_snapshot.py fails when the installed botocore's model has changed since.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson

SERVICE = "identitystore"
# Where the snapshot lives inside the package.
PATH = ("model", "identitystore.json")

_DOCUMENTATION = ("documentation", "documentationUrl")


def structure(model: dict[str, Any]) -> dict[str, Any]:
    """The model without its documentation text (at the top, on operations, shapes and
    members: the only places botocore's service models carry it)."""

    def bare(node: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in node.items() if k not in _DOCUMENTATION}

    out = bare(model)
    out["operations"] = {name: bare(op) for name, op in model["operations"].items()}
    shapes = {}
    for name, shape in model["shapes"].items():
        shape = bare(shape)
        if "members" in shape:
            shape["members"] = {m: bare(spec) for m, spec in shape["members"].items()}
        for key in ("member", "key", "value"):
            if key in shape:
                shape[key] = bare(shape[key])
        shapes[name] = shape
    out["shapes"] = shapes
    return out


def load() -> tuple[dict[str, Any], str]:
    """The snapshot's model and the botocore release it was taken from."""
    data = resources.files(__package__).joinpath(*PATH).read_bytes()
    document = orjson.loads(data)
    return document["model"], str(document["botocore"])


def dumps(model: dict[str, Any], botocore_version: str) -> bytes:
    """The snapshot file for `model` (stable key order and layout, so a change diffs well)."""
    document = {"botocore": botocore_version, "model": structure(model)}
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
