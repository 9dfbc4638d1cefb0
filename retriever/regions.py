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


def _mentions(text: str, name: str | None) -> bool:
    return bool(name) and (name in text or _short(name) in text)


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

    def resolve(self, text: str) -> Place:
        """The most specific known place the text names; an unknown place filters nothing."""
        for province, city, county in self._places:
            if county and _mentions(text, county):
                return Place(province, city, county)
        for province, city, _ in self._places:
            if city and _mentions(text, city):
                return Place(province, city)
        for province, _, _ in self._places:
            if province and _mentions(text, province):
                return Place(province)
        return Place()
