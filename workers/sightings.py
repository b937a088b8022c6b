"""What one sampled frame shows: vehicles (with their track ids), plates read, the road scene;
and only the work the answer needs.

A clip is looked at by one :class:`Observer`, which remembers between frames what is already
known, so each frame costs what is new in it:

- **Plates on vehicles, not on the whole frame.** Between whole-frame looks (the first frame,
  then one every ``WHOLE_FRAME_EVERY_S`` of video time, and every photo) plates are looked for
  only inside the boxes of tracked vehicles large enough to carry a readable plate, with the
  small plate detector on each box; a plate on a vehicle no detector boxed is still found at
  the next whole-frame look.
- **A plate read is settled, then only checked.** Once a vehicle's plate has been read
  ``SETTLE_READS`` times alike, each time at least ``SETTLE_CONFIDENCE`` sure (calibrated), it
  is not looked for on that vehicle again until the next whole-frame look, which reads it once
  more: a different read there (a tracker that swapped two vehicles) unsettles it.
- **The road is looked at a few times a second.** Lane markings move slowly in the picture
  (a dashcam keeps its lane, a fixed camera never moves), so a frame less than
  ``SCENE_EVERY_S`` after the last scene look takes that scene (at its own time).
- **Steady vehicles are carried.** When every vehicle of the last frame has been detected in
  ``CARRY_AFTER`` looks in a row and the frames come at most ``CARRY_MAX_GAP_S`` apart, the
  next ``CARRY_FRAMES`` frames take their boxes moved on at their own pace, and the tracker
  follows those; the frame after is looked at again (so a vehicle that appears is found at
  most ``CARRY_FRAMES`` samples late).
- **Nothing moves, nothing is redone.** When the frame differs from the one last looked at by
  no more than camera noise anywhere (a fixed camera over an empty road, a parked car), the
  vehicles and the road scene of that frame stand for this one.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from models.plate_reader import rectify
from models.registry import ModelSet, Tracker, new_tracker
from models.types import Alternatives, Box, Image, PlateDetection, PlateText, Vehicle
from rules.facts import Scene, View
from telemetry.metrics import timed_stage
from workers.beside import Beside
from workers.frames import Frame
from workers.proposals import RoadsideDetector, working_grey
from workers.scene import detect_lanes

WHOLE_FRAME_EVERY_S = 1.0
"""Video time between two looks for plates over the whole frame."""
CARRY_AFTER = 3
CARRY_FRAMES = 2
"""Frames a steady vehicle is carried in a row before it is looked for again."""
CARRY_MAX_GAP_S = 0.25
SCENE_EVERY_S = 0.4
"""Video time between two looks at the road's markings."""
SETTLE_READS = 2
SETTLE_CONFIDENCE = 0.9
MIN_PLATE_VEHICLE_PX = 96.0
"""A vehicle box narrower than this holds a plate too small to read (about 25 px wide)."""
BOX_MARGIN = 0.08
"""Share of a vehicle box's size added around it when its plate is looked for."""
STILL_SIZE = (96, 54)
STILL_DIFF = 6.0
"""Grey levels (of 255) by which no cell of the frame, shrunk to ``STILL_SIZE``, may differ
from the frame last looked at for the view to count as unchanged: a car of 20 px moving in a
1080p frame changes its cell by more than this; sensor and compression noise do not."""


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
    def track_id(self) -> int | None:
        return self.vehicle.track_id if self.vehicle is not None else None

    @property
    def key(self) -> tuple[int, float, float]:
        """Names this sighting's plate crop: its frame and the plate's place in it."""
        return (self.frame_index, round(self.plate.box.x1, 1), round(self.plate.box.y1, 1))

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

    @property
    def chars(self) -> tuple[Alternatives, ...]:
        return self.text.chars


@dataclass
class Observed:
    """What one frame shows. The vehicles and the road scene come at once; the plates are
    found and read beside the models (workers.beside) and waited for where asked for: asked
    for after the next frames' vehicles (``workers.recognise.LAG``), they cost the main thread
    little or no wait."""

    vehicles: list[Vehicle]
    """This frame's vehicles; ``track_id`` is set on those the tracker follows."""
    reads_ahead: Future[_Reads]
    scene: Scene
    fresh_scene: bool = True
    """False when ``scene`` is an earlier frame's (see ``SCENE_EVERY_S``)."""

    @property
    def observations(self) -> list[PlateObservation]:
        return self.reads_ahead.result().observations

    @property
    def crops(self) -> dict[tuple[int, float, float], Image]:
        """The rectified plate images of ``observations``, by their ``key``."""
        return self.reads_ahead.result().crops

    @property
    def unread(self) -> list[int]:
        """Track ids of vehicles whose plate region was found but not read."""
        return self.reads_ahead.result().unread


@dataclass
class _Reads:
    """One frame's plate reads, as :class:`Observed` holds them."""

    observations: list[PlateObservation] = field(default_factory=list)
    crops: dict[tuple[int, float, float], Image] = field(default_factory=dict)
    unread: list[int] = field(default_factory=list)


@dataclass
class _Settled:
    text: str = ""
    reads: int = 0

    @property
    def done(self) -> bool:
        return self.reads >= SETTLE_READS


def owner(plate: PlateDetection, vehicles: list[Vehicle]) -> Vehicle | None:
    """The smallest vehicle box holding the plate's centre."""
    cx, cy = plate.box.centre
    holding = [v for v in vehicles if v.box.contains(cx, cy)]
    return min(holding, key=lambda v: v.box.width * v.box.height) if holding else None


def sharpness(crop: Image) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def _placed(plate: PlateDetection, scale: float, dx: float, dy: float) -> PlateDetection:
    """A plate found on a crop scaled by ``scale`` whose corner is (dx, dy) in the frame."""
    b = plate.box
    return replace(
        plate,
        box=Box(b.x1 / scale + dx, b.y1 / scale + dy, b.x2 / scale + dx, b.y2 / scale + dy),
        corners=tuple((x / scale + dx, y / scale + dy) for x, y in plate.corners),
    )


def _overlap(a: Box, b: Box) -> float:
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / min(a.width * a.height, b.width * b.height)


@dataclass
class Observer:
    """Looks at one clip's sampled frames in order (or at one photo)."""

    models: ModelSet
    fps: float = 2.0
    view: View | None = None
    roadside: RoadsideDetector | None = None
    """The detector with motion proposals on a still camera (made here unless given)."""
    _tracker: Tracker = field(init=False)
    _roadside: RoadsideDetector = field(init=False)
    _settled: dict[int, _Settled] = field(default_factory=dict)
    _next_whole: float = 0.0
    _last_thumb: np.ndarray | None = None
    _last_vehicles: list[Vehicle] = field(default_factory=list)
    _last_scene: Scene | None = None
    _next_scene: float = 0.0
    _seen: dict[int, list[tuple[float, Box]]] = field(default_factory=dict)
    """Each tracked vehicle's last detected boxes, while it is detected look after look."""
    _carried: int = 0
    """Frames carried in a row since the last look."""
    _last_pts: float | None = None
    beside: Beside = field(default_factory=Beside)
    """The thread the plates are found and read on (see workers.beside)."""
    whole_frame_looks: int = 0
    vehicle_looks: int = 0
    scene_looks: int = 0

    def __post_init__(self) -> None:
        self._tracker = new_tracker(self.fps)
        self._roadside = self.roadside or RoadsideDetector(self.models, self.view)

    def observe(self, frame: Frame) -> Observed:
        """What ``frame`` shows: the vehicles tracked and the road scene here, the plates
        found and read beside (in frame order: see :class:`Observed`)."""
        image = frame.image
        roadside = self._roadside
        with timed_stage("proposals"):
            grey = working_grey(image)  # one shrunk frame for both looks at motion
        # a still camera's motion proposals need every frame: nothing is skipped there
        with timed_stage("track"):
            unchanged = not roadside.static and self._unchanged(grey)
        carried = not unchanged and not roadside.static and self._can_carry(frame.pts)
        if unchanged:
            detected = [replace(v, track_id=None) for v in self._last_vehicles]
        elif carried:
            detected = self._carry(frame.pts, image.shape[1], image.shape[0])
        else:
            detected = self.models.vehicles.detect(image)
            self.vehicle_looks += 1
        with timed_stage("proposals"):
            detected = roadside.propose(image, detected, grey)
        with timed_stage("track"):
            everyone = self._tracker.update(detected, image.shape[:2])
        if not carried:
            self._remember(frame.pts, everyone)
        self._carried, self._last_pts = (self._carried + 1 if carried else 0), frame.pts
        self._last_vehicles = everyone
        whole = frame.pts >= self._next_whole - 1e-6  # the first frame (and a photo) too
        if whole:
            self._next_whole = frame.pts + WHOLE_FRAME_EVERY_S
            self.whole_frame_looks += 1
        reads = self.beside.submit(self._plate_reads, frame, everyone, whole)
        due = frame.pts >= self._next_scene - 1e-6
        fresh = self._last_scene is None or (due and not unchanged)
        if not fresh and self._last_scene is not None:
            scene = replace(self._last_scene, pts=frame.pts)
        else:
            self._next_scene = frame.pts + SCENE_EVERY_S
            with timed_stage("scene"):
                scene = detect_lanes(image, frame.pts, [v.box for v in everyone])
            self.scene_looks += 1
        self._last_scene = scene
        return Observed(everyone, reads, scene, fresh)

    def _plate_reads(self, frame: Frame, vehicles: list[Vehicle], whole: bool) -> _Reads:
        """The frame's plates found (over the whole frame, or on the vehicles not settled)
        and read; the settled reads change here only, one frame after another."""
        if whole:
            plates = self.models.plates.detect(frame.image)
        else:
            plates = self._plates(frame.image, vehicles)
        read = _Reads()
        for plate in plates:
            self._read(frame, plate, owner(plate, vehicles), read)
        return read

    def close(self) -> None:
        """Ends the thread beside (the observer's clip is done)."""
        self.beside.close()

    def _can_carry(self, pts: float) -> bool:
        if (
            self._carried >= CARRY_FRAMES
            or self._last_pts is None
            or pts - self._last_pts > CARRY_MAX_GAP_S
        ):
            return False
        last = self._last_vehicles
        return bool(last) and all(
            v.track_id is not None and len(self._seen.get(v.track_id, ())) >= CARRY_AFTER
            for v in last
        )

    def _carry(self, pts: float, width: int, height: int) -> list[Vehicle]:
        """The last frame's vehicles, each box moved on as it moved between its last two
        detections (scaled to the time step), kept inside the frame."""
        moved = []
        for v in self._last_vehicles:
            (t0, b0), (t1, b1) = self._seen[v.track_id or 0][-2:]
            k = (pts - t1) / max(t1 - t0, 1e-6)
            box = Box(
                max(0.0, b1.x1 + k * (b1.x1 - b0.x1)),
                max(0.0, b1.y1 + k * (b1.y1 - b0.y1)),
                min(width - 1.0, b1.x2 + k * (b1.x2 - b0.x2)),
                min(height - 1.0, b1.y2 + k * (b1.y2 - b0.y2)),
            )
            if box.width > 2 and box.height > 2:
                moved.append(replace(v, box=box, track_id=None))
        return moved

    def _remember(self, pts: float, vehicles: list[Vehicle]) -> None:
        seen: dict[int, list[tuple[float, Box]]] = {}
        for v in vehicles:
            if v.track_id is not None:
                seen[v.track_id] = [
                    *self._seen.get(v.track_id, [])[-(CARRY_AFTER - 1) :],
                    (pts, v.box),
                ]
        self._seen = seen

    def _unchanged(self, grey: Image) -> bool:
        """Whether no part of the view changed since the frame last looked at (``grey``: the
        frame at the motion stage's working width, ``working_grey``)."""
        thumb = cv2.resize(grey, STILL_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        last, self._last_thumb = self._last_thumb, thumb
        if last is None or last.shape != thumb.shape:
            return False
        if float(np.abs(thumb - last).max()) <= STILL_DIFF:
            self._last_thumb = last  # compare with the frame looked at, so drift adds up
            return True
        return False

    def _plates(self, image: Image, vehicles: list[Vehicle]) -> list[PlateDetection]:
        """Plates inside the boxes of tracked vehicles whose plate is not settled."""
        h, w = image.shape[:2]
        scale = min(1.0, getattr(self.models.plates, "size", 640) / max(h, w))
        found: list[PlateDetection] = []
        for v in vehicles:
            settled = self._settled.get(v.track_id) if v.track_id is not None else None
            if v.track_id is None or (settled and settled.done):
                continue
            if v.box.width < MIN_PLATE_VEHICLE_PX:
                continue
            mx, my = v.box.width * BOX_MARGIN, v.box.height * BOX_MARGIN
            x1, y1 = max(0, int(v.box.x1 - mx)), max(0, int(v.box.y1 - my))
            x2, y2 = min(w, int(v.box.x2 + mx) + 1), min(h, int(v.box.y2 + my) + 1)
            # the crop at the scale the whole-frame look sees it: a plate too small to be
            # found there (and read) is not found here either
            crop = cv2.resize(
                image[y1:y2, x1:x2], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
            )
            for plate in self.models.plate_crops.detect(np.ascontiguousarray(crop)):
                moved = _placed(plate, scale, x1, y1)
                if all(_overlap(moved.box, p.box) < 0.5 for p in found):
                    found.append(moved)
        return found

    def _read(
        self, frame: Frame, plate: PlateDetection, vehicle: Vehicle | None, found: _Reads
    ) -> None:
        track_id = vehicle.track_id if vehicle is not None else None
        crop = rectify(frame.image, plate)
        text = self.models.reader.read(crop, plate.double_layer)
        if not text.valid:
            if track_id is not None:
                found.unread.append(track_id)
            return
        if track_id is not None:
            self._settle(track_id, text)
        colour, _ = self.models.colour.classify(crop)
        seen = PlateObservation(
            frame.index, frame.pts, plate, text, colour, vehicle, sharpness(crop)
        )
        found.observations.append(seen)
        found.crops[seen.key] = crop

    def _settle(self, track_id: int, text: PlateText) -> None:
        state = self._settled.setdefault(track_id, _Settled())
        if text.text != state.text:
            state.text, state.reads = text.text, 0
        if text.confidence >= SETTLE_CONFIDENCE:
            state.reads += 1
