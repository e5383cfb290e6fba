"""The printable poster of a consultation: its title and a QR code of its deep link."""

from __future__ import annotations

import textwrap
from pathlib import Path

import segno

POSTER_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def deep_link(bot_username: str, slug: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start=c_{slug}"


def write_poster(path: Path, *, title: str, link: str, call_to_action: str) -> None:
    """An A4 portrait poster in the format of `path`'s extension (PNG, SVG or PDF)."""
    fmt = POSTER_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(path.suffix)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    qr = segno.make(link, error="m")
    matrix = [[0 if dark else 1 for dark in row] for row in qr.matrix_iter(scale=1, border=4)]
    figure = Figure(figsize=(8.27, 11.69), dpi=150)  # A4
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.9, "\n".join(textwrap.wrap(title, 28)), ha="center", va="top", fontsize=28, weight="bold")
    axes = figure.add_axes((0.15, 0.22, 0.7, 0.5))
    axes.imshow(matrix, cmap="gray", interpolation="nearest", vmin=0, vmax=1)
    axes.set_axis_off()
    figure.text(0.5, 0.16, "\n".join(textwrap.wrap(call_to_action, 45)), ha="center", va="top", fontsize=18)
    figure.text(0.5, 0.07, link, ha="center", va="top", fontsize=11, color="#444444")
    figure.savefig(path, format=fmt)
