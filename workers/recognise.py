"""Recognition stage: vehicles (tracked), plates and the road scene on each sampled frame;
then each vehicle's facts go to the violation rules, and every finding becomes a candidate
with the plate voted over the vehicle's sightings."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from ingest.tracks import Point
from models.registry import ModelSet
from models.types import Alternatives, Box, Image, Vehicle
from rules import ClipFacts, Finding, RuleBook, TrackFacts, Verdict, judge
from rules.facts import View
from workers.frames import Frame
from workers.proposals import RoadsideDetector
from workers.road_text import read_road_text
from workers.scene import Scene, steady_view
from workers.sightings import Observed, Observer, PlateObservation
from workers.vehicles import VehicleClass, fuse, plate_colour
from workers.voting import group, merged_alternatives, vote


@dataclass(frozen=True, slots=True)
class PlateGroup:
    """One plate voted over the sightings of one vehicle (or of one plate, untracked)."""

    plate: str
    plate_confidence: float
    plate_colour: str
    vehicle_class: str
    t_start: float
    t_end: float
    sightings: int
    best: PlateObservation
    track_ids: tuple[int, ...] = ()
    chars: tuple[Alternatives, ...] = ()
    """Per position: the top three characters and their probabilities over the sightings."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule's finding with what is known of the vehicle: the case-to-be."""

    finding: Finding
    vehicle_class: str
    plates: PlateGroup | None
    track_id: int | None

    @property
    def plate(self) -> str | None:
        return self.plates.plate if self.plates else None

    @property
    def plate_confidence(self) -> float:
        return self.plates.plate_confidence if self.plates else 0.0

    @property
    def plate_colour(self) -> str | None:
        return self.plates.plate_colour if self.plates else None

    @property
    def best(self) -> PlateObservation | None:
        return self.plates.best if self.plates else None

    @property
    def violation(self) -> str:
        return self.finding.violation

    @property
    def t_start(self) -> float:
        return self.finding.t_start

    @property
    def t_end(self) -> float:
        return self.finding.t_end

    @property
    def key(self) -> str:
        """What makes this candidate one case of its submission (a redone job finds it)."""
        who = self.plate or f"track{self.track_id}"
        return f"{self.finding.rule}:{who}:{self.finding.t_start:.2f}"


@dataclass
class Analysis:
    frames: int = 0
    vehicles: int = 0
    width: int = 0
    height: int = 0
    observations: list[PlateObservation] = field(default_factory=list)
    sightings: dict[int, list[tuple[float, Vehicle]]] = field(default_factory=dict)
    """Every tracked vehicle's (video time, detection), by track id."""
    unread: Counter[int] = field(default_factory=Counter)
    """Plate regions found but not readable, by the track id of the vehicle holding them."""
    scenes: dict[float, Scene] = field(default_factory=dict)
    road_text: dict[float, tuple[str, float]] = field(default_factory=dict)
    """Text painted in the lane beyond a yellow line (公交专用), by video time, where read."""
    plate_groups: list[PlateGroup] = field(default_factory=list)
    best_frames: dict[int, Image] = field(default_factory=dict)
    """The frames kept as evidence (the best sighting of each plate), by frame index."""
    plate_crops: dict[tuple[int, float, float], Image] = field(default_factory=dict)
    """Rectified plate images of the best sightings, by their ``PlateObservation.key``."""
    looks: dict[str, int] = field(default_factory=dict)
    """How many frames each costly look ran on (vehicles, scene, whole-frame plates): the
    work the observer did not skip."""


def plate_groups(observations: list[PlateObservation]) -> list[PlateGroup]:
    found = []
    for plate, members in group(observations).items():
        sightings = cast(list[PlateObservation], members)
        best = max(sightings, key=lambda o: o.weight)
        kinds = Counter(o.vehicle.kind for o in sightings if o.vehicle is not None)
        colours = Counter(o.colour for o in sightings)
        found.append(
            PlateGroup(
                plate=plate,
                plate_confidence=vote(sightings)[1],
                plate_colour=plate_colour(plate, colours.most_common(1)[0][0]) or "unknown",
                vehicle_class=kinds.most_common(1)[0][0] if kinds else "unknown",
                t_start=min(o.pts for o in sightings),
                t_end=max(o.pts for o in sightings),
                sightings=len(sightings),
                best=best,
                track_ids=tuple(sorted({o.track_id for o in sightings if o.track_id is not None})),
                chars=merged_alternatives(sightings, plate),
            )
        )
    return sorted(found, key=lambda c: (c.t_start, c.plate))


FAINT = 0.4
"""A track whose detections never reach this confidence and whose box never moves off its
place (``STILL_SHARE`` of its width), with no plate read on it, is not a vehicle for the rules:
the detector's faint box on paint or a sign (the painted 应急车道 on the S2 shoulder scored
0.3). A parked vehicle is a confident detection; a still camera's motion proposals move."""
STILL_SHARE = 0.5


def faint_and_still(seen: list[tuple[float, Vehicle]]) -> bool:
    """(A photo, or a track of one or two sightings, cannot show that it never moves.)"""
    if len(seen) < 3 or max(v.confidence for _, v in seen) >= FAINT:
        return False
    xs = [v.box.centre[0] for _, v in seen]
    ys = [v.box.centre[1] for _, v in seen]
    width = max(v.box.width for _, v in seen)
    return max(max(xs) - min(xs), max(ys) - min(ys)) < STILL_SHARE * width


def vehicle_class(detected: Counter[str], plates: PlateGroup | None) -> VehicleClass:
    """The detector's votes checked by the vehicle's plate and the plate's share of its box."""
    if plates is None:
        return fuse(detected)
    best = plates.best
    box = best.vehicle.box if best.vehicle is not None else None
    return fuse(
        +detected, plates.plate, plates.plate_colour, best.plate.double_layer, box, best.plate.box
    )


def clip_facts(
    analysis: Analysis,
    kind: str,
    declared: str | None = None,
    start: datetime | None = None,
    positions: tuple[Point, ...] = (),
) -> tuple[ClipFacts, dict[int, PlateGroup]]:
    """The rules' view of the clip: one ``TrackFacts`` per vehicle (plates read off vehicles
    no detector boxed become vehicles of their own, with negative ids)."""
    by_track: dict[int, PlateGroup] = {}
    for g in analysis.plate_groups:
        for t in g.track_ids:
            by_track[t] = g
    tracks = []
    for track_id, seen in sorted(analysis.sightings.items()):
        group_of = by_track.get(track_id)
        if group_of is None and faint_and_still(seen):
            continue  # texture, not a vehicle: see FAINT
        fused = vehicle_class(Counter(v.kind for _, v in seen), group_of)
        tracks.append(
            TrackFacts(
                track_id,
                fused.kind,
                tuple((pts, v.box) for pts, v in seen),
                group_of.plate if group_of else None,
                group_of.sightings if group_of else 0,
                analysis.unread[track_id],
                fused.confirmed,
                fused.reason,
            )
        )
    for n, g in enumerate(g for g in analysis.plate_groups if not g.track_ids):
        by_track[-1 - n] = g
        samples = tuple((o.pts, o.plate.box) for o in analysis.observations if o.read == g.plate)
        fused = vehicle_class(Counter([g.vehicle_class]), g)
        tracks.append(
            TrackFacts(
                -1 - n, fused.kind, samples, g.plate, g.sightings, 0, fused.confirmed, fused.reason
            )
        )
    facts = ClipFacts(
        kind,
        analysis.width,
        analysis.height,
        tuple(tracks),
        analysis.scenes,
        start,
        positions,
        declared,
        {t: text for t, (text, _) in analysis.road_text.items()},
    )
    return facts, by_track


def candidates(
    facts: ClipFacts, by_track: dict[int, PlateGroup], book: RuleBook
) -> tuple[Verdict, list[Candidate]]:
    """The rules' verdict on the clip, and each case finding with what is known of its
    vehicle (its voted plate by track id, ``by_track``)."""
    verdict = judge(facts, book)
    kinds = {t.id: t.kind for t in facts.tracks}
    return verdict, [
        Candidate(
            f,
            kinds.get(f.track_id, "unknown") if f.track_id is not None else "unknown",
            by_track.get(f.track_id) if f.track_id is not None else None,
            f.track_id,
        )
        for f in verdict.cases
    ]


LAG = 2
"""Frames the main thread runs ahead of the plates read beside it (workers.beside): a frame
where the whole frame is searched for plates, or several plates are read, takes the thread
beside longer than the main thread takes for the next frame (a frame whose vehicles are
carried costs it a few milliseconds)."""


@dataclass
class _Best:
    """The best sighting of each plate so far (by track, else by text) and the frames that
    show them: only these frames stay in memory."""

    sightings: dict[int | str, PlateObservation] = field(default_factory=dict)
    frames: dict[int, Image] = field(default_factory=dict)


def take(analysis: Analysis, models: ModelSet, best: _Best, frame: Frame, seen: Observed) -> None:
    """What ``frame`` showed: its road scene (and the text painted in a bus lane where it has
    one), its plates read (beside the models)."""
    analysis.scenes[frame.pts] = seen.scene
    if seen.scene.bus_line is not None:
        text, confidence = read_road_text(frame.image, seen.scene, models.text)
        if text:
            analysis.road_text[frame.pts] = (text, confidence)
    analysis.unread.update(seen.unread)
    for obs in seen.observations:
        analysis.observations.append(obs)
        key: int | str = obs.track_id if obs.track_id is not None else obs.text.text
        if key not in best.sightings or obs.weight > best.sightings[key].weight:
            best.sightings[key] = obs
            best.frames[obs.frame_index] = frame.image
            analysis.plate_crops[obs.key] = seen.crops[obs.key]
    wanted = {o.frame_index for o in best.sightings.values()}
    best.frames = {i: im for i, im in best.frames.items() if i in wanted}
    kept = {o.key for o in best.sightings.values()}
    analysis.plate_crops = {k: c for k, c in analysis.plate_crops.items() if k in kept}


def analyse(
    models: ModelSet,
    frames: Iterable[Frame],
    on_frame: Callable[[Frame], None] | None = None,
    fps: float = 2.0,
    view: View | None = None,
    roadside: RoadsideDetector | None = None,
) -> Analysis:
    """Run recognition over ``frames`` (sampled at ``fps``), keeping in memory only the frames
    that are some vehicle's best plate sighting so far. ``view``: the camera's point of view
    when the submission's source says it (a dashcam device), else worked out from the frames.
    ``roadside``: the vehicle detector with a still camera's motion proposals (given, to read
    its clocks; else made for the clip)."""
    analysis = Analysis()
    observer = Observer(models, fps, view, roadside)
    best = _Best()
    sightings: dict[int, list[tuple[float, Vehicle]]] = defaultdict(list)
    waiting: deque[tuple[Frame, Observed]] = deque()
    """The last frames, whose plates are taken ``LAG`` frames later (read beside meanwhile)."""
    try:
        for frame in frames:
            seen = observer.observe(frame)
            waiting.append((frame, seen))
            if len(waiting) > LAG:
                take(analysis, models, best, *waiting.popleft())
            analysis.frames += 1
            analysis.height, analysis.width = frame.image.shape[:2]
            analysis.vehicles += len(seen.vehicles)
            for vehicle in seen.vehicles:
                if vehicle.track_id is not None:
                    sightings[vehicle.track_id].append((frame.pts, vehicle))
            if on_frame is not None:
                on_frame(frame)
        while waiting:
            take(analysis, models, best, *waiting.popleft())
    finally:
        observer.close()
    analysis.looks = {
        "vehicles": observer.vehicle_looks,
        "scene": observer.scene_looks,
        "whole_frame_plates": observer.whole_frame_looks,
    }
    analysis.scenes = steady_view(analysis.scenes, view)  # one point of view for the clip
    analysis.sightings = dict(sightings)
    analysis.plate_groups = plate_groups(analysis.observations)
    analysis.best_frames = {
        g.best.frame_index: best.frames[g.best.frame_index] for g in analysis.plate_groups
    }
    return analysis


def box_at(analysis: Analysis, track_id: int | None, pts: float) -> Box | None:
    """The vehicle's box in the sampled frame nearest ``pts``."""
    seen = analysis.sightings.get(track_id) if track_id is not None else None
    if not seen:
        return None
    return min(seen, key=lambda s: abs(s[0] - pts))[1].box
