"""The identitystore service model, loaded once from the snapshot this build ships.

Everything the AWS front end knows about operations, members and constraints comes from here:
operation names, input and output shapes, required members, lengths, patterns and error shapes.
Nothing is restated by hand. What the model does not say (which profile members UpdateUser may
address, the Identity Center rules) is derived from it in `operations.py`, or kept as data.

The model is idstore's own snapshot of botocore's (see `snapshot.py` for why), read through
botocore's `ServiceModel`: the installed botocore, whichever release, only supplies the classes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from idstore.aws import snapshot

SERVICE = snapshot.SERVICE


def lower_camel(name: str) -> str:
    """`UserName` → `userName`: the spelling AWS uses in messages and attribute paths."""
    return name[:1].lower() + name[1:]


@dataclass(frozen=True)
class Spec:
    """A loaded service model with the look-ups the front end needs."""

    model: ServiceModel

    @cached_property
    def target_prefix(self) -> str:
        return str(self.model.metadata["targetPrefix"])

    @cached_property
    def operation_names(self) -> frozenset[str]:
        return frozenset(self.model.operation_names)

    def operation(self, name: str) -> OperationModel:
        return self.model.operation_model(name)

    def shape(self, name: str) -> Shape:
        return self.model.shape_for(name)

    def structure(self, name: str) -> StructureShape:
        shape = self.model.shape_for(name)
        assert isinstance(shape, StructureShape)
        return shape

    @cached_property
    def error_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.model.error_shapes)


@functools.cache
def load_spec() -> Spec:
    """Load the snapshot of the identitystore model, once per process. The model is read-only,
    so one Spec serves every gateway."""
    model, _ = snapshot.load()
    return Spec(ServiceModel(model, service_name=SERVICE))
