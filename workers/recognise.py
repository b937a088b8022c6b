"""Recognition stage: vehicles and plates on each frame, then candidates grouped by plate.

Until violation rules exist, a candidate is a vehicle whose plate was read (the plate grammar
holds), labelled with the reporter's declared violation type.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from models.plate_reader import rectify
from models.registry import ModelSet
from models.types import Image, PlateDetection, PlateText, Vehicle
from workers.frames import Frame


@dataclass(frozen=True, slots=True)
class PlateObservation:
    frame_index: int
    pts: float
    plate: PlateDetection
    text: PlateText
    colour: str
    vehicle: Vehicle | None
    sharpness: float

    @property
    def score(self) -> float:
        """How good this sighting is as evidence: confident and sharp."""
        return self.text.confidence * (1.0 + min(self.sharpness, 500.0) / 500.0)


@dataclass(frozen=True, slots=True)
class Candidate:
    plate: str
    plate_confidence: float
    plate_colour: str
    vehicle_class: str
    t_start: float
    t_end: float
    sightings: int
    best: PlateObservation
    violation: str


@dataclass
class Analysis:
    frames: int = 0
    vehicles: int = 0
    observations: list[PlateObservation] = field(default_factory=list)
    best_frames: dict[int, Image] = field(default_factory=dict)
    """The frames kept as evidence (the best sighting of each plate), by frame index."""
    plate_crops: dict[int, Image] = field(default_factory=dict)
    """Rectified plate images, by id() of the observation's PlateDetection."""
    candidates: list[Candidate] = field(default_factory=list)


def _owner(plate: PlateDetection, vehicles: list[Vehicle]) -> Vehicle | None:
    cx, cy = plate.box.centre
    holding = [v for v in vehicles if v.box.contains(cx, cy)]
    return min(holding, key=lambda v: v.box.width * v.box.height) if holding else None


def _sharpness(crop: Image) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def observe(
    models: ModelSet, frame: Frame
) -> tuple[list[Vehicle], list[PlateObservation], dict[int, Image]]:
    """Vehicles and readable plates on one frame."""
    vehicles = models.vehicles.detect(frame.image)
    observations: list[PlateObservation] = []
    crops: dict[int, Image] = {}
    for plate in models.plates.detect(frame.image):
        crop = rectify(frame.image, plate)
        text = models.reader.read(crop, plate.double_layer)
        if not text.valid:
            continue
        colour, _ = models.colour.classify(crop)
        observation = PlateObservation(
            frame.index, frame.pts, plate, text, colour, _owner(plate, vehicles), _sharpness(crop)
        )
        observations.append(observation)
        crops[id(plate)] = crop
    return vehicles, observations, crops


def _same_plate(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


def group(observations: Iterable[PlateObservation]) -> dict[str, list[PlateObservation]]:
    """Sightings grouped by plate; reads one character apart join the strongest read."""
    by_text: dict[str, list[PlateObservation]] = defaultdict(list)
    for obs in observations:
        by_text[obs.text.text].append(obs)
    ranked = sorted(by_text, key=lambda t: -sum(o.text.confidence for o in by_text[t]))
    groups: dict[str, list[PlateObservation]] = {}
    for text in ranked:
        home = next((g for g in groups if _same_plate(g, text)), text)
        groups.setdefault(home, []).extend(by_text[text])
    return groups


def candidates(observations: list[PlateObservation], declared: str | None) -> list[Candidate]:
    found = []
    for plate, sightings in group(observations).items():
        best = max(sightings, key=lambda o: o.score)
        kinds = Counter(o.vehicle.kind for o in sightings if o.vehicle is not None)
        colours = Counter(o.colour for o in sightings)
        found.append(
            Candidate(
                plate=plate,
                plate_confidence=round(
                    float(np.mean([o.text.confidence for o in sightings if o.text.text == plate])),
                    4,
                ),
                plate_colour=colours.most_common(1)[0][0],
                vehicle_class=kinds.most_common(1)[0][0] if kinds else "unknown",
                t_start=min(o.pts for o in sightings),
                t_end=max(o.pts for o in sightings),
                sightings=len(sightings),
                best=best,
                violation=declared or "unspecified",
            )
        )
    return sorted(found, key=lambda c: (c.t_start, c.plate))


def analyse(
    models: ModelSet,
    frames: Iterable[Frame],
    declared: str | None = None,
    on_frame: Callable[[Frame], None] | None = None,
) -> Analysis:
    """Run recognition over ``frames`` and build the candidates, keeping only evidence frames."""
    analysis = Analysis()
    best_by_plate: dict[str, PlateObservation] = {}
    frame_images: dict[int, Image] = {}
    for frame in frames:
        vehicles, observations, crops = observe(models, frame)
        analysis.frames += 1
        analysis.vehicles += len(vehicles)
        for obs in observations:
            analysis.observations.append(obs)
            current = best_by_plate.get(obs.text.text)
            if current is None or obs.score > current.score:
                best_by_plate[obs.text.text] = obs
                frame_images[obs.frame_index] = frame.image
                analysis.plate_crops[id(obs.plate)] = crops[id(obs.plate)]
        # Keep only frames that are still somebody's best sighting.
        wanted = {o.frame_index for o in best_by_plate.values()}
        frame_images = {i: im for i, im in frame_images.items() if i in wanted}
        if on_frame is not None:
            on_frame(frame)
    analysis.candidates = candidates(analysis.observations, declared)
    analysis.best_frames = {
        c.best.frame_index: frame_images[c.best.frame_index] for c in analysis.candidates
    }
    return analysis
