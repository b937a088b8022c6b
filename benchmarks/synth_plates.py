"""Synthetic Chinese plates for training the plate reader's head (benchmarks/train_plate_head.py).

A plate is drawn to the GA 36-2018 layout (440x140, characters 45x90; green new-energy plates
480x140 with eight narrower characters) with the system's fonts: Noto Sans CJK Bold for the
Chinese characters, Liberation Sans Narrow Bold stretched to the character box for letters and
digits. It is then seen the way the reader sees a plate: its corners found a little off (a
detector's box), warped flat to the reader's 168x48 (a photo's plate) or 94x24 (a crop), and
made harder the way the benchmark does it (motion blur, heavy JPEG, dusk, a distant car).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image as PilImage
from PIL import ImageDraw, ImageFont

from benchmarks.plates import dusk, jpeg, motion_blur
from models.grammar import ALNUM, LETTERS, PROVINCES
from models.types import Image

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
CJK_INDEX = 2  # Noto Sans CJK SC in the collection
LATIN_FONT = Path("/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf")
DIGITS = "0123456789"
NEV = "DF"

# (background BGR, text BGR): colours of real plates, roughly.
STYLES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "blue": ((160, 70, 10), (245, 245, 245)),
    "yellow": ((20, 190, 240), (20, 20, 20)),
    "white": ((235, 235, 235), (20, 20, 20)),
    "black": ((25, 25, 25), (240, 240, 240)),
    "green": ((120, 220, 150), (20, 20, 20)),
}
SUFFIX_STYLE = {
    "警": "white",
    "学": "yellow",
    "挂": "yellow",
    "港": "black",
    "澳": "black",
    "领": "black",
}


def plate_text(rng: np.random.Generator) -> tuple[str, str]:
    """A random plate text and its colour: every province alike, suffixes and new-energy
    plates far more often than on the road (they are what the reader misses)."""
    province = PROVINCES[rng.integers(len(PROVINCES))]
    letter = LETTERS[rng.integers(len(LETTERS))]
    kind = rng.random()
    if kind < 0.2:
        if rng.random() < 0.6:
            tail = NEV[rng.integers(2)] + ALNUM[rng.integers(len(ALNUM))]
            tail += "".join(DIGITS[i] for i in rng.integers(10, size=4))
        else:
            tail = "".join(DIGITS[i] for i in rng.integers(10, size=5)) + NEV[rng.integers(2)]
        return province + letter + tail, "green"
    body = "".join(ALNUM[i] for i in rng.integers(len(ALNUM), size=4))
    if kind < 0.45:
        suffix = list(SUFFIX_STYLE)[rng.integers(len(SUFFIX_STYLE))]
        return province + letter + body + suffix, SUFFIX_STYLE[suffix]
    colour = "blue" if rng.random() < 0.7 else "yellow"
    return province + letter + body + ALNUM[rng.integers(len(ALNUM))], colour


@cache
def _glyph(char: str, width: int, height: int) -> npt.NDArray[np.uint8]:
    """The character's ink, stretched to fill its box (plate characters are tall)."""
    cjk = not char.isascii()
    font = ImageFont.truetype(
        str(CJK_FONT if cjk else LATIN_FONT), 120, index=CJK_INDEX if cjk else 0
    )
    canvas = PilImage.new("L", (200, 200), 0)
    ImageDraw.Draw(canvas).text((20, 10), char, font=font, fill=255)
    ink = np.asarray(canvas)
    ys, xs = np.nonzero(ink > 40)
    box = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    inner_w = width if not char.isdigit() or char != "1" else max(8, width // 3)
    resized = cv2.resize(box, (inner_w, height), interpolation=cv2.INTER_AREA)
    out = np.zeros((height, width), np.uint8)
    left = (width - inner_w) // 2
    out[:, left : left + inner_w] = resized
    return out


def render(text: str, colour: str, rng: np.random.Generator) -> Image:
    """The plate, flat, at its real size in millimetres as pixels (440x140 or 480x140)."""
    eight = len(text) == 8
    width, char_w, gap, split = (480, 43, 9, 49) if eight else (440, 45, 12, 34)
    background, ink = STYLES[colour]
    plate = np.zeros((140, width, 3), np.float32)
    plate[:] = background
    if colour == "green":  # gradient white-green (small) or yellow-green (large)
        top = np.array((240, 250, 240) if text[-1].isdigit() else (40, 210, 200), np.float32)
        ramp = np.linspace(0, 1, 140, dtype=np.float32)[:, None, None]
        plate = top * (1 - ramp) + np.array(background, np.float32) * ramp + plate * 0
    jitter = rng.normal(0, 12, 3)
    plate = np.clip(plate + jitter, 0, 255)
    border = ink if colour != "blue" else (235, 235, 235)
    cv2.rectangle(plate, (5, 5), (width - 6, 134), border, 3)
    x = 15.0
    for n, char in enumerate(text):
        glyph = _glyph(char, char_w, 90).astype(np.float32) / 255.0
        colour_ink = (30, 30, 210) if char == "警" or (colour == "white" and n == 0) else ink
        left = round(x)
        box = plate[25:115, left : left + char_w]
        box[:] = box * (1 - glyph[..., None]) + np.array(colour_ink, np.float32) * glyph[..., None]
        x += char_w + (split if n == 1 else gap)
        if n == 1:  # the separator dot
            centre = (round(x - split / 2 - gap / 2), 70)
            cv2.circle(plate, centre, 5, border if colour != "blue" else ink, -1)
    return np.asarray(plate, np.uint8)


def seen(plate: Image, rng: np.random.Generator) -> Image:
    """The plate as the reader gets it: on a background, its corners found a few per cent
    off, warped flat to 168x48 (a photo's plate) or 94x24 (a dataset crop)."""
    h, w = plate.shape[:2]
    pad = 60
    canvas = rng.integers(30, 200, size=(h + 2 * pad, w + 2 * pad, 3)).astype(np.uint8)
    canvas = np.asarray(cv2.GaussianBlur(canvas, (0, 0), 8), np.uint8)
    tilt = rng.uniform(-0.08, 0.08)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32) + pad
    corners[:, 1] += (corners[:, 0] - pad - w / 2) * tilt
    shown = cv2.warpPerspective(
        plate,
        cv2.getPerspectiveTransform(
            np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32) + 0, corners
        ),
        (canvas.shape[1], canvas.shape[0]),
        borderMode=cv2.BORDER_TRANSPARENT,
        dst=canvas,
    )
    noise = rng.normal(0, 1, corners.shape) * np.array([w * 0.02, h * 0.06])
    found = (corners + noise).astype(np.float32)
    size = (168, 48) if rng.random() < 0.5 else (94, 24)
    dst = np.array(
        [[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]], np.float32
    )
    flat = cv2.warpPerspective(
        shown, cv2.getPerspectiveTransform(found, dst), size, flags=cv2.INTER_AREA
    )
    return np.asarray(flat, np.uint8)


def far(image: Image, rng: np.random.Generator) -> Image:
    """A distant car: the plate was 40-60 px wide in the photo, then warped up."""
    h, w = image.shape[:2]
    target = int(rng.uniform(40, 60))
    small = cv2.resize(image, (target, max(8, target * h // w)), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.uint8)


def degrade(image: Image, rng: np.random.Generator) -> Image:
    """None, one or two of the benchmark's degradations, in random order."""
    width = float(image.shape[1]) * rng.uniform(1.0, 4.0)
    options: list[Callable[[Image], Image]] = [
        lambda im: motion_blur(im, width, rng),
        lambda im: jpeg(im, rng),
        lambda im: dusk(im, rng),
        lambda im: far(im, rng),
        lambda im: np.asarray(cv2.GaussianBlur(im, (0, 0), rng.uniform(0.5, 1.2)), np.uint8),
    ]
    count = rng.choice(3, p=[0.25, 0.5, 0.25])
    for k in rng.permutation(len(options))[:count]:
        image = options[k](image)
    return image


def sample(rng: np.random.Generator) -> tuple[Image, str]:
    text, colour = plate_text(rng)
    return degrade(seen(render(text, colour, rng), rng), rng), text
