"""The evidence package of one candidate: keyframes before, during and after the interval
(annotated and untouched), the best plate crop, the clip trimmed around the interval,
``metadata.json`` (what fired, with which models and rule data, when and where) and
``manifest.json`` (the SHA-256 of every file and of the untouched original)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ingest.media import MediaInfo
from models.types import Image
from rules import ClipFacts
from workers.beside import Beside
from workers.frames import H264, Frame, frames_at, run_ffmpeg
from workers.recognise import Analysis, Candidate, box_at
from workers.scene import detect_lanes

CLIP_MARGIN_S = 2.0
KEYFRAME_MARGIN_S = 1.0
METADATA_SCHEMA = "roadwitness.evidence/1"
MANIFEST_SCHEMA = "roadwitness.manifest/1"
FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    role: str
    """frame_before|during|after (annotated), raw_before|during|after, plate_crop, clip,
    metadata or manifest."""
    name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Context:
    """What the package says about where the media came from."""

    submission_id: str
    original_sha256: str
    original_key: str
    models: dict[str, dict[str, str]]
    rules_version: str
    device_id: str | None = None
    time_source: str | None = None
    place_source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _jpeg(image: Image, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


@cache
def _font(size: int) -> Any:
    from PIL import ImageFont

    for path in FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _caption(image: Image, lines: list[str]) -> Image:
    """White text on a dark band at the top; PIL draws it so Chinese plates print."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    size = max(16, image.shape[0] // 36)
    band = (size + 8) * len(lines) + 8
    # only the band and the picture's top rows (where a large font's descenders reach) go
    # through PIL: the rest of the picture is not converted back and forth
    reach = min(image.shape[0], size)
    top = np.vstack([np.full((band, image.shape[1], 3), 24, np.uint8), image[:reach]])
    canvas = PILImage.fromarray(cv2.cvtColor(top, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((10, 6 + i * (size + 8)), line, fill=(255, 255, 255), font=_font(size))
    drawn = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR)
    return np.asarray(np.vstack([drawn, image[reach:]]), np.uint8)


def annotate(
    image: Image,
    analysis: Analysis,
    candidate: Candidate,
    pts: float,
    facts: ClipFacts,
    moment: str,
) -> Image:
    out = image.copy()
    thickness = max(2, image.shape[1] // 400)
    box = box_at(analysis, candidate.track_id, pts)
    judged = facts.scenes.get(pts)  # the scene the rules judged at this sampled frame
    scene = judged or detect_lanes(image, pts, [box] if box is not None else [])
    for line, colour in ((scene.edge_line, (255, 255, 255)), (scene.bus_line, (0, 215, 255))):
        if line is not None:
            cv2.line(out, *line.points(), (255, 0, 255), thickness + 2)
            cv2.line(out, *line.points(), colour, thickness)
    if box is not None:
        cv2.rectangle(out, (int(box.x1), int(box.y1)), (int(box.x2), int(box.y2)), (0, 0, 255), 3)
    best = candidate.best
    if best is not None and abs(best.pts - pts) < 1e-3:
        corners = np.array(best.plate.corners, np.int32)
        cv2.polylines(out, [corners], True, (0, 255, 0), thickness)
    at = facts.time_at(pts)
    place = facts.place_at(pts)
    f = candidate.finding
    lines = [
        f"{moment.upper()}  {f.rule}  plate {candidate.plate or '(unread)'}  "
        f"{candidate.vehicle_class}  confidence {f.confidence:.2f}",
        f"video {pts:.2f} s   wall {at.isoformat(timespec='seconds') if at else 'unknown'}   "
        + (f"GPS {place.latitude:.6f}, {place.longitude:.6f}" if place else "GPS unknown"),
    ]
    return _caption(out, lines)


def trim_clip(
    source: Path, t_start: float, t_end: float, key_times: list[float] | None = None
) -> bytes:
    """The part of ``source`` around [t_start, t_end]: stream copy, re-encoded only if needed.
    With the stream's ``key_times`` (noted by the decoding pass) the cut starts on the last key
    frame before the margin, so the copy needs no decoding and starts on a whole picture."""
    start = max(0.0, t_start - CLIP_MARGIN_S)
    if key_times:
        start = max((k for k in key_times if k <= start + 1e-3), default=0.0)
    duration = (t_end + CLIP_MARGIN_S) - start
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        base = ("-ss", f"{start:.3f}", "-i", str(source), "-t", f"{duration:.3f}", "-an")
        copied = run_ffmpeg(*base, "-c:v", "copy", "-movflags", "+faststart", str(out), check=False)
        if copied.returncode != 0 or not out.stat().st_size:
            run_ffmpeg(*base, *H264, str(out))
        return out.read_bytes()


def moments(candidate: Candidate, info: MediaInfo) -> dict[str, float]:
    """Video times of the before / during / after keyframes (one for a photo)."""
    f = candidate.finding
    if info.kind == "image":
        return {"during": 0.0}
    end = max(0.0, info.duration_s - 0.05)
    return {
        "before": max(0.0, f.t_start - KEYFRAME_MARGIN_S),
        "during": f.t_key,
        "after": min(end, f.t_end + KEYFRAME_MARGIN_S),
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def metadata(
    candidate: Candidate, facts: ClipFacts, context: Context, times: dict[str, float]
) -> dict[str, Any]:
    f = candidate.finding
    places = {}
    for moment, pts in times.items():
        p = facts.place_at(pts)
        places[moment] = {
            "video_s": round(pts, 3),
            "wall_time": _iso(facts.time_at(pts)),
            "latitude": p.latitude if p else None,
            "longitude": p.longitude if p else None,
        }
    return {
        "schema": METADATA_SCHEMA,
        "rule": {"id": f.rule, "version": int(f.rule.rsplit("@", 1)[1])},
        "rules_data_version": context.rules_version,
        "violation": f.violation,
        "explanation": f.explanation,
        "confidence": f.confidence,
        "interval_s": [round(f.t_start, 3), round(f.t_end, 3)],
        "vehicle": {"track": candidate.track_id, "class": candidate.vehicle_class},
        "plate": {
            "text": candidate.plate,
            "confidence": round(candidate.plate_confidence, 4),
            "colour": candidate.plate_colour,
        },
        "models": context.models,
        "submission": context.submission_id,
        "device": context.device_id,
        "time_source": context.time_source,
        "place_source": context.place_source,
        "moments": places,
        "original": {"sha256": context.original_sha256, "key": context.original_key},
        **context.extra,
    }


def manifest(files: list[EvidenceFile], context: Context) -> dict[str, Any]:
    return {
        "schema": MANIFEST_SCHEMA,
        "original": {"sha256": context.original_sha256, "key": context.original_key},
        "files": [
            {"name": f.name, "role": f.role, "sha256": f.sha256, "size": len(f.data)} for f in files
        ],
    }


def build(
    analysis: Analysis,
    candidate: Candidate,
    source: Path,
    info: MediaInfo,
    facts: ClipFacts,
    context: Context,
    frames: dict[float, Frame] | None = None,
    key_times: list[float] | None = None,
) -> list[EvidenceFile]:
    """The package of one candidate; ``frames`` from the decoding pass (``KeptFrames``) or
    :func:`keyframes` (decoded here if not given), ``key_times`` where the clip may be cut."""
    times = moments(candidate, info)
    beside = Beside()  # the clip is cut (by an ffmpeg process) while the frames are drawn
    try:
        clip = (
            beside.submit(trim_clip, source, candidate.t_start, candidate.t_end, key_times)
            if info.kind == "video"
            else None
        )
        files = _package(analysis, candidate, source, info, facts, times, frames)
        if clip is not None:
            name = f"{_stem(candidate)}_clip.mp4"
            files.append(EvidenceFile("clip", name, "video/mp4", clip.result()))
    finally:
        beside.close()
    meta = json.dumps(metadata(candidate, facts, context, times), ensure_ascii=False, indent=2)
    files.append(EvidenceFile("metadata", "metadata.json", "application/json", meta.encode()))
    listing = json.dumps(manifest(files, context), ensure_ascii=False, indent=2)
    files.append(EvidenceFile("manifest", "manifest.json", "application/json", listing.encode()))
    return files


def _stem(candidate: Candidate) -> str:
    return candidate.key.replace(":", "_").replace("@", "-")


def _package(
    analysis: Analysis,
    candidate: Candidate,
    source: Path,
    info: MediaInfo,
    facts: ClipFacts,
    times: dict[str, float],
    frames: dict[float, Frame] | None,
) -> list[EvidenceFile]:
    """The keyframes (annotated and raw) and the plate crop of one candidate."""
    if frames is None or not all(t in frames for t in times.values()):
        frames = frames_at(source, info, list(times.values()))
    stem = _stem(candidate)
    files = []
    for moment, pts in times.items():
        frame = frames[pts]
        annotated = annotate(frame.image, analysis, candidate, frame.pts, facts, moment)
        files.append(
            EvidenceFile(f"frame_{moment}", f"{stem}_{moment}.jpg", "image/jpeg", _jpeg(annotated))
        )
        files.append(
            EvidenceFile(
                f"raw_{moment}",
                f"{stem}_{moment}_raw.jpg",
                "image/jpeg",
                frame.jpeg or _jpeg(frame.image, 95),
            )
        )
    best = candidate.best
    if best is not None and best.key in analysis.plate_crops:
        crop = analysis.plate_crops[best.key]
        png = cv2.imencode(".png", cv2.resize(crop, None, fx=2, fy=2))[1].tobytes()
        files.append(EvidenceFile("plate_crop", f"{stem}_plate.png", "image/png", png))
    return files
