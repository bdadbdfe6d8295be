"""receipts, putaway, cycle counts, handheld sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:58:35.150029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('admin', 'planner', 'inspector', 'operator')"
ROLES_WITH_SUPERVISOR = "role IN ('admin', 'planner', 'inspector', 'supervisor', 'operator')"


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("owner", "key", name=op.f("uq_idempotency_records_owner_key")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("supplier_reference", sa.String(length=64), server_default="", nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("over_tolerance_pct", sa.Integer(), server_default="0", nullable=False),
        sa.Column("origin", sa.String(length=64), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'receiving', 'closed', 'cancelled')",
            name=op.f("ck_receipts_status_known"),
        ),
        sa.CheckConstraint("length(code) > 0", name=op.f("ck_receipts_code_not_empty")),
        sa.CheckConstraint(
            "over_tolerance_pct >= 0 AND over_tolerance_pct <= 1000",
            name=op.f("ck_receipts_tolerance_range"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_receipts_supplier_id_suppliers")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_receipts_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("code", name=op.f("uq_receipts_code")),
    )
    op.create_index(
        "ix_receipts_warehouse_status", "receipts", ["warehouse_id", "status"], unique=False
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_user_sessions_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index("ix_user_sessions_user", "user_sessions", ["user_id"], unique=False)
    op.create_table(
        "count_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("velocity_class", sa.String(length=1), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counted_by", sa.String(length=64), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "origin IN ('on_demand', 'scheduled')", name=op.f("ck_count_tasks_origin_known")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'recount', 'pending_approval', 'posted', 'rejected', 'cancelled')",
            name=op.f("ck_count_tasks_status_known"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_count_tasks_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_count_tasks_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_count_tasks_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_tasks")),
        sa.UniqueConstraint("code", name=op.f("uq_count_tasks_code")),
    )
    op.create_index("ix_count_tasks_location", "count_tasks", ["location_id"], unique=False)
    op.create_index(
        "ix_count_tasks_warehouse_status", "count_tasks", ["warehouse_id", "status"], unique=False
    )
    op.create_index(
        "uq_count_tasks_active_location",
        "count_tasks",
        ["location_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('open', 'recount', 'pending_approval')"),
        postgresql_where=sa.text("status IN ('open', 'recount', 'pending_approval')"),
    )
    op.create_table(
        "fixed_bins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_fixed_bins_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_fixed_bins_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_fixed_bins_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixed_bins")),
        sa.UniqueConstraint(
            "product_id", "warehouse_id", name=op.f("uq_fixed_bins_product_id_warehouse_id")
        ),
    )
    op.create_table(
        "receipt_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("expected_quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("over_approved_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "expected_quantity > 0", name=op.f("ck_receipt_lines_expected_positive")
        ),
        sa.CheckConstraint(
            "received_quantity >= 0", name=op.f("ck_receipt_lines_received_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_receipt_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipts.id"],
            name=op.f("fk_receipt_lines_receipt_id_receipts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_lines")),
        sa.UniqueConstraint(
            "receipt_id", "line_no", name=op.f("uq_receipt_lines_receipt_id_line_no")
        ),
        sa.UniqueConstraint(
            "receipt_id", "product_id", name=op.f("uq_receipt_lines_receipt_id_product_id")
        ),
    )
    op.create_table(
        "count_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("expected_quantity", sa.Integer(), nullable=False),
        sa.Column("counted_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("attempt > 0", name=op.f("ck_count_lines_attempt_positive")),
        sa.CheckConstraint(
            "counted_quantity >= 0", name=op.f("ck_count_lines_counted_not_negative")
        ),
        sa.CheckConstraint(
            "expected_quantity >= 0", name=op.f("ck_count_lines_expected_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_count_lines_lot"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_count_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["count_tasks.id"],
            name=op.f("fk_count_lines_task_id_count_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_lines")),
    )
    with op.batch_alter_table("locations") as batch:
        batch.add_column(sa.Column("x", sa.Float(), nullable=True))
        batch.add_column(sa.Column("y", sa.Float(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("pin_hash", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("badge_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_badge_hash"), ["badge_hash"])
        batch.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role_known"), ROLES_WITH_SUPERVISOR)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role_known"), ROLES_BEFORE)
        batch.drop_constraint(op.f("uq_users_badge_hash"), type_="unique")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("badge_hash")
        batch.drop_column("pin_hash")
    with op.batch_alter_table("locations") as batch:
        batch.drop_column("y")
        batch.drop_column("x")
    op.drop_table("count_lines")
    op.drop_table("receipt_lines")
    op.drop_table("fixed_bins")
    op.drop_index(
        "uq_count_tasks_active_location",
        table_name="count_tasks",
        sqlite_where=sa.text("status IN ('open', 'recount', 'pending_approval')"),
        postgresql_where=sa.text("status IN ('open', 'recount', 'pending_approval')"),
    )
    op.drop_index("ix_count_tasks_warehouse_status", table_name="count_tasks")
    op.drop_index("ix_count_tasks_location", table_name="count_tasks")
    op.drop_table("count_tasks")
    op.drop_index("ix_user_sessions_user", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_index("ix_receipts_warehouse_status", table_name="receipts")
    op.drop_table("receipts")
    op.drop_table("idempotency_records")
