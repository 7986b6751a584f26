"""identity stores keep their Identity Center instance id and CreateInstance's ClientToken

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:00:00.000000

sso-admin finds a store by its InstanceArn. The id is derived from the store id
(`model.instance_id`), so the look-up used to hash the id of every store in turn: a request
naming an unknown ARN read every store. Now each store row holds its instance id, under a
unique index; this fills it in for the stores that exist, in batches, so that memory stays
bounded whatever the number of stores. A store created by CreateInstance also keeps a digest
of the caller's ClientToken (unique) and of the request's other parameters.

The three columns are added, and dropped again by the downgrade, with plain ALTER TABLE: a batch
rebuild of `identity_stores` on SQLite would drop the table, and with it, through ON DELETE
CASCADE, every user, group and membership.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _instance_id(store_id: str) -> str:
    # model.instance_id as of this revision (a migration is history: it keeps its own copy).
    digest = hashlib.sha256(b"idstore instance\x00" + store_id.encode()).hexdigest()
    return f"ssoins-{digest[:16]}"


def upgrade() -> None:
    op.add_column("identity_stores", sa.Column("instance_id", sa.String(length=32)))
    op.add_column("identity_stores", sa.Column("client_token", sa.String(length=40)))
    op.add_column("identity_stores", sa.Column("client_request", sa.String(length=16)))
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
        conn.execute(fill, [{"at": seq, "value": _instance_id(sid)} for seq, sid in rows])
        after = rows[-1][0]
    op.create_index(
        op.f("ix_identity_stores_instance_id"), "identity_stores", ["instance_id"], unique=True
    )
    op.create_index(
        op.f("ix_identity_stores_client_token"), "identity_stores", ["client_token"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_stores_client_token"), table_name="identity_stores")
    op.drop_index(op.f("ix_identity_stores_instance_id"), table_name="identity_stores")
    for column in ("client_request", "client_token", "instance_id"):
        op.execute(f"ALTER TABLE identity_stores DROP COLUMN {column}")
