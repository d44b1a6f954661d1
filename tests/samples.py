"""Real files for evidence tests, built here (no binary fixtures in the repository)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reviewshield.evidence.intake import Upload


def png(
    width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30), text: str = ""
) -> bytes:
    img = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    if text:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", text)
        img.save(out, format="PNG", pnginfo=info)
    else:
        img.save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps(width: int = 80, height: int = 60) -> bytes:
    """A phone photo: EXIF with camera model and GPS position (Shanghai), plus an XMP packet."""
    img = Image.new("RGB", (width, height), (20, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "PhoneCam X1"  # Model
    exif[0x0112] = 1  # Orientation
    gps = {1: "N", 2: (31.0, 13.0, 50.0), 3: "E", 4: (121.0, 28.0, 12.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="31,13.8N"/></x:xmpmeta>'
    img.save(out, format="JPEG", exif=exif.tobytes(), xmp=xmp)
    return out.getvalue()


def pdf(text: str = "Itemised bill") -> bytes:
    """A small valid PDF with one page of text."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def upload(kind: str, data: bytes, name: str, **kwargs: str) -> Upload:
    return Upload(file=SimpleUploadedFile(name, data), name=name, kind=kind, **kwargs)


def screenshot(name: str = "chat.png", **kwargs: str) -> Upload:
    return upload("chat_screenshot", png(), name, **kwargs)


def statement(text: str = "He called me 30 times last night.", name: str = "statement.txt") -> Upload:
    return upload("statement", text.encode(), name)


def call_records(name: str = "calls.csv") -> Upload:
    return upload("call_records", b"time,number,duration\n2026-10-01 23:10,13800138000,0\n", name)
