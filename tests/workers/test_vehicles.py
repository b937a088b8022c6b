"""Every vehicle listed with its class checked by its plate: real photos through
``roadwitness process`` with no declared violation, and the fusion's rules on their own."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from models.types import Box
from roadwitness.cli import app
from tests.conftest import DATA_DIR, MODELS_DIR
from workers.process import process_file
from workers.rule_files import load_rules
from workers.vehicles import fuse, plate_colour

CLASSES = Path(__file__).resolve().parents[2] / "benchmarks" / "vehicle_classes.csv"


def _labelled() -> list[dict[str, str]]:
    with CLASSES.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_process_without_a_violation_lists_the_vehicle_and_its_plate(tmp_path: Path) -> None:
    photo = DATA_DIR / "images" / "dev_vehicle_008.jpg"
    result = CliRunner().invoke(
        app,
        ["process", str(photo), "--out", str(tmp_path)],
        env={"ROADWITNESS_MODELS_DIR": str(MODELS_DIR)},
    )
    assert result.exit_code == 0, result.output
    assert "皖AT891G" in result.output and "1 vehicle(s)" in result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["cases"] == []
    [vehicle] = [v for v in summary["vehicles"] if v["plate"]]
    assert vehicle["plate"] == "皖AT891G"
    assert vehicle["class"] == "car" and vehicle["class_confirmed"]  # the detector says bus
    assert len(vehicle["chars"]) == 7
    for position, alternatives in zip(vehicle["plate"], vehicle["chars"], strict=True):
        assert alternatives[0][0] == position and 1 <= len(alternatives) <= 3
        assert all(0.0 <= p <= 1.0 for _, p in alternatives)
    assert 0.0 < vehicle["plate_confidence"] <= 1.0


def test_every_dev_photo_lists_its_plate_and_class(tmp_path: Path, models: Any) -> None:
    book = load_rules(None)
    right: Counter[bool] = Counter()
    for row in _labelled():
        _, summary = process_file(DATA_DIR / row["file"], tmp_path / row["file"], models, book)
        assert summary["cases"] == []
        plated = {v["plate"]: v for v in summary["vehicles"] if v["plate"]}
        assert row["plate_text"] in plated, (row["file"], plated)
        right[plated[row["plate_text"]]["class"] == row["vehicle_class"]] += 1
    assert right[True] / sum(right.values()) >= 0.95, right


def test_a_blue_plate_makes_a_bus_box_a_car_and_a_yellow_plate_confirms_a_bus() -> None:
    box, plate = Box(0, 0, 700, 700), Box(300, 500, 500, 560)
    car = fuse(Counter(bus=1), "皖AT891G", "blue", box=box, plate_box=plate)
    assert (car.kind, car.confirmed) == ("car", True)
    bus = fuse(Counter(bus=1), "京EA5331", "yellow", double_layer=True)
    assert (bus.kind, bus.confirmed) == ("bus", True)
    rear = fuse(Counter(car=2), "京EA5331", "yellow", double_layer=True)
    assert (rear.kind, rear.confirmed) == ("bus", True)


def test_a_bus_without_a_plate_to_back_it_is_not_confirmed() -> None:
    unread = fuse(Counter(bus=3))
    assert (unread.kind, unread.confirmed) == ("bus", False)
    close = fuse(Counter(bus=1), None, None, box=Box(0, 0, 400, 400), plate_box=Box(0, 0, 100, 30))
    assert (close.kind, close.confirmed) == ("car", False)
    odd = fuse(Counter(car=1), "皖K66666", "yellow")
    assert (odd.kind, odd.confirmed) == ("car", False)


def test_plate_text_names_colours_the_classifier_cannot_see() -> None:
    assert plate_colour("鄂F8888警", "blue") == "white"
    assert plate_colour("粤ZR066港", "blue") == "black"
    assert plate_colour("琼A6716学", "green") == "yellow"
    assert plate_colour("皖AD55999", "blue") == "green"
    assert plate_colour("皖AT891G", "blue") == "blue"
