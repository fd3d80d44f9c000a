"""family-notification tasks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:26:48.668571
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_notification_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("record_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "candidate_id", "record_ref", name="uq_family_notification_candidate_record"
        ),
    )
    with op.batch_alter_table("family_notification_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_family_notification_task_candidate_id"), ["candidate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_family_notification_task_organisation_id"),
            ["organisation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("family_notification_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_notification_task_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_family_notification_task_candidate_id"))

    op.drop_table("family_notification_task")
