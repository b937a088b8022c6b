"""Precision and recall of the anti-fraud flags on the real dev media, and the fingerprint
lookup time against an index of 100,000 fingerprints.

    .venv/bin/python -m benchmarks.fraud [--data ../shared/data] [--index 100000] [--json OUT]

Re-used variants of every real video (re-encoded at a low bitrate, scaled to half, cropped
5 % from one corner, trimmed 2.3 s, frame rate changed to 12 fps, mirrored, a timestamp caption
burnt in) and photo (JPEG quality 35, scaled, cropped 5 %, mirrored, caption) are looked up in
an index holding every original plus filler fingerprints up to ``--index``; each must find its
own original. Every untouched original is also looked up with itself left out, and the GIF
clips are never indexed: they must find nothing. A match to the wrong original counts as a
false positive and a miss. The baseline, measured in the same run, is what was noticed before:
a byte-identical SHA-256.

Edited media: a cut spliced from two clips, a jump cut (3 s removed, re-timed) and the same
cut with the timestamps kept, of each video (``spliced@1``), eight copies of one frame
inserted (``duplicated_frames@1``); each vehicle photo given consistent EXIF time and GPS
time, then a copy with the EXIF time moved a day (``exif_gps_time@1``). Untouched media and
the re-used variants are the negatives.

``--json`` writes {flag: {"precision", "recall", "n"}, "lookup_ms": mean, ...}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from workers.fingerprint import Fingerprint, FingerprintIndex, fingerprint
from workers.frames import run_ffmpeg
from workers.fraud import examine
from workers.scan import scan_file
from workers.tamper import DUPLICATED, EXIF_GPS_TIME, SPLICED, photo_signs, video_signs

SHARED = Path(__file__).resolve().parents[2] / "shared"
VIDEOS = [
    "videos/dev_dashcam_lanes_solidWhiteRight.mp4",
    "videos/dev_trafficcam_video1.avi",
    "videos/dev_trafficcam_video2.avi",
    "roads/cn_expressway_s2_roadside.mp4",
]
NEVER_INDEXED = ["roads/cn_street_handheld_1.gif", "roads/cn_street_handheld_2.gif"]
PHOTO_DIRS = ["images", "roads", "gps"]
X264 = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")
CAPTION = (
    "drawtext=text='2026-03-02 08\\:15\\:%{eif\\:t\\:d}':x=8:y=8:fontsize=h/18:fontcolor=white"
)
VIDEO_VARIANTS: dict[str, list[str]] = {
    "reencoded": ["-t", "20", "-c:v", "libx264", "-b:v", "250k", "-pix_fmt", "yuv420p"],
    "scaled": ["-t", "20", "-vf", "scale=iw/2:-2", *X264],
    "cropped": ["-t", "20", "-vf", "crop=iw*0.95:ih*0.95:0:0", *X264],
    "trimmed": ["-ss", "2.3", "-t", "10", *X264],
    "fps_changed": ["-t", "20", "-vf", "fps=12", *X264],
    "mirrored": ["-t", "20", "-vf", "hflip", *X264],
    "captioned": [
        "-t",
        "20",
        "-vf",
        f"drawbox=x=0:y=0:w=iw:h=ih/12:color=black@0.5:t=fill,{CAPTION}",
        *X264,
    ],
}


def _jpeg(image: np.ndarray[Any, Any], out: Path, quality: int = 90) -> Path:
    cv2.imwrite(str(out), image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return out


def _caption(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    marked = image.copy()
    h = image.shape[0]
    cv2.rectangle(marked, (0, 0), (image.shape[1], h // 12), (0, 0, 0), -1)
    cv2.putText(marked, "2026-03-02 08:15:07", (8, h // 16), 0, h / 600, (255, 255, 255), 2)
    return marked


PHOTO_VARIANTS: dict[str, Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]] = {
    "reencoded": lambda im: im,  # saved at quality 35 below
    "scaled": lambda im: cv2.resize(im, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
    "cropped": lambda im: im[: int(im.shape[0] * 0.95), : int(im.shape[1] * 0.95)],
    "mirrored": lambda im: np.ascontiguousarray(im[:, ::-1]),
    "captioned": _caption,
}


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    n: int = 0
    fp_on_untouched: int = 0
    misses: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return {"precision": round(precision, 3), "recall": round(recall, 3), "n": self.n}


def _videos(data: Path, work: Path) -> tuple[dict[str, Path], list[tuple[str, str, Path]]]:
    originals = {Path(v).stem: data / v for v in VIDEOS if (data / v).is_file()}
    variants = []
    for name, source in originals.items():
        for kind, args in VIDEO_VARIANTS.items():
            out = work / f"{name}.{kind}.mp4"
            if kind == "trimmed":
                run_ffmpeg(args[0], args[1], "-i", str(source), *args[2:], str(out))
            else:
                run_ffmpeg("-i", str(source), *args, str(out))
            variants.append((name, kind, out))
    return originals, variants


def _edited(originals: dict[str, Path], work: Path) -> list[tuple[str, str, Path]]:
    names = list(originals)
    edited = []
    for i, name in enumerate(names):
        other = originals[names[(i + 1) % len(names)]]
        splice = work / f"{name}.splice.mp4"
        graph = (
            "[0:v]trim=0:5,setpts=PTS-STARTPTS,scale=640:360,fps=25,setsar=1[a];"
            "[1:v]trim=2:7,setpts=PTS-STARTPTS,scale=640:360,fps=25,setsar=1[b];"
            "[a][b]concat=n=2:v=1[v]"
        )
        run_ffmpeg("-i", str(originals[name]), "-i", str(other), "-filter_complex", graph,
                   "-map", "[v]", *X264, str(splice))  # fmt: skip
        jump = work / f"{name}.jumpcut.mp4"
        cut = "select='lt(t,3)+gt(t,6)',setpts=N/FRAME_RATE/TB"
        run_ffmpeg("-i", str(originals[name]), "-t", "12", "-vf", cut, *X264, str(jump))
        dup = work / f"{name}.duplicated.mp4"
        loop = "loop=loop=8:size=1:start=40,setpts=N/FRAME_RATE/TB"
        run_ffmpeg("-i", str(originals[name]), "-t", "12", "-vf", loop, *X264, str(dup))
        dropped = work / f"{name}.dropped.mp4"  # 3 s cut out, the timestamps left as they were
        run_ffmpeg("-i", str(originals[name]), "-t", "12", "-vf", "select='not(between(t,3,6))'",
                   "-fps_mode", "passthrough", *X264, str(dropped))  # fmt: skip
        edited += [(name, SPLICED, splice), (name, SPLICED, jump), (name, SPLICED, dropped)]
        edited.append((name, DUPLICATED, dup))
    return edited


def _photos(data: Path, work: Path) -> tuple[dict[str, Path], list[tuple[str, str, Path]]]:
    originals = {
        p.stem: p
        for folder in PHOTO_DIRS
        for p in sorted((data / folder).glob("*"))
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    }
    variants = []
    for name, path in originals.items():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"{path} cannot be read")
        for kind, change in PHOTO_VARIANTS.items():
            quality = 35 if kind == "reencoded" else 90
            variants.append(
                (name, kind, _jpeg(change(image), work / f"{name}.{kind}.jpg", quality))
            )
    return originals, variants


def _exif_photos(data: Path, work: Path) -> list[tuple[bool, Path]]:
    """Each vehicle photo with consistent EXIF and GPS times, and a copy with the EXIF time
    moved by a day (as an editor would to pass an old photo off as new)."""
    from PIL import Image

    out = []
    gps_time = datetime(2026, 3, 2, 0, 15, 7, tzinfo=UTC)
    for path in sorted((data / "images").glob("*.jpg")):
        for edited in (False, True):
            local = gps_time.astimezone(UTC) + timedelta(hours=8, days=1 if edited else 0)
            with Image.open(path) as im:
                exif = Image.Exif()
                exif.get_ifd(0x8769)[0x9003] = local.strftime("%Y:%m:%d %H:%M:%S")
                exif.get_ifd(0x8769)[0x9011] = "+08:00"
                gps = exif.get_ifd(0x8825)
                gps.update({1: "N", 2: (22.0, 32.0, 24.0), 3: "E", 4: (114.0, 3.0, 36.0)})
                gps.update({29: "2026:03:02", 7: (0.0, 15.0, 7.0)})
                target = work / f"{path.stem}.exif{'_edited' if edited else ''}.jpg"
                im.convert("RGB").save(target, exif=exif, quality=92)
            out.append((edited, target))
    return out


def _brute_force(stored: list[np.ndarray[Any, Any]], query: Fingerprint) -> float:
    """The baseline lookup: XOR and popcount of the probes against every stored hash."""
    matrix = np.concatenate(stored)
    started = time.perf_counter()
    for probe in np.concatenate([query.hashes[:8], query.mirrored[:8]]):
        np.flatnonzero(np.bitwise_count(matrix ^ probe) <= 12)
    return (time.perf_counter() - started) * 1000


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kind(path: Path) -> str:
    return "image" if path.suffix.lower() in (".jpg", ".jpeg", ".png") else "video"


def measure(data: Path, index_size: int, work: Path) -> dict[str, Any]:
    videos, video_variants = _videos(data, work)
    photos, photo_variants = _photos(data, work)
    edited = _edited(videos, work)
    exif_photos = _exif_photos(data, work)
    scans = {
        p: scan_file(p, _kind(p)) for p in [*videos.values(), *(data / g for g in NEVER_INDEXED)]
    }

    index, stored, originals_sha = FingerprintIndex(), [], {}
    for name, path in {**videos, **photos}.items():
        fp = fingerprint(scans[path] if path in scans else scan_file(path, _kind(path)))
        index.add(name, fp.hashes)
        stored.append(fp.hashes)
        originals_sha[_sha256(path)] = name
    rng = np.random.default_rng(7)
    for i in range(max(0, index_size - len(index))):  # see _filler's note
        filler = rng.integers(0, np.iinfo(np.uint64).max, 1 if i % 2 else 60, dtype=np.uint64)
        index.add(f"filler-{i}", filler)
        stored.append(filler)
    index.search(Fingerprint("image", stored[0][:1], stored[0][:1]))  # builds the bands

    reuse, sha_baseline = Tally(), Tally()
    lookups: dict[str, list[float]] = {"image": [], "video": []}
    brute: list[float] = []

    def lookup(path: Path, exclude: str | None = None) -> list[str]:
        fp = fingerprint(scans[path] if path in scans else scan_file(path, _kind(path)))
        started = time.perf_counter()
        found = index.search(fp, exclude=exclude)
        lookups[fp.kind].append((time.perf_counter() - started) * 1000)
        if len(brute) < 10 and fp.kind == "video":
            brute.append(_brute_force(stored, fp))
        return [m.owner for m in found]

    for name, kind, path in video_variants + photo_variants:
        owners = lookup(path)
        reuse.n += 1
        sha_baseline.n += 1
        if name in owners:
            reuse.tp += 1
        else:
            reuse.fn += 1
            reuse.misses.append(f"missed {name}.{kind}")
        reuse.fp += len([o for o in owners if o != name])
        reuse.misses += [f"{name}.{kind} also matched {o}" for o in owners if o != name]
        if originals_sha.get(_sha256(path)) == name:
            sha_baseline.tp += 1
        else:
            sha_baseline.fn += 1
    for name, path in {**videos, **photos}.items():  # each untouched original, itself left out
        wrong = lookup(path, exclude=name)
        reuse.misses += [f"untouched {name} matched {o}" for o in wrong]
        reuse.n += 1
        reuse.fp += len(wrong)
        reuse.fp_on_untouched += len(wrong)
    for gif in NEVER_INDEXED:
        wrong = lookup(data / gif)
        reuse.n += 1
        reuse.fp += len(wrong)
        reuse.fp_on_untouched += len(wrong)

    edits = {SPLICED: Tally(), DUPLICATED: Tally()}
    negatives = [(p, True) for p in scans] + [(p, False) for _, _, p in video_variants]
    for path, untouched in negatives:
        flagged = {s.kind for s in video_signs(scans.get(path) or scan_file(path, "video"))}
        for flag, tally in edits.items():
            tally.n += 1
            if flag in flagged:
                tally.fp += 1
                tally.fp_on_untouched += int(untouched)
                tally.misses.append(f"false {flag}: {path.name}")
    for _name, truth, path in edited:
        flagged = {s.kind for s in video_signs(scan_file(path, "video"))}
        for flag, tally in edits.items():
            tally.n += 1
            if flag == truth:
                tally.tp += int(flag in flagged)
                tally.fn += int(flag not in flagged)
                if flag not in flagged:
                    tally.misses.append(f"missed {path.name}")
            elif flag in flagged and not (flag == SPLICED and truth == DUPLICATED):
                tally.fp += 1  # (inserted frames are also a timing edit: not counted against)
                tally.misses.append(f"false {flag}: {path.name}")

    exif_tally = Tally()
    real_gps = sorted((data / "gps").glob("*.jpg"))
    for edited_time, path in [*exif_photos, *((False, p) for p in real_gps)]:
        seen = examine(path, "image")
        assert seen is not None, path
        facts = seen.photo
        signs = photo_signs(facts["exif_time"], facts["gps_time"], 300.0, None, None, 2.0)
        hit = any(s.kind == EXIF_GPS_TIME for s in signs)
        exif_tally.n += 1
        exif_tally.tp += int(hit and edited_time)
        exif_tally.fn += int(edited_time and not hit)
        exif_tally.fp += int(hit and not edited_time)
        exif_tally.fp_on_untouched += int(hit and path in real_gps)
        if hit and not edited_time:
            exif_tally.misses.append(f"flagged {path.name}")

    every = lookups["image"] + lookups["video"]
    return {
        "reused_media@1": {**reuse.row(), "fp_on_untouched": reuse.fp_on_untouched},
        "baseline_sha256": sha_baseline.row(),
        SPLICED: {**edits[SPLICED].row(), "fp_on_untouched": edits[SPLICED].fp_on_untouched},
        DUPLICATED: {
            **edits[DUPLICATED].row(),
            "fp_on_untouched": edits[DUPLICATED].fp_on_untouched,
        },
        EXIF_GPS_TIME: {**exif_tally.row(), "fp_on_untouched": exif_tally.fp_on_untouched},
        "lookup_ms": round(float(np.mean(every)), 2),
        "lookup_p95_ms": round(float(np.percentile(every, 95)), 2),
        "lookup_photo_ms": round(float(np.mean(lookups["image"])), 2),
        "lookup_video_ms": round(float(np.mean(lookups["video"])), 2),
        "baseline_brute_force_video_ms": round(float(np.mean(brute)), 2) if brute else None,
        "index_fingerprints": len(index),
        "notes": reuse.misses
        + edits[SPLICED].misses
        + edits[DUPLICATED].misses
        + exif_tally.misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--index", type=int, default=100_000, help="fingerprints in the index")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="roadwitness-fraud-") as tmp:
        result = measure(args.data, args.index, Path(tmp))
    print(f"{'flag':<26}{'n':>5}{'precision':>11}{'recall':>8}{'FP untouched':>14}")
    for flag, row in result.items():
        if isinstance(row, dict):
            untouched = row.get("fp_on_untouched", "-")
            print(
                f"{flag:<26}{row['n']:>5}{row['precision']:>11.3f}{row['recall']:>8.3f}"
                f"{untouched!s:>14}"
            )
    print(
        f"lookup at {result['index_fingerprints']:,} fingerprints: mean {result['lookup_ms']} ms,"
        f" p95 {result['lookup_p95_ms']} ms (photo {result['lookup_photo_ms']},"
        f" video {result['lookup_video_ms']}); brute-force baseline"
        f" {result['baseline_brute_force_video_ms']} ms per video"
    )
    for note in result["notes"]:
        print("  ", note)
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
