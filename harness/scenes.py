"""Dashcam-like clips with known truth, rendered for the violation rules.

A pinhole camera 1.3 m above a straight road looks ahead: lane markings drawn on the ground
plane (solid white edge lines, dashed lane lines, a yellow bus-lane line with 公交专用 painted
in its lane), the emergency lane beyond the right edge line, and real vehicle photos from
../shared/data pasted at their place on the road and moved over time. Every scenario says what
a correct system must find in it, and comes with a GPS track (JSON points) that drives north.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from workers.frames import ffmpeg_exe

W, H, HORIZON, FOCAL, CAM_HEIGHT = 1280, 720, 330, 900.0, 1.3
EGO_SPEED = 20.0
"""m/s: the dashcam's car, so the dashed markings flow past."""
EMERGENCY_X, RIGHT_LANE_X, EGO_LANE_X, LEFT_LANE_X = 3.4, 3.6, 0.0, -3.6
"""Lateral places (m): the dashcam drives in the rightmost traffic lane (-1.8..1.8 m) of an
expressway whose edge line is at 1.8 m (the emergency lane beyond it, to 4.8 m), or of a city
road whose bus lane lies right of a yellow line at 1.8 m."""
ORIGIN = (22.60, 113.90)
"""lat, lon where every scenario's drive starts (north-west Shenzhen)."""
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# (photo, crop box x1, y1, x2, y2, plate box within the photo) of real vehicles seen from the rear
# or front; crop boxes are where the vehicle is in the photo, plate boxes where its plate is.
VEHICLES = {
    "sedan_rear": ("images/dev_vehicle_004.jpg", (0, 70, 689, 605), (304, 456, 516, 572)),
    "saloon_front": ("images/dev_vehicle_002.jpg", (67, 56, 611, 422), (360, 325, 491, 372)),
}
VEHICLE_WIDTH_M = 1.8


@dataclass(frozen=True)
class Placement:
    """Where a vehicle is at video time t: lateral X (m, right +) and distance Z (m)."""

    vehicle: str
    x: Callable[[float], float]
    z: Callable[[float], float]
    cover_plate: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    expect: tuple[str, ...]
    """Rule ids (without version) a correct system reports on this clip."""
    placements: tuple[Placement, ...]
    bus_lane: bool = False
    seconds: float = 6.0
    fps: int = 10
    start: datetime = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
    """A Wednesday, 08:30 in Shenzhen: bus-lane hours."""
    origin: tuple[float, float] = ORIGIN
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _project(x: float, z: float) -> tuple[float, float]:
    return W / 2 + FOCAL * x / z, HORIZON + FOCAL * CAM_HEIGHT / z


def _ground_quad(x1: float, x2: float, z1: float, z2: float) -> np.ndarray:
    return np.array(
        [_project(x1, z1), _project(x2, z1), _project(x2, z2), _project(x1, z2)], np.float32
    )


@cache
def _background(bus_lane: bool) -> np.ndarray:
    rng = np.random.default_rng(7)
    image = np.zeros((H, W, 3), np.uint8)
    sky = np.linspace(235, 170, HORIZON)[:, None, None] * np.array([1.0, 0.85, 0.7])[None, None]
    image[:HORIZON] = sky.astype(np.uint8)
    image[HORIZON:] = (70, 110, 80)  # verge
    road = _ground_quad(-6.0, 6.0 if bus_lane else 4.8, 3.0, 400.0).astype(np.int32)
    cv2.fillConvexPoly(image, road, (92, 92, 96))
    noise = rng.normal(0, 6, (H, W, 1))
    image[HORIZON:] = np.clip(image[HORIZON:] + noise[HORIZON:], 0, 255).astype(np.uint8)
    return image


@cache
def text_texture(text: str) -> np.ndarray:
    """Road text as painted: each character stretched along the lane, the first nearest."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    texture = PILImage.new("L", (300, 2000), 0)
    font = ImageFont.truetype(str(FONT), 280)
    for i, ch in enumerate(text):
        glyph = PILImage.new("L", (300, 300), 0)
        ImageDraw.Draw(glyph).text((10, -40), ch, fill=255, font=font)
        texture.paste(glyph.resize((300, 420)), (0, 2000 - 500 * (i + 1)))
    return np.array(texture)


def _paint_text(image: np.ndarray, text: str, x: float, z: float) -> None:
    """Yellow road text mapped onto the lane centred at ``x``, starting ``z`` metres ahead."""
    texture = text_texture(text).copy()
    src = np.array([[0, 2000], [300, 2000], [300, 0], [0, 0]], np.float32)
    dst = _ground_quad(x - 1.2, x + 1.2, max(z, 3.0), max(z, 3.0) + 16.0)
    if z < 3.0:  # the near end has passed under the camera: map only what is still ahead
        cut = int(2000 * (3.0 - z) / 16.0)
        texture[2000 - cut :] = 0  # behind the camera: it would wrap into the sky
        src = np.array([[0, 2000 - cut], [300, 2000 - cut], [300, 0], [0, 0]], np.float32)
        dst = _ground_quad(x - 1.2, x + 1.2, 3.0, z + 16.0)
    warp = cv2.getPerspectiveTransform(src, dst)
    alpha = cv2.warpPerspective(texture, warp, (W, H)).astype(np.float32)[..., None]
    yellow = np.array([40, 200, 235], np.float32)
    image[:] = (image * (1 - alpha / 255) + yellow * alpha / 255).astype(np.uint8)


def _markings(image: np.ndarray, t: float, bus_lane: bool) -> None:
    travelled = EGO_SPEED * t
    white, yellow = (235, 235, 235), (40, 200, 235)
    lines = [(-5.4, white, False), (-1.8, white, True), (1.8, yellow if bus_lane else white, False)]
    if bus_lane:
        lines.append((5.4, white, False))
        for k in range(4):  # the text repeats every 40 m along the lane
            z = 8.0 + 40.0 * k - travelled % 40.0
            if -12.0 < z < 80.0:
                _paint_text(image, "公交专用", RIGHT_LANE_X, z)
    for x, colour, dashed in lines:
        width = 0.15 if dashed else 0.2
        z = 3.0 - (travelled % 15.0 if dashed else 0.0)
        while z < 200.0:
            length = 6.0 if dashed else 200.0
            z1, z2 = max(z, 3.0), z + length
            if z2 > 3.0:
                quad = _ground_quad(x - width / 2, x + width / 2, z1, z2)
                cv2.fillConvexPoly(image, quad.astype(np.int32), colour, cv2.LINE_AA)
            z += 15.0 if dashed else length


@cache
def _vehicle(name: str, cover_plate: bool, data_dir: Path) -> np.ndarray:
    photo, (x1, y1, x2, y2), (px1, py1, px2, py2) = VEHICLES[name]
    image = cv2.imread(str(data_dir / photo))
    if cover_plate:  # a cloth over the plate
        cv2.rectangle(image, (px1 - 6, py1 - 6), (px2 + 6, py2 + 6), (40, 40, 40), -1)
    return np.ascontiguousarray(image[y1:y2, x1:x2])


def _paste(image: np.ndarray, vehicle: np.ndarray, x: float, z: float) -> None:
    width = FOCAL * VEHICLE_WIDTH_M / z
    scale = width / vehicle.shape[1]
    sprite = cv2.resize(vehicle, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    u, v = _project(x, z)
    left, top = int(u - sprite.shape[1] / 2), int(v - sprite.shape[0])
    l0, t0 = max(left, 0), max(top, 0)
    r0, b0 = min(left + sprite.shape[1], W), min(top + sprite.shape[0], H)
    if r0 > l0 and b0 > t0:
        image[t0:b0, l0:r0] = sprite[t0 - top : b0 - top, l0 - left : r0 - left]


def frame(scenario: Scenario, t: float, data_dir: Path) -> np.ndarray:
    image = _background(scenario.bus_lane).copy()
    _markings(image, t, scenario.bus_lane)
    for p in sorted(scenario.placements, key=lambda p: -p.z(t)):  # far ones first
        _paste(image, _vehicle(p.vehicle, p.cover_plate, data_dir), p.x(t), p.z(t))
    return image


def render(scenario: Scenario, out: Path, data_dir: Path) -> Path:
    """Write the clip as H.264 MP4 (the way dashcams record) and its GPS track beside it."""
    proc = subprocess.Popen(
        [
            *(ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"),
            *("-s", f"{W}x{H}", "-r", str(scenario.fps), "-i", "-", "-c:v", "libx264"),
            *("-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(out)),
        ],
        stdin=subprocess.PIPE,
    )
    assert proc.stdin is not None
    for i in range(int(scenario.seconds * scenario.fps)):
        proc.stdin.write(frame(scenario, i / scenario.fps, data_dir).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg could not encode {scenario.name}")
    out.with_suffix(".json").write_text(json.dumps(track(scenario)))
    return out


def track(scenario: Scenario) -> list[dict[str, object]]:
    lat, lon = scenario.origin
    step = EGO_SPEED / 111_320  # degrees of latitude per second, driving north
    return [
        {
            "time": (scenario.start + timedelta(seconds=i)).isoformat(),
            "lat": lat + i * step,
            "lon": lon,
        }
        for i in range(int(scenario.seconds) + 2)
    ]


def _steady(value: float) -> Callable[[float], float]:
    return lambda t: value


def _approach(z0: float, z1: float, seconds: float) -> Callable[[float], float]:
    return lambda t: z0 + (z1 - z0) * min(t, seconds) / seconds


def _blip(base: float, other: float, at: float, width: float) -> Callable[[float], float]:
    """``other`` for one instant of ``width`` seconds at ``at``, ``base`` otherwise."""
    return lambda t: other if at <= t < at + width else base


def scenarios() -> list[Scenario]:
    far_away = (23.10, 114.40)  # ~75 km from the configured segments
    return [
        Scenario(
            "emergency_lane_occupied",
            ("emergency_lane",),
            (Placement("sedan_rear", _steady(EMERGENCY_X), _approach(20.0, 12.0, 6.0)),),
        ),
        Scenario(
            "emergency_lane_one_frame",
            (),
            (Placement("sedan_rear", _blip(EGO_LANE_X, EMERGENCY_X, 3.0, 0.1), _steady(14.0)),),
            notes="crosses the edge line for one frame only",
        ),
        Scenario(
            "emergency_lane_not_expressway",
            (),
            (Placement("sedan_rear", _steady(EMERGENCY_X), _approach(20.0, 12.0, 6.0)),),
            origin=far_away,
            notes="the same occupation on a road that is not a configured expressway",
        ),
        Scenario(
            "right_lane_traffic",
            (),
            (
                Placement("sedan_rear", _steady(EGO_LANE_X), _approach(22.0, 15.0, 6.0)),
                Placement("saloon_front", _steady(LEFT_LANE_X), _approach(30.0, 20.0, 6.0)),
            ),
        ),
        Scenario(
            "bus_lane_car_in_hours",
            ("bus_lane",),
            (Placement("sedan_rear", _steady(RIGHT_LANE_X), _approach(22.0, 15.0, 6.0)),),
            bus_lane=True,
        ),
        Scenario(
            "bus_lane_car_out_of_hours",
            (),
            (Placement("sedan_rear", _steady(RIGHT_LANE_X), _approach(22.0, 15.0, 6.0)),),
            bus_lane=True,
            start=datetime(2026, 11, 25, 4, 0, tzinfo=UTC),  # 12:00 local
        ),
        Scenario(
            "bus_lane_car_in_own_lane",
            (),
            (Placement("sedan_rear", _steady(LEFT_LANE_X), _approach(22.0, 15.0, 6.0)),),
            bus_lane=True,
        ),
        Scenario(
            "plate_covered",
            ("covered_plate",),
            (Placement("sedan_rear", _steady(EGO_LANE_X), _approach(9.0, 6.0, 6.0), True),),
        ),
        Scenario(
            "plate_visible",
            (),
            (Placement("sedan_rear", _steady(EGO_LANE_X), _approach(9.0, 6.0, 6.0)),),
        ),
    ]


def rules_config(folder: Path) -> Path:
    """The rules YAML and GeoJSON segments every scenario is judged against: the road north
    from ORIGIN is an expressway with a bus lane on weekdays 07:00-09:00 and 17:00-19:00."""
    lat, lon = ORIGIN
    line = {"type": "LineString", "coordinates": [[lon, lat - 0.01], [lon, lat + 0.05]]}
    (folder / "expressways.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": line, "properties": {"name": "G107 test"}}
                ],
            }
        )
    )
    (folder / "bus_lanes.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": line,
                        "properties": {
                            "name": "G107 test bus lane",
                            "hours": ["Mon-Fri 07:00-09:00", "Mon-Fri 17:00-19:00"],
                        },
                    }
                ],
            }
        )
    )
    config = folder / "rules.yaml"
    config.write_text(
        "expressways: expressways.geojson\n"
        "bus_lanes: bus_lanes.geojson\n"
        "timezone: Asia/Shanghai\n"
        "rules:\n"
        "  emergency_lane: {min_seconds: 1.5}\n"
        "  bus_lane: {min_seconds: 1.5}\n"
        "  covered_plate: {min_seconds: 1.5}\n"
    )
    return config


def suite() -> list[Scenario]:
    """The test scenarios and variants of them with the other vehicle photo and other timings:
    the rendered suite ``benchmarks/rules.py`` measures precision and recall on."""
    other = "saloon_front"
    return [
        *scenarios(),
        Scenario(
            "emergency_lane_saloon",
            ("emergency_lane",),
            (Placement(other, _steady(EMERGENCY_X), _approach(16.0, 10.0, 6.0)),),
        ),
        Scenario(
            "emergency_lane_brief",
            (),
            (Placement(other, _blip(EGO_LANE_X, EMERGENCY_X, 2.0, 1.0), _steady(12.0)),),
            notes="over the edge line for 1 s, under the 1.5 s the rule needs",
        ),
        Scenario(
            "bus_lane_saloon_in_hours",
            ("bus_lane",),
            (Placement(other, _steady(RIGHT_LANE_X), _approach(16.0, 10.0, 6.0)),),
            bus_lane=True,
            start=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),  # Thursday 17:30 local
        ),
        Scenario(
            "bus_lane_saloon_weekend",
            (),
            (Placement(other, _steady(RIGHT_LANE_X), _approach(16.0, 10.0, 6.0)),),
            bus_lane=True,
            start=datetime(2026, 11, 28, 0, 30, tzinfo=UTC),  # Saturday 08:30 local
        ),
        Scenario(
            "plate_covered_saloon",
            ("covered_plate",),
            (Placement(other, _steady(EGO_LANE_X), _approach(8.0, 6.0, 6.0), True),),
        ),
        Scenario(
            "plate_visible_saloon",
            (),
            (Placement(other, _steady(EGO_LANE_X), _approach(8.0, 6.0, 6.0)),),
        ),
    ]
