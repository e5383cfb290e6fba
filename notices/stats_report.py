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
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from notices.labels import age_bracket_label
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


def _title(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale) or texts.get("*") or next(iter(texts.values()), "")


def period_label(stats: Stats, locale: str, tz: ZoneInfo) -> str:
    last = stats.end - timedelta(microseconds=1)
    return _("from {start} to {end}").format(start=day(stats.start, locale, tz), end=day(last, locale, tz))


def render_text(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str]) -> str:
    """The figures as plain text, one section per subject (no markup: escape it for HTML)."""
    r = stats.residents
    lines = [
        _("Palabre figures, {period}").format(period=period_label(stats, locale, tz)),
        "",
        _("Residents: {total} registered, {active} active in the period, {unreachable} unreachable.").format(
            total=r.total, active=r.active, unreachable=r.unreachable
        ),
        _("New residents per week: {weeks}").format(
            weeks=", ".join(f"{day(monday, locale)}: {count}" for monday, count in r.new_per_week) or "—"
        ),
        "",
        _("Consultations: {count}; outcome published for {published} of {closed} closed ({share}).").format(
            count=len(stats.consultations), published=stats.published_consultations,
            closed=stats.closed_consultations, share=pct(stats.published_share, locale),
        ),
    ]
    for c in stats.consultations:
        lines.append(
            _("• {title}: {started} took part out of {audience} ({participation}), {finished} finished ({completion})").format(
                title=_title(c.title, locale), started=c.started, audience=c.audience,
                participation=pct(c.participation_rate, locale), finished=c.finished, completion=pct(c.completion_rate, locale),
            )
        )
        for shares, name in ((c.by_neighbourhood, lambda code: _hood(code, hood_names)), (c.by_age_bracket, _age)):
            for share in shares:
                lines.append(
                    "    " + _("{name}: {participants} of participants, {residents} of residents").format(
                        name=name(share.code), participants=pct(share.participant_share, locale),
                        residents=pct(share.resident_share, locale),
                    )
                )
    rep = stats.reports
    lines += [
        "",
        _("Reports: {opened} opened, {closed} closed; time to close: median {median}, 90 % within {p90}; {reopened} reopened after “fixed”.").format(
            opened=rep.opened, closed=rep.closed, median=duration(rep.median_hours, locale),
            p90=duration(rep.p90_hours, locale), reopened=rep.reopened,
        ),
    ]
    for category in rep.by_category:
        lines.append(
            _("• {name}: {opened} opened, {closed} closed, median {median}, 90 % within {p90}").format(
                name=_title(category.name, locale), opened=category.opened, closed=category.closed,
                median=duration(category.median_hours, locale), p90=duration(category.p90_hours, locale),
            )
        )
    s = stats.satisfaction
    lines += [
        "",
        _("Satisfaction: {answers} answers, mean {mean} / 5.").format(answers=s.answers, mean=num(s.mean, locale)),
        _("Distribution: {distribution}").format(distribution=", ".join(f"{k}: {v}" for k, v in s.distribution.items())),
    ]
    if s.trend:
        lines.append(
            _("Trend: {trend}").format(trend=", ".join(f"{day(start, locale)}: {num(mean, locale)}" for start, mean, _n in s.trend))
        )
    lines += [
        "",
        _("Feedback on the channel: {received} received, {answered} answered.").format(
            received=stats.feedback.received, answered=stats.feedback.answered
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


def _totals(consultations: list[ConsultationFigures], by: Callable[[ConsultationFigures], list[Share]]) -> list[tuple[str | None, int, int]]:
    """Across the period's consultations: (group, residents in audiences, participants), groups as `by` gives them."""
    totals: dict[str | None, list[int]] = {}
    for c in consultations:
        for share in by(c):
            entry = totals.setdefault(share.code, [0, 0])
            entry[0] += share.residents
            entry[1] += share.participants
    return [(code, residents, participants) for code, (residents, participants) in totals.items()]


def _figure(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str], commune: str | None = None):  # type: ignore[no-untyped-def]
    """The one-page report: key figures and six charts on an A4 page (matplotlib's object API)."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    blue, orange, grey = "#2f6f9f", "#e08a2c", "#9aa5ad"
    percent = FuncFormatter(lambda value, _pos: format_percent(value, locale=locale))
    figure = Figure(figsize=(8.27, 11.69), dpi=150)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(5, 2, top=0.83, bottom=0.04, left=0.1, right=0.96, hspace=0.9, wspace=0.35)
    figure.text(0.5, 0.965, _("Palabre: the participation channel in figures"), ha="center", fontsize=15, weight="bold")
    figure.text(0.5, 0.945, period_label(stats, locale, tz), ha="center", fontsize=10, color="#444")
    r, rep, sat = stats.residents, stats.reports, stats.satisfaction
    key = [
        _("{total} residents registered, {active} active in the period, {unreachable} unreachable").format(
            total=r.total, active=r.active, unreachable=r.unreachable),
        _("{count} consultation(s); outcome published for {published} of {closed} closed").format(
            count=len(stats.consultations), published=stats.published_consultations, closed=stats.closed_consultations),
        _("{opened} reports opened, {closed} closed; median time to close {median}, 90 % within {p90}; {reopened} reopened").format(
            opened=rep.opened, closed=rep.closed, median=duration(rep.median_hours, locale),
            p90=duration(rep.p90_hours, locale), reopened=rep.reopened),
        _("Satisfaction: mean {mean} / 5 over {answers} answers; feedback: {received} received, {answered} answered").format(
            mean=num(sat.mean, locale), answers=sat.answers, received=stats.feedback.received, answered=stats.feedback.answered),
    ]
    for n, line in enumerate(key):
        figure.text(0.08, 0.915 - n * 0.02, "• " + line, fontsize=8.5)

    def tidy(axes, title: str) -> None:  # type: ignore[no-untyped-def]
        axes.set_title("\n".join(textwrap.wrap(title, 48)), fontsize=10)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.tick_params(labelsize=7.5)

    def empty(axes, title: str) -> None:  # type: ignore[no-untyped-def]
        tidy(axes, title)
        axes.text(0.5, 0.5, _("nothing in this period"), ha="center", va="center", color=grey, transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])

    # 1. New residents per week.
    axes = figure.add_subplot(grid[0, 0])
    weeks = r.new_per_week
    if weeks:
        axes.bar(range(len(weeks)), [n for _m, n in weeks], color=blue)
        step = max(1, -(-len(weeks) // 6))
        axes.set_xticks(range(0, len(weeks), step), labels=[format_date(m, "d MMM", locale=locale) for m, _n in weeks][::step])
        axes.tick_params(axis="x", labelrotation=30)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        tidy(axes, _("New residents per week"))
    else:
        empty(axes, _("New residents per week"))

    # 2. Participation and completion per consultation.
    axes = figure.add_subplot(grid[0, 1])
    if stats.consultations:
        names = ["\n".join(textwrap.wrap(_title(c.title, locale), 16)[:2]) for c in stats.consultations]
        xs = range(len(names))
        axes.bar([x - 0.2 for x in xs], [c.participation_rate or 0 for c in stats.consultations], 0.4, color=blue, label=_("participation"))
        axes.bar([x + 0.2 for x in xs], [c.completion_rate or 0 for c in stats.consultations], 0.4, color=orange, label=_("completion"))
        axes.set_xticks(list(xs), labels=names)
        top = max([c.participation_rate or 0 for c in stats.consultations] + [c.completion_rate or 0 for c in stats.consultations])
        axes.set_ylim(0, max(top, 0.1) * 1.3)  # room for the legend
        axes.yaxis.set_major_formatter(percent)
        axes.legend(fontsize=7, frameon=False)
        tidy(axes, _("Participation and completion per consultation"))
    else:
        empty(axes, _("Participation and completion per consultation"))

    def who_takes_part(axes, totals: list[tuple[str | None, int, int]], label: Callable[[str | None], str], title: str) -> None:  # type: ignore[no-untyped-def]
        """Share of participants against share of residents, group by group."""
        all_residents = sum(t[1] for t in totals)
        all_participants = sum(t[2] for t in totals)
        if not (totals and all_participants):
            empty(axes, title)
            return
        xs = range(len(totals))
        axes.bar([x - 0.2 for x in xs], [res / all_residents if all_residents else 0 for _c, res, _p in totals], 0.4, color=grey, label=_("share of residents"))
        axes.bar([x + 0.2 for x in xs], [p / all_participants for _c, _r, p in totals], 0.4, color=blue, label=_("share of participants"))
        axes.set_xticks(list(xs), labels=[label(code) for code, _r, _p in totals])
        axes.yaxis.set_major_formatter(percent)
        axes.legend(fontsize=7, frameon=False)
        tidy(axes, title)

    # 3 and 4. Neighbourhoods, then age brackets: share of participants against share of residents.
    who_takes_part(
        figure.add_subplot(grid[1, :]), _totals(stats.consultations, lambda c: c.by_neighbourhood),
        lambda code: _hood(code, hood_names), _("Who takes part, by neighbourhood"),
    )
    who_takes_part(
        figure.add_subplot(grid[2, :]), _totals(stats.consultations, lambda c: c.by_age_bracket), _age, _("Who takes part, by age bracket"),
    )

    # 5. Reports: time to close by category.
    axes = figure.add_subplot(grid[3, :])
    closed = [c for c in rep.by_category if c.median_hours is not None]
    if closed:
        labels = ["\n".join(textwrap.wrap(_title(c.name, locale), 22)[:2]) for c in closed]
        ys = range(len(labels))
        axes.barh([y - 0.2 for y in ys], [(c.median_hours or 0) / 24 for c in closed], 0.4, color=blue, label=_("median"))
        axes.barh([y + 0.2 for y in ys], [(c.p90_hours or 0) / 24 for c in closed], 0.4, color=orange, label=_("90th percentile"))
        axes.set_yticks(list(ys), labels=labels)
        axes.invert_yaxis()
        axes.set_xlabel(_("days"), fontsize=8)
        axes.legend(fontsize=7, frameon=False)
        tidy(axes, _("Reports: time to close by category"))
    else:
        empty(axes, _("Reports: time to close by category"))

    # 6. Satisfaction: distribution and trend.
    axes = figure.add_subplot(grid[4, 0])
    if sat.answers:
        axes.bar(list(sat.distribution), list(sat.distribution.values()), color=blue)
        axes.set_xticks(list(sat.distribution))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        tidy(axes, _("Satisfaction: answers per score (1 = not useful, 5 = very useful)"))
    else:
        empty(axes, _("Satisfaction: answers per score (1 = not useful, 5 = very useful)"))
    axes = figure.add_subplot(grid[4, 1])
    if sat.trend:
        axes.plot(range(len(sat.trend)), [mean for _s, mean, _n in sat.trend], marker="o", color=orange)
        axes.set_xticks(range(len(sat.trend)), labels=[format_date(s, "d MMM y", locale=locale) for s, _m, _n in sat.trend])
        axes.set_ylim(1, 5)
        tidy(axes, _("Satisfaction: mean score per period"))
    else:
        empty(axes, _("Satisfaction: mean score per period"))
    return figure


def render_png(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    _figure(stats, locale=locale, tz=tz, hood_names=hood_names).savefig(buffer, format="png")
    return buffer.getvalue()


def render_pdf(stats: Stats, *, locale: str, tz: ZoneInfo, hood_names: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    _figure(stats, locale=locale, tz=tz, hood_names=hood_names).savefig(buffer, format="pdf")
    return buffer.getvalue()
