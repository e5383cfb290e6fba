"""The printable poster of a consultation: its title and a QR code of its deep link."""

from __future__ import annotations

import textwrap
from pathlib import Path

import segno

POSTER_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def deep_link(bot_username: str, slug: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start=c_{slug}"


def write_poster(
    path: Path,
    *,
    title: str,
    link: str,
    call_to_action: str,
    header: str = "",
    description: str = "",
    deadline: str = "",
    other_ways: str = "",
) -> None:
    """An A4 portrait poster in the format of `path`'s extension (PNG, SVG or PDF): who asks, what,
    until when, the QR code and its link, and how to answer without Telegram."""
    fmt = POSTER_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(path.suffix)
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    qr = segno.make(link, error="m")
    matrix = [[0 if dark else 1 for dark in row] for row in qr.matrix_iter(scale=1, border=4)]
    figure = Figure(figsize=(8.27, 11.69), dpi=150)  # A4
    FigureCanvasAgg(figure)
    if header:
        figure.text(0.5, 0.95, header, ha="center", va="top", fontsize=16, color="#1f4e79", weight="bold")
    figure.text(0.5, 0.9, "\n".join(textwrap.wrap(title, 28)[:3]), ha="center", va="top", fontsize=28, weight="bold")
    if description:
        # One line only: a poster is read from across a corridor.
        first = description.strip().splitlines()[0] if description.strip() else ""
        figure.text(0.5, 0.76, "\n".join(textwrap.wrap(first, 60)[:2]), ha="center", va="top", fontsize=15)
    if deadline:
        figure.text(0.5, 0.705, deadline, ha="center", va="top", fontsize=17, weight="bold", color="#9c2b23")
    axes = figure.add_axes((0.22, 0.28, 0.56, 0.4))
    axes.imshow(matrix, cmap="gray", interpolation="nearest", vmin=0, vmax=1)
    axes.set_axis_off()
    figure.text(0.5, 0.26, "\n".join(textwrap.wrap(call_to_action, 50)), ha="center", va="top", fontsize=16)
    figure.text(0.5, 0.18, link, ha="center", va="top", fontsize=11, color="#444444")
    if other_ways:
        figure.text(0.5, 0.12, "\n".join(textwrap.wrap(other_ways, 70)), ha="center", va="top", fontsize=13)
    # Text stays text in SVG (searchable, read by screen readers, editable by the communications office).
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        figure.savefig(path, format=fmt)
