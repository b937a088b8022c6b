"""Rule data: which rules run with which settings, and the road segments they need
(expressways, bus lanes with their signed hours), as typed, validated objects. The files (YAML
and GeoJSON) are read at the edge (``workers/rule_files.py``); this module only validates.

Everything is checked at load: an unknown field, a bad GeoJSON geometry or hours that do not
parse stop the load with a message naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rules.geo import Hours, Segment


class RuleConfigError(ValueError):
    """The rule data cannot be used; the message names the file and the field."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmergencyLaneConfig(Strict):
    min_seconds: float = Field(2.0, gt=0)
    """How long (video time) the vehicle must stay beyond the edge line."""
    margin: float = Field(0.15, ge=0, le=1)
    """How far beyond the line its ground point must be, as a share of its width..."""
    reach: float = Field(1.5, gt=0)
    """...and how far at most: in a 3.5 m lane a 1.8 m car's centre is at most 2.6 m (1.45 of
    its widths) from the lane's edge line, so a vehicle farther out is past the strip along the
    line (the other carriageway beyond a median a roadside camera took for a shoulder)."""
    max_gap_s: float = Field(1.0, ge=0)
    """A gap in the sightings shorter than this does not break the occupation."""
    confidence_floor: float = Field(0.5, ge=0, le=1)
    """A finding's confidence when the occupation lasted just ``min_seconds``..."""
    full_after: float = Field(3.0, gt=0)
    """...growing to 1 when it lasted this many times ``min_seconds``."""


class BusLaneConfig(EmergencyLaneConfig):
    exempt: tuple[str, ...] = ("bus",)
    """Vehicle classes allowed in the bus lane."""
    road_text_bonus: float = Field(0.1, ge=0, le=1)
    """Added to the confidence when the lane's marking (公交, 专用) was read on the road."""


class CoveredPlateConfig(Strict):
    min_seconds: float = Field(2.0, gt=0)
    min_height: float = Field(0.15, gt=0, le=1)
    """Seen close: the vehicle's box is at least this share of the frame height..."""
    min_width_px: int = Field(160, ge=1)
    """...and this many pixels wide, so its plate would be big enough to read (a low-resolution
    camera's unreadable plates are not covered plates)."""
    max_gap_s: float = Field(1.0, ge=0)
    confidence_unread: float = Field(0.4, ge=0, le=1)
    """Confidence when a plate region was found on the vehicle but never read..."""
    confidence_unseen: float = Field(0.3, ge=0, le=1)
    """...and when no plate region was found at all."""


class DeclaredConfig(Strict):
    enabled: bool = True
    confidence: float = Field(0.5, ge=0, le=1)
    """A declared report is the sender's word: the officer judges it."""


class ClonedPlateConfig(Strict):
    max_speed_kmh: float = Field(200.0, gt=0)
    """Two reads of one plate needing a faster journey than this between them are a flag."""


class DuplicatesConfig(Strict):
    window_s: float = Field(600.0, ge=0)
    """Cases of one plate and violation this close in time..."""
    distance_m: float = Field(300.0, ge=0)
    """...and place are one incident (reported by several people)."""


class RulesSection(Strict):
    emergency_lane: EmergencyLaneConfig = EmergencyLaneConfig()
    bus_lane: BusLaneConfig = BusLaneConfig()
    covered_plate: CoveredPlateConfig = CoveredPlateConfig()
    declared: DeclaredConfig = DeclaredConfig()
    cloned_plate: ClonedPlateConfig = ClonedPlateConfig()
    duplicates: DuplicatesConfig = DuplicatesConfig()


class RuleFile(Strict):
    version: str = "builtin"
    """A label for this edition of the rule data, recorded on every case it produced."""
    timezone: str = "Asia/Shanghai"
    segment_buffer_m: float = Field(30.0, gt=0)
    """A GPS position this close to a segment's line is on that segment."""
    expressways: str | dict[str, Any] | None = None
    """A GeoJSON file (relative to this file) or an inline FeatureCollection."""
    bus_lanes: str | dict[str, Any] | None = None
    rules: RulesSection = RulesSection()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Geometry(Strict):
    type: Literal["LineString"]
    coordinates: list[tuple[float, float]] = Field(min_length=2)

    @field_validator("coordinates")
    @classmethod
    def _in_range(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for lon, lat in value:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"[{lon}, {lat}] is not a [longitude, latitude] pair")
        return value


class Properties(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    hours: list[str] = []

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        for text in value:
            Hours.parse(text)
        return value


class Feature(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    type: Literal["Feature"]
    geometry: Geometry
    properties: Properties


class FeatureCollection(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    type: Literal["FeatureCollection"]
    features: list[Feature]


def _where(error: Any) -> str:
    return ".".join(str(p) for p in error["loc"]) or "(top level)"


def _raise(source: str, exc: ValidationError) -> None:
    problems = "; ".join(f"{_where(e)}: {e['msg']}" for e in exc.errors())
    raise RuleConfigError(f"{source}: {problems}") from None


class RuleBook:
    """The loaded rule data the rules run against."""

    def __init__(
        self,
        file: RuleFile | None = None,
        expressways: tuple[Segment, ...] = (),
        bus_lanes: tuple[Segment, ...] = (),
        source: str = "builtin",
    ) -> None:
        self.file = file or RuleFile()
        self.expressways = expressways
        self.bus_lanes = bus_lanes
        self.source = source
        self.zone = ZoneInfo(self.file.timezone)

    @property
    def rules(self) -> RulesSection:
        return self.file.rules

    @property
    def version(self) -> str:
        return self.file.version


GeoJSONReader = Callable[[str, str], tuple[Any, str]]
"""Reads a GeoJSON file named in the rule data: (name, field) -> (its data, where it is);
raises :class:`RuleConfigError` when it cannot. Given by the edge that loads the files."""


def _no_files(name: str, field: str) -> tuple[Any, str]:
    raise RuleConfigError(f"{field}: {name!r} names a file, and no file reader was given")


def _segments(
    value: str | dict[str, Any] | None, source: str, field: str, read: GeoJSONReader
) -> tuple[Segment, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        data, where = read(value, field)
    else:
        data, where = value, f"{source}: {field}"
    try:
        collection = FeatureCollection.model_validate(data)
    except ValidationError as exc:
        _raise(where, exc)
    return tuple(
        Segment(
            f.properties.name,
            tuple(f.geometry.coordinates),
            tuple(Hours.parse(h) for h in f.properties.hours),
        )
        for f in collection.features
    )


def book_from(raw: Any, source: str, read: GeoJSONReader = _no_files) -> RuleBook:
    """Validate rule data already parsed (a YAML document's mapping) into a rule book; ``read``
    gives the data of the GeoJSON files it names and where they came from."""
    try:
        file = RuleFile.model_validate(raw or {})
    except ValidationError as exc:
        _raise(source, exc)
    return RuleBook(
        file,
        _segments(file.expressways, source, "expressways", read),
        _segments(file.bus_lanes, source, "bus_lanes", read),
        source,
    )
