"""Throughput on a real-pixel 1080p clip: our pipeline, the plain way, and decoding alone.

    .venv/bin/python -m benchmarks.throughput [CLIP] [--fps 5] [--seconds 6] [--json OUT]

Without CLIP, a 1080p30 H.264 pan over a real CCPD photo is made (roadwitness.samples). In one
run: (a) ours: frames sampled at --fps by their own timestamps, vehicles detected and tracked,
plates found on the frame, warped and read under the plate grammar, votes per track;
(b) plain: ``YOLO(weights).track(source=clip, stream=True)`` on every frame with OCR
(RapidOCR detection + recognition) on every vehicle box, the same weights; (c) decode only.
Prints seconds of video per wall-second, per-stage time, peak RSS, plates read and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from ingest.media import probe
from models.grammar import is_valid_plate, normalise
from models.plate_reader import rectify
from models.registry import ModelSet
from models.weights import resolve
from roadwitness.samples import PAN_PHOTO, make_pan_video
from workers.frames import iter_frames
from workers.recognise import analyse

SHARED = Path(__file__).resolve().parents[2] / "shared"


def peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def figures(video_s: float, wall: float, frames: int, plates: list[str]) -> dict[str, Any]:
    return {
        "video_s_per_s": round(video_s / wall, 3),
        "wall_s": round(wall, 2),
        "frames": frames,
        "peak_rss_mb": peak_rss_mb(),
        "plates": plates,
    }


def ours(clip: Path, fps: float, models: ModelSet) -> dict[str, Any]:
    info = probe(clip)
    t0 = time.perf_counter()
    analysis = analyse(models, iter_frames(clip, info, fps, 100_000), fps=fps)
    wall = time.perf_counter() - t0
    stages = {"decode": 0.0, "vehicles": 0.0, "plates": 0.0, "read": 0.0}
    t = time.perf_counter()
    for frame in iter_frames(clip, info, fps, 100_000):  # the same work, stage by stage
        stages["decode"] += time.perf_counter() - t
        t = time.perf_counter()
        models.vehicles.detect(frame.image)
        stages["vehicles"] += time.perf_counter() - t
        t = time.perf_counter()
        found = models.plates.detect(frame.image)
        stages["plates"] += time.perf_counter() - t
        t = time.perf_counter()
        for plate in found:
            models.reader.read(rectify(frame.image, plate), plate.double_layer)
        stages["read"] += time.perf_counter() - t
        t = time.perf_counter()
    result = figures(
        info.duration_s, wall, analysis.frames, sorted(g.plate for g in analysis.plate_groups)
    )
    result["stage_ms_per_frame"] = {
        k: round(1000 * v / max(analysis.frames, 1), 1) for k, v in stages.items()
    }
    return result


def plain(clip: Path, models_dir: Path) -> dict[str, Any]:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from rapidocr_onnxruntime import RapidOCR
    from ultralytics import YOLO

    weights, _ = resolve(models_dir, "yolov8n_int8_tflite")
    ocr = RapidOCR(
        det_model_path=str(models_dir / "ch_PP-OCRv4_det_infer.onnx"),
        rec_model_path=str(models_dir / "ch_PP-OCRv4_rec_infer.onnx"),
        cls_model_path=str(models_dir / "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
    )
    model = YOLO(str(weights), task="detect")
    info = probe(clip)
    plates: set[str] = set()
    frames = 0
    t0 = time.perf_counter()
    for result in model.track(
        source=str(clip), stream=True, classes=[2, 3, 5, 7], verbose=False, persist=True
    ):
        frames += 1
        for x1, y1, x2, y2 in result.boxes.xyxy.tolist():
            crop = result.orig_img[int(y1) : int(y2), int(x1) : int(x2)]
            found, _ = ocr(crop)
            for _box, text, _score in found or []:
                read = normalise(text)
                if is_valid_plate(read):
                    plates.add(read)
    return figures(info.duration_s, time.perf_counter() - t0, frames, sorted(plates))


def decode(clip: Path, fps: float) -> dict[str, Any]:
    info = probe(clip)
    t0 = time.perf_counter()
    frames = sum(1 for _ in iter_frames(clip, info, fps, 100_000))
    return figures(info.duration_s, time.perf_counter() - t0, frames, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", type=Path)
    parser.add_argument("--fps", type=float, default=5.0, help="our sampling rate")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the made clip")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument(
        "--detector",
        default="yolov8n_onnx",
        help="our vehicle detector: yolov8n_onnx, yolov8n_int8_tflite or yolox_nano_onnx",
    )
    parser.add_argument("--skip-plain", action="store_true", help="the plain way is slow")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    clip = args.clip or make_pan_video(
        SHARED / "data" / PAN_PHOTO,
        Path(tempfile.gettempdir()) / f"rw_bench_pan{args.seconds:g}.mp4",
        args.seconds,
    )
    info = probe(clip)
    models = ModelSet(args.models, detector=args.detector)
    models.warm_up()
    result: dict[str, Any] = {
        "clip": str(clip),
        "video_s": round(info.duration_s, 2),
        "size": f"{info.width}x{info.height}",
        "fps": round(info.fps, 2),
        "sample_fps": args.fps,
    }
    result["decode"] = decode(clip, args.fps)
    result["ours"] = ours(clip, args.fps, models)
    if not args.skip_plain:
        result["plain"] = plain(clip, args.models)
        result["ratio_ours_to_plain"] = round(
            result["ours"]["video_s_per_s"] / result["plain"]["video_s_per_s"], 2
        )
    result["ratio_ours_to_decode"] = round(
        result["ours"]["video_s_per_s"] / result["decode"]["video_s_per_s"], 3
    )
    print(
        f"{result['size']} {result['fps']} fps, {result['video_s']} s; ours samples {args.fps} fps"
    )
    print(f"{'':8}{'video s/wall s':>15}{'frames':>8}{'peak RSS MB':>13}  plates")
    for name in ("ours", "plain", "decode"):
        if name in result:
            r = result[name]
            print(
                f"{name:8}{r['video_s_per_s']:>15}{r['frames']:>8}{r['peak_rss_mb']:>13}  "
                f"{', '.join(r['plates'])}"
            )
    print(f"ours per stage (ms/frame): {result['ours']['stage_ms_per_frame']}")
    print(
        f"ratios: ours/plain {result.get('ratio_ours_to_plain', '-')}, "
        f"ours/decode {result['ratio_ours_to_decode']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
