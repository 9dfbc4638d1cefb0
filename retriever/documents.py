"""How a matter looks to the indexes: a small typed record plus the texts each retriever reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from knowledge.schema import MatterIn


@dataclass(frozen=True)
class MatterDoc:
    external_id: str
    name: str
    department: str
    province: str | None = None
    city: str | None = None
    county: str | None = None
    parent_external_id: str | None = None
    parent_name: str | None = None
    aliases: tuple[str, ...] = ()
    faqs: tuple[str, ...] = ()
    """Published FAQ questions linked to the matter: asked as written, they should find it."""
    kind: str = "matter"
    """``bundle`` for a 一件事 (``MatterIn.is_bundle``): a document of its own kind, answered with one checklist."""
    members: tuple[str, ...] = ()
    """A bundle's matters: found beside it, they are part of it, not rivals to ask about."""
    note: str | None = None
    """A bundle's note: its life-event words (宝宝出生后…) are searched with it."""

    @classmethod
    def from_matter(cls, matter: MatterIn, faqs: tuple[str, ...] | list[str] = ()) -> MatterDoc:
        return cls(
            external_id=matter.external_id,
            name=matter.name,
            department=matter.department,
            province=matter.province,
            city=matter.city,
            county=matter.county,
            parent_external_id=matter.parent_external_id,
            parent_name=matter.parent_name,
            aliases=tuple(matter.aliases),
            faqs=tuple(faqs),
            kind="bundle" if matter.is_bundle else "matter",
            members=tuple(matter.bundle),
            note=matter.bundle_note,
        )

    @classmethod
    def from_dict(cls, data: dict) -> MatterDoc:
        lists = {name: tuple(data.get(name) or ()) for name in ("aliases", "faqs", "members")}
        return cls(**{**data, **lists})

    def to_dict(self) -> dict:
        return {**asdict(self), "aliases": list(self.aliases), "faqs": list(self.faqs), "members": list(self.members)}

    @property
    def keyword_text(self) -> str:
        """The name counts twice: a citizen's words matching the title matter most."""
        parts = [
            self.name,
            self.name,
            *self.aliases,
            *self.faqs,
            self.note or "",
            self.parent_name or "",
            self.department,
        ]
        return " ".join(p for p in parts if p)

    @property
    def dense_text(self) -> str:
        """Short on purpose: the small embedders read titles well and long bodies poorly."""
        parts = [self.name, *self.aliases, *self.faqs, *([self.note] if self.note else [])]
        if self.parent_name and self.parent_name not in self.name:
            parts.append(self.parent_name)
        return "；".join(parts)
