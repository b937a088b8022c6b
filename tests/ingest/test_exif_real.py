"""The real GPS photo (../shared/data/gps) with its EXIF block rewritten the way other cameras,
phones and editors write theirs: its picture bytes unchanged, its APP1 replaced by a TIFF
block built here tag by tag (any type, either byte order), or its XMP packet replaced."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest import exif
from ingest.media import probe
from tests.conftest import DATA_DIR

PHOTO = DATA_DIR / "gps" / "photo_gps_DSCN0010.jpg"
ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 2, 3, 4, 5, 7, 10
Tag = tuple[int, int, Any]  # (tag, type, value)


def _entry_bytes(e: str, typ: int, value: Any) -> tuple[int, bytes]:
    if typ == ASCII:
        return len(value) + 1, value.encode("latin-1") + b"\x00"
    if typ == UNDEFINED:
        return len(value), value
    if typ in (SHORT, LONG):
        return 1, struct.pack(e + ("H" if typ == SHORT else "L"), value)
    pair = "LL" if typ == RATIONAL else "ll"
    return len(value), b"".join(struct.pack(e + pair, n, d) for n, d in value)


def _tiff(ifd0: list[Tag], sub: list[Tag], gps: list[Tag], e: str = "<") -> bytes:
    """A TIFF header, IFD0 pointing at an Exif IFD and a GPS IFD, then the values."""
    ifd0 = [*ifd0, (exif.EXIF_IFD, LONG, 0), (exif.GPS_IFD, LONG, 0)]
    at0 = 8
    at_sub = at0 + 6 + 12 * len(ifd0)
    at_gps = at_sub + 6 + 12 * len(sub)
    at_data = at_gps + 6 + 12 * len(gps)
    data = bytearray()
    pointers = {exif.EXIF_IFD: at_sub, exif.GPS_IFD: at_gps}

    def ifd(entries: list[Tag], own_pointers: bool) -> bytes:
        out = struct.pack(e + "H", len(entries))
        for tag, typ, value in sorted(entries, key=lambda t: t[0]):
            if own_pointers and tag in pointers:
                out += struct.pack(e + "HHLL", tag, LONG, 1, pointers[tag])
                continue
            count, raw = _entry_bytes(e, typ, value)
            if len(raw) <= 4:
                out += struct.pack(e + "HHL", tag, typ, count) + raw.ljust(4, b"\x00")
            else:
                out += struct.pack(e + "HHLL", tag, typ, count, at_data + len(data))
                data.extend(raw + b"\x00" * (len(raw) % 2))
        return out + struct.pack(e + "L", 0)

    head = (b"II" if e == "<" else b"MM") + struct.pack(e + "HL", 42, at0)
    body = ifd(ifd0, True) + ifd(sub, False) + ifd(gps, False)
    return head + body + bytes(data)


def _segment(jpeg: bytes, signature: bytes) -> tuple[int, int] | None:
    """(start, end) of the APP1 segment whose payload starts with ``signature``."""
    at = jpeg.find(b"\xff\xe1")
    while at != -1:
        length = int.from_bytes(jpeg[at + 2 : at + 4], "big")
        if jpeg[at + 4 : at + 4 + len(signature)] == signature:
            return at, at + 2 + length
        at = jpeg.find(b"\xff\xe1", at + 2 + length)
    return None


def _replace_app1(jpeg: bytes, signature: bytes, payload: bytes) -> bytes:
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    found = _segment(jpeg, signature)
    if found is None:
        return jpeg[:2] + segment + jpeg[2:]
    return jpeg[: found[0]] + segment + jpeg[found[1] :]


LAT = (RATIONAL, [(43, 1), (28, 1), (2814, 1000)])
LON = (RATIONAL, [(11, 1), (53, 1), (6456, 1000)])
GPS = {1: (ASCII, "N"), 2: LAT, 3: (ASCII, "E"), 4: LON}
STAMP = {7: (RATIONAL, [(14, 1), (27, 1), (724, 100)]), 29: (ASCII, "2008:10:23")}
CAPTURE = {0x9003: (ASCII, "2008:10:22 16:28:39"), 0x9004: (ASCII, "2008:10:22 16:28:39")}
CHANGED = [(0x0132, ASCII, "2008:11:01 21:15:07")]  # IFD0 DateTime: when the file changed


def _photo(
    tmp_path: Path,
    gps: dict[int, Any] | None = None,
    sub: dict[int, Any] | None = None,
    endian: str = "<",
) -> Path:
    """The real photo with an EXIF block of these GPS and Exif IFD tags (None drops one)."""
    gps_tags = [(t, *v) for t, v in (gps if gps is not None else GPS | STAMP).items() if v]
    sub_tags = [(t, *v) for t, v in (sub if sub is not None else CAPTURE).items() if v]
    block = b"Exif\x00\x00" + _tiff(CHANGED, sub_tags, gps_tags, endian)
    out = tmp_path / f"photo-{len(list(tmp_path.iterdir()))}.jpg"
    out.write_bytes(_replace_app1(PHOTO.read_bytes(), b"Exif\x00\x00", block))
    return out


def _facts(photo: Path) -> tuple[str | None, str | None, float | None, float | None]:
    f = exif.read(photo)
    at = f.taken_at.isoformat() if f.taken_at else None
    return (
        at,
        f.time_source,
        f.latitude and round(f.latitude, 4),
        f.longitude and round(f.longitude, 4),
    )


GPS_FACTS = ("2008-10-23T14:27:07.240000+00:00", "gps", 43.4674, 11.8851)
ROME_CLOCK = ("2008-10-22T16:28:39+02:00", "camera_clock", 43.4674, 11.8851)
SHANGHAI_CLOCK = ("2008-10-22T16:28:39+08:00", "camera_clock", None, None)


@pytest.mark.parametrize("endian", ["<", ">"])
def test_rebuilt_block_in_either_byte_order_reads_as_the_camera_wrote_it(
    tmp_path: Path, endian: str
) -> None:
    assert _facts(_photo(tmp_path, endian=endian)) == GPS_FACTS == _facts(PHOTO)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({1: None}, id="no-latitude-ref"),  # was read as north
        pytest.param({3: None}, id="no-longitude-ref"),
        pytest.param({1: (ASCII, "X")}, id="unknown-ref"),
        pytest.param({1: (ASCII, "North")}, id="ref-not-one-letter"),
        pytest.param({2: (ASCII, "435")}, id="latitude-as-text"),  # was 4 deg 3' 5"
        pytest.param({2: (RATIONAL, [(43, 1), (75, 1), (0, 1)])}, id="minutes-75"),  # was 44.25
        pytest.param({2: (RATIONAL, [(43, 1), (28, 1), (61, 1)])}, id="seconds-61"),
        pytest.param({2: (RATIONAL, [(43, 0), (28, 1), (2, 1)])}, id="zero-denominator"),
        pytest.param(  # a sign and a ref: was 42.53 north, neither the sign nor the ref
            {1: (ASCII, "S"), 2: (SRATIONAL, [(-43, 1), (28, 1), (2814, 1000)])},
            id="negative-srational",
        ),
        pytest.param({2: (RATIONAL, [(4347, 100)])}, id="one-value"),
        pytest.param({9: (ASCII, "V")}, id="status-void"),
    ],
)
def test_gps_tags_off_the_standard_are_no_place(tmp_path: Path, change: dict[int, Any]) -> None:
    """No hemisphere or value is guessed: the place is left out, the capture time is the
    camera's clock in the configured zone (no place to look one up)."""
    assert _facts(_photo(tmp_path, GPS | STAMP | change)) == SHANGHAI_CLOCK


def test_lower_case_ref_is_its_hemisphere(tmp_path: Path) -> None:
    photo = _photo(tmp_path, GPS | STAMP | {1: (ASCII, "s"), 3: (ASCII, "w")})
    assert _facts(photo) == (GPS_FACTS[0], "gps", -43.4674, -11.8851)


@pytest.mark.parametrize(
    "change,expected",
    [
        ({29: None}, ROME_CLOCK),  # a GPS time without its date is not used
        ({29: (ASCII, "2008-10-23")}, GPS_FACTS),  # dashes instead of colons
        ({7: (RATIONAL, [(24, 1), (0, 1), (0, 1)])}, ROME_CLOCK),
        ({7: (RATIONAL, [(14, 0), (27, 1), (7, 1)])}, ROME_CLOCK),
        # 0/0 where a part is not used: 0 (once no place, or no GPS time)
        (
            {7: (RATIONAL, [(14, 1), (27, 1), (0, 0)])},
            ("2008-10-23T14:27:00+00:00", *GPS_FACTS[1:]),
        ),
        ({2: (RATIONAL, [(43, 1), (280469, 10000), (0, 0)])}, GPS_FACTS),
        # A phone's placeholder for a position without a GPS time
        ({29: (ASCII, "1970:01:01"), 7: (RATIONAL, [(0, 1), (0, 1), (0, 1)])}, ROME_CLOCK),
    ],
)
def test_gps_time_stamp_variants(
    tmp_path: Path, change: dict[int, Any], expected: tuple[Any, ...]
) -> None:
    assert _facts(_photo(tmp_path, GPS | STAMP | change)) == expected


def _stamp(local: str, offset: str | None = None, subsec: str | None = None) -> dict[int, Any]:
    out: dict[int, Any] = {0x9003: (ASCII, local)}
    if offset is not None:
        out[0x9011] = (ASCII, offset)
    if subsec is not None:
        out[0x9291] = (ASCII, subsec)
    return out


@pytest.mark.parametrize(
    "sub,expected",
    [
        (_stamp("2008:10:22 16:28:39", "+02:00"), "2008-10-22T16:28:39+02:00"),
        (_stamp("2008:10:22 16:28:39", "+0200"), "2008-10-22T16:28:39+02:00"),
        (_stamp("2008:10:22 16:28:39", "+02"), "2008-10-22T16:28:39+02:00"),
        (_stamp("2008:10:22 14:28:39", "Z"), "2008-10-22T14:28:39+00:00"),
        (_stamp("2008:10:22 16:28:39", "+02:00", "123"), "2008-10-22T16:28:39.123000+02:00"),
        (_stamp("2008:10:22 16:28:39", ""), "camera_clock"),
        (_stamp("2008:10:22 16:28:39", "   :  "), "camera_clock"),
        (_stamp("2008:10:22 16:28:39", "+25:00"), "camera_clock"),
        # No capture time: the file-change DateTime (nine days later) is not one
        (_stamp("0000:00:00 00:00:00"), None),
        (_stamp("    :  :     :  :  "), None),
        ({0x9004: (ASCII, "2008:10:22 16:28:39"), 0x9012: (ASCII, "+02:00")}, "digitized"),
    ],
)
def test_capture_time_and_offset_variants(
    tmp_path: Path, sub: dict[int, Any], expected: str | None
) -> None:
    facts = exif.read(_photo(tmp_path, GPS, sub))
    at = facts.taken_at.isoformat() if facts.taken_at else None
    if expected == "camera_clock":
        assert (at, facts.time_source, facts.time_zone) == (*ROME_CLOCK[:2], "Europe/Rome")
    elif expected == "digitized":
        assert (at, facts.time_source) == ("2008-10-22T16:28:39+02:00", "exif_offset")
    elif expected is None:
        assert (at, facts.time_source, facts.latitude is not None) == (None, None, True)
    else:
        assert (at, facts.time_source) == (expected, "exif_offset")


def test_maker_note_junk_and_a_cut_block(tmp_path: Path) -> None:
    junk = CAPTURE | {0x927C: (UNDEFINED, bytes(range(256)) * 40)}
    assert _facts(_photo(tmp_path, sub=junk)) == GPS_FACTS
    whole = _photo(tmp_path).read_bytes()
    start, _ = _segment(whole, b"Exif\x00\x00") or (0, 0)
    cut = tmp_path / "cut.jpg"  # the APP1 says 60 bytes; its IFDs point past them
    cut.write_bytes(whole[:start] + b"\xff\xe1\x00\x3c" + whole[start + 4 : start + 62])
    cut.write_bytes(cut.read_bytes() + whole[whole.index(b"\xff\xdb") :])
    assert _facts(cut) == (None, None, None, None)


def test_looping_ifds(tmp_path: Path) -> None:
    """IFD0's next-IFD offset pointing back at IFD0, and a GPS IFD pointing at IFD0."""
    block = bytearray(_tiff(CHANGED, [(t, *v) for t, v in CAPTURE.items()], []))
    next_at = 8 + 2 + 12 * 3  # IFD0: DateTime, Exif and GPS pointers
    block[next_at : next_at + 4] = (8).to_bytes(4, "little")
    photo = tmp_path / "loop.jpg"
    photo.write_bytes(_replace_app1(PHOTO.read_bytes(), b"Exif\x00\x00", b"Exif\x00\x00" + block))
    assert _facts(photo) == SHANGHAI_CLOCK
    cycle = _photo(tmp_path, GPS | STAMP | {exif.GPS_IFD: (LONG, 8)})
    assert _facts(cycle) == GPS_FACTS


def _xmp(props: str) -> bytes:
    return (
        b"http://ns.adobe.com/xap/1.0/\x00"
        + (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
            '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
            'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            f"{props}/></rdf:RDF></x:xmpmeta>"
        ).encode()
    )


@pytest.mark.parametrize(
    "props,expected",
    [
        (
            'exif:GPSLatitude="43,28.0469N" exif:GPSLongitude="11,53.1076E" '
            'exif:DateTimeOriginal="2008-10-22T16:28:39+02:00"',
            ("2008-10-22T16:28:39+02:00", "exif_offset", 43.4674, 11.8851),
        ),
        (
            'exif:GPSLatitude="33,51,0S" exif:GPSLongitude="70,40.0W" '
            'exif:GPSTimeStamp="2008-10-23T14:27:07Z" xmp:CreateDate="2008-10-22T16:28:39"',
            ("2008-10-23T14:27:07+00:00", "gps", -33.85, -70.6667),
        ),
        (
            'exif:GPSLatitude="43,28.0469N" exif:GPSLongitude="11,53.1076E" '
            'xmp:CreateDate="2008-10-22T16:28:39"',
            ROME_CLOCK,
        ),
        ('exif:GPSLatitude="99,99N" exif:GPSLongitude="abc" xmp:CreateDate="0000"', (None,) * 4),
        (  # before datetime.min in UTC: once an OverflowError
            'exif:GPSLatitude="43,28.0469N" exif:GPSLongitude="11,53.1076E" '
            'exif:GPSTimeStamp="0001-01-01T00:00:00+14:00" '
            'exif:DateTimeOriginal="0001-01-01T00:00:00+14:00"',
            (None, None, 43.4674, 11.8851),
        ),
    ],
)
def test_xmp_only_gps_and_time(tmp_path: Path, props: str, expected: tuple[Any, ...]) -> None:
    """A phone editor's copy: no GPS or capture time in EXIF, the same tags in XMP."""
    bare = _photo(tmp_path, gps={}, sub={})
    bare.write_bytes(_replace_app1(bare.read_bytes(), _xmp("")[:29], _xmp(props)))
    assert _facts(bare) == expected


def test_exif_gps_wins_over_xmp(tmp_path: Path) -> None:
    photo = _photo(tmp_path)
    photo.write_bytes(
        _replace_app1(
            photo.read_bytes(),
            _xmp("")[:29],
            _xmp('exif:GPSLatitude="33,51,0S" exif:GPSLongitude="70,40.0W"'),
        )
    )
    assert _facts(photo) == GPS_FACTS


@pytest.mark.parametrize("orientation,size,rotation", [(1, (640, 480), 0), (6, (480, 640), 90)])
def test_orientation_gives_the_display_size(
    tmp_path: Path, orientation: int, size: tuple[int, int], rotation: int
) -> None:
    """The real photo's own IFD0 Orientation entry (SHORT 1) patched in place."""
    raw = PHOTO.read_bytes()
    entry = b"\x12\x01\x03\x00\x01\x00\x00\x00\x01\x00"
    assert raw.count(entry) == 1
    photo = tmp_path / "turned.jpg"
    photo.write_bytes(raw.replace(entry, entry[:8] + bytes([orientation, 0])))
    info = probe(photo)
    assert ((info.width, info.height), info.rotation) == (size, rotation)
    assert exif.read(photo).taken_at == datetime(2008, 10, 23, 14, 27, 7, 240000, tzinfo=UTC)


def test_fraud_checks_read_the_gps_stamp_as_the_intake_does(tmp_path: Path) -> None:
    """A phone's 1970:01:01 placeholder was once held against the camera clock (56 years
    apart: a tamper sign on an untouched photo); the real stamp still is."""
    from workers.fraud import _photo_facts

    placeholder = GPS | {29: (ASCII, "1970:01:01"), 7: (RATIONAL, [(0, 1), (0, 1), (0, 1)])}
    assert _photo_facts(_photo(tmp_path, placeholder))[1]["gps_time"] is None
    real = _photo_facts(PHOTO)[1]
    assert real["gps_time"] == datetime(2008, 10, 23, 14, 27, 7, 240000, tzinfo=UTC)
    assert real["exif_time"].isoformat() == "2008-10-22T16:28:39+02:00"  # the camera clock
