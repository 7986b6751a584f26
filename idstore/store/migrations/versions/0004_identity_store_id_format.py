"""identity stores choose the form of the ids they issue

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:20:00.000000

Stores that exist when this runs issued prefixed ids (`<10 hex>-<uuid4>`) and keep doing so;
stores created afterwards issue what their creator chose (bare UUIDs unless told otherwise).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identity_stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("id_format", sa.String(length=16), server_default="prefixed", nullable=False)
        )


def downgrade() -> None:
    # Not a batch rebuild: on SQLite it would drop the table, and through ON DELETE CASCADE
    # every user, group and membership with it.
    op.execute("ALTER TABLE identity_stores DROP COLUMN id_format")
