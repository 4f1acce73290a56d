"""QR codes (segno) for invitation links: inline SVG for the page, PNG for tests."""
from __future__ import annotations

import io

import segno


def qr_svg(link: str, title: str) -> str:
    """Return an inline, scalable SVG QR code (error correction M, 4-module quiet zone)."""
    qr = segno.make(link, error="m")
    return qr.svg_inline(scale=8, border=4, omitsize=True, svgclass="qr", title=title,
                         dark="#000", light="#fff")


def qr_png(link: str, scale: int = 6) -> bytes:
    """Return the same QR code as PNG bytes."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
