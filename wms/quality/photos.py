"""Photos as evidence of a finding, attached after the finding was recorded (a phone's camera).

The content type a browser declares comes from a file name or the camera; the bytes are checked
against it, so that what is served back later under that type really is that kind of image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from wms.db.uow import UnitOfWork
from wms.errors import NotFound, ValidationFailed
from wms.quality.inspections import (
    MAX_PHOTO_BYTES,
    OPEN_STATUSES,
    PHOTO_TYPES,
    InspectionNotOpen,
    lock,
)
from wms.quality.models import Finding

# What each accepted type's file starts with (WebP: "RIFF", 4 size bytes, then "WEBP").
_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda b: b.startswith(b"\xff\xd8\xff"),
    "image/png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP",
}


class UnknownFinding(NotFound):
    code = "unknown_finding"

    def __init__(self, inspection: str, finding_id: int) -> None:
        super().__init__(
            f"inspection {inspection} has no finding {finding_id}",
            field="finding",
            inspection=inspection,
            finding_id=finding_id,
        )


@dataclass(frozen=True)
class AttachedPhoto:
    inspection: str
    finding_id: int
    content_type: str
    size: int


def photo_type(content_type: str | None) -> str:
    """The media type of a declared content type (``image/JPEG; x=y`` is ``image/jpeg``)."""
    return (content_type or "").split(";")[0].strip().lower()


def attach_photo(
    uow: UnitOfWork, *, inspection: str, finding_id: int, photo: bytes, content_type: str | None
) -> AttachedPhoto:
    """Store a photo on a finding of an inspection still being inspected (replaces an earlier one)."""
    kind = photo_type(content_type)
    if kind not in PHOTO_TYPES:
        raise ValidationFailed(
            f"a photo is JPEG, PNG or WebP, not {kind or 'an unknown type'}",
            field="photo",
            content_type=kind,
        )
    if not photo:
        raise ValidationFailed("the photo is empty: take it again", field="photo")
    if len(photo) > MAX_PHOTO_BYTES:
        raise ValidationFailed(
            f"the photo is {len(photo) / 1_000_000:.1f} MB; a photo is at most "
            f"{MAX_PHOTO_BYTES // 1_000_000} MB",
            field="photo",
            size=len(photo),
        )
    if not _SIGNATURES[kind](photo):
        raise ValidationFailed(
            f"the file is not a {kind.removeprefix('image/').upper()} image", field="photo"
        )
    session = uow.session
    row = lock(session, inspection)
    if row.status not in OPEN_STATUSES:
        raise InspectionNotOpen(row.code, row.status, "adding photos")
    finding = session.scalar(
        select(Finding).where(Finding.id == finding_id, Finding.inspection_id == row.id)
    )
    if finding is None:
        raise UnknownFinding(row.code, finding_id)
    finding.photo = photo
    finding.photo_type = kind
    session.flush()
    return AttachedPhoto(row.code, finding.id, kind, len(photo))
