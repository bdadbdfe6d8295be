"""Supplier master data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from wms.db.base import Base, utcnow


class Supplier(Base):
    __tablename__ = "suppliers"
    __table_args__ = (
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        CheckConstraint(
            "quality_status IN ('approved', 'conditional', 'suspended', 'disqualified')",
            name="quality_status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(80), default="", server_default="")
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Qualification (kept by the quality module): approved, conditional, suspended, disqualified.
    quality_status: Mapped[str] = mapped_column(
        String(16), default="approved", server_default="approved"
    )
    quality_status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    quality_status_changed_by: Mapped[str | None] = mapped_column(String(64))
    quality_status_changed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
