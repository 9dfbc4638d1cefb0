"""数据看板 API for the content staff: the assistant's figures over the last days, for the studio's charts.

Editors and admins only, like the rest of the studio: the figures are about the catalogue's gaps and
the hotline's backlog, and the studio is where they are acted on. Agents work from the console's live
queues and get 403 here. Nothing listed carries a whole phone or ID number.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from channels import dashboard
from channels.commit_first import CommitFirstRoute
from channels.deps import GUARDED, IndexDep, SessionDep, require_role

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/dashboard",
    tags=["dashboard"],
    responses=GUARDED,
    dependencies=[Depends(require_role("editor"))],
)


@router.get("", response_model=dashboard.Dashboard)
def get_dashboard(
    session: SessionDep,
    index: IndexDep,
    days: Annotated[int, Query(ge=1, le=366, description="最近多少天（含今天），按本地日期")] = 30,
) -> dashboard.Dashboard:
    """Conversations per day, shares answered / handed off, top matters and unanswered groups, ratings,
    tickets by type and status, and overdue tickets."""
    return dashboard.dashboard(session, days, embedder=index.embedder)
