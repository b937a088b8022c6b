"""Retrain PP-OCRv4's last layer (its classifier over 6625 characters) for plates only.

    .venv/bin/python -m benchmarks.train_plate_head [--out PATH] [--synthetic N] [--seed S]
        [--columns all|provinces] [--no-real] [--l2 X] [--epochs N]
    .venv/bin/python -m benchmarks.plates --degrade --fit --backends ppocrv4_onnx,plate_head
        --head PATH

The recogniser's body is kept; what it computes for each of its 40 steps (120 numbers) is
read once for every training image, and a new linear layer over the blank and the plate
alphabet is fitted to those with CTC loss (started from PP-OCRv4's own weights for those
characters). The layer is written back into a copy of the model, every other character held
at probability zero, so the reader loads it like PP-OCRv4 (same input, same dictionary).

Training images: synthetic plates (benchmarks/synth_plates.py, every province alike) and the
plates of the *fit half* of the dev data (benchmarks/calibration_report.in_fit_half), each
degraded many times with its own seeds. The held-back half is never read here. The
features are kept next to ``--out`` (``.npz``, keyed by seed and counts) for the next run.
Measured: not better than PP-OCRv4 on the held-back half (docs/plates.md), so not shipped.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from benchmarks.calibration_report import in_fit_half
from benchmarks.synth_plates import degrade, sample
from models.grammar import PLATE_ALPHABET, PROVINCES
from models.onnx import session
from models.plate_reader import OnnxPlateReader, rectify
from models.plate_views import FIRST_VIEW, MORE_VIEWS
from models.registry import ModelSet
from models.types import Image, ModelInfo

SHARED = Path(__file__).resolve().parents[2] / "shared"
SOURCE = "ch_PP-OCRv4_rec_infer.onnx"
FEATURES = "transpose_51.tmp_0"  # the steps' features, input of the last MatMul
WEIGHT, BIAS = "linear_85.w_0", "linear_85.b_0"
OUT = Path.home() / ".cache" / "roadwitness" / "models" / "ppocrv4_plate_head_rec.onnx"
NEVER = -1e4
VIEWS = (FIRST_VIEW, *MORE_VIEWS)


def _constants(model: onnx.ModelProto) -> dict[str, onnx.NodeProto]:
    return {n.output[0]: n for n in model.graph.node if n.op_type == "Constant"}


def real_plates(labels: Path, models_dir: Path) -> list[tuple[Image, str]]:
    """The fit half's one-row plates: crops as they are, photos' plates found and warped."""
    with labels.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if in_fit_half(r["file"])]
    models = ModelSet(models_dir)
    found: list[tuple[Image, str]] = []
    for row in rows:
        read = cv2.imread(str(labels.parent / row["file"]))
        if read is None:
            raise SystemExit(f"{labels}: cannot read image {row['file']}")
        image = np.asarray(read, np.uint8)
        if row["kind"] == "plate_crop":
            found.append((image, row["plate_text"]))
            continue
        plates = models.plates.detect(image)
        if plates and not plates[0].double_layer:
            found.append((rectify(image, plates[0]), row["plate_text"]))
    return found


def training_set(
    synthetic: int, copies: int, labels: Path, models_dir: Path, rng: np.random.Generator
) -> list[tuple[Image, str]]:
    items = [sample(rng) for _ in range(synthetic)]
    for image, text in real_plates(labels, models_dir):
        items.append((image, text))
        items += [(degrade(image, rng), text) for _ in range(copies)]
    return items


def features(
    model: onnx.ModelProto, reader: OnnxPlateReader, images: list[Image], rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """Per image (one of the reader's views of it, at random), the steps' features."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(
        onnx.helper.make_tensor_value_info(FEATURES, onnx.TensorProto.FLOAT, None)
    )
    path = OUT.parent / "probe.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(probe, str(path))
    run = session(path)
    out = []
    for start in range(0, len(images), 64):
        chunk = images[start : start + 64]
        tensors = [reader._tensor(VIEWS[rng.integers(len(VIEWS))](im)) for im in chunk]
        width = max(t.shape[3] for t in tensors)
        batch = np.zeros((len(tensors), 3, 48, width), np.float32)
        for n, t in enumerate(tensors):
            batch[n, :, :, : t.shape[3]] = t[0]
        out.append(run.run([FEATURES], {"x": batch})[0])
    path.unlink()
    return np.concatenate(out)


def train(
    feats: npt.NDArray[np.float32],
    targets: list[list[int]],
    start: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    trained: npt.NDArray[np.bool_],
    l2: float,
    epochs: int,
    seed: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """CTC on a linear layer started from ``start`` (weight, bias); only the ``trained``
    columns move, and L2 on how far they move keeps them near PP-OCRv4's."""
    import torch

    torch.manual_seed(seed)
    x = torch.from_numpy(feats)
    w0, b0 = (torch.from_numpy(a.copy()) for a in start)
    mask = torch.from_numpy(trained.astype(np.float32))
    dw = torch.zeros_like(w0, requires_grad=True)
    db = torch.zeros_like(b0, requires_grad=True)
    optimiser = torch.optim.Adam([dw, db], lr=3e-3)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    order = np.arange(len(targets))
    generator = np.random.default_rng(seed)
    for epoch in range(epochs):
        generator.shuffle(order)
        total = 0.0
        for first in range(0, len(order), 128):
            idx = order[first : first + 128]
            w, b = w0 + dw * mask, b0 + db * mask
            logp = torch.log_softmax(x[idx] @ w + b, dim=2).transpose(0, 1)  # T x B x K
            flat = torch.tensor([c for i in idx for c in targets[i]])
            lengths = torch.tensor([len(targets[i]) for i in idx])
            steps = torch.full((len(idx),), logp.shape[0], dtype=torch.long)
            loss = ctc(logp, flat, steps, lengths) + l2 * ((dw * mask) ** 2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}")
    with torch.no_grad():
        return (w0 + dw * mask).numpy(), (b0 + db * mask).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=SHARED / "data" / "labels.csv")
    parser.add_argument("--models", type=Path, default=SHARED / "models")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--synthetic", type=int, default=4000)
    parser.add_argument("--copies", type=int, default=40, help="degraded copies per real plate")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--columns", choices=("all", "provinces"), default="all")
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--real", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    model = onnx.load(str(args.models / SOURCE))
    reader = OnnxPlateReader(args.models / SOURCE, ModelInfo("ppocrv4", "", ""))
    charset = reader._charset
    kept = [0, *[i for i, c in enumerate(charset) if c in PLATE_ALPHABET]]
    column = {charset[i]: k for k, i in enumerate(kept) if i}
    cache = args.out.with_suffix(f".features-{args.seed}-{args.synthetic}-{args.copies}.npz")
    if cache.is_file():  # the same images and views as last time (all seeded)
        saved = np.load(cache)
        feats, texts = saved["features"], [str(t) for t in saved["texts"]]
    else:
        items = training_set(args.synthetic, args.copies, args.labels, args.models, rng)
        print(f"{len(items)} training images ({time.perf_counter() - t0:.0f} s)")
        feats = features(model, reader, [im for im, _ in items], rng)
        texts = [text for _, text in items]
        np.savez(cache, features=feats, texts=np.array(texts))
    print(f"features {feats.shape} ({time.perf_counter() - t0:.0f} s)")
    constants = _constants(model)
    weight = numpy_helper.to_array(constants[WEIGHT].attribute[0].t)
    bias = numpy_helper.to_array(constants[BIAS].attribute[0].t)
    targets = [[column[c] for c in text] for text in texts]
    if not args.real:  # synthetic plates only (they come first)
        feats, targets = feats[: args.synthetic], targets[: args.synthetic]
    trained = np.array([args.columns == "all" or charset[i] in PROVINCES for i in kept])
    start = (weight[:, kept], bias[kept])
    w, b = train(feats, targets, start, trained, args.l2, args.epochs, args.seed)
    full_w = np.zeros_like(weight)
    full_b = np.full_like(bias, NEVER)
    full_w[:, kept], full_b[kept] = w, b
    for name, value in ((WEIGHT, full_w), (BIAS, full_b)):
        constants[name].attribute[0].t.CopyFrom(numpy_helper.from_array(value, name))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.out))
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
