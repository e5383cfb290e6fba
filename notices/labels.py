"""Names of the domain's fixed values in the current locale, for the chat and the council's report alike."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from participation.residents import AgeBracket


def age_bracket_label(code: str) -> str:
    """An age bracket as residents read it ("30 to 44"); an unknown code is shown as it is."""
    labels: dict[str, str] = {
        AgeBracket.FROM_15_TO_29: _("15 to 29"),
        AgeBracket.FROM_30_TO_44: _("30 to 44"),
        AgeBracket.FROM_45_TO_59: _("45 to 59"),
        AgeBracket.FROM_60_TO_74: _("60 to 74"),
        AgeBracket.FROM_75: _("75 and over"),
    }
    return labels.get(code, code)
