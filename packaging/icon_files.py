"""The application icon in every size and container the platforms want, rendered from its one SVG source
(resources/app-icon/treasury-desk.svg) with Qt's own SVG renderer, so the build needs no image tool.

- Linux: PNGs for the hicolor theme (16 … 512) plus the SVG itself as the scalable icon.
- Windows: an .ico holding 16 … 256 (PNG-compressed entries, which Windows reads since Vista).
- macOS: an .icns holding 16 … 1024 (PNG entries, which macOS reads since 10.7).

The .ico and .icns containers are written here byte by byte: both are a short header, a table of entries and
the PNG data, which keeps the build free of Pillow or iconutil.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

LINUX_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
WINDOWS_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The icns type of each PNG size (Apple's "Icon Composer" types; retina "@2x" types reuse the same pixels).
MACOS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09", 1024: b"ic10"}


@dataclass(frozen=True)
class RenderedIcons:
    svg: Path
    pngs: dict[int, Path]  # size in pixels → file
    ico: Path
    icns: Path


def render_icons(svg: Path, out: Path) -> RenderedIcons:
    """Every size and container, into `out` (created): treasury-desk-<N>.png, treasury-desk.ico, .icns."""
    out.mkdir(parents=True, exist_ok=True)
    sizes = sorted(set(LINUX_SIZES) | set(WINDOWS_SIZES) | set(MACOS_TYPES))
    pngs = {size: out / f"treasury-desk-{size}.png" for size in sizes}
    for size, path in pngs.items():
        path.write_bytes(render_png(svg, size))
    ico = out / "treasury-desk.ico"
    ico.write_bytes(ico_container({size: pngs[size].read_bytes() for size in WINDOWS_SIZES}))
    icns = out / "treasury-desk.icns"
    icns.write_bytes(icns_container({size: pngs[size].read_bytes() for size in MACOS_TYPES}))
    return RenderedIcons(svg=svg, pngs=pngs, ico=ico, icns=icns)


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn at size × size pixels, as PNG bytes (transparent outside the drawing)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 — Qt's painting wants one
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG drawing Qt can render")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"Qt could not write a {size}px PNG")
    return bytes(data.data())


def ico_container(pngs: dict[int, bytes]) -> bytes:
    """An ICO file: ICONDIR (reserved 0, type 1, count), one 16-byte ICONDIRENTRY per image, then the images.
    Width and height 0 mean 256."""
    count = len(pngs)
    header = struct.pack("<HHH", 0, 1, count)
    offset = 6 + 16 * count
    entries, payload = b"", b""
    for size, png in sorted(pngs.items()):
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset + len(payload))
        payload += png
    return header + entries + payload


def icns_container(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file: 'icns' and the total length, then per image its 4-byte type, its length (with these 8
    bytes) and the PNG. Lengths are big-endian."""
    body = b"".join(MACOS_TYPES[size] + struct.pack(">I", len(png) + 8) + png for size, png in sorted(pngs.items()))
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def read_ico_sizes(data: bytes) -> list[int]:
    """The sizes an ICO file holds (for checking what was written)."""
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    if (reserved, kind) != (0, 1):
        raise ValueError("not an ICO file")
    sizes = []
    for index in range(count):
        width, _h, _c, _r, _planes, _bits, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        if data[offset:offset + 8] != b"\x89PNG\r\n\x1a\n" or offset + length > len(data):
            raise ValueError(f"ICO entry {index} is not a whole PNG")
        sizes.append(width or 256)
    return sizes


def read_icns_types(data: bytes) -> list[bytes]:
    """The entry types an ICNS file holds, checking that the lengths add up."""
    if data[:4] != b"icns" or struct.unpack_from(">I", data, 4)[0] != len(data):
        raise ValueError("not an ICNS file, or its length is wrong")
    types, position = [], 8
    while position < len(data):
        kind, length = data[position:position + 4], struct.unpack_from(">I", data, position + 4)[0]
        if length < 8 or position + length > len(data):
            raise ValueError(f"ICNS entry {kind!r} overruns the file")
        types.append(kind)
        position += length
    return types
