"""Hostile media through the real intake (one-request form and tus), on the real store and
database: truncated photos and clips, a JPEG header on a ZIP body, bogus MP4 boxes (a video
stream with no codec once raised AttributeError, a 500),
decompression bombs, a video of enormous declared size, and photos whose EXIF lies (GPS
rationals over zero, NaN, a capture time of year 1 at +14:00, a 60 kB tag). Refused media gets
a 4xx with the error body and leaves no submission, no media row and no stored object; a photo
with lying EXIF is taken, its lies ignored (the year-1 time once overflowed to a 500)."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select

from api.app import create_app
from ingest.db import MediaObject, Submission
from ingest.migrate import upgrade
from ingest.submissions import original_key
from tests.api.roles import role_headers
from tests.conftest import DATA_DIR, MODELS_DIR, s3_overrides
from tests.media import png_bomb, synthetic_video
from workers.frames import run_ffmpeg

PHOTO = (DATA_DIR / "images" / "dev_vehicle_014.jpg").read_bytes()
TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769


def _sof(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a JPEG) with its frame header claiming ``width`` x ``height``."""
    at = 2
    while data[at] == 0xFF:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]
        at += 2 + length
    raise ValueError("no frame header")


def _with_exif(change: Callable[[Image.Exif], None]) -> bytes:
    with Image.open(io.BytesIO(PHOTO)) as im:
        exif = im.getexif()
        change(exif)
        out = io.BytesIO()
        im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _gps_over_zero(exif: Image.Exif) -> None:
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 3: "E", 29: "2026:01:01"})
    gps[2] = (IFDRational(1, 0), IFDRational(0, 0), IFDRational(5, 0))
    gps[4] = (IFDRational(10**9, 1), 1, 1)
    gps[7] = (IFDRational(1, 0), 1, 1)


def _year_one(exif: Image.Exif) -> None:
    exif.get_ifd(EXIF_IFD).update({0x9003: "0001:01:01 00:00:00", 0x9011: "+14:00"})


def _huge_tag(exif: Image.Exif) -> None:
    exif.get_ifd(EXIF_IFD)[0x9286] = b"A" * 60_000  # UserComment


def _scan_bomb(scans: int) -> bytes:
    """A progressive JPEG with its smallest scan repeated: libjpeg passes over every block for
    each (50,000 of them took 13 s of the probe's CPU)."""
    out = io.BytesIO()
    Image.effect_noise((1000, 1000), 64).convert("RGB").save(out, "JPEG", progressive=True)
    data = out.getvalue()
    starts = [i for i in range(len(data) - 1) if data[i : i + 2] == b"\xff\xda"]
    ends = [*starts[1:], data.rindex(b"\xff\xd9")]
    first, end = min(zip(starts, ends, strict=True), key=lambda span: span[1] - span[0])
    return data[:-2] + data[first:end] * scans + data[-2:]


def _mjpeg_claiming(folder: Path, size: int) -> bytes:
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=16x16:d=0.2:r=25",
        "-c:v",
        "mjpeg",
        str(folder / "m.avi"),
    )
    data = bytearray((folder / "m.avi").read_bytes())
    at = data.find(b"\xff\xc0\x00\x11\x08")
    while at >= 0:
        data[at + 5 : at + 9] = struct.pack(">HH", size, size)
        at = data.find(b"\xff\xc0\x00\x11\x08", at + 1)
    return bytes(data)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, int]]:
    """Name -> (bytes, the status the intake must answer)."""
    folder = tmp_path_factory.mktemp("hostile")
    clip = synthetic_video(folder / "good.mp4", seconds=1.0).read_bytes()
    moov = clip.find(b"moov")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("payload.txt", "not a photo " * 500)
    tiny = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(tiny, "JPEG")
    run_ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=8200x8200:r=25", "-frames:v", "1",
               "-c:v", "libx264", "-preset", "ultrafast", str(folder / "huge.mp4"))  # fmt: skip
    return {
        "empty.jpg": (b"", 400),
        "truncated.jpg": (PHOTO[: len(PHOTO) // 2], 422),
        "header_only.jpg": (PHOTO[:300], 422),
        "jpeg_on_zip.jpg": (b"\xff\xd8\xff\xe0" + zipped.getvalue(), 422),
        "bomb.jpg": (_sof(tiny.getvalue(), 65_000, 65_000), 413),
        "big.jpg": (_sof(tiny.getvalue(), 10_000, 10_000), 413),
        "bomb.png": (png_bomb(), 413),
        "scan_bomb.jpg": (_scan_bomb(20_000), 422),
        "bogus_moov.mp4": (clip[:moov] + b"\xff" * 64 + clip[moov + 64 :], 422),
        "ftyp_only.mp4": (clip[:32], 422),
        # a video stream with no codec (no sample description): PyAV gives no codec context
        "no_minf.mp4": (clip.replace(b"minf", b"\0\0\0\x08", 1), 422),
        "no_stsd.mp4": (clip.replace(b"stsd", b"zzzz", 1), 422),
        "truncated.mp4": (clip[: len(clip) // 3], 422),
        "huge_frames.mp4": ((folder / "huge.mp4").read_bytes(), 422),
        "mjpeg_16000.avi": (_mjpeg_claiming(folder, 16_000), 422),
        "sync_bytes.ts": ((b"G" + b"\xff" * 187) * 40, 422),
        "riff.avi": (b"RIFF\x00\x00\x00\x00AVI " + b"\x00" * 1000, 422),
    }


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, str], Any]]:
    from settings import load_settings

    data_dir = tmp_path_factory.mktemp("var")
    settings = load_settings(None, data_dir=data_dir, models_dir=MODELS_DIR)
    upgrade(settings.database_url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, role_headers(client)["reporter"], settings


def _stored(api: tuple[TestClient, dict[str, str], Any]) -> tuple[int, int, int]:
    client, _, settings = api
    services: Any = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        rows = [
            session.scalar(select(func.count()).select_from(t)) for t in (Submission, MediaObject)
        ]
    objects = sum(1 for p in (settings.data_dir / "objects").rglob("*") if p.is_file())
    return int(rows[0] or 0), int(rows[1] or 0), objects


def _refused(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    body: dict[str, Any] = answer.json()
    assert body["error"] and body["detail"], body
    return body


def test_hostile_media_in_one_request_is_refused_and_nothing_is_kept(
    api: tuple[TestClient, dict[str, str], Any], hostile: dict[str, tuple[bytes, int]]
) -> None:
    client, reporter, _ = api
    before = _stored(api)
    for name, (data, status) in hostile.items():
        started = time.process_time()
        answer = client.post("/v1/submissions", files={"file": (name, data)}, headers=reporter)
        _refused(answer, status)
        assert time.process_time() - started < 5, name
    assert _stored(api) == before
    big = client.post(
        "/v1/submissions",
        files={"file": ("v.mp4", hostile["huge_frames.mp4"][0])},
        headers=reporter,
    )
    assert "8200x8200" in big.json()["detail"]


@pytest.mark.parametrize(
    "name", ["truncated.jpg", "jpeg_on_zip.jpg", "bogus_moov.mp4", "bomb.png", "huge_frames.mp4"]
)
def test_hostile_media_by_tus_fails_the_upload_and_keeps_nothing(
    api: tuple[TestClient, dict[str, str], Any], hostile: dict[str, tuple[bytes, int]], name: str
) -> None:
    client, reporter, settings = api
    data, status = hostile[name]
    before = _stored(api)
    media = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "filename": name}
    opened = client.post(
        "/v1/events", json={"event_id": f"tus-{name}", "media": media}, headers=reporter
    )
    assert opened.status_code == 201, opened.text
    url = opened.json()["upload_url"]
    answer = client.patch(url, content=data, headers={**reporter, **TUS, "Upload-Offset": "0"})
    assert _refused(answer, status)["error"] == "bad_media"
    assert client.head(url, headers={**reporter, **TUS}).status_code == 410  # failed for good
    again = client.patch(url, content=data, headers={**reporter, **TUS, "Upload-Offset": "0"})
    assert again.status_code in (409, 410), again.text
    assert _stored(api) == before
    assert not list((settings.data_dir / "uploads").glob("*.part"))


@pytest.mark.parametrize("change", [_gps_over_zero, _year_one, _huge_tag])
def test_photos_whose_exif_lies_are_taken_without_the_lies(
    api: tuple[TestClient, dict[str, str], Any], change: Callable[[Image.Exif], None]
) -> None:
    client, reporter, _ = api
    data = _with_exif(change)
    answer = client.post("/v1/submissions", files={"file": ("p.jpg", data)}, headers=reporter)
    assert answer.status_code == 201, answer.text
    services: Any = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        submission = session.get(Submission, answer.json()["id"])
        assert submission is not None
        assert (submission.latitude, submission.longitude, submission.place_source) == (
            None,
            None,
            None,
        )
        assert submission.clip_start is None and submission.time_source is None


def test_a_jpeg_with_a_zip_appended_is_still_a_photo(
    api: tuple[TestClient, dict[str, str], Any],
) -> None:
    client, reporter, _ = api
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("a.txt", "appended")
    answer = client.post(
        "/v1/submissions", files={"file": ("p.jpg", PHOTO + zipped.getvalue())}, headers=reporter
    )
    assert answer.status_code == 201 and answer.json()["kind"] == "image", answer.text


@pytest.mark.integration
def test_a_truncated_clip_sent_direct_to_s3_is_refused_in_place(
    make_settings: Callable[..., Any], s3_server: Any, hostile: dict[str, tuple[bytes, int]]
) -> None:
    """Checked in place (the parts' MD5s match: no read-back): the probe reads the object by
    range, finds the last box running past its end, fails the upload and drops the object."""
    settings = make_settings(**s3_overrides(s3_server, f"hostile-{uuid.uuid4().hex[:8]}"))
    upgrade(settings.database_url)
    data = hostile["truncated.mp4"][0]
    with TestClient(create_app(settings)) as client:
        reporter = role_headers(client)["reporter"]
        services: Any = client.app.state.services  # type: ignore[attr-defined]
        sha = hashlib.sha256(data).hexdigest()
        media = {"size": len(data), "sha256": sha, "filename": "cut.mp4"}
        event = {"event_id": "cut-direct", "media": media, "transfer": "direct"}
        opened = client.post("/v1/events", json=event, headers=reporter).json()
        (part,) = opened["direct"]["parts"]
        httpx.put(part["url"], content=data).raise_for_status()
        md5 = [{"number": 1, "md5": hashlib.md5(data).hexdigest()}]
        url = opened["direct"]["complete_url"]
        answer = client.post(url, json={"parts": md5}, headers=reporter)
        assert _refused(answer, 422)["error"] == "bad_media"
        assert "truncated" in answer.json()["detail"]
        assert not services.store.exists(original_key(sha))
        with services.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Submission)) == 0
        head = client.head(opened["upload_url"], headers={**reporter, **TUS})
        assert head.status_code == 410


@pytest.mark.integration
def test_a_part_sent_again_at_its_planned_size_completes(
    make_settings: Callable[..., Any], s3_server: Any
) -> None:
    """A part first sent short, then again whole: SeaweedFS lists both (S3 keeps the last),
    in no set order; the planned size picks the right one, every time."""
    settings = make_settings(**s3_overrides(s3_server, f"resend-{uuid.uuid4().hex[:8]}"))
    upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        reporter = role_headers(client)["reporter"]
        for n in range(4):
            data = PHOTO + bytes([n])  # four originals, four multipart uploads
            media = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            event = {"event_id": f"resend-{n}", "media": media, "transfer": "direct"}
            opened = client.post("/v1/events", json=event, headers=reporter).json()
            (part,) = opened["direct"]["parts"]
            httpx.put(part["url"], content=data[:100]).raise_for_status()
            httpx.put(part["url"], content=data).raise_for_status()
            done = client.post(opened["direct"]["complete_url"], headers=reporter)
            assert done.status_code == 200 and done.json()["submission_id"], done.text
