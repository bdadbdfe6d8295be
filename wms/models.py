"""Imports every model so that the metadata is complete (for migrations and checks)."""

from wms.auth import models as auth_models
from wms.db import idempotency as idempotency_models
from wms.db.base import Base
from wms.inventory import models as inventory_models
from wms.procurement import models as procurement_models

metadata = Base.metadata

__all__ = [
    "auth_models",
    "idempotency_models",
    "inventory_models",
    "metadata",
    "procurement_models",
]
