"""Privacy: the version of the notice residents consent to.

Changing what the notice says (locales: the privacy notice text) means raising NOTICE_VERSION,
so that every resident is asked for consent again at their next visit.
"""

NOTICE_VERSION = "2026-11"
