"""Bodies of the reporting protocol (docs/protocol.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from ingest.submissions import Violation
from ingest.timebounds import SPAN, plausible


def _plausible(at: datetime) -> datetime:
    if not plausible(at):
        raise ValueError(f"the time must lie from {SPAN}")
    return at


EvidenceTime = Annotated[AwareDatetime, AfterValidator(_plausible)]
"""A time with its zone, from 1970 to 2100: refused (422) outside, never stored."""


class PartsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(description="Part size in bytes (5 MiB to 5 GiB; the last part less).")
    crc32: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{6}==$")]] = Field(
        max_length=10_000,
        description="Each part's CRC32 (IEEE, as zlib), base64 of its 4 big-endian bytes.",
    )


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(gt=0, description="Bytes of the original file.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex SHA-256 of it.")
    filename: str | None = Field(default=None, max_length=255)
    parts: PartsIn | None = Field(
        default=None,
        description="v2, direct uploads: the file cut in parts of this size and each part's "
        "CRC32; the part URLs then require it (section 6.3). Optional.",
    )


class TrackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["nmea", "gpx", "json"]
    data: str = Field(
        max_length=4_000_000,
        description="The track file's text (JSON: a list of {time, lat, lon, speed_mps?}).",
    )


PlaceSource = Literal["geolocation", "exif_gps", "manual"]
"""How a sender got the place it declares: the device's location service (satellite, Wi-Fi or
cell fix), the photo's own GPS tags, or typed/picked by the person."""
TimeSource = Literal["geolocation", "exif", "file_date", "device_clock", "manual"]
"""How a sender got the time it declares: the time of the location fix, the photo's EXIF
capture time, the file's modification date, the device's clock when it sent, or typed."""


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    source: PlaceSource | None = Field(default=None, description="How the place was found.")


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Unique per sender; re-sending it never makes a second report.",
    )
    trigger: Literal["button", "automatic"] | None = None
    device_time: EvidenceTime | None = None
    clip_start: EvidenceTime | None = Field(
        default=None, description="Time of the clip's first frame."
    )
    taken_at: EvidenceTime | None = Field(default=None, description="Reporter's declared time.")
    taken_at_source: TimeSource | None = Field(
        default=None, description="How the declared time was found."
    )
    declared_violation: Violation | None = None
    place: PlaceIn | None = Field(default=None, description="Reporter's declared place.")
    media: MediaIn
    track: TrackIn | None = None
    transfer: Literal["tus", "direct"] | None = Field(
        default=None,
        description="v2: 'direct' asks for the direct-upload plan (section 6.3) in the answer, "
        "saving a request; a server without an S3 store answers it null (use tus).",
    )


class PartOut(BaseModel):
    number: int = Field(description="S3 part number, from 1.")
    offset: int = Field(description="Where the part starts in the file.")
    size: int
    url: str = Field(description="Presigned PUT URL: send the part's bytes there as they are.")
    done: bool = Field(description="The store already holds this part: skip it.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Headers to send with the PUT as they are (signed into the URL).",
    )


class DirectPlanOut(BaseModel):
    upload_id: str
    part_size: int
    parts: list[PartOut]
    urls_expire_at: datetime
    complete_url: str
    submission_id: str | None


class UploadOut(BaseModel):
    upload_id: str
    upload_url: str
    offset: int
    length: int
    state: str
    expires_at: datetime
    submission_id: str | None
    status_url: str | None
    location: str | None = Field(
        default=None, description="upload_url as an absolute URL, for standard tus clients (v2)."
    )
    upload_token: str | None = Field(
        default=None,
        description="v2: a short-lived bearer token for this upload only; send it as "
        "'Authorization: Bearer <token>' from any tus client instead of signing each chunk.",
    )
    upload_token_expires_at: datetime | None = None
    direct: DirectPlanOut | None = Field(
        default=None,
        description="v2: the direct-upload plan, when the event asked for transfer 'direct' "
        "and the server's store is S3 (as POST /v1/uploads/{id}/direct answers it).",
    )


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    real_name: str | None = Field(
        default=None, max_length=100, description="Needed only to receive rewards."
    )
    payment_account: str | None = Field(default=None, max_length=100)


class ReporterCreated(BaseModel):
    reporter_id: str
    token: str = Field(description="Bearer token; shown once, keep it.")


class ReportStatus(BaseModel):
    id: str
    state: Literal["received", "processing", "under_review", "confirmed", "rejected", "failed"]
    reason: str | None
    accepted_at: datetime
    answer_due: datetime
    declared_violation: str | None
    taken_at: datetime | None = Field(default=None, description="The time the sender declared.")
    taken_at_source: str | None = Field(default=None, description="How the sender found it.")
    latitude: float | None = Field(default=None, description="The place the sender declared.")
    longitude: float | None = None
    place_source: str | None = Field(default=None, description="How the sender found it.")
    reward_yuan: float | None = None
    reward_status: str | None = Field(
        default=None, description="payable (listed for payment), paid, or withheld"
    )
    reward_note: str | None = Field(default=None, description="Why a reward is withheld.")
