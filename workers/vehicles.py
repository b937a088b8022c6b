"""Every vehicle of a clip or photo, with its class checked by its plate.

The detector's class alone is unreliable at close range (a saloon filling the frame is often a
"bus" or "truck"), and the bus-lane rule exempts buses, so a car called a bus would escape it.
The plate says what kind of vehicle may carry it (GA 36-2018, see docs/plates.md): blue and
small new-energy plates belong to small vehicles, yellow and large new-energy plates to large
ones, 学 to driving-school cars. The fused class takes the plate's word where the two disagree
and is *confirmed* only when detector and plate agree (or the plate itself marks a large
vehicle); only a confirmed bus is exempt from the bus-lane rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from models.grammar import is_valid_plate
from models.types import Box, chars_as_lists

SMALL = "small"
LARGE = "large"
LARGE_KINDS = ("bus", "truck")
CLOSE_UP = 0.2
"""A plate at least this share of its vehicle's box width is on a small vehicle: a 440 mm plate
is about a quarter of a car's front and a sixth of a bus's."""


@dataclass(frozen=True, slots=True)
class VehicleClass:
    kind: str
    """car, bus, truck, motorcycle or unknown."""
    confirmed: bool
    """True when detector and plate agree, or the plate alone settles it."""
    reason: str


def plate_colour(text: str, classified: str | None) -> str | None:
    """The plate's colour, with the text's own word where the classifier cannot know it (it
    knows only blue, green and yellow): 警 plates are white, 港/澳/领/使 black, 学 yellow,
    8-character plates green."""
    if text.endswith("警"):
        return "white"
    if text.endswith(("港", "澳", "领")) or "使" in text:
        return "black"
    if text.endswith("学"):
        return "yellow"
    if len(text) == 8 and is_valid_plate(text):
        return "green"
    return classified


def plate_size(text: str, colour: str | None, double_layer: bool) -> str | None:
    """What the plate says of the vehicle's size: small, large or nothing."""
    if not text:
        return None
    if text.endswith("学"):
        return SMALL
    if len(text) == 8:  # new energy: small vehicles put the energy letter third, large last
        return LARGE if text[-1] in "ABCDEFGHJK" and text[2].isdigit() else SMALL
    if colour == "blue":
        return SMALL
    if colour == "yellow" or double_layer:
        return LARGE
    return None  # white (police) and black plates are on vehicles of any size


def fuse(
    detected: Counter[str],
    plate: str | None = None,
    colour: str | None = None,
    double_layer: bool = False,
    box: Box | None = None,
    plate_box: Box | None = None,
) -> VehicleClass:
    """The vehicle's class from the detector's votes, the plate and the box geometry."""
    kind = detected.most_common(1)[0][0] if detected else "unknown"
    size = plate_size(plate or "", colour, double_layer)
    ratio = plate_box.width / box.width if box and plate_box and box.width > 0 else 0.0
    if size == SMALL:
        if kind in LARGE_KINDS or kind == "unknown":
            return VehicleClass("car", True, f"{colour or 'small'} plate on a '{kind}' box: a car")
        return VehicleClass(kind, True, f"{kind}, {colour} plate agrees")
    if size == LARGE:
        if kind in LARGE_KINDS:
            return VehicleClass(kind, True, f"{kind}, {colour} plate agrees")
        if double_layer and kind in ("car", "unknown"):
            large = "truck" if detected["truck"] > detected["bus"] else "bus"
            return VehicleClass(large, True, f"two-row {colour} plate: a large vehicle's rear")
        return VehicleClass(kind, False, f"{kind} with a {colour} plate: unusual, check it")
    if kind in LARGE_KINDS and ratio >= CLOSE_UP:
        return VehicleClass("car", False, f"plate {ratio:.0%} of the box width: not a {kind}")
    if kind == "unknown" and plate:
        return VehicleClass("car", False, "plate without a detected vehicle")
    if plate:
        return VehicleClass(kind, False, f"{kind}; a {colour} plate fits vehicles of any size")
    return VehicleClass(kind, False, "no plate to check the class against")


def vehicle_rows(facts: Any, plate_groups: list[Any]) -> list[dict[str, Any]]:
    """One row per vehicle (``facts.tracks``) for summary.json and the CLI's table: class
    (checked by the plate), plate read, its calibrated confidence and per-character
    alternatives (``plate_groups``: the voted plates, one per plate text)."""
    by_plate = {g.plate: g for g in plate_groups}
    rows = []
    for track in facts.tracks:
        group = by_plate.get(track.plate) if track.plate else None
        times = [pts for pts, _ in track.samples]
        rows.append(
            {
                "track": track.id,
                "class": track.kind,
                "class_confirmed": track.kind_confirmed,
                "class_reason": track.kind_reason,
                "plate": group.plate if group else None,
                "plate_confidence": group.plate_confidence if group else 0.0,
                "plate_colour": group.plate_colour if group else None,
                "chars": chars_as_lists(group.chars) if group else [],
                "sightings": group.sightings if group else 0,
                "t_start": min(times, default=0.0),
                "t_end": max(times, default=0.0),
            }
        )
    return rows
