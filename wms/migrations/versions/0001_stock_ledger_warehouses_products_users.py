"""stock ledger, warehouses, products, users

Revision ID: 0001
Revises:
Create Date: 2026-11-25 00:51:30.857406
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

VIRTUAL_LOCATIONS = (
    ("SUPPLIER", "Suppliers", "supplier", False),
    ("CUSTOMER", "Customers", "customer", False),
    ("ADJUSTMENT", "Inventory adjustments", "adjustment", False),
    ("SCRAP", "Scrap", "scrap", False),
    ("TRANSIT", "Inter-warehouse transit", "transit", True),
)

PG_APPEND_ONLY = """
CREATE FUNCTION moves_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Wiping a whole database (a test run) must say so: SET LOCAL wms.allow_ledger_truncate = 'on'.
    IF TG_OP = 'TRUNCATE' AND current_setting('wms.allow_ledger_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the moves ledger is append-only: % is refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER trg_moves_append_only BEFORE UPDATE OR DELETE ON moves
    FOR EACH ROW EXECUTE FUNCTION moves_append_only();
CREATE TRIGGER trg_moves_no_truncate BEFORE TRUNCATE ON moves
    FOR EACH STATEMENT EXECUTE FUNCTION moves_append_only();
"""

SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER trg_moves_no_update BEFORE UPDATE ON moves "
    "BEGIN SELECT RAISE(ABORT, 'the moves ledger is append-only: UPDATE is refused'); END",
    "CREATE TRIGGER trg_moves_no_delete BEFORE DELETE ON moves "
    "BEGIN SELECT RAISE(ABORT, 'the moves ledger is append-only: DELETE is refused'); END",
)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("base_unit", sa.String(length=16), server_default="EA", nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=True),
        sa.Column("volume_cm3", sa.Integer(), nullable=True),
        sa.Column("lot_tracked", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "gtin IS NULL OR length(gtin) = 14", name=op.f("ck_products_gtin_14_digits")
        ),
        sa.CheckConstraint("length(sku) > 0", name=op.f("ck_products_sku_not_empty")),
        sa.CheckConstraint(
            "shelf_life_days IS NULL OR shelf_life_days > 0",
            name=op.f("ck_products_shelf_life_positive"),
        ),
        sa.CheckConstraint(
            "volume_cm3 IS NULL OR volume_cm3 >= 0", name=op.f("ck_products_volume_not_negative")
        ),
        sa.CheckConstraint(
            "weight_g IS NULL OR weight_g >= 0", name=op.f("ck_products_weight_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("gtin", name=op.f("uq_products_gtin")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=80), server_default="", nullable=False),
        sa.Column("email", sa.String(length=200), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=40), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(code) > 0", name=op.f("ck_suppliers_code_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("code", name=op.f("uq_suppliers_code")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'planner', 'inspector', 'operator')",
            name=op.f("ck_users_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "warehouses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90", name=op.f("ck_warehouses_latitude_range")
        ),
        sa.CheckConstraint("length(code) > 0", name=op.f("ck_warehouses_code_not_empty")),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_warehouses_longitude_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("code", name=op.f("uq_warehouses_code")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_api_keys_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("holds_stock", sa.Boolean(), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.CheckConstraint(
            "(kind IN ('adjustment', 'customer', 'scrap', 'supplier', 'transit')) = (warehouse_id IS NULL)",
            name=op.f("ck_locations_virtual_iff_no_warehouse"),
        ),
        sa.CheckConstraint(
            "holds_stock = (kind IN ('damaged', 'packing', 'qc_hold', 'receiving', 'shipping', 'storage', 'transit'))",
            name=op.f("ck_locations_holds_stock_matches_kind"),
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity > 0", name=op.f("ck_locations_capacity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["locations.id"], name=op.f("fk_locations_parent_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_locations_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("barcode", name=op.f("uq_locations_barcode")),
        sa.UniqueConstraint("id", "holds_stock", name="uq_locations_id_holds_stock"),
        sa.UniqueConstraint("warehouse_id", "code", name=op.f("uq_locations_warehouse_id_code")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index("ix_locations_warehouse_kind", ["warehouse_id", "kind"], unique=False)
        batch_op.create_index(
            "uq_locations_virtual_code",
            ["code"],
            unique=True,
            sqlite_where=sa.text("warehouse_id IS NULL"),
            postgresql_where=sa.text("warehouse_id IS NULL"),
        )

    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(code) > 0", name=op.f("ck_lots_code_not_empty")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_lots_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("id", "product_id", name="uq_lots_id_product_id"),
        sa.UniqueConstraint("product_id", "code", name=op.f("uq_lots_product_id_code")),
    )
    op.create_table(
        "product_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.CheckConstraint(
            "gtin IS NULL OR length(gtin) = 14", name=op.f("ck_product_packs_gtin_14_digits")
        ),
        sa.CheckConstraint("quantity > 1", name=op.f("ck_product_packs_quantity_above_one")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_packs_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_packs")),
        sa.UniqueConstraint("gtin", name=op.f("uq_product_packs_gtin")),
        sa.UniqueConstraint("product_id", "name", name=op.f("uq_product_packs_product_id_name")),
    )
    op.create_table(
        "stock_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), server_default="0", nullable=False),
        sa.Column("committed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reserved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quality_control", sa.Integer(), server_default="0", nullable=False),
        sa.Column("damaged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("safety_stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("incoming", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "available",
            sa.Integer(),
            sa.Computed(
                "on_hand - committed - reserved - quality_control - damaged - safety_stock",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "committed + reserved <= on_hand - quality_control - damaged",
            name=op.f("ck_stock_levels_never_oversold"),
        ),
        sa.CheckConstraint(
            "on_hand >= 0 AND committed >= 0 AND reserved >= 0 AND quality_control >= 0 AND damaged >= 0 AND safety_stock >= 0 AND incoming >= 0",
            name=op.f("ck_stock_levels_counters_not_negative"),
        ),
        sa.CheckConstraint(
            "quality_control + damaged <= on_hand", name=op.f("ck_stock_levels_held_within_on_hand")
        ),
        sa.CheckConstraint("version >= 0", name=op.f("ck_stock_levels_version_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_levels_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_levels_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_levels")),
        sa.UniqueConstraint(
            "product_id", "warehouse_id", name=op.f("uq_stock_levels_product_id_warehouse_id")
        ),
    )
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.create_index("ix_stock_levels_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("from_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("to_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('in_transit', 'partially_received', 'received')",
            name=op.f("ck_transfers_status_known"),
        ),
        sa.CheckConstraint(
            "from_warehouse_id <> to_warehouse_id", name=op.f("ck_transfers_distinct_warehouses")
        ),
        sa.ForeignKeyConstraint(
            ["from_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_transfers_from_warehouse_id_warehouses"),
        ),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_transfers_to_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("reference", name=op.f("uq_transfers_reference")),
    )
    op.create_table(
        "moves",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("from_location_id", sa.Integer(), nullable=False),
        sa.Column("to_location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "from_location_id <> to_location_id", name=op.f("ck_moves_distinct_locations")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_moves_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["from_location_id"], ["locations.id"], name=op.f("fk_moves_from_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_moves_lot_product"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_moves_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"], ["locations.id"], name=op.f("fk_moves_to_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moves")),
    )
    with op.batch_alter_table("moves", schema=None) as batch_op:
        batch_op.create_index("ix_moves_from_location", ["from_location_id"], unique=False)
        batch_op.create_index(
            "ix_moves_product_occurred", ["product_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_moves_reference", ["reference"], unique=False)
        batch_op.create_index("ix_moves_to_location", ["to_location_id"], unique=False)

    op.create_table(
        "quants",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("holds_stock", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("holds_stock", name=op.f("ck_quants_stock_location_only")),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_quants_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_id", "holds_stock"],
            ["locations.id", "locations.holds_stock"],
            name="fk_quants_stock_location",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_quants_lot_product"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_quants_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quants")),
    )
    with op.batch_alter_table("quants", schema=None) as batch_op:
        batch_op.create_index("ix_quants_location", ["location_id"], unique=False)
        batch_op.create_index(
            "uq_quants_product_location_nolot",
            ["product_id", "location_id"],
            unique=True,
            sqlite_where=sa.text("lot_id IS NULL"),
            postgresql_where=sa.text("lot_id IS NULL"),
        )
        batch_op.create_index(
            "uq_quants_product_lot_location",
            ["product_id", "lot_id", "location_id"],
            unique=True,
            sqlite_where=sa.text("lot_id IS NOT NULL"),
            postgresql_where=sa.text("lot_id IS NOT NULL"),
        )

    op.create_table(
        "transfer_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_transfer_lines_quantity_positive")),
        sa.CheckConstraint(
            "received_quantity >= 0 AND received_quantity <= quantity",
            name=op.f("ck_transfer_lines_received_within_shipped"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_transfer_lines_lot"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_transfer_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.id"], name=op.f("fk_transfer_lines_transfer_id_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_lines")),
    )
    _append_only_moves()
    locations = sa.table(
        "locations",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("holds_stock", sa.Boolean),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        locations,
        [
            {"code": code, "name": name, "kind": kind, "holds_stock": holds, "active": True}
            for code, name, kind, holds in VIRTUAL_LOCATIONS
        ],
    )


def _append_only_moves() -> None:
    """The ledger is append-only in the database too: UPDATE and DELETE on moves are refused."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER trg_moves_no_truncate ON moves")
        op.execute("DROP TRIGGER trg_moves_append_only ON moves")
        op.execute("DROP FUNCTION moves_append_only()")
    else:
        op.execute("DROP TRIGGER trg_moves_no_update")
        op.execute("DROP TRIGGER trg_moves_no_delete")
    op.drop_table("transfer_lines")
    with op.batch_alter_table("quants", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_quants_product_lot_location",
            sqlite_where=sa.text("lot_id IS NOT NULL"),
            postgresql_where=sa.text("lot_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_quants_product_location_nolot",
            sqlite_where=sa.text("lot_id IS NULL"),
            postgresql_where=sa.text("lot_id IS NULL"),
        )
        batch_op.drop_index("ix_quants_location")

    op.drop_table("quants")
    with op.batch_alter_table("moves", schema=None) as batch_op:
        batch_op.drop_index("ix_moves_to_location")
        batch_op.drop_index("ix_moves_reference")
        batch_op.drop_index("ix_moves_product_occurred")
        batch_op.drop_index("ix_moves_from_location")

    op.drop_table("moves")
    op.drop_table("transfers")
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_levels_updated_at")

    op.drop_table("stock_levels")
    op.drop_table("product_packs")
    op.drop_table("lots")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_locations_virtual_code",
            sqlite_where=sa.text("warehouse_id IS NULL"),
            postgresql_where=sa.text("warehouse_id IS NULL"),
        )
        batch_op.drop_index("ix_locations_warehouse_kind")

    op.drop_table("locations")
    op.drop_table("api_keys")
    op.drop_table("warehouses")
    op.drop_table("users")
    op.drop_table("suppliers")
    op.drop_table("products")
