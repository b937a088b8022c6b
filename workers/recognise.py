"""Recognition stage: vehicles and plates on each frame, then candidates grouped by plate.

Until violation rules exist, a candidate is a vehicle whose plate was read (the plate grammar
holds), labelled with the reporter's declared violation type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

import cv2

from models.plate_reader import rectify
from models.registry import ModelSet, Tracker, new_tracker
from models.types import Image, PlateDetection, PlateText, Vehicle
from workers.frames import Frame
from workers.voting import group, vote


@dataclass(frozen=True, slots=True)
class PlateObservation:
    frame_index: int
    pts: float
    plate: PlateDetection
    text: PlateText
    colour: str
    vehicle: Vehicle | None
    sharpness: float
    track_id: int | None = None

    @property
    def weight(self) -> float:
        """How much this sighting counts, in votes and as evidence: confident and sharp."""
        return self.text.confidence * (1.0 + min(self.sharpness, 500.0) / 500.0)

    @property
    def read(self) -> str:
        return self.text.text

    @property
    def read_confidence(self) -> float:
        return self.text.confidence


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
    track_ids: tuple[int, ...] = ()


@dataclass
class Analysis:
    frames: int = 0
    vehicles: int = 0
    observations: list[PlateObservation] = field(default_factory=list)
    best_frames: dict[int, Image] = field(default_factory=dict)
    """The frames kept as evidence (the best sighting of each plate), by frame index."""
    plate_crops: dict[int, Image] = field(default_factory=dict)
    """Rectified plate images of the best sightings, by id() of their PlateDetection."""
    candidates: list[Candidate] = field(default_factory=list)


def _owner(plate: PlateDetection, vehicles: list[Vehicle]) -> Vehicle | None:
    cx, cy = plate.box.centre
    holding = [v for v in vehicles if v.box.contains(cx, cy)]
    return min(holding, key=lambda v: v.box.width * v.box.height) if holding else None


def _sharpness(crop: Image) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def observe(
    models: ModelSet, frame: Frame, tracker: Tracker | None = None
) -> tuple[list[Vehicle], list[PlateObservation], dict[int, Image]]:
    """Vehicles (with track ids when a tracker follows the clip) and readable plates."""
    vehicles = models.vehicles.detect(frame.image)
    tracks: dict[int, int] = {}
    if tracker is not None:
        tracks = {
            id(t.vehicle): t.track_id for t in tracker.update(vehicles, frame.image.shape[:2])
        }
    observations: list[PlateObservation] = []
    crops: dict[int, Image] = {}
    for plate in models.plates.detect(frame.image):
        crop = rectify(frame.image, plate)
        text = models.reader.read(crop, plate.double_layer)
        if not text.valid:
            continue
        colour, _ = models.colour.classify(crop)
        owner = _owner(plate, vehicles)
        observation = PlateObservation(
            frame.index,
            frame.pts,
            plate,
            text,
            colour,
            owner,
            _sharpness(crop),
            tracks.get(id(owner)) if owner is not None else None,
        )
        observations.append(observation)
        crops[id(plate)] = crop
    return vehicles, observations, crops


def candidates(observations: list[PlateObservation], declared: str | None) -> list[Candidate]:
    found = []
    for plate, members in group(observations).items():
        sightings = cast(list[PlateObservation], members)
        best = max(sightings, key=lambda o: o.weight)
        kinds = Counter(o.vehicle.kind for o in sightings if o.vehicle is not None)
        colours = Counter(o.colour for o in sightings)
        found.append(
            Candidate(
                plate=plate,
                plate_confidence=vote(sightings)[1],
                plate_colour=colours.most_common(1)[0][0],
                vehicle_class=kinds.most_common(1)[0][0] if kinds else "unknown",
                t_start=min(o.pts for o in sightings),
                t_end=max(o.pts for o in sightings),
                sightings=len(sightings),
                best=best,
                violation=declared or "unspecified",
                track_ids=tuple(sorted({o.track_id for o in sightings if o.track_id is not None})),
            )
        )
    return sorted(found, key=lambda c: (c.t_start, c.plate))


def analyse(
    models: ModelSet,
    frames: Iterable[Frame],
    declared: str | None = None,
    on_frame: Callable[[Frame], None] | None = None,
    fps: float = 2.0,
) -> Analysis:
    """Run recognition over ``frames`` (sampled at ``fps``) and build the candidates, keeping
    in memory only the frames that are some vehicle's best sighting so far."""
    analysis = Analysis()
    tracker = new_tracker(fps)
    best: dict[int | str, PlateObservation] = {}
    frame_images: dict[int, Image] = {}
    for frame in frames:
        vehicles, observations, crops = observe(models, frame, tracker)
        analysis.frames += 1
        analysis.vehicles += len(vehicles)
        for obs in observations:
            analysis.observations.append(obs)
            key: int | str = obs.track_id if obs.track_id is not None else obs.text.text
            if key not in best or obs.weight > best[key].weight:
                best[key] = obs
                frame_images[obs.frame_index] = frame.image
                analysis.plate_crops[id(obs.plate)] = crops[id(obs.plate)]
        wanted = {o.frame_index for o in best.values()}
        frame_images = {i: im for i, im in frame_images.items() if i in wanted}
        kept = {id(o.plate) for o in best.values()}
        analysis.plate_crops = {k: c for k, c in analysis.plate_crops.items() if k in kept}
        if on_frame is not None:
            on_frame(frame)
    analysis.candidates = candidates(analysis.observations, declared)
    analysis.best_frames = {
        c.best.frame_index: frame_images[c.best.frame_index] for c in analysis.candidates
    }
    return analysis
