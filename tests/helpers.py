"""Small builders shared by tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

FUNNEL_PATH = {
    "channels": ["seo", "google_ads"], "visitors": ["500_2000"], "intent": ["searching"],
    "magnet": ["specific"], "form": ["name_email"], "sequence": ["silence"], "segments": ["no"],
    "close_rate": ["2_to_5"], "thank_you": ["offer"], "paid_tracking": ["cpl"],
}


def minimal_quiz(**overrides) -> dict:
    base = {
        "kind": "quiz", "slug": "mini", "title": "Mini", "headline": "Mini quiz",
        "questions": [
            {"id": "q1", "type": "single", "text": "One?", "options": [
                {"value": "a", "label": "A", "points": 1}, {"value": "b", "label": "B", "points": 3}]},
            {"id": "q2", "type": "single", "text": "Two?", "options": [
                {"value": "a", "label": "A", "points": 0}, {"value": "b", "label": "B", "points": 2}]},
        ],
        "outcomes": [{"id": "low", "title": "Low"}, {"id": "high", "title": "High"}],
        "scoring": {"model": "tiers", "tiers": [{"min": 0, "max": 2, "outcome": "low"},
                                                {"min": 3, "max": 5, "outcome": "high"}]},
    }
    base.update(copy.deepcopy(overrides))
    return base


def write_json(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)
    return path
