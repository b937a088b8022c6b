"""Road scene from a real frame: lane markings found with OpenCV, the solid edge lines with the
side their shoulder lies on, and the camera's point of view.

Paint is found as thin structures brighter than the road around them (a horizontal top-hat:
hazy pole-camera footage has grey paint on grey asphalt, so a fixed brightness threshold misses
it), white where unsaturated, yellow by hue; blobs that are not thin (a yellow raincoat, a white
van without a box) are dropped. Hough segments are grouped into markings by direction and
collinearity, each fitted with a straight line and told solid or dashed by how much of its
length is painted.

The point of view decides where a shoulder can be: a dashcam drives in a lane (a marking on
each side of the frame's centre, a lane's width apart), so only the right edge line bounds an
emergency lane; a roadside camera (a pole, a phone at the kerb) looks along the road and may
see a carriageway's edge line on either side. An edge line counts only when a paved strip lies
beyond it (a guardrail's base or a kerb with grass behind it is not one). When no edge line can
be placed the scene says why (``Scene.reason``), and the lane rules find nothing in it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from models.types import Box, Image
from rules.facts import Colour, Edge, Side, Style, View
from rules.facts import LaneLine as LaneLine  # the rules own the scene's types
from rules.facts import Scene as Scene
from rules.facts import beyond as beyond

SCENE_WIDTH = 1280
"""Frames are looked at for lane markings at most this wide, shrunk by a whole factor (every
2x2 or 3x3 pixels averaged into one): a 1080p frame is looked at 960 px wide, which costs 0.56
of 1280 px; the labelled frames' endpoint errors (benchmarks/scene.py, measured at 1280 px)
and the rule suites' findings are the same as at 1280 px. A 1280 px frame is looked at as it
is (at 960 px, the rendered bus-lane scene's road text no longer reads whole)."""
ROI_TOP = 0.3
"""Markings are looked for below this fraction of the frame height (above: sky, captions)."""
YELLOW_ROI_TOP = 0.55
"""Yellow (bus-lane) markings are looked for below this: near paint reads best as road text."""
SOLID_COVERAGE = 0.7
MIN_SLOPE = 0.2
"""|dy/dx| below this is not a marking along the road (a stop line, a guardrail's top edge)."""
PAINT_CONTRAST = 25
"""Grey levels paint must stand above the road next to it."""
EGO_LANE_SHARE = 0.3
"""A dashcam's own lane is at least this share of the frame width wide at the bottom row."""

Segment = tuple[int, int, int, int]


def _masks(image: Image, hsv: np.ndarray) -> dict[Colour, np.ndarray]:
    height, width = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, (width // 24) | 1), 1))
    raised = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel) > PAINT_CONTRAST
    white = (raised & (hsv[..., 1] < 70)).astype(np.uint8) * 255
    hls = cv2.cvtColor(image, cv2.COLOR_BGR2HLS)
    yellow = cv2.inRange(hls, (12, 80, 90), (38, 230, 255))
    return {"white": _thin_only(white, height), "yellow": _thin_only(yellow, height)}


def _thin_only(mask: np.ndarray, height: int) -> np.ndarray:
    """Only connected parts that are long and thin, as paint seen along the road is: a
    coloured coat, a bag or a sign is a blob."""
    # fewer painted pixels than 16-bit labels hold: labelled in 16 bits (a third of the CPU time)
    ltype = cv2.CV_16U if cv2.countNonZero(mask) < 0xFFFF else cv2.CV_32S
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        mask, 8, ltype, cv2.CCL_DEFAULT
    )
    long_side = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    area = stats[:, cv2.CC_STAT_AREA]
    # area over the bounding box's long side is the blob's mean thickness
    thickness = area / np.maximum(long_side, 1)
    keep = (long_side >= height // 40) & (thickness <= np.maximum(3.0, long_side / 6))
    keep[0] = False  # the background
    if not keep.any():
        return np.zeros_like(mask)
    if keep.all() or count == 1:
        return np.where(labels > 0, 255, 0).astype(np.uint8)
    lut = np.where(keep, 255, 0).astype(np.uint8)
    return np.asarray(np.take(lut, np.asarray(labels)), np.uint8)


def _angle(seg: Segment) -> float:
    x1, y1, x2, y2 = seg
    return math.degrees(math.atan2(y2 - y1, x2 - x1)) % 180


def _distance(seg: Segment, x: float, y: float) -> float:
    x1, y1, x2, y2 = seg
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    return abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length


def _group(segments: list[Segment], tolerance: float) -> list[list[Segment]]:
    """Segments of one marking point the same way and lie on one straight line (the longest
    segment of the group stands for it)."""
    groups: list[list[Segment]] = []
    seeds: list[float] = []  # each group's seed angle
    for seg in sorted(segments, key=lambda s: -math.hypot(s[2] - s[0], s[3] - s[1])):
        angle = _angle(seg)
        for members, seed_angle in zip(groups, seeds, strict=True):
            seed = members[0]
            turn = abs(angle - seed_angle)
            if min(turn, 180 - turn) > 4:
                continue
            if max(_distance(seed, seg[0], seg[1]), _distance(seed, seg[2], seg[3])) < tolerance:
                members.append(seg)
                break
        else:
            groups.append([seg])
            seeds.append(angle)
    return groups


def _merge_wide(groups: list[list[Segment]], width: int) -> list[list[Segment]]:
    """Groups that are the two borders of one wide stripe of paint (near the camera a marking
    is tens of pixels wide): nearly parallel and close together where both are seen."""
    merged: list[list[Segment]] = []
    fits: list[tuple[float, float, float, float]] = []
    for members in groups:
        a, b, top, bottom = _fit(members)
        for i, (a2, b2, top2, bottom2) in enumerate(fits):
            turn = abs(np.degrees(np.arctan(a) - np.arctan(a2)))
            rows = (max(top, top2), min(bottom, bottom2))
            apart = max(abs((a - a2) * y + b - b2) for y in rows)
            if turn < 8 and apart < 0.03 * width:
                merged[i] = merged[i] + members
                fits[i] = _fit(merged[i])
                break
        else:
            merged.append(list(members))
            fits.append((a, b, top, bottom))
    return merged


def _fit(segments: list[Segment]) -> tuple[float, float, float, float]:
    """x = a*y + b through the segments' ends, each end weighed by its segment's length: the
    least-squares line ``np.polyfit(ys, xs, 1, w=lengths)`` gives (residuals times the
    weights, so squared lengths weigh the squares), in closed form (a few segments: plain
    floats cost less than numpy's calls)."""
    ends = [
        ((x2 - x1) ** 2 + (y2 - y1) ** 2, x, y)
        for x1, y1, x2, y2 in segments
        for x, y in ((x1, y1), (x2, y2))
    ]
    total = sum(w for w, _, _ in ends)
    x_mean = sum(w * x for w, x, _ in ends) / total
    y_mean = sum(w * y for w, _, y in ends) / total
    spread = sum(w * (y - y_mean) ** 2 for w, _, y in ends)
    cross = sum(w * (y - y_mean) * (x - x_mean) for w, x, y in ends)
    a = cross / spread if spread else 0.0  # level segments only: no slope to fit
    ys = [y for _, _, y in ends]
    return a, x_mean - a * y_mean, float(min(ys)), float(max(ys))


def _along(a: float, b: float, y_top: float, y_bottom: float) -> tuple[np.ndarray, np.ndarray]:
    """Points one pixel apart along x = a*y + b between the two rows."""
    length = float(np.hypot(a * (y_bottom - y_top), y_bottom - y_top))
    ys = np.linspace(y_top, y_bottom, max(2, int(length)))
    return a * ys + b, ys


def _coverage(grown: np.ndarray, a: float, b: float, y_top: float, y_bottom: float) -> float:
    """The share of the line's points on paint (``grown``: the mask dilated by a pixel)."""
    xs, ys = _along(a, b, y_top, y_bottom)
    inside = (xs >= 0) & (xs < grown.shape[1])
    if inside.sum() < 10:
        return 0.0
    return float((grown[ys[inside].astype(int), xs[inside].astype(int)] > 0).mean())


def find_lines(
    image: Image, vehicles: Sequence[Box] = (), hsv: np.ndarray | None = None
) -> list[LaneLine]:
    """Lane markings below the horizon; the ``vehicles``' boxes are left out, so a yellow
    tail light or a white bumper is never taken for paint."""
    height, width = image.shape[:2]
    top = int(height * ROI_TOP)
    lines: list[LaneLine] = []
    if hsv is None:
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    for colour, mask in _masks(image, hsv).items():
        # bus-lane lines are judged from a dashcam only, whose road starts lower
        mask[: top if colour == "white" else int(height * YELLOW_ROI_TOP)] = 0
        for box in vehicles:
            mask[max(0, int(box.y1)) : int(box.y2) + 1, max(0, int(box.x1)) : int(box.x2) + 1] = 0
        found = cv2.HoughLinesP(
            mask,
            1,
            np.pi / 180,
            threshold=20,
            minLineLength=max(10, height // 40),
            maxLineGap=max(5, height // 60),
        )
        if found is None:
            continue
        grown = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        segments = [
            (int(x1), int(y1), int(x2), int(y2))
            for x1, y1, x2, y2 in found.reshape(-1, 4)
            if abs(y2 - y1) >= MIN_SLOPE * abs(x2 - x1) and y1 != y2
        ]
        groups = _group(segments, tolerance=max(4.0, width * 0.006))
        for members in _merge_wide(groups, width):
            a, b, y_top, y_bottom = _fit(members)
            xs, ys = _along(a, b, y_top, y_bottom)
            length = float(np.hypot(xs[-1] - xs[0], ys[-1] - ys[0]))
            painted = sum(float(np.hypot(s[2] - s[0], s[3] - s[1])) for s in members)
            if painted < height * 0.08:
                continue
            coverage = _coverage(grown, a, b, y_top, y_bottom)
            solid = coverage >= SOLID_COVERAGE and length >= 0.25 * height
            style: Style = "solid" if solid else "dashed"
            lines.append(LaneLine(a, b, y_top, y_bottom, colour, style, round(coverage, 3)))
    return lines


def _x_bottom(line: LaneLine, height: int) -> float:
    return line.x_at(height)


def point_of_view(lines: Sequence[LaneLine], width: int, height: int) -> View:
    """dashcam when the frame shows the camera's own lane: the nearest marking left of the
    centre runs down to the left, the nearest right of it down to the right, a lane's width
    apart at the bottom row; roadside when markings are seen but no such lane; unknown when
    there are none."""
    if not lines:
        return "unknown"
    centre = width / 2
    left = [line for line in lines if line.a < 0 and _x_bottom(line, height) < centre]
    right = [line for line in lines if line.a > 0 and _x_bottom(line, height) > centre]
    if left and right:
        gap = min(_x_bottom(r, height) for r in right) - max(_x_bottom(ln, height) for ln in left)
        if gap >= EGO_LANE_SHARE * width:
            return "dashcam"
    return "roadside"


def _paved_beyond(hsv: np.ndarray, line: LaneLine, shoulder: Side) -> bool:
    """Whether a strip beyond the line looks like the road just inside it (grey, of like
    brightness) over most of its width, as a paved shoulder does and grass, trees or the
    ground past a guardrail do not."""
    height, width = hsv.shape[:2]
    step = max(6, int(width * 0.02))
    sign = 1 if shoulder == "right" else -1
    y_top = line.y_top + (line.y_bottom - line.y_top) * 0.4
    outside: list[np.ndarray] = []
    inside: list[np.ndarray] = []
    for y in np.linspace(y_top, line.y_bottom, 20).astype(int):
        x = line.x_at(float(y))
        for k in (1.0, 2.0, 3.0):
            for into, xi in (
                (outside, int(x + sign * step * k)),
                (inside, int(x - sign * step * k)),
            ):
                if 0 <= xi < width and 0 <= y < height:
                    into.append(hsv[y, xi])
    if len(outside) < 15 or len(inside) < 15:
        return False
    road_value = float(np.median(np.stack(inside)[:, 2]))
    strip = np.stack(outside).astype(np.float64)
    # road-grey, or brighter and unsaturated: paint (an emergency lane has its name painted)
    alike = (strip[:, 1] < 70) & (strip[:, 2] - road_value > -30)
    return bool(alike.mean() >= 0.6)


def _reaches_border(line: LaneLine, width: int, height: int) -> bool:
    """An edge line seen along the road runs out of the frame at its bottom or its side."""
    x, y = line.x_at(line.y_bottom), line.y_bottom
    return y >= 0.85 * height or x <= 0.03 * width or x >= 0.97 * width


def find_edges(
    image: Image, lines: Sequence[LaneLine], hsv: np.ndarray | None = None
) -> tuple[Edge, ...]:
    """On each side of the frame, the outermost solid white marking with a paved strip beyond
    it (which of them can bound an emergency lane depends on the point of view: see
    ``Scene.shoulders``)."""
    height, width = image.shape[:2]
    centre = width / 2
    if hsv is None:
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    solid = [
        line
        for line in lines
        if line.colour == "white" and line.style == "solid" and _reaches_border(line, width, height)
    ]
    edges = []
    for side in ("left", "right"):
        if side == "right":
            found = [ln for ln in solid if ln.a > 0 and _x_bottom(ln, height) > centre]
            found.sort(key=lambda ln: -_x_bottom(ln, height))
        else:
            found = [ln for ln in solid if ln.a < 0 and _x_bottom(ln, height) < centre]
            found.sort(key=lambda ln: _x_bottom(ln, height))
        for line in found:
            if _paved_beyond(hsv, line, side):
                edges.append(Edge(line, side))
                break
    return tuple(edges)


def explain(scene: Scene) -> Scene:
    """The scene with ``reason`` saying why no shoulder can be placed in it (empty if one can)."""
    reason = ""
    if not scene.lines:
        reason = "no lane markings found"
    elif scene.view == "unknown":
        reason = "the camera's point of view cannot be told"
    elif not scene.shoulders:
        reason = f"{scene.view} view: no solid edge line with a paved shoulder beyond it"
    return replace(scene, reason=reason)


def detect_lanes(
    image: Image, pts: float = 0.0, vehicles: Sequence[Box] = (), view: View | None = None
) -> Scene:
    """The scene of one frame; ``view`` when the submission's source says it (a dashcam
    device), else worked out from this frame (see :func:`steady_view` for a whole clip).
    A frame wider than ``SCENE_WIDTH`` is looked at shrunk by the least whole factor that
    makes it fit, and its lines scaled back."""
    height, width = image.shape[:2]
    scale = 1.0 / math.ceil(width / SCENE_WIDTH)
    if scale < 1.0:
        image = np.asarray(
            cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
        )
        vehicles = [Box(b.x1 * scale, b.y1 * scale, b.x2 * scale, b.y2 * scale) for b in vehicles]
    h, w = image.shape[:2]
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    lines = find_lines(image, vehicles, hsv)
    seen = view or point_of_view(lines, w, h)
    edges = find_edges(image, lines, hsv)
    if scale < 1.0:
        lines = [_scaled(line, 1 / scale) for line in lines]
        edges = tuple(Edge(_scaled(e.line, 1 / scale), e.shoulder) for e in edges)
    return explain(Scene(pts, width, height, tuple(lines), seen, edges))


def _scaled(line: LaneLine, k: float) -> LaneLine:
    """The line in an image ``k`` times larger (x = a*y + b: the slope stays)."""
    return replace(line, b=line.b * k, y_top=line.y_top * k, y_bottom=line.y_bottom * k)


def steady_view(scenes: dict[float, Scene], view: View | None = None) -> dict[float, Scene]:
    """One point of view for a whole clip (a camera does not turn from a dashcam into a pole
    camera halfway): ``view`` when the source says it, else the view most frames with
    markings show; frames without markings keep "unknown" and their reason."""
    if view is None:
        votes = Counter(s.view for s in scenes.values() if s.view != "unknown")
        if not votes:
            return scenes
        view = votes.most_common(1)[0][0]
    return {pts: explain(replace(s, view=view)) if s.lines else s for pts, s in scenes.items()}
