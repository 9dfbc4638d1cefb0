"""A Rasa 3.6 entity extractor that finds catalogue matters, places and departments by dictionary,
plus phone numbers, 身份证号 and 12345 ticket numbers by pattern.

Why a gazetteer next to DIET: DIET only learns the matters it saw in training examples, while the
catalogue has hundreds of matters and changes every week. The gazetteer knows every published name
and alias (written by ``banshi nlu export``) and always answers with the canonical matter name, so the
dialogue can look the matter up without guessing.

Runs inside .venv-rasa: imports only the standard library, rasa, spacy and jieba.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import jieba
import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

logger = logging.getLogger(__name__)

DEFAULT_GAZETTEER = "nlu/generated/gazetteer.json"
GAZETTEER_FILE = "gazetteer.json"
EXTRACTOR_NAME = "SpacyGazetteer"
# Entities this component is the authority on: a DIET guess of one of these types over characters we
# matched is dropped, so that a slot never receives two values for one mention.
OWNED_ENTITIES = ("matter", "region", "department", "phone", "id_number", "ticket_no")

# Digits are matched on the raw text: jieba may glue digits to neighbouring characters or split them.
PATTERNS: dict[str, re.Pattern[str]] = {
    "ticket_no": re.compile(r"(?<![0-9A-Za-z])12345-\d{8}-\d{4}(?!\d)"),
    "id_number": re.compile(
        r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
    ),
    "phone": re.compile(r"(?<![0-9A-Za-z-])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9A-Za-z])"),
}


def normalise_pattern_value(entity: str, text: str) -> str:
    """Phones keep the 11 digits of the mobile number; ticket and id numbers are compared upper-case."""
    if entity == "phone":
        return re.sub(r"\D", "", text)[-11:]
    return text.upper()


@Language.component("banshi_number_patterns")
def number_patterns(doc: Doc) -> Doc:
    """Adds phone, id-number and ticket spans; the gazetteer's longer spans win on overlap."""
    spans = list(doc.ents)
    for label, pattern in PATTERNS.items():
        for match in pattern.finditer(doc.text):
            span = doc.char_span(match.start(), match.end(), label=label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
    doc.ents = filter_spans(spans)
    return doc


def read_gazetteer(path: str | Path) -> dict[str, Any]:
    """The exported catalogue; an absent file gives an empty gazetteer (patterns still work)."""
    path = Path(path)
    if not path.is_file():
        logger.warning("Gazetteer %s is missing: run `banshi nlu export`. Only number patterns will work.", path)
        return {"matters": [], "regions": [], "departments": []}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        "matters": data.get("matters", []),
        "regions": data.get("regions", []),
        "region_aliases": data.get("region_aliases", {}),
        "departments": data.get("departments", []),
    }


def ruler_patterns(gazetteer: dict[str, Any]) -> list[dict[str, str]]:
    """One phrase pattern per surface form; a matter pattern's id carries the canonical name."""
    patterns: list[dict[str, str]] = []
    seen: set[str] = set()
    for matter in gazetteer["matters"]:
        name = matter["name"]
        for form in [name, *matter.get("aliases", [])]:
            form = form.strip()
            if len(form) >= 2 and form not in seen:
                seen.add(form)
                patterns.append({"label": "matter", "pattern": form, "id": name})
    for label, key in (("region", "regions"), ("department", "departments")):
        for form in gazetteer.get(key, []):
            if len(form) >= 2 and form not in seen:
                seen.add(form)
                patterns.append({"label": label, "pattern": form, "id": form})
    for form, place in gazetteer.get("region_aliases", {}).items():
        if len(form) >= 2 and form not in seen:
            seen.add(form)
            patterns.append({"label": "region", "pattern": form, "id": place})
    return patterns


def build_nlp(gazetteer: dict[str, Any]) -> Language:
    """A blank Chinese pipeline with its own jieba dictionary (so Rasa's JiebaTokenizer is unaffected)."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    segmenter = jieba.Tokenizer()
    patterns = ruler_patterns(gazetteer)
    for pattern in patterns:
        # A high frequency keeps every gazetteer word one token, so phrase patterns align with the text.
        segmenter.add_word(pattern["pattern"], freq=100000)
    nlp.tokenizer.jieba_seg = segmenter
    if patterns:  # an empty ruler only warns on every call
        ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "ORTH", "overwrite_ents": True})
        ruler.add_patterns(patterns)
    nlp.add_pipe("banshi_number_patterns", last=True)
    return nlp


def span_to_entity(span: Span) -> dict[str, Any]:
    """Rasa's entity dict; number spans are trimmed back to the exact pattern match."""
    start, end, value = span.start_char, span.end_char, span.text
    if span.label_ in PATTERNS:
        match = PATTERNS[span.label_].search(span.text)
        if match:
            start, end = span.start_char + match.start(), span.start_char + match.end()
            value = match.group()
        value = normalise_pattern_value(span.label_, value)
    else:
        value = span.ent_id_ or span.text
    return {
        "entity": span.label_,
        "start": start,
        "end": end,
        "value": value,
        "extractor": EXTRACTOR_NAME,
        "confidence_entity": 1.0,
        "confidence": 1.0,
    }


def merge_entities(existing: list[dict[str, Any]], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keeps other extractors' entities, except their guesses at a type we found in the same message.

    A dictionary or pattern hit is exact, while DIET may call a phone number a ticket number or take
    "住房" out of "住房公积金贷款" as a matter. So a DIET entity of one of our types is dropped when it
    overlaps any of our spans or when we found that type elsewhere in the message; with no hit of
    ours it stays, as a hint for search. Entities we do not own (address, applicant_type) always stay.
    """
    found_types = {entity["entity"] for entity in found}

    def ours_instead(entity: dict[str, Any]) -> bool:
        if entity.get("entity") not in OWNED_ENTITIES:
            return False
        start, end = entity.get("start", -1), entity.get("end", -1)
        return entity["entity"] in found_types or any(start < o["end"] and o["start"] < end for o in found)

    kept = [e for e in existing if e.get("extractor") != EXTRACTOR_NAME and not ours_instead(e)]
    return sorted(kept + found, key=lambda e: (e.get("start", 0), e.get("end", 0)))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class SpacyGazetteer(GraphComponent, EntityExtractorMixin):
    """Dictionary and pattern entities from the published catalogue."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"gazetteer": DEFAULT_GAZETTEER}

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy", "jieba"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Changes with the gazetteer file, so a new catalogue retrains this component."""
        path = Path(config.get("gazetteer") or DEFAULT_GAZETTEER)
        if not path.is_file():
            return "missing"
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        gazetteer: dict[str, Any] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.gazetteer = gazetteer or {"matters": [], "regions": [], "departments": []}
        self.nlp = build_nlp(self.gazetteer)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyGazetteer:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SpacyGazetteer:
        try:
            with model_storage.read_from(resource) as directory:
                gazetteer = json.loads((Path(directory) / GAZETTEER_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("No stored gazetteer in %s; reading %s instead.", resource.name, config.get("gazetteer"))
            gazetteer = read_gazetteer(config.get("gazetteer") or DEFAULT_GAZETTEER)
        return cls(config, model_storage, resource, gazetteer)

    def train(self, training_data: TrainingData) -> Resource:
        """Training is reading the catalogue export: the model then works without the file."""
        self.gazetteer = read_gazetteer(self._config.get("gazetteer") or DEFAULT_GAZETTEER)
        self.nlp = build_nlp(self.gazetteer)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / GAZETTEER_FILE).write_text(
                json.dumps(self.gazetteer, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Entities in one text, longest match first, aliases mapped to canonical matter names."""
        if not text:
            return []
        return [span_to_entity(span) for span in self.nlp(text).ents]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = self.extract(message.get(TEXT) or "")
            if found or message.get(ENTITIES):
                message.set(ENTITIES, merge_entities(message.get(ENTITIES, []), found), add_to_output=True)
        return messages
