"""The consultation file's reader, kept under its former name: it lives in participation/consultations/files.py."""

from participation.consultations.files import (
    ConsultationSpec,
    InvalidConsultation,
    load_yaml,
    parse_consultation,
    parse_consultation_file,
)
from participation.consultations.questions import DURATION, OTHER

__all__ = [
    "DURATION",
    "OTHER",
    "ConsultationSpec",
    "InvalidConsultation",
    "load_yaml",
    "parse_consultation",
    "parse_consultation_file",
]
