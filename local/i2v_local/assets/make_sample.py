"""Draws the demo's sample image (a lighthouse at dusk); run it to regenerate sample.png."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 640, 360


def draw() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    pixels = image.load()
    assert pixels is not None
    for y in range(HEIGHT):
        t = y / HEIGHT
        sky = (int(40 + 200 * t), int(30 + 90 * t), int(90 + 40 * (1 - t)))
        for x in range(WIDTH):
            pixels[x, y] = sky
    pen = ImageDraw.Draw(image)
    pen.ellipse((400, 170, 500, 270), fill=(255, 196, 120))  # the setting sun
    sea_top = 250
    pen.rectangle((0, sea_top, WIDTH, HEIGHT), fill=(20, 40, 80))
    for row in range(12):  # glints on the water
        y = sea_top + 6 + row * 9
        for x in range(0, WIDTH, 40):
            shift = int(12 * math.sin(row + x / 50))
            pen.line((x + shift, y, x + shift + 18, y), fill=(250, 170, 110), width=2)
    pen.polygon([(90, 250), (230, 250), (200, 215), (120, 215)], fill=(35, 30, 40))  # the rock
    pen.polygon([(150, 215), (172, 215), (166, 110), (156, 110)], fill=(235, 235, 230))  # the tower
    for stripe in (130, 160, 190):
        pen.rectangle((154, stripe, 170, stripe + 10), fill=(200, 40, 40))
    pen.rectangle((152, 96, 170, 110), fill=(255, 240, 160))  # the lamp
    pen.polygon([(170, 100), (360, 70), (360, 130)], fill=(255, 245, 190))  # its beam
    return image.filter(ImageFilter.SMOOTH)


if __name__ == "__main__":
    draw().save(Path(__file__).with_name("sample.png"), optimize=True)
