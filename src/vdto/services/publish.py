"""Publishing the public scorecard: score, build the card, sign it into the ledger, write the site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from vdto.errors import VdtoError
from vdto.publication.keys import load_trusted
from vdto.publication.ledger import Ledger
from vdto.publication.rounds import get_round
from vdto.publication.scorecard import build_scorecard, public_aggregates, public_round, yearly_trend
from vdto.publication.site import write_site
from vdto.publication.sitecheck import attach_ledger, site_payload
from vdto.scoring import Rubric, ScoreResult, load_rubric, score
from vdto.scoring.engine import DEFAULT_DRAWS, DEFAULT_SEED
from vdto.store import Store

#: Years of trend the scorecard shows for its leading organizations.
TREND_YEARS = 8


@dataclass
class Scorecard:
    """A scorecard ready to publish: the card, its public aggregates and the scores behind them."""

    card: dict
    aggregates: pd.DataFrame
    result: ScoreResult


def build_public_scorecard(
    store: Store,
    *,
    round_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    agency: str | None = None,
    rubric: str | Path | None = None,
    min_count: int = 3,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    state: int | None = None,
) -> Scorecard:
    """The public scorecard of a round (its window, its lead agency or ``agency``, the rubric the
    round's evidence used unless ``rubric`` is given, organizations dismantled before it listed
    apart) or of a window ``[start, end]``; of the store as it was after import ``state`` when
    given (the card's meta records the state it used, ``store_state``)."""
    if min_count < 1:
        raise VdtoError(
            f"min_count must be at least 1 (got {min_count})", fix="use e.g. 3", param="min_count"
        )
    extra = {}
    if round_id is not None:
        rnd = get_round(store, round_id)
        start, end, agency = rnd.window_from, rnd.window_to, agency or rnd.lead
        if agency not in rnd.evidence:
            raise VdtoError(
                f"agency {agency!r} did not take part in round {round_id}",
                fix=f"use one of: {', '.join(rnd.agencies)}",
                param="agency",
            )
        rub = load_rubric(rubric) if rubric else Rubric.model_validate(rnd.evidence[agency]["rubric"])
        extra["round"] = public_round(store, rnd)
    else:
        rub = load_rubric(rubric)
    gone = store.rounds.dismantled_before(round_id) if round_id is not None else frozenset()
    res = score(
        store, start, end, rubric=rub, draws=draws, seed=seed, agency=agency, dismantled=gone, state=state
    )
    end_year = int(str(res.meta["to"])[:4])
    orgs = list(res.table["org"][:6])
    trend = yearly_trend(
        store,
        orgs,
        end_year,
        TREND_YEARS,
        rubric=rub,
        agency=res.meta["agency"],
        state=res.meta["store_state"],
    )
    card = build_scorecard(res, trend=trend, min_count=min_count, extra=extra or None)
    return Scorecard(card, public_aggregates(res, min_count), res)


def publish_scorecard(
    store: Store,
    out_dir: str | Path,
    *,
    ledger: str | Path | None = None,
    signers: list | None = None,
    keys_dir: str | Path | None = None,
    witnesses_dir: str | Path | None = None,
    request_out: str | Path | None = None,
    **options,
) -> list[Path]:
    """Build the scorecard (:func:`build_public_scorecard`) and write the static site to
    ``out_dir``; with a ``ledger``, sign the site's files into it and add the proofs.

    With ``signers`` (keys at hand) the ``site`` entry is appended at once; with ``request_out``
    a signing request for it is written instead (each agency signs it on its own machine with
    ``vdto sign``; :func:`finish_site` appends it and adds the proofs). Returns the files written.
    """
    sc = build_public_scorecard(store, **options)
    public = load_trusted([keys_dir]) if keys_dir else None
    files = write_site(out_dir, sc.card, sc.aggregates, public_keys=public)
    if ledger is None:
        return files
    payload = site_payload(out_dir)
    if request_out is not None:
        rnd = sc.card.get("round") or {}
        agencies = list(rnd.get("agencies") or [sc.card["meta"].get("agency")])
        request = Ledger(ledger).request("site", payload, [a for a in agencies if a])
        write_request(request_out, request)
        return [*files, Path(request_out)]
    if signers:
        Ledger(ledger).append("site", payload, signers)
    return attach_ledger(out_dir, ledger, trusted=public, witness_keys=_witness_lines(witnesses_dir))


def _witness_lines(folder: str | Path | None) -> list[str] | None:
    if folder is None:
        return None
    from vdto.publication.witness import load_witness_keys, vkey

    return [vkey(n, bytes.fromhex(k)) for n, k in sorted(load_witness_keys([folder]).items())]


def finish_site(
    out_dir: str | Path,
    ledger: str | Path,
    request: dict,
    signatures: list[dict],
    *,
    keys_dir: str | Path | None = None,
    witnesses_dir: str | Path | None = None,
) -> list[Path]:
    """Append a site's ``site`` entry from its signing request and the agencies' detached
    signatures, then add the proofs to the site; refuses if the site's files changed since the
    request was made."""
    entry = request.get("entry") if isinstance(request, dict) else None
    if not isinstance(entry, dict) or entry.get("kind") != "site":
        raise VdtoError(
            "the request is not for a site entry",
            "request",
            "pass the request `vdto publish --request` wrote",
        )
    if entry.get("payload") != site_payload(out_dir):
        raise VdtoError("the site's files changed since the request was made; nothing was appended", str(out_dir),
                        "publish again with --request and sign the new request")  # fmt: skip
    Ledger(ledger).assemble(request, signatures)
    public = load_trusted([keys_dir]) if keys_dir else None
    return attach_ledger(out_dir, ledger, trusted=public, witness_keys=_witness_lines(witnesses_dir))


def refresh_site(out_dir: str | Path, ledger: str | Path, *, keys_dir: str | Path | None = None,
                 witnesses_dir: str | Path | None = None) -> list[Path]:  # fmt: skip
    """Renew the proof files of a signed site from the ledger as it stands now (a later
    checkpoint, witnesses' cosignatures); the content files are not touched."""
    public = load_trusted([keys_dir]) if keys_dir else None
    return attach_ledger(out_dir, ledger, trusted=public, witness_keys=_witness_lines(witnesses_dir))


def write_request(path: str | Path, request: dict) -> Path:
    """Write a signing request (canonical JSON) for the agencies to sign."""
    from vdto.files import atomic_write
    from vdto.publication.ledger import canonical_json

    text = canonical_json(request) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), mode=0o644)
