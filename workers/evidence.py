"""Evidence files for one candidate: the best frame (annotated and raw), the plate crop and,
for videos, a clip trimmed around the sightings."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2

from ingest.media import MediaInfo
from models.types import Image
from workers.frames import H264, run_ffmpeg
from workers.recognise import Analysis, Candidate

CLIP_MARGIN_S = 2.0


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    role: str
    """frame_annotated, frame, plate_crop or clip."""
    name: str
    content_type: str
    data: bytes


def _jpeg(image: Image, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def annotate(image: Image, candidate: Candidate) -> Image:
    out = image.copy()
    best = candidate.best
    thickness = max(2, image.shape[1] // 400)
    if best.vehicle is not None:
        b = best.vehicle.box
        cv2.rectangle(out, (int(b.x1), int(b.y1)), (int(b.x2), int(b.y2)), (0, 200, 255), thickness)
    corners = [(int(x), int(y)) for x, y in best.plate.corners]
    for a, b2 in zip(corners, corners[1:] + corners[:1], strict=True):
        cv2.line(out, a, b2, (0, 255, 0), thickness)
    label = f"t={best.pts:.2f}s  {candidate.vehicle_class}  conf={candidate.plate_confidence:.2f}"
    cv2.putText(out, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(
        out, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA
    )
    return out


def trim_clip(source: Path, t_start: float, t_end: float) -> bytes:
    """The part of ``source`` around [t_start, t_end]: stream copy, re-encoded only if needed."""
    start = max(0.0, t_start - CLIP_MARGIN_S)
    duration = (t_end - t_start) + 2 * CLIP_MARGIN_S
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        base = ("-ss", f"{start:.3f}", "-i", str(source), "-t", f"{duration:.3f}", "-an")
        copied = run_ffmpeg(*base, "-c:v", "copy", "-movflags", "+faststart", str(out), check=False)
        if copied.returncode != 0 or not out.stat().st_size:
            run_ffmpeg(*base, *H264, str(out))
        return out.read_bytes()


def build(
    analysis: Analysis, candidate: Candidate, source: Path, info: MediaInfo
) -> list[EvidenceFile]:
    frame = analysis.best_frames[candidate.best.frame_index]
    crop = analysis.plate_crops[id(candidate.best.plate)]
    stem = f"{candidate.plate}_{candidate.best.frame_index:05d}"
    files = [
        EvidenceFile(
            "frame_annotated",
            f"{stem}_annotated.jpg",
            "image/jpeg",
            _jpeg(annotate(frame, candidate)),
        ),
        EvidenceFile("frame", f"{stem}_frame.jpg", "image/jpeg", _jpeg(frame, 95)),
        EvidenceFile(
            "plate_crop",
            f"{stem}_plate.png",
            "image/png",
            cv2.imencode(".png", cv2.resize(crop, None, fx=2, fy=2))[1].tobytes(),
        ),
    ]
    if info.kind == "video":
        files.append(
            EvidenceFile(
                "clip",
                f"{stem}_clip.mp4",
                "video/mp4",
                trim_clip(source, candidate.t_start, candidate.t_end),
            )
        )
    return files
