"""Results as a person reads them: lines of the chat's /results, the publication and the CLI, and
the notes and footer of charts, in the reader's language and number format.

The gettext functions are passed in: the chat gives aiogram's (bound to the update's locale), the
command line the standard library's, without importing aiogram (see notices/catalogs.py).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import tzinfo

from babel.dates import format_date

from notices.numbers import format_number, format_percent, format_points
from participation.results import OptionCount, QuestionResult, Results, WeightingSummary

Gettext = Callable[[str], str]
NGettext = Callable[[str, str, int], str]


def option_line(option: OptionCount, question: QuestionResult, locale: str, _: Gettext) -> str:
    """« • Chaque semaine : 95 (57,2 %) », with the weighted share beside the raw one when known."""
    share = format_percent(option.percent / 100, locale)
    label = html.escape(option.label)
    if question.ranked:
        if option.weighted_percent is not None:
            return _("• {label}: ranked first by {count} ({share}; weighted {weighted})").format(
                label=label, count=option.count, share=share, weighted=format_percent(option.weighted_percent / 100, locale)
            )
        return _("• {label}: ranked first by {count} ({share})").format(label=label, count=option.count, share=share)
    if option.weighted_percent is not None:
        return _("• {label}: {count} ({share}; weighted {weighted})").format(
            label=label, count=option.count, share=share, weighted=format_percent(option.weighted_percent / 100, locale)
        )
    return _("• {label}: {count} ({share})").format(label=label, count=option.count, share=share)


def question_note(question: QuestionResult, _: Gettext) -> str:
    """What a reader must know to read the figures: several answers possible, what a scale's ends mean."""
    if question.several:
        return _("Several answers were possible: the percentages add up to more than 100 %.")
    if question.scale is not None and question.scale_labels is not None:
        return _("{min} = {min_label}, {max} = {max_label}").format(
            min=question.scale[0], max=question.scale[1], min_label=question.scale_labels[0], max_label=question.scale_labels[1]
        )
    return ""


def question_lines(question: QuestionResult, locale: str, _: Gettext, *, weighted: bool = True) -> list[str]:
    """The options, the note, the mean and the margin of error of one question."""
    lines = []
    note = question_note(question, _)
    if note:
        lines.append(html.escape(note))
    for option in question.options:
        if not weighted:
            option = OptionCount(option.value, option.label, option.count, option.percent, option.mean_rank)
        lines.append(option_line(option, question, locale, _))
    if question.mean is not None and question.scale is not None:
        if weighted and question.weighted_mean is not None:
            lines.append(
                _("Average: {mean} out of {max} (weighted {weighted})").format(
                    mean=format_number(question.mean, locale),
                    max=question.scale[1],
                    weighted=format_number(question.weighted_mean, locale),
                )
            )
        else:
            lines.append(
                _("Average: {mean} out of {max}").format(mean=format_number(question.mean, locale), max=question.scale[1])
            )
    if weighted and question.margin_of_error is not None:
        lines.append(
            _("Weighted figures: margin of error ± {points} points (95 %).").format(
                points=format_points(question.margin_of_error, locale)
            )
        )
    return lines


def weighting_lines(
    weighting: WeightingSummary, locale: str, _: Gettext, ngettext: NGettext, group_label: Callable[[str, str], str]
) -> list[str]:
    """How the figures were weighted, and the plain warnings about groups weighting cannot make up."""
    lines = [
        _(
            "⚖️ Weighted to the population ({source}): effective size {size}, design effect {effect}, "
            "margin of error ± {points} points (95 %)."
        ).format(
            source=html.escape(weighting.source),
            size=format_number(weighting.n_effective, locale, digits=0),
            effect=format_number(weighting.design_effect or 1.0, locale),
            points=format_points(weighting.margin_of_error or 0.0, locale),
        )
    ]
    if weighting.unweighted:
        lines.append(
            ngettext(
                "{count} participant did not give their neighbourhood or age: counted in the raw figures only.",
                "{count} participants did not give their neighbourhood or age: counted in the raw figures only.",
                weighting.unweighted,
            ).format(count=weighting.unweighted)
        )
    for group in weighting.empty_groups:
        lines.append(
            _("⚠️ Nobody from « {group} » took part: weighting cannot speak for them.").format(
                group=html.escape(group_label(group.dimension, group.code))
            )
        )
    for group in weighting.small_groups:
        lines.append(
            ngettext(
                "⚠️ Only {count} participant from « {group} »: their weighted figures rest on very few people.",
                "⚠️ Only {count} participants from « {group} »: their weighted figures rest on very few people.",
                group.participants,
            ).format(count=group.participants, group=html.escape(group_label(group.dimension, group.code)))
        )
    return lines


def chart_axis_label(question: QuestionResult, _: Gettext) -> str:
    if question.ranked:
        return _("residents who ranked it first")
    return _("answers")


def commune_or_default(commune_name: str, _: Gettext) -> str:
    return commune_name.strip() or _("your town hall")


def chart_footer(results: Results, locale: str, tz: tzinfo, commune_name: str, _: Gettext, ngettext: NGettext) -> str:
    """« 166 répondants · consultation du 28 novembre au 28 décembre 2026 · Source : Mairie de …, Palabre »."""
    start = format_date(results.opens_at.astimezone(tz).date(), format="long", locale=locale)
    end = format_date(results.closes_at.astimezone(tz).date(), format="long", locale=locale)
    parts = [
        ngettext("{count} respondent", "{count} respondents", results.finished).format(count=results.finished),
        _("consultation from {start} to {end}").format(start=start, end=end),
        _("Source: {commune}, Palabre").format(commune=commune_or_default(commune_name, _)),
    ]
    if results.weighting is not None:
        parts.append(_("weighted to: {source}").format(source=results.weighting.source))
    return " · ".join(parts)
