"""The council's figures rendered: text (chat and terminal), JSON, and a one-page PNG/PDF report.

Labels go through gettext: call these inside an I18n context set to the reader's locale.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from notices.labels import age_bracket_label
from notices.numbers import format_percent as format_share
from participation.languages import in_language
from participation.stats import ConsultationFigures, Share, Stats


def pct(value: float | None, locale: str) -> str:
    return "—" if value is None else format_percent(value, locale=locale)


def num(value: float | None, locale: str) -> str:
    return "—" if value is None else format_decimal(round(value, 1), locale=locale)


def day(value: date | datetime, locale: str, tz: ZoneInfo | None = None) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(tz).date() if tz else value.date()
    return format_date(value, format="medium", locale=locale)


def duration(hours: float | None, locale: str) -> str:
    if hours is None:
        return "—"
    if hours < 48:
        return _("{hours} h").format(hours=num(hours, locale))
    return _("{days} days").format(days=num(hours / 24, locale))


def period_label(stats: Stats, locale: str, tz: ZoneInfo) -> str:
    last = stats.end - timedelta(microseconds=1)
    return _("from {start} to {end}").format(start=day(stats.start, locale, tz), end=day(last, locale, tz))


def render_text(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str]) -> str:
    """The figures as plain text, one section per subject (no markup: escape it for HTML).

    Plain words and real plurals: a mairie reads « 1 participant », never « 1 participants ».
    """
    r = stats.residents
    lines = [
        _("Palabre figures, {period}").format(period=period_label(stats, locale, tz)),
        "",
        ngettext("Residents: {total} registered", "Residents: {total} registered", r.total).format(total=r.total)
        + ", "
        + ngettext("{active} active in the period", "{active} active in the period", r.active).format(active=r.active)
        + ", "
        + ngettext("{count} has blocked the bot.", "{count} have blocked the bot.", r.unreachable).format(count=r.unreachable),
        _("New residents per week: {weeks}").format(
            weeks=", ".join(
                _("week of {day}: {count}").format(day=day(monday, locale), count=count) for monday, count in r.new_per_week
            )
            or "—"
        ),
        "",
        ngettext(
            "Consultations: {count}; outcome published for {published} of the {closed} closed ({share}).",
            "Consultations: {count}; outcome published for {published} of the {closed} closed ({share}).",
            len(stats.consultations),
        ).format(
            count=len(stats.consultations),
            published=stats.published_consultations,
            closed=stats.closed_consultations,
            share=pct(stats.published_share, locale),
        ),
    ]
    for c in stats.consultations:
        figures = (
            ngettext(
                "{count} participant out of {audience} ({rate})", "{count} participants out of {audience} ({rate})", c.started
            ).format(count=c.started, audience=c.audience, rate=pct(c.participation_rate, locale))
            + ", "
            + ngettext("{count} complete answer", "{count} complete answers", c.finished).format(count=c.finished)
        )
        lines.append(_("• {title}: {figures}").format(title=in_language(c.title, locale), figures=figures))
        for shares, name in ((c.by_neighbourhood, lambda code: _hood(code, hood_names)), (c.by_age_bracket, _age)):
            for share in shares:
                if share.population_share is not None:
                    lines.append(
                        "    "
                        + _("{name}: {participants} of participants, {population} of the population").format(
                            name=name(share.code),
                            participants=pct(share.participant_share, locale),
                            population=pct(share.population_share, locale),
                        )
                    )
                    continue
                lines.append(
                    "    "
                    + _("{name}: {participants} of participants, {residents} of residents").format(
                        name=name(share.code),
                        participants=pct(share.participant_share, locale),
                        residents=pct(share.resident_share, locale),
                    )
                )
    if stats.population is not None:
        lines += ["", _("Who took part in the period, against the population ({source}):").format(source=stats.population.source)]
        for group in stats.population.groups:
            group_name = _hood(group.code, hood_names) if group.dimension == "neighbourhood" else _age(group.code)
            lines.append(
                "• "
                + _("{name}: {participants} of participants, {population} of the population").format(
                    name=group_name,
                    participants=pct(group.participant_share, locale),
                    population=pct(group.population_share, locale),
                )
            )
    rep = stats.reports
    lines += [
        "",
        ngettext("Reports: {opened} received", "Reports: {opened} received", rep.opened).format(opened=rep.opened)
        + ", "
        + ngettext("{closed} dealt with.", "{closed} dealt with.", rep.closed).format(closed=rep.closed)
        + " "
        + _("Usual time: {median} (9 in 10 within {p90}).").format(
            median=duration(rep.median_hours, locale), p90=duration(rep.p90_hours, locale)
        )
        + " "
        + ngettext(
            "{count} reopened by the resident after “resolved”.",
            "{count} reopened by the resident after “resolved”.",
            rep.reopened,
        ).format(count=rep.reopened),
    ]
    for category in rep.by_category:
        lines.append(
            "• "
            + ngettext("{name}: {opened} received", "{name}: {opened} received", category.opened).format(
                name=in_language(category.name, locale), opened=category.opened
            )
            + ", "
            + ngettext("{closed} dealt with", "{closed} dealt with", category.closed).format(closed=category.closed)
            + ", "
            + _("usually {median} (9 in 10 within {p90})").format(
                median=duration(category.median_hours, locale), p90=duration(category.p90_hours, locale)
            )
        )
    s = stats.satisfaction
    lines += [
        "",
        ngettext(
            "Satisfaction: {answers} answer, mean {mean} out of 5.",
            "Satisfaction: {answers} answers, mean {mean} out of 5.",
            s.answers,
        ).format(answers=s.answers, mean=num(s.mean, locale)),
        _("Distribution: {distribution}").format(
            distribution=", ".join(_("{score} out of 5: {count}").format(score=k, count=v) for k, v in s.distribution.items())
        ),
    ]
    if s.trend:
        lines.append(
            _("Trend: {trend}").format(
                trend=", ".join(
                    _("from {day}: {mean}").format(day=day(start, locale), mean=num(mean, locale)) for start, mean, _n in s.trend
                )
            )
        )
    lines += [
        "",
        ngettext(
            "Feedback on the channel: {received} received",
            "Feedback on the channel: {received} received",
            stats.feedback.received,
        ).format(received=stats.feedback.received)
        + ", "
        + ngettext("{answered} answered.", "{answered} answered.", stats.feedback.answered).format(
            answered=stats.feedback.answered
        ),
    ]
    return "\n".join(lines)


def _hood(code: str | None, names: dict[str, str]) -> str:
    return _("no neighbourhood given") if code is None else names.get(code, code)


def _age(code: str | None) -> str:
    return _("no age bracket given") if code is None else age_bracket_label(code)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(stats: Stats) -> str:
    """Machine-readable figures (keys in English, dates in ISO 8601, rates between 0 and 1)."""
    data = _plain(asdict(stats))
    data["published_share"] = stats.published_share
    return json.dumps(data, ensure_ascii=False, indent=2)


def _totals(
    consultations: list[ConsultationFigures], by: Callable[[ConsultationFigures], list[Share]]
) -> list[tuple[str | None, int, int]]:
    """Across the period's consultations: (group, residents in audiences, participants), groups as `by` gives them."""
    totals: dict[str | None, list[int]] = {}
    for c in consultations:
        for share in by(c):
            entry = totals.setdefault(share.code, [0, 0])
            entry[0] += share.residents
            entry[1] += share.participants
    return [(code, residents, participants) for code, (residents, participants) in totals.items()]


# --- The council's report: A4 pages laid out in inches, as many as the content needs ------------

PAGE_WIDTH, PAGE_HEIGHT = 8.27, 11.69  # A4, inches
TOP, BOTTOM, RIGHT = 0.55, 0.75, 0.35  # margins; the bottom one holds the source line
LABEL_WIDTH = 2.45  # room left of horizontal bars for their wrapped labels
ROW = 0.17  # inches per line of a bar's label
BLUE, ORANGE, GREY = "#2f6f9f", "#e08a2c", "#9aa5ad"


class _Pages:
    """Blocks stacked from the top of A4 pages; a block that does not fit starts a new page."""

    def __init__(self) -> None:
        self.figures: list[Any] = []
        self.cursor = 0.0
        self._new_page()

    def _new_page(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(PAGE_WIDTH, PAGE_HEIGHT), dpi=150)
        FigureCanvasAgg(figure)
        self.figures.append(figure)
        self.cursor = PAGE_HEIGHT - TOP

    def reserve(self, height: float) -> tuple[Any, float]:
        """A figure and the top (inches from the bottom) of `height` inches free on it."""
        if self.cursor - height < BOTTOM and self.cursor < PAGE_HEIGHT - TOP:
            self._new_page()
        top = self.cursor
        self.cursor -= height
        return self.figures[-1], top

    def axes(self, plot_height: float, *, title_lines: int, below: float = 0.5, left: float = LABEL_WIDTH) -> Any:
        """Axes of `plot_height` inches with room above for a title and below for ticks and labels."""
        above = 0.2 + 0.19 * title_lines
        figure, top = self.reserve(above + plot_height + below + 0.25)
        bottom = top - above - plot_height
        return figure.add_axes(
            (left / PAGE_WIDTH, bottom / PAGE_HEIGHT, (PAGE_WIDTH - left - RIGHT) / PAGE_WIDTH, plot_height / PAGE_HEIGHT)
        )


def _wrap(text: str, width: int, lines: int = 3) -> str:
    import textwrap

    wrapped = textwrap.wrap(text, width) or ["—"]
    if len(wrapped) > lines:  # never cut a word: the last line ends with an ellipsis instead
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1 :]), width, placeholder=" …")]
    return "\n".join(wrapped)


def _tidy(axes: Any, title: str) -> None:
    axes.set_title(title, fontsize=10, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=7.5)


def _bars(pages: _Pages, title: str, rows: list[tuple[str, list[tuple[float, str, str]]]], *, xlabel: str = "") -> None:
    """Horizontal bars: each row a label and one or more (value, caption, colour), captions after the bars.

    Values are scaled to the largest; captions carry the figures, so no legend can cover a bar.
    """
    title_text = _wrap(title, 95, 2)
    heights = [max(label.count("\n") + 1, len(bars)) * ROW + 0.12 for label, bars in rows]
    axes = pages.axes(sum(heights), title_lines=title_text.count("\n") + 1, below=0.45 if xlabel else 0.2)
    _tidy(axes, title_text)
    top = max([value for _label, bars in rows for value, _c, _k in bars] + [0]) or 1.0
    position, ticks = 0.0, []
    for (_label, bars), height in zip(rows, heights, strict=True):
        middle = position + height / 2
        ticks.append(middle)
        thickness = min(ROW, (height - 0.12) / len(bars))  # the same for every row, whatever its label's lines
        first = middle - thickness * len(bars) / 2
        for n, (value, caption, colour) in enumerate(bars):
            y = first + thickness * (n + 0.5)
            axes.barh(y, value, thickness * 0.85, color=colour)
            axes.text(value + top * 0.01, y, caption, va="center", fontsize=7)
        position += height
    axes.set_ylim(position, 0)
    axes.set_yticks(ticks, labels=[label for label, _bars in rows])
    axes.set_xlim(0, top * 1.75)  # room for the captions
    axes.set_xticks([])
    axes.spines["bottom"].set_visible(False)
    if xlabel:
        axes.set_xlabel(xlabel, fontsize=7.5, loc="left")


def _pages(
    stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str], commune: str = "", extracted: date | None = None
) -> list[Any]:
    """The council's report: key figures, who takes part against the population, each consultation,
    reports and satisfaction; labels wrapped, never cut, and a page more when the content needs it."""
    from matplotlib.ticker import MaxNLocator

    pages = _Pages()

    def share_text(value: float | None) -> str:
        return "—" if value is None else format_share(value, locale)

    r, rep, sat = stats.residents, stats.reports, stats.satisfaction
    town = commune.strip() or _("your town hall")
    figure, top = pages.reserve(0.75)
    figure.text(
        0.5,
        (top - 0.2) / PAGE_HEIGHT,
        _wrap(_("{commune}: participation in figures").format(commune=town), 70, 1),
        ha="center",
        va="top",
        fontsize=15,
        weight="bold",
    )
    figure.text(
        0.5, (top - 0.52) / PAGE_HEIGHT, period_label(stats, locale, tz), ha="center", va="top", fontsize=10, color="#444"
    )
    key = [
        ngettext(
            "{total} resident registered, {active} active in the period",
            "{total} residents registered, {active} active in the period",
            r.total,
        ).format(total=r.total, active=r.active),
        ngettext(
            "{count} consultation; the outcome was published for {published} of the {closed} closed ones",
            "{count} consultations; the outcome was published for {published} of the {closed} closed ones",
            len(stats.consultations),
        ).format(count=len(stats.consultations), published=stats.published_consultations, closed=stats.closed_consultations),
        ngettext(
            "{opened} report received, {closed} dealt with; usually within {median}, 9 in 10 within {p90}",
            "{opened} reports received, {closed} dealt with; usually within {median}, 9 in 10 within {p90}",
            rep.opened,
        ).format(
            opened=rep.opened, closed=rep.closed, median=duration(rep.median_hours, locale), p90=duration(rep.p90_hours, locale)
        ),
        ngettext(
            "Satisfaction: {mean} out of 5 on average ({answers} answer)",
            "Satisfaction: {mean} out of 5 on average ({answers} answers)",
            sat.answers,
        ).format(mean=num(sat.mean, locale), answers=sat.answers),
    ]
    lines = [_wrap("• " + line, 110, 2) for line in key]
    figure, top = pages.reserve(0.2 + 0.19 * sum(line.count("\n") + 1 for line in lines))
    y = top
    for line in lines:
        figure.text(0.6 / PAGE_WIDTH, y / PAGE_HEIGHT, line, va="top", fontsize=8.5)
        y -= 0.19 * (line.count("\n") + 1)

    # Who takes part: against the commune's population when it is known, else the bot's users.
    def shares_rows(groups: list[tuple[str, float, float]], reference: str) -> list[tuple[str, list[tuple[float, str, str]]]]:
        return [
            (
                _wrap(name, 30),
                [
                    (taking_part, _("{share} of participants").format(share=share_text(taking_part)), BLUE),
                    (base, reference.format(share=share_text(base)), GREY),
                ],
            )
            for name, taking_part, base in groups
        ]

    if stats.population is not None:
        population = stats.population
        for dimension, title in (
            ("neighbourhood", _("Who takes part, by neighbourhood, against the population")),
            ("age", _("Who takes part, by age, against the population")),
        ):
            groups = [
                (
                    _hood(g.code, hood_names) if dimension == "neighbourhood" else _age(g.code),
                    g.participant_share,
                    g.population_share,
                )
                for g in population.groups
                if g.dimension == dimension
            ]
            _bars(
                pages,
                title,
                shares_rows(groups, _("{share} of the population")),
                xlabel=_("Population: {source}").format(source=population.source),
            )
    else:
        for by, label, title in (
            (
                lambda c: c.by_neighbourhood,
                lambda code: _hood(code, hood_names),
                _("Who takes part, by neighbourhood, against registered residents"),
            ),
            (lambda c: c.by_age_bracket, _age, _("Who takes part, by age, against registered residents")),
        ):
            totals = _totals(stats.consultations, by)
            everyone, taking_part = sum(t[1] for t in totals), sum(t[2] for t in totals)
            if totals and taking_part:
                groups = [(label(code), p / taking_part, (res / everyone) if everyone else 0.0) for code, res, p in totals]
                _bars(
                    pages,
                    title,
                    shares_rows(groups, _("{share} of registered residents")),
                    xlabel=_("The commune's population is not known yet: palabre population import"),
                )

    # Each consultation: how many of those it was meant for took part.
    if stats.consultations:
        _bars(
            pages,
            _("Participation in each consultation"),
            [
                (
                    _wrap(in_language(c.title, locale), 34),
                    [
                        (
                            c.participation_rate or 0.0,
                            ngettext(
                                "{count} participant out of {audience} ({rate})",
                                "{count} participants out of {audience} ({rate})",
                                c.started,
                            ).format(count=c.started, audience=c.audience, rate=share_text(c.participation_rate)),
                            BLUE,
                        )
                    ],
                )
                for c in stats.consultations
            ],
            xlabel=_("Out of the registered residents each consultation was meant for."),
        )

    # Reports: how long each category takes to be dealt with.
    closed = [c for c in rep.by_category if c.median_hours is not None]
    if closed:
        _bars(
            pages,
            _("Reports: time to deal with them, by category"),
            [
                (
                    _wrap(in_language(c.name, locale), 34),
                    [
                        ((c.median_hours or 0) / 24, _("usually {time}").format(time=duration(c.median_hours, locale)), BLUE),
                        ((c.p90_hours or 0) / 24, _("9 in 10 within {time}").format(time=duration(c.p90_hours, locale)), ORANGE),
                    ],
                )
                for c in closed
            ],
            xlabel=ngettext(
                "{count} report dealt with in the period.", "{count} reports dealt with in the period.", rep.closed
            ).format(count=rep.closed),
        )

    # New residents per week, and satisfaction.
    weeks = r.new_per_week
    if weeks:
        axes = pages.axes(1.5, title_lines=1, below=0.55, left=0.8)
        axes.bar(range(len(weeks)), [n for _m, n in weeks], color=BLUE)
        step = max(1, -(-len(weeks) // 8))
        axes.set_xticks(range(0, len(weeks), step), labels=[format_date(m, "d MMM", locale=locale) for m, _n in weeks][::step])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        _tidy(axes, _("New residents per week"))
    if sat.answers:
        words = {1: _("1 – not useful"), 5: _("5 – very useful")}
        _bars(
            pages,
            _("How useful residents find the channel"),
            [
                (
                    words.get(score, str(score)),
                    [
                        (
                            float(count),
                            ngettext("{count} answer", "{count} answers", count).format(count=count),
                            BLUE,
                        )
                    ],
                )
                for score, count in sorted(sat.distribution.items(), reverse=True)
            ],
        )

    source = _("Source: Palabre, {commune}; figures extracted on {day}").format(
        commune=town, day=format_date(extracted or datetime.now(tz).date(), format="long", locale=locale)
    )
    for number, figure in enumerate(pages.figures, start=1):
        figure.text(0.6 / PAGE_WIDTH, 0.4 / PAGE_HEIGHT, source, fontsize=7.5, color="#444")
        figure.text(
            1 - RIGHT / PAGE_WIDTH,
            0.4 / PAGE_HEIGHT,
            _("page {number} of {count}").format(number=number, count=len(pages.figures)),
            fontsize=7.5,
            color="#444",
            ha="right",
        )
    return pages.figures


def render_png_pages(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str], commune: str = "") -> list[bytes]:
    """One PNG per A4 page."""
    out = []
    for figure in _pages(stats, locale=locale, tz=tz, hood_names=hood_names, commune=commune):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        out.append(buffer.getvalue())
    return out


def render_png(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str], commune: str = "") -> bytes:
    """The first page as PNG (the key figures and who takes part)."""
    return render_png_pages(stats, locale=locale, tz=tz, hood_names=hood_names, commune=commune)[0]


def render_pdf(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str], commune: str = "") -> bytes:
    """Every page in one PDF."""
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        for figure in _pages(stats, locale=locale, tz=tz, hood_names=hood_names, commune=commune):
            pdf.savefig(figure)
    return buffer.getvalue()
