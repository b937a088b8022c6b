"""Pipeline throughput on one clip, against decoding alone in the same run.

    .venv/bin/python -m benchmarks.pipeline [CLIP] [--fps 2] [--json OUT]

Without CLIP, a 10 s 1080p H.264 pan over a real CCPD photo is made (see roadwitness.samples).
Prints seconds of video per wall-second for (a) decode + sampling only and (b) the whole
recognition pipeline, their ratio, per-stage times, peak RSS and the plates read.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from ingest.media import probe
from models.plate_reader import rectify
from models.registry import ModelSet
from roadwitness.samples import PAN_PHOTO, make_pan_video
from workers.frames import iter_frames
from workers.recognise import analyse

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", type=Path)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    clip = args.clip or make_pan_video(
        SHARED / "data" / PAN_PHOTO, Path(tempfile.gettempdir()) / "rw_bench_pan10.mp4", 10.0
    )
    info = probe(clip)

    t0 = time.perf_counter()
    frames = sum(1 for _ in iter_frames(clip, info, args.fps, 100_000))
    decode_s = time.perf_counter() - t0

    models = ModelSet(args.models)
    models.warm_up()
    t0 = time.perf_counter()
    analysis = analyse(models, iter_frames(clip, info, args.fps, 100_000), fps=args.fps)
    ours_s = time.perf_counter() - t0

    # Per-stage cost, measured on the sampled frames once more, stage by stage.
    stages = {"vehicles": 0.0, "plates": 0.0, "read": 0.0}
    for frame in iter_frames(clip, info, args.fps, 100_000):
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

    duration = info.duration_s
    result = {
        "clip": str(clip),
        "video_s": round(duration, 2),
        "size": f"{info.width}x{info.height}",
        "sample_fps": args.fps,
        "frames": frames,
        "decode": {"video_s_per_s": round(duration / decode_s, 2)},
        "ours": {
            "video_s_per_s": round(duration / ours_s, 2),
            "ms_per_frame": round(1000 * ours_s / max(frames, 1), 1),
            "stage_ms_per_frame": {
                k: round(1000 * v / max(frames, 1), 1) for k, v in stages.items()
            },
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "plates": [c.plate for c in analysis.candidates],
        },
        "ratio_ours_to_decode": round(decode_s / ours_s, 3),
    }
    print(f"{'':10}{'video s / wall s':>18}{'ms / frame':>12}")
    print(
        f"{'decode':10}{result['decode']['video_s_per_s']:>18}"
        f"{1000 * decode_s / max(frames, 1):>12.1f}"
    )
    print(f"{'ours':10}{result['ours']['video_s_per_s']:>18}{result['ours']['ms_per_frame']:>12}")
    print(f"stages (ms/frame): {result['ours']['stage_ms_per_frame']}")
    print(
        f"ratio ours/decode: {result['ratio_ours_to_decode']}  peak RSS: "
        f"{result['ours']['peak_rss_mb']} MB  plates: {result['ours']['plates']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
