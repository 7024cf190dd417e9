"""What the API answers, built from the library's results (no web framework in here).

Every public answer goes through :func:`vdto.publication.disclosure.check_public`: the rule of
the public scorecard (no sensitive field, nor its plural, anywhere) applies to each of them, and
an answer that breaks it is refused rather than served.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from vdto.publication.disclosure import SensitiveFieldError, check_public
from vdto.render.jsonout import records as _records
from vdto.render.jsonout import utc_stamp
from vdto.store import Round, Store

__all__ = ["SensitiveFieldError", "check_public", "published_scorecard", "records", "round_view", "stamp"]


#: A date or time as the API writes it (see :func:`vdto.render.jsonout.utc_stamp`).
stamp = utc_stamp


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready rows (NaN as null, dates as ISO text, times in UTC)."""
    return _records(frame, utc=True)


def round_view(
    store: Store, rnd: Round, *, evidence: bool = False, signed_by: list[str] | None = None
) -> dict[str, Any]:
    """A round as the API shows it."""
    return {
        "round_id": rnd.round_id,
        "status": rnd.status,
        "window_from": rnd.window_from.isoformat(),
        "window_to": rnd.window_to.isoformat(),
        "agencies": list(rnd.agencies),
        "require_agreement": rnd.require_agreement,
        "target": rnd.target,
        "decision": rnd.decision,
        "opened_at": stamp(rnd.opened_at),
        "announced_at": stamp(rnd.announced_at),
        "closed_at": stamp(rnd.closed_at),
        "outcome": rnd.outcome,
        "reason": rnd.reason,
        "ledger_hash": rnd.ledger_hash,
        "dissents": [str(d) for d in store.rounds.dissents(rnd.round_id)["detail"]],
        "evidence": rnd.evidence if evidence else None,
        "signed_by": signed_by,
    }


def published_scorecard(store: Store, round_id: int | None, agency: str | None) -> dict[str, Any]:
    """A published round's scorecard for one agency (the lead by default; the latest round by default)."""
    rnd = store.rounds.get(round_id, published_only=True)
    if rnd is None:
        if round_id is None:
            raise LookupError("nothing is published yet (no round has been announced)")
        raise LookupError(f"round {round_id} is not published")
    who = agency or rnd.lead
    if who not in rnd.evidence:
        raise LookupError(
            f"agency {who!r} did not take part in round {rnd.round_id} (agencies: {', '.join(rnd.agencies)})"
        )
    return {"round": round_view(store, rnd), "agency": who, "scorecard": rnd.evidence[who]}
