"""identity stores keep their Identity Center instance id, indexed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:00:00.000000

sso-admin finds a store by its InstanceArn. The id is derived from the store id
(`model.instance_id`), so the look-up used to hash the id of every store in turn: a request
naming an unknown ARN read every store. Now each store row holds its instance id, under a
unique index. This fills it in for the stores that exist, in batches so that memory stays
bounded whatever the number of stores.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from idstore.model import instance_id

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("identity_stores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instance_id", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    stores = sa.table(
        "identity_stores", sa.column("seq"), sa.column("store_id"), sa.column("instance_id")
    )
    fill = (
        sa.update(stores)
        .where(stores.c.seq == sa.bindparam("at"))
        .values(instance_id=sa.bindparam("value"))
    )
    after = -1
    while True:
        rows = conn.execute(
            sa.select(stores.c.seq, stores.c.store_id)
            .where(stores.c.seq > after)
            .order_by(stores.c.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        conn.execute(fill, [{"at": seq, "value": instance_id(sid)} for seq, sid in rows])
        after = rows[-1][0]
    with op.batch_alter_table("identity_stores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_stores_instance_id"), ["instance_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_stores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_stores_instance_id"))
        batch_op.drop_column("instance_id")
