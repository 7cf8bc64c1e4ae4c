"""
The report of the 2013 storm, opened in a real browser (headless Chromium).

Chromium must be installed (``apt-get install chromium``); without it these tests
fail, they never skip. The screenshot is kept as ``artifacts/report-2013.png``.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from report_records import BOFA_2013, ROOT, stream_records

from replyguard.report import write_report

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu")
TIMEOUT = 180
HELD = (0xB8, 0x3A, 0x2E)  # the colour of held bars
SENT = (0x2F, 0x7D, 0x4F)


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "/usr/bin/chromium"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "chromium is not installed: the report's browser tests need it "
        "(Debian/Ubuntu: `apt-get install -y chromium`)",
        pytrace=False,
    )


def run_chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_chromium(), *FLAGS, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    return write_report(
        stream_records(BOFA_2013),
        folder / "report-2013.html",
        title="@BofA_Help, July 2013: the chalk storm",
    )


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag
            and (cls is None or cls in (attrs.get("class") or "").split())
        ]


def test_the_browser_renders_the_chart_and_the_escalations(report, tmp_path):
    # a private profile each time: parallel runs never share one
    result = run_chromium(
        f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", report.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = Dom()
    dom.feed(result.stdout)
    (svg,) = dom.find("svg", "timeline")
    assert svg["role"] == "img"
    assert "16 decisions" in (svg["aria-label"] or "")
    bars = dom.find("rect", "bar")
    tall = [bar for bar in bars if float(bar["height"] or 0) > 0]
    assert len(tall) == len(bars) > 0
    assert sum(int(bar["data-count"] or 0) for bar in bars) == 16
    rows = dom.find("tr", "escalation")
    assert len(rows) == 1
    assert rows[0]["data-route"] == "pr"
    assert dom.find("mark")
    # self-contained: no scripts, stylesheets, images or frames from anywhere
    assert not [
        name for name, _ in dom.tags if name in ("script", "link", "img", "iframe")
    ]
    for name, attrs in dom.tags:
        for key in ("src", "href"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(key) or ""), (name, attrs)


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Return width, height, bytes per pixel and the unfiltered rows of an 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + size
    assert header is not None, "a PNG without IHDR"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8, depth
    assert interlace == 0, interlace
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:  # Up
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def test_the_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "report-2013.png"
    result = run_chromium(
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        report.as_uri(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.is_file(), result.stderr[-2000:]
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    kept = shutil.copyfile(shot, artifacts / "report-2013.png")
    print(f"screenshot: {kept}")  # noqa: T201 - where to look (`pytest -s`)
    width, height, bpp, rows = decode_png(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    colours = {row[x : x + 3] for row in rows for x in range(0, len(row), bpp)}
    assert len(colours) > 100, len(colours)
    # the chart drew: the held bars and the sent bar are on screen
    assert bytes(HELD) in colours
    assert bytes(SENT) in colours


def test_a_missing_chromium_fails_with_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium"):
        find_chromium()
