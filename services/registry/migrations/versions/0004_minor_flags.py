"""children in the person index: the record's minor flag, and whether a candidate (and the
family-notification tasks of its confirmation) involves one

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Entries indexed before this revision count as adults until intake's next event of them
    # (an amendment, a replay) brings the flag.
    with op.batch_alter_table("person_index_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_minor", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("match_candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("involves_minor", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("family_notification_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("involves_minor", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("family_notification_task", schema=None) as batch_op:
        batch_op.drop_column("involves_minor")
    with op.batch_alter_table("match_candidate", schema=None) as batch_op:
        batch_op.drop_column("involves_minor")
    with op.batch_alter_table("person_index_entry", schema=None) as batch_op:
        batch_op.drop_column("is_minor")
