"""Region filters: a citizen names a place loosely (港口区, 防城港, 防城港市港口区); matters belong to a
province, a city or a county. A city-wide matter serves every county in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from retriever.documents import MatterDoc

_SUFFIXES = ("壮族自治区", "自治区", "省", "市", "区", "县", "自治县", "旗")


def _short(name: str) -> str:
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _mentions(text: str, name: str | None, longer: tuple[str, ...] = ()) -> bool:
    """The full name, or its short form where it is not part of a longer known name: 防城 (short for
    防城区) inside 防城港市 names the city, not the district."""
    if not name:
        return False
    if name in text:
        return True
    short = _short(name)
    for other in longer:
        if len(other) > len(short) and short in other:
            text = text.replace(other, "\0" * len(other))
    return short in text


@dataclass(frozen=True)
class Place:
    province: str | None = None
    city: str | None = None
    county: str | None = None

    def admits(self, doc: MatterDoc) -> bool:
        for wanted, have in ((self.province, doc.province), (self.city, doc.city), (self.county, doc.county)):
            if wanted and have and wanted != have:
                return False
        return True


class RegionFilter:
    """Knows the places that occur in the catalogue, so that loose names resolve to one of them."""

    def __init__(self, docs: Iterable[MatterDoc] = ()) -> None:
        self._places = sorted(
            {(d.province, d.city, d.county) for d in docs},
            key=lambda p: sum(bool(x) for x in p),
            reverse=True,
        )
        names = {name for place in self._places for name in place if name}
        self._names = tuple(sorted(names | {_short(n) for n in names}, key=len, reverse=True))

    def resolve(self, text: str) -> Place:
        """The most specific known place the text names; an unknown place filters nothing."""
        for province, city, county in self._places:
            if county and _mentions(text, county, self._names):
                return Place(province, city, county)
        for province, city, _ in self._places:
            if city and _mentions(text, city, self._names):
                return Place(province, city)
        for province, _, _ in self._places:
            if province and _mentions(text, province, self._names):
                return Place(province)
        return Place()

    def knows(self, text: str) -> bool:
        """Whether the text names a place some matter of the catalogue belongs to."""
        return self.resolve(text) != Place()
