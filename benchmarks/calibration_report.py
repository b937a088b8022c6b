"""Calibration of plate confidence for benchmarks/plates.py: which half of the dev data fits
the calibrator, and how well the confidence matches accuracy on the other half."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from models.calibration import PLATT, calibrated, expected_calibration_error, fit_platt

SURE = 0.95


def in_fit_half(file: str) -> bool:
    """The fixed split: a file's name decides its half, so its degraded variants go with it."""
    return zlib.crc32(Path(file).name.encode()) % 2 == 0


def report_calibration(
    backend: str, rows: list[dict[str, Any]], fit: bool, png: Path | None
) -> dict[str, Any] | None:
    """ECE and the error rate of sure reads on the held-back half (reads with per-character
    probabilities only); with ``fit``, new coefficients from the fit half first."""
    usable = [r for r in rows if r["features"]]
    if not usable:
        return None
    coefficients: tuple[float, ...] = PLATT
    if fit:
        train = [r for r in usable if r["fit_half"]]
        coefficients = fit_platt([r["features"] for r in train], [r["right"] for r in train])
        print(f"{backend}: fitted PLATT = {coefficients}")
        for r in usable:
            r["confidence"] = calibrated(r["features"], coefficients)
    held = [r for r in rows if not r["fit_half"]]
    confidence = [float(r["confidence"]) for r in held]
    right = [bool(r["right"]) for r in held]
    sure = [ok for c, ok in zip(confidence, right, strict=True) if c >= SURE]
    report = {
        "held_back_reads": len(held),
        "ece": round(expected_calibration_error(confidence, right), 4),
        "sure_reads": len(sure),
        "sure_wrong_rate": round(1 - sum(sure) / len(sure), 4) if sure else None,
        "coefficients": list(coefficients),
    }
    print(
        f"{backend}: held-back half {len(held)} reads, ECE {report['ece']:.3f}, "
        f"{len(sure)} at confidence >= {SURE} of which {sum(not s for s in sure)} wrong"
    )
    if png is not None:
        reliability_diagram(confidence, right, png, f"{backend}: held-back half")
    return report


def reliability_diagram(confidence: list[float], right: list[bool], png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c, r = np.asarray(confidence), np.asarray(right, float)
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(c, edges[1:-1]), 0, 9)
    centres, accuracy, counts = [], [], []
    for b in range(10):
        inside = which == b
        if inside.any():
            centres.append(float(c[inside].mean()))
            accuracy.append(float(r[inside].mean()))
            counts.append(int(inside.sum()))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.plot(centres, accuracy, "o-", label="reads (bin mean)")
    for x, y, n in zip(centres, accuracy, counts, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set_xlabel("plate_confidence")
    ax.set_ylabel("share of reads exactly right")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
