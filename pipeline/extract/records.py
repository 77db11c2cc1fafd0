"""The extractor's output records: `Event` rows for `article_events`, `Claim` rows for `article_claims`,
their column orders, the closed vocabularies (relation types, modalities, date precisions) and the
version stamped on every row. No logic beyond `sha1`, the hash behind record and claim ids."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

EXTRACTOR_VERSION = "0.1.0"
EXTRACTION_METHOD = "rules"
MODEL_METHOD = "model"  # a tie added by the learned component (learned.py): "model/<relation type>"
EVIDENCE_MAX = 300

RELATION_TYPES = (
    "arms_transfer",
    "military_cooperation",
    "technology_transfer",
    "financial_integration",
    "economic_cooperation",
    "energy_cooperation",
    "agreement",
    "diplomatic_support",
    "sanctions",
    "criticism",
    "threat",
    "use_of_force",
    "bloc_alignment",
)
MODALITIES = ("realized", "planned", "alleged", "denied")
DATE_PRECISIONS = ("day", "month", "year", "article")

EVENT_COLUMNS = (
    "record_id",
    "article_id",
    "sentence_idx",
    "char_start",
    "char_end",
    "evidence_text",
    "actor1_text",
    "actor2_text",
    "actor1_iso3",
    "actor2_iso3",
    "actor1_type",
    "actor2_type",
    "directed",
    "relation_type",
    "cameo_code",
    "cameo_root",
    "quad_class",
    "goldstein",
    "modality",
    "event_date",
    "date_precision",
    "confidence",
    "n_mentions",
    "extraction_method",
    "extractor_version",
)
CLAIM_COLUMNS = (
    "claim_id",
    "article_id",
    "claim_type",
    "subject_iso3",
    "object_iso3",
    "members",
    "metric",
    "value",
    "as_of",
    "as_of_precision",
    "evidence_text",
    "confidence",
    "modality",
    "extractor_version",
)


@dataclass
class Event:
    record_id: str
    article_id: str
    sentence_idx: int
    char_start: int
    char_end: int
    evidence_text: str
    actor1_text: str
    actor2_text: str
    actor1_iso3: str
    actor2_iso3: str
    actor1_type: str | None
    actor2_type: str | None
    directed: bool
    relation_type: str
    cameo_code: str
    cameo_root: str
    quad_class: int
    goldstein: float
    modality: str
    event_date: dt.date
    date_precision: str
    confidence: float
    n_mentions: int
    extraction_method: str
    extractor_version: str = EXTRACTOR_VERSION


@dataclass
class Claim:
    claim_id: str
    article_id: str
    claim_type: str
    subject_iso3: str | None
    object_iso3: str | None
    members: list[str]
    metric: str | None
    value: str | None
    as_of: dt.date
    as_of_precision: str
    evidence_text: str
    confidence: float
    modality: str
    extractor_version: str = EXTRACTOR_VERSION


def sha1(*parts: object) -> str:
    """sha1 of the parts joined by '|' (None as empty): the record_id and claim_id hash."""
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()
