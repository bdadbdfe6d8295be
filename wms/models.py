"""Imports every model so that the metadata is complete (for migrations and checks)."""

from wms.auth import models as auth_models
from wms.db import idempotency as idempotency_models
from wms.db import outbox as outbox_models
from wms.db.base import Base
from wms.events import models as event_models
from wms.fulfillment import delivery_models
from wms.fulfillment import models as fulfillment_models
from wms.inventory import models as inventory_models
from wms.procurement import models as procurement_models
from wms.quality import models as quality_models

metadata = Base.metadata

__all__ = [
    "auth_models",
    "delivery_models",
    "event_models",
    "fulfillment_models",
    "idempotency_models",
    "inventory_models",
    "metadata",
    "outbox_models",
    "procurement_models",
    "quality_models",
]
