"""access keys for all identity stores

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:38:38.719442
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place. The batch form rebuilt the table on SQLite (an expression default cannot
        # be added by ALTER TABLE), and dropping the old table cascaded to every key's store
        # grants in access_key_stores.
        op.execute("ALTER TABLE access_keys ADD COLUMN all_stores BOOLEAN DEFAULT 0 NOT NULL")
        return
    op.add_column(
        "access_keys",
        sa.Column("all_stores", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # Not a batch rebuild: on SQLite it would drop the table, and through ON DELETE CASCADE
    # every key's store grants with it.
    op.execute("ALTER TABLE access_keys DROP COLUMN all_stores")
