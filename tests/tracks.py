"""GPS tracks for tests, written in the formats dashcams send (NMEA with real checksums, GPX,
JSON) along a straight drive; no real NMEA log is available in ../shared/data yet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 23, 0, 30, 0, tzinfo=UTC)  # 08:30 in Shenzhen


def drive(
    seconds: int = 20,
    lat: float = 22.5431,
    lon: float = 114.0579,
    speed_mps: float = 15.0,
    start: datetime = START,
) -> list[tuple[datetime, float, float]]:
    """A drive east at ``speed_mps``, one fix a second."""
    step = speed_mps / 111_320 / 0.9237  # degrees of longitude per second at 22.5°N
    return [(start + timedelta(seconds=i), lat, lon + i * step) for i in range(seconds + 1)]


def _ddmm(value: float, lat: bool) -> tuple[str, str]:
    hemi = ("N" if value >= 0 else "S") if lat else ("E" if value >= 0 else "W")
    value = abs(value)
    degrees = int(value)
    minutes = (value - degrees) * 60
    return (f"{degrees:02d}{minutes:07.4f}" if lat else f"{degrees:03d}{minutes:07.4f}"), hemi


def nmea(
    points: list[tuple[datetime, float, float]], speed_mps: float = 15.0, status: str = "A"
) -> str:
    import pynmea2

    lines = []
    for at, lat, lon in points:
        la, ns = _ddmm(lat, True)
        lo, ew = _ddmm(lon, False)
        rmc = pynmea2.RMC(
            "GN",
            "RMC",
            (
                at.strftime("%H%M%S.00"),
                status,
                la,
                ns,
                lo,
                ew,
                f"{speed_mps / 0.514444:.1f}",
                "90.0",
                at.strftime("%d%m%y"),
                "",
                "",
                "A",
            ),
        )
        gga = pynmea2.GGA(
            "GN",
            "GGA",
            (
                at.strftime("%H%M%S.00"),
                la,
                ns,
                lo,
                ew,
                "1",
                "08",
                "0.9",
                "30.0",
                "M",
                "-3.0",
                "M",
                "",
                "",
            ),
        )
        lines += [str(gga), str(rmc)]
    return "\n".join(lines) + "\n"


def gpx(points: list[tuple[datetime, float, float]]) -> str:
    rows = "\n".join(
        f'<trkpt lat="{lat}" lon="{lon}"><time>{at.strftime("%Y-%m-%dT%H:%M:%SZ")}</time></trkpt>'
        for at, lat, lon in points
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
        f"{rows}</trkseg></trk></gpx>"
    )


def json_track(points: list[tuple[datetime, float, float]]) -> str:
    return json.dumps([{"time": at.isoformat(), "lat": lat, "lon": lon} for at, lat, lon in points])
