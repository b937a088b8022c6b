"""Throughput on a real-pixel 1080p clip: our job, a fair plain baseline, and decoding alone.

    .venv/bin/python -m benchmarks.throughput [CLIP] [--fps 5] [--seconds 6] [--json OUT]

Without CLIP, a 1080p30 H.264 pan over a real CCPD photo is made (roadwitness.samples). Each
line runs in a process of its own (its own peak RSS), one after another, models loaded and
warmed before the clock starts. A worker runs job after job, so each line (but the slow
``plain, every frame``) first runs one untimed pass over the clip, then ``--passes`` timed
ones, and reports their median; ``first_video_s_per_s`` is the speed of the first pass (the
one left out), as a process that runs a single job sees it:

- ``decode``: the clip decoded, frames sampled at ``--fps`` by their own timestamps.
- ``ours (analysis)``: recognition alone (vehicles tracked, plates found and read, votes,
  road scene), with the time of each stage from the same pass (the worker's stage clocks).
- ``ours (whole job)``: ``roadwitness process`` as a job runs it: analysis, rules, evidence
  (keyframes, clip, plate crop) written to a folder, with a declared violation so a case is
  built.
- ``plain``: the straightforward way, ``YOLO(weights).track(source=clip, stream=True)`` with
  ``vid_stride`` set so it samples the same frames per second as ours, and OCR (RapidOCR
  detection + recognition) on every vehicle box: the same detector weights, the same frames.
- ``plain, every frame``: the same without ``vid_stride`` (what the plain way does by default).

Prints seconds of video per wall-second, per-stage milliseconds per sampled frame, peak RSS,
the plates each read, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.media import probe
from models.grammar import is_valid_plate, normalise
from models.weights import resolve
from roadwitness.samples import PAN_PHOTO, make_pan_video

SHARED = Path(__file__).resolve().parents[2] / "shared"
LINES = ("decode", "analysis", "job", "plain", "plain_all")
LABELS = {
    "decode": "decode",
    "analysis": "ours (analysis)",
    "job": "ours (whole job)",
    "plain": "plain",
    "plain_all": "plain, every frame",
}


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


def _models(args: argparse.Namespace) -> Any:
    from workers.observe import TimedModelSet

    models = TimedModelSet(args.models, detector=args.detector)
    models.warm_up()
    return models


Pass = tuple[float, dict[str, Any]]
"""One pass over the clip: its wall seconds and what it found."""


def steady(args: argparse.Namespace, duration_s: float, one: Callable[[], Pass]) -> dict[str, Any]:
    """One untimed pass, then ``args.passes`` timed ones: the figures of the median pass,
    with every pass's wall time and the first pass's speed beside them."""
    first_wall, _ = one()
    passes = sorted((one() for _ in range(args.passes)), key=lambda p: p[0])
    wall, found = passes[len(passes) // 2]
    result = figures(duration_s, wall, found["frames"], found["plates"])
    result.update({k: v for k, v in found.items() if k not in ("frames", "plates")})
    result["first_video_s_per_s"] = round(duration_s / first_wall, 3)
    result["pass_walls_s"] = [round(p[0], 3) for p in passes]
    return result


def run_decode(args: argparse.Namespace) -> dict[str, Any]:
    from workers.frames import iter_frames

    info = probe(args.clip)

    def one() -> Pass:
        t0 = time.perf_counter()
        frames = sum(1 for _ in iter_frames(args.clip, info, args.fps, 100_000))
        return time.perf_counter() - t0, {"frames": frames, "plates": []}

    return steady(args, info.duration_s, one)


def run_analysis(args: argparse.Namespace) -> dict[str, Any]:
    from telemetry.metrics import start_clock, stop_clock, timed_iter
    from workers.frames import iter_frames, prefetched
    from workers.recognise import analyse

    models = _models(args)
    info = probe(args.clip)

    def one() -> Pass:
        token = start_clock()
        t0 = time.perf_counter()
        frames = timed_iter("decode", iter_frames(args.clip, info, args.fps, 100_000))
        analysis = analyse(models, prefetched(frames), fps=args.fps)  # as the pipeline does
        wall = time.perf_counter() - t0
        stages = stop_clock(token, observe=False)
        return wall, {
            "frames": analysis.frames,
            "plates": sorted(g.plate for g in analysis.plate_groups),
            "stage_ms_per_frame": per_frame(stages, wall, analysis.frames),
            "looks": analysis.looks,
        }

    return steady(args, info.duration_s, one)


def run_job(args: argparse.Namespace) -> dict[str, Any]:
    from telemetry.metrics import start_clock, stop_clock
    from workers.process import process_file
    from workers.rule_files import load_rules

    models = _models(args)
    book = load_rules(None)
    info = probe(args.clip)

    def one() -> Pass:
        with tempfile.TemporaryDirectory() as out:
            token = start_clock()
            t0 = time.perf_counter()
            outcome, _ = process_file(
                args.clip,
                Path(out),
                models,
                book,
                fps=args.fps,
                max_frames=100_000,
                declared="illegal_parking",
            )
            wall = time.perf_counter() - t0
            stages = stop_clock(token, observe=False)
        frames = outcome.analysis.frames
        return wall, {
            "frames": frames,
            "plates": sorted(c.plate or "-" for c in outcome.candidates),
            "stage_ms_per_frame": per_frame(stages, wall, frames),
            "cases": len(outcome.candidates),
        }

    return steady(args, info.duration_s, one)


def per_frame(stages: dict[str, float], wall: float, frames: int) -> dict[str, float]:
    """Milliseconds per sampled frame in each stage, and the rest of the wall time ("other":
    the tracker, votes, Python between the stages)."""
    ms = {k: round(1000 * v / max(frames, 1), 1) for k, v in sorted(stages.items())}
    ms["other"] = round(1000 * (wall - sum(stages.values())) / max(frames, 1), 1)
    return ms


def run_plain(args: argparse.Namespace, every_frame: bool) -> dict[str, Any]:
    from models.vehicles import offline_ultralytics

    offline_ultralytics()
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR
    from ultralytics import YOLO  # type: ignore[attr-defined]

    weights, _ = resolve(args.models, "yolov8n_int8_tflite")
    ocr = RapidOCR(
        det_model_path=str(args.models / "ch_PP-OCRv4_det_infer.onnx"),
        rec_model_path=str(args.models / "ch_PP-OCRv4_rec_infer.onnx"),
        cls_model_path=str(args.models / "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
    )
    model = YOLO(str(weights), task="detect")
    blank = np.zeros((1080, 1920, 3), np.uint8)
    model.predict(blank, verbose=False)  # load and warm, as ours is
    ocr(blank[:200, :400])
    info = probe(args.clip)
    stride = 1 if every_frame else max(1, round(info.fps / args.fps))

    def one() -> Pass:
        plates: set[str] = set()
        frames = 0
        t0 = time.perf_counter()
        for seen in model.track(
            source=str(args.clip),
            stream=True,
            classes=[2, 3, 5, 7],
            verbose=False,
            persist=False,  # a new tracker for each pass, as ours makes one per clip
            vid_stride=stride,
        ):
            frames += 1
            boxes = seen.boxes.xyxy.tolist() if seen.boxes is not None else []
            for x1, y1, x2, y2 in boxes:
                crop = seen.orig_img[int(y1) : int(y2), int(x1) : int(x2)]
                found, _ = ocr(crop)
                for _box, text, _score in found or []:
                    read = normalise(text)
                    if is_valid_plate(read):
                        plates.add(read)
        return time.perf_counter() - t0, {"frames": frames, "plates": sorted(plates)}

    if every_frame:  # a minute a pass: one timed pass, labelled as such
        wall, found = one()
        result = figures(info.duration_s, wall, found["frames"], found["plates"])
    else:
        result = steady(args, info.duration_s, one)
    result["vid_stride"] = stride
    return result


def child(args: argparse.Namespace) -> dict[str, Any]:
    if args.run == "decode":
        return run_decode(args)
    if args.run == "analysis":
        return run_analysis(args)
    if args.run == "job":
        return run_job(args)
    return run_plain(args, every_frame=args.run == "plain_all")


def spawn(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One line of the table, in a fresh process; its JSON is the last line it prints."""
    command = [sys.executable, "-m", "benchmarks.throughput", str(args.clip), "--run", name]
    command += ["--fps", str(args.fps), "--models", str(args.models), "--detector", args.detector]
    command += ["--passes", str(args.passes)]
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    print(f"  running {LABELS[name]} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def table(result: dict[str, Any]) -> None:
    print(
        f"{result['size']} {result['fps']} fps, {result['video_s']} s; "
        f"ours samples {result['sample_fps']} fps"
    )
    head = f"{'':22}{'video s/wall s':>15}{'first pass':>11}{'frames':>8}{'peak RSS MB':>13}"
    print(f"{head}  plates")
    for name in LINES:
        if name in result:
            r = result[name]
            first = r.get("first_video_s_per_s", "-")
            print(
                f"{LABELS[name]:22}{r['video_s_per_s']:>15}{first:>11}{r['frames']:>8}"
                f"{r['peak_rss_mb']:>13}  {', '.join(r['plates'])}"
            )
    for name in ("analysis", "job"):
        print(f"{LABELS[name]} per stage (ms/sampled frame): {result[name]['stage_ms_per_frame']}")
    print(f"looks (frames a costly step ran on): {result['analysis']['looks']}")
    print("ratios: " + ", ".join(f"{k} {v}" for k, v in result["ratios"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("clip", nargs="?", type=Path)
    parser.add_argument("--fps", type=float, default=5.0, help="our sampling rate")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the made clip")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument(
        "--detector",
        default="yolov8n_onnx",
        help="our vehicle detector: yolov8n_onnx, yolov8n_int8_onnx (opt-in), yolov8n_int8_tflite "
        "or yolox_nano_onnx",
    )
    parser.add_argument("--skip-plain", action="store_true", help="the plain way is slow")
    parser.add_argument(
        "--passes", type=int, default=3, help="timed passes per line after an untimed one"
    )
    parser.add_argument("--run", choices=LINES, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.passes < 1:
        parser.error("--passes must be at least 1")
    if args.run:
        print(json.dumps(child(args), ensure_ascii=False))
        return
    args.clip = args.clip or make_pan_video(
        SHARED / "data" / PAN_PHOTO,
        Path(tempfile.gettempdir()) / f"rw_bench_pan{args.seconds:g}.mp4",
        args.seconds,
    )
    info = probe(args.clip)
    result: dict[str, Any] = {
        "clip": str(args.clip),
        "video_s": round(info.duration_s, 2),
        "size": f"{info.width}x{info.height}",
        "fps": round(info.fps, 2),
        "sample_fps": args.fps,
    }
    for name in LINES:
        if not (args.skip_plain and name.startswith("plain")):
            result[name] = spawn(name, args)
    speed = {k: result[k]["video_s_per_s"] for k in LINES if k in result}
    ratios = {
        "analysis/decode": round(speed["analysis"] / speed["decode"], 3),
        "job/decode": round(speed["job"] / speed["decode"], 3),
    }
    if "plain" in speed:
        ratios["analysis/plain"] = round(speed["analysis"] / speed["plain"], 2)
        ratios["job/plain"] = round(speed["job"] / speed["plain"], 2)
        ratios["job/plain every frame"] = round(speed["job"] / speed["plain_all"], 2)
    result["ratios"] = ratios
    table(result)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
