"""Scanned-looking PDFs rendered from text, for the OCR tests, benchmark and evaluation.

A page is typeset in a TrueType font on a white A4 image, then aged like a photocopy: a slight
rotation, grey speckles and a little blur. The PDF holds only the images (no text layer), as a
scanner writes it. The text given is the reference a character accuracy is measured against.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
DPI = 200
A4 = (int(8.27 * DPI), int(11.69 * DPI))


def render_scan(path: Path, pages: list[str], *, angle: float = 0.6, noise: float = 0.012, seed: int = 7,
                font_size: int = 30) -> Path:
    """Write `pages` (paragraphs separated by blank lines; a line starting with '# ' is set in
    a larger size) as an image-only PDF at `path`; returns `path`."""
    from PIL import Image

    rng = random.Random(seed)
    images = [_age(_typeset(text, font_size), rng, angle, noise) for text in pages]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return path


def _font(size: int):
    from PIL import ImageFont

    if FONT.is_file():
        return ImageFont.truetype(str(FONT), size)
    return ImageFont.load_default(size=size)  # Pillow's own scalable font when DejaVu is absent


def _typeset(text: str, size: int):
    from PIL import Image, ImageDraw

    image = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(image)
    margin, y = int(0.9 * DPI), int(0.9 * DPI)
    body, title = _font(size), _font(int(size * 1.35))
    width_chars = int((A4[0] - 2 * margin) / (size * 0.52))
    for para in text.strip().split("\n\n"):
        heading = para.startswith("# ")
        font = title if heading else body
        lines = [para[2:]] if heading else [w for line in para.split("\n") for w in textwrap.wrap(line, width_chars)]
        for line in lines:
            draw.text((margin, y), line, fill=0, font=font)
            y += int(font.size * 1.45)
        y += int(size * 0.8)
    return image


def _age(image, rng: random.Random, angle: float, noise: float):
    from PIL import ImageFilter

    image = image.rotate(angle, resample=3, expand=False, fillcolor=255)  # 3: bicubic
    pixels = image.load()
    width, height = image.size
    for _ in range(int(width * height * noise)):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = rng.choice((60, 110, 160, 200))
    return image.filter(ImageFilter.GaussianBlur(0.6))


def character_accuracy(reference: str, read: str) -> float:
    """1 - (edit distance between the two texts, spacing normalised) / reference length."""
    a, b = " ".join(reference.split()), " ".join(read.split())
    if not a:
        return 1.0 if not b else 0.0
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
        previous = current
    return max(0.0, 1.0 - previous[-1] / len(a))
