"""The catalogue's interchange format: what importers accept and what the rest of the system reads.

These pydantic models sit at the edge of ``knowledge/``. The project's own JSON/JSONL/CSV/XLSX
files, the sample catalogue, and the platform-export importer all end up as ``MatterIn``; the
database rows are written only from it, so validation lives in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

OriginalOrCopy = Literal["原件", "复印件", "原件和复印件", "原件或复印件"]
Medium = Literal["纸质", "电子", "纸质或电子", "纸质和电子"]
ApplicantType = Literal["个人", "企业"]
ExemptBy = Literal["电子证照", "数据共享", "告知承诺", "其他"]
"""How a 免提交 material is replaced (the platform's ``exemptionAfterType`` 1–4, in that order)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MaterialIn(_Model):
    """One required (or conditional) document of a matter."""

    name: str = Field(min_length=1, max_length=300)
    required: bool = True
    original_or_copy: OriginalOrCopy | None = None
    original_count: int = Field(default=0, ge=0, le=99)
    copy_count: int = Field(default=0, ge=0, le=99)
    medium: Medium | None = None
    source: str | None = Field(default=None, max_length=50)
    """Where the citizen gets it: 申请人自备, 政府部门核发, 其他."""
    note: str | None = None
    condition: str | None = Field(default=None, max_length=200)
    """Only needed when this holds, e.g. 委托代办时. ``None`` means always."""
    exempt: bool = False
    """免提交: the citizen need not hand it in at all (最多跑一次); ``exempt_by`` says what replaces it."""
    exempt_by: ExemptBy | None = None
    data_shared: bool = False
    """The department obtains it from another department through data sharing: nothing to carry."""
    e_licence: bool = False
    """An electronic licence (电子证照) may stand for the paper: the citizen may bring it on a phone."""

    @property
    def must_bring(self) -> bool:
        """What the citizen has to carry: neither exempt nor fetched by the department itself."""
        return not (self.exempt or self.data_shared)


class ProcessStep(_Model):
    name: str = Field(min_length=1)
    desc: str | None = None


class MatterIn(_Model):
    """A 办事指南 as it is imported, edited and published."""

    external_id: str = Field(min_length=1, max_length=100)
    code: str | None = Field(default=None, max_length=100)
    name: str = Field(min_length=2, max_length=200)
    aliases: list[str] = Field(default_factory=list)
    department: str = Field(min_length=2, max_length=100)
    province: str | None = None
    city: str | None = None
    county: str | None = None
    type: str | None = Field(default=None, max_length=30)
    """行政许可, 公共服务, 行政确认, 行政给付, ... optional: most platforms do not export it."""
    parent_external_id: str | None = None
    parent_name: str | None = None
    """Set on a sub-case (情形); the parent itself may not be in the catalogue."""
    applicant_types: list[ApplicantType] = Field(default_factory=list)
    processing_type: Literal["即办件", "承诺件"] | None = None

    materials: list[MaterialIn] = Field(default_factory=list)
    conditions: str | None = None
    process_steps: list[ProcessStep] = Field(default_factory=list)
    time_limit_legal_days: int | None = Field(default=None, ge=0, le=3650)
    time_limit_promised_days: int | None = Field(default=None, ge=0, le=3650)
    """Working days; 0 means 即办 (done on the spot)."""
    fee: str | None = None
    """不收费, or the charge in words (收费：工本费20元)."""
    location: str | None = None
    hours: str | None = None
    handle_forms: list[str] = Field(default_factory=list)
    """窗口办理, 网上办理, 快递申请, 自助办理."""
    online_url: str | None = None
    visits: int | None = Field(default=None, ge=0, le=20)
    """跑动次数: how many times the citizen must come in person."""
    phone: str | None = None
    bundle: list[str] = Field(default_factory=list)
    """一件事: the external ids of the matters this life event gathers, in the order to do them."""
    bundle_note: str | None = None
    """The editor's word on the bundle as a whole (who it is for, what to do first)."""

    source_url: str | None = None
    updated_at: datetime | None = None

    @field_validator("aliases", "handle_forms", "bundle")
    @classmethod
    def _no_blank_items(cls, items: list[str]) -> list[str]:
        cleaned = [item.strip() for item in items if item and item.strip()]
        return list(dict.fromkeys(cleaned))

    @field_validator("online_url", "source_url")
    @classmethod
    def _looks_like_url(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("链接必须以 http:// 或 https:// 开头")
        return url or None

    @model_validator(mode="after")
    def _promise_within_legal(self) -> MatterIn:
        legal, promised = self.time_limit_legal_days, self.time_limit_promised_days
        if legal is not None and promised is not None and promised > legal:
            raise ValueError("承诺办结时限不能长于法定办结时限")
        return self

    @model_validator(mode="after")
    def _bundle_not_itself(self) -> MatterIn:
        if self.external_id in self.bundle:
            raise ValueError("一件事不能包含它自己")
        return self

    @property
    def is_bundle(self) -> bool:
        """一件事: composed of other matters, or the catalogue's own joint matter (named “…一件事”)."""
        return bool(self.bundle) or "一件事" in self.name

    @property
    def fully_online(self) -> bool:
        """全程网办: online handling with a link and no visit in person, the first thing a citizen should hear."""
        return "网上办理" in self.handle_forms and bool(self.online_url) and self.visits == 0

    @property
    def region(self) -> str:
        return "".join(part for part in (self.province, self.city, self.county) if part)

    def content_key(self) -> dict:
        """Everything that makes two versions differ, without bookkeeping, for change detection."""
        return self.model_dump(mode="json", exclude={"updated_at"})
