"""Tickets filed by the dialogue: numbered per day, found only with the phone they were filed with."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from common.masking import mask_phone, mask_text
from hotline.tickets import TicketIn, create_ticket, find_ticket, normalise_phone


def _ticket(**overrides) -> TicketIn:
    data = {"type": "投诉", "content": "小区门口夜间施工噪音扰民", "location": "港口区渔洲坪", "phone": "13877001234"}
    return TicketIn(**{**data, **overrides})


def test_numbers_count_up_within_a_day_and_restart_the_next(session):
    day = datetime(2026, 11, 23, 9, 30)
    first = create_ticket(session, _ticket(), now=day)
    second = create_ticket(session, _ticket(type="建议"), now=day)
    next_day = create_ticket(session, _ticket(), now=datetime(2026, 11, 24, 8))
    assert (first.number, second.number) == ("12345-20261123-0001", "12345-20261123-0002")
    assert next_day.number == "12345-20261124-0001"
    assert first.status == "待受理"


def test_a_ticket_opens_only_with_its_phone(session):
    ticket = create_ticket(session, _ticket(phone="+86 138-7700-1234"))
    assert ticket.phone == "13877001234"
    assert find_ticket(session, ticket.number, "138 7700 1234").id == ticket.id
    assert find_ticket(session, ticket.number.lower(), "13877001234") is not None
    assert find_ticket(session, ticket.number, "13900000000") is None
    assert find_ticket(session, ticket.number, "not a phone") is None


def test_tickets_survive_a_new_session(data_dir):
    from banshi.db import migrate, session_scope

    migrate()
    with session_scope() as session:
        number = create_ticket(session, _ticket()).number
    with session_scope() as session:
        assert find_ticket(session, number, "13877001234").content == "小区门口夜间施工噪音扰民"


@pytest.mark.parametrize("phone", ["12345678901", "1387700123", "138770012345", "abc", ""])
def test_invalid_phones_are_refused_in_chinese(phone):
    assert normalise_phone(phone) is None
    with pytest.raises(ValidationError, match="手机号"):
        _ticket(phone=phone)


def test_phone_and_id_numbers_are_masked():
    assert mask_phone("13877001234") == "138****1234"
    text = mask_text("我的电话13877001234，身份证450602199001011234")
    assert "13877001234" not in text and "450602199001011234" not in text
    assert "138****1234" in text and "450***********1234" in text


def test_a_ticket_is_filed_with_a_predicted_category(session):
    ticket = create_ticket(session, _ticket(content="工厂晚上偷排废水，河里的鱼都死了，气味很大"))
    assert ticket.category == "环境保护" and 0.5 <= ticket.category_confidence <= 1
    assert ticket.department is None  # set when it is dispatched
    chosen = create_ticket(session, _ticket(category="交通运输", category_confidence=1.0))
    assert (chosen.category, chosen.category_confidence) == ("交通运输", 1.0)
