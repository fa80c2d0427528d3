"""The small generated screenshots the incidents demo uploads as evidence: a stylised
capture of a post, drawn as a PNG without any image library."""

from __future__ import annotations

import struct
import zlib


def png(width: int, height: int, boxes) -> bytes:
    """A small PNG drawn from filled boxes ((x, y, w, h), (r, g, b)) on white."""
    pixels = [bytearray(b"\xff" * (width * 3)) for _ in range(height)]
    for (x, y, w, h), colour in boxes:
        for row in pixels[y : y + h]:
            row[x * 3 : (x + w) * 3] = bytes(colour) * w
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def screenshot(kind: str) -> bytes:
    """A stylised capture of a post: a card, an avatar, lines of text, the picture
    attached, and a red box where the sensitive detail is."""
    grey, dark, light, red = (236, 238, 241), (60, 64, 72), (180, 186, 194), (214, 40, 40)
    accent = (10, 102, 194) if kind == "post" else (255, 69, 0)
    boxes = [
        ((0, 0, 320, 200), grey),
        ((0, 0, 320, 18), accent),
        ((20, 28, 280, 164), (255, 255, 255)),
        ((30, 38, 22, 22), accent),
        ((60, 40, 90, 6), dark),
        ((60, 52, 60, 4), light),
    ]
    boxes += [((30, 70 + 9 * line, 250 - 30 * (line % 3), 4), dark) for line in range(4)]
    boxes += [((30, 110, 260, 72), (222, 226, 230))]  # the attached picture
    boxes += [((36, 118 + 10 * row, 200, 5), light) for row in range(6)]
    target = (34, 114, 140, 13)
    x, y, w, h = target
    boxes += [((x, y, w, 2), red), ((x, y + h - 2, w, 2), red)]
    boxes += [((x, y, 2, h), red), ((x + w - 2, y, 2, h), red)]
    return png(320, 200, boxes)
