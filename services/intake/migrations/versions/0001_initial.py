"""intake tables: cases, tracing records, screening, needs, consent, views, keys, outbox, inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:22:30.099083
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("consumer", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consumer", "topic", "partition", "offset"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "intake_case",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("risk_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column("subject_key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "person_sealed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "assignees",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intake_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_case_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "intake_idempotency",
        sa.Column("scope_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope_key"),
    )
    op.create_table(
        "intake_match_view",
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("other_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("other_kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", "record_id"),
    )
    with op.batch_alter_table("intake_match_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_match_view_case_id"), ["case_id"], unique=False)

    op.create_table(
        "intake_referral_view",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("need", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("partner_org", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    with op.batch_alter_table("intake_referral_view", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_referral_view_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("aggregatetype", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("aggregateid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_aggregate", ["aggregateid", "seq"], unique=False)
        batch_op.create_index(
            "ix_outbox_unsent",
            ["seq"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.create_table(
        "subject_key",
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "intake_consent",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "partner_kinds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("given_by", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "override_reason_sealed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["intake_case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intake_consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_consent_case_id"), ["case_id"], unique=False)

    op.create_table(
        "intake_needs_assessment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column(
            "needs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "languages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("staff_gender", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("women_only_shelter", sa.Boolean(), nullable=False),
        sa.Column(
            "notes_sealed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("assessed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["intake_case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intake_needs_assessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_needs_assessment_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "intake_person_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column(
            "sharing_scope",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("subject_key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "details_sealed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enquirer_key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "enquirer_sealed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["intake_case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intake_person_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_person_record_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "intake_screening",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column(
            "indicators",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "notes_sealed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "decisions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "reconsideration_requested", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
        ),
        sa.Column("screened_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["intake_case.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intake_screening", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_screening_case_id"), ["case_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("intake_screening", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_screening_case_id"))

    op.drop_table("intake_screening")
    with op.batch_alter_table("intake_person_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_person_record_case_id"))

    op.drop_table("intake_person_record")
    with op.batch_alter_table("intake_needs_assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_needs_assessment_case_id"))

    op.drop_table("intake_needs_assessment")
    with op.batch_alter_table("intake_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_consent_case_id"))

    op.drop_table("intake_consent")
    op.drop_table("subject_key")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_unsent",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )
        batch_op.drop_index("ix_outbox_aggregate")

    op.drop_table("outbox")
    with op.batch_alter_table("intake_referral_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_referral_view_case_id"))

    op.drop_table("intake_referral_view")
    with op.batch_alter_table("intake_match_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_match_view_case_id"))

    op.drop_table("intake_match_view")
    op.drop_table("intake_idempotency")
    with op.batch_alter_table("intake_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_case_organisation_id"))

    op.drop_table("intake_case")
    op.drop_table("inbox")
    op.drop_table("dead_letter")
