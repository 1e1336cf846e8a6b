"""The publicity result of a call (公示结果), public: no sign-in, shown once published when publicity closes; the
objections are counted, never named."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from api.security import Services

router = APIRouter(tags=["public"])


@router.get("/calls/{call_id}/publicity-result")
def publicity_result(call_id: str, service: Services) -> dict[str, Any]:
    """Objections filed and how they ended, the reserves promoted, the final funded list; 404 until published."""
    r = service.publicity_result(call_id)
    return {"call": r.call_id, "phase": r.phase, "published_at": r.published_at.isoformat(),
            "objections": {"filed": r.objections, "upheld": r.upheld, "dismissed": r.dismissed, "pending": r.pending},
            "promoted": [asdict(x) for x in r.promoted], "funded": [asdict(x) for x in r.funded]}
