"""An agent's correction of a ticket's type or category, kept as a labelled example to train on.

The console already lets agents correct a ticket's category (``PUT /tickets/{id}/category``) and the
type of a ticket they file from a chat (the draft's type). Each correction is written here, in the
caller's transaction, so it commits or rolls back with the correction. ``banshi hotline train``
reads them back (``labelled_examples``) and fits them beside the shared messages with a larger
weight: a few hundred of a city's own corrections then move its model towards its own words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.masking import mask_text
from common.tickets import TICKET_TYPES
from hotline.classifier import CATEGORIES, MODEL_TYPE_OF
from hotline.models import LabelExample


def record_correction(
    session: Session,
    text: str,
    *,
    type: str | None = None,
    category: str | None = None,
    predicted: str | None = None,
    ticket_id: int | None = None,
    actor_id: int | None = None,
) -> LabelExample | None:
    """Adds the example to the session (no commit); None when neither label can be learnt from.

    Mobile and ID numbers are masked: the model learns from words, and a second copy of a citizen's
    numbers outside the ticket would only be one more place to leak them from.
    """
    type = type if type in TICKET_TYPES else None
    category = category if category in CATEGORIES else None
    if not text.strip() or (type is None and category is None):
        return None
    example = LabelExample(
        text=mask_text(text), type=type, category=category, predicted=predicted, ticket_id=ticket_id, actor_id=actor_id
    )
    session.add(example)
    return example


@dataclass
class Examples:
    """The corrections as training pairs: types already in the type head's classes."""

    type_texts: list[str]
    type_labels: list[str]
    category_texts: list[str]
    category_labels: list[str]

    def __len__(self) -> int:
        return len(self.type_texts) + len(self.category_texts)


def labelled_examples(session: Session) -> Examples:
    """Every stored correction; for a text corrected more than once, the latest label wins."""
    types: dict[str, str] = {}
    categories: dict[str, str] = {}
    for example in session.scalars(select(LabelExample).order_by(LabelExample.at, LabelExample.id)):
        if example.type:
            types[example.text] = MODEL_TYPE_OF[example.type]
        if example.category:
            categories[example.text] = example.category
    return Examples(list(types), list(types.values()), list(categories), list(categories.values()))
