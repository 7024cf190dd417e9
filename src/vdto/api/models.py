"""Request and response bodies of the API (they make up its OpenAPI schema)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vdto.names import AGENCY_PATTERN
from vdto.store.audit import AuditEntry as StoredAuditEntry
from vdto.store.tokens import TokenInfo as StoredTokenInfo

AgencyName = Annotated[str, Field(pattern=AGENCY_PATTERN)]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Hex128 = Annotated[str, Field(pattern=r"^[0-9a-f]{128}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Problem(BaseModel):
    """One bad cell of an uploaded file (rows count the header as row 1)."""

    row: int
    column: int
    column_name: str
    value: str
    problem: str
    fix: str


class Error(BaseModel):
    """Every error: one line saying what is wrong and how to fix it."""

    detail: str
    problems: list[Problem] | None = Field(None, description="Row problems of a rejected upload (first 100).")


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Me(BaseModel):
    """The caller, as its token says."""

    token_id: str
    agency: str
    role: str
    label: str


#: A token as listed (the store's own declaration of it).
TokenInfo = StoredTokenInfo


class TokenCreate(_In):
    role: Literal["analyst", "publisher", "admin"]
    label: str = Field("", max_length=200, description="Whose token this is.")
    days: int = Field(90, ge=1, le=366, description="How many days the token works (rotate it before then).")


class TokenCreated(BaseModel):
    token: str = Field(description="The bearer token. Shown this once: only a salted hash is stored.")
    info: TokenInfo


#: One row of the audit log (the store's own declaration of it).
AuditEntry = StoredAuditEntry


class ImportRecord(BaseModel):
    """One import into an agency's space."""

    import_id: int
    agency: str
    kind: str
    source: str | None
    file_name: str
    sha256: str
    mapping_sha256: str | None
    rows_read: int | None
    rows_imported: int | None
    rows_duplicate: int | None
    rows_rejected: int | None
    rows_skipped: int | None
    rows_revised: int | None = Field(
        None, description="Stored events replaced by a newer version (kept in history)."
    )
    rows_retired: int | None = Field(None, description="Stored events the source deleted (kept in history).")
    started_at: str | None = None
    finished_at: str | None = None
    vdto_version: str | None = None


class ImportResult(BaseModel):
    """What an upload did: the stored import record and what the agency should know."""

    record: ImportRecord
    unresolved: dict[str, int] = Field(description="Perpetrator names not in the registry (events).")
    skipped: dict[str, int]
    adjusted: dict[str, int]
    problems: list[Problem] = Field(description="Rejected rows (with skip_bad_rows), first 100.")
    problems_total: int


class ScoreRequest(_In):
    from_: date | None = Field(None, alias="from", description="First day (default: the rubric's window).")
    to: date | None = Field(None, description="Last day (default: the last event in the store).")
    draws: int = Field(2000, ge=1, le=10000)
    seed: int = Field(7, ge=0, le=2**32 - 1)
    state: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="Score the store as it was after this import (default: as it is now).",
    )


class RoundOpen(_In):
    from_: date = Field(alias="from")
    to: date
    agencies: list[AgencyName] = Field(
        min_length=1, max_length=8, description="The agencies; the first leads."
    )
    require_agreement: bool = True
    draws: int = Field(2000, ge=1, le=10000)
    seed: int = Field(7, ge=0, le=2**32 - 1)

    @field_validator("agencies")
    @classmethod
    def _distinct(cls, agencies: list[str]) -> list[str]:
        if len(set(agencies)) != len(agencies):
            raise ValueError("an agency is named twice")
        return agencies


class RoundClose(_In):
    outcome: Literal["dismantled", "withdrawn"]
    reason: str = Field("", max_length=1000)
    on: date | None = Field(None, description="Date of the outcome (default: today).")


class Round(BaseModel):
    """A round of the strategy."""

    round_id: int
    status: str
    window_from: str
    window_to: str
    agencies: list[str]
    require_agreement: bool
    target: str | None
    decision: dict[str, Any]
    opened_at: str | None
    announced_at: str | None
    closed_at: str | None
    outcome: str | None
    reason: str | None
    ledger_hash: str | None
    dissents: list[str]
    evidence: dict[str, Any] | None = Field(None, description="Each agency's public scorecard.")
    signed_by: list[str] | None = Field(None, description="Agencies whose publishers signed (agency view).")


class SignResult(BaseModel):
    """A publisher's signature of a round's announcement."""

    round: Round
    signed_by: list[str]
    waiting_for: list[str]
    announced: bool


class RequestSigner(BaseModel):
    """One agency (and key) a signing request asks to sign, and what: the entry, the checkpoint."""

    agency: str
    key: str
    entry: bool
    checkpoint: bool


class SigningRequest(BaseModel):
    """A ledger signing request: exactly the file ``vdto sign REQUEST --key AGENCY.key`` signs
    (docs/ledger.md). Save it as it comes; its ``sha256`` names it."""

    vdto_request: Literal[1]
    origin: str = Field(description="The ledger's origin line (its checkpoints name it).")
    entry: dict[str, Any] | None = Field(description="The entry to append, without signatures and hash.")
    checkpoint: str = Field(description="The body of the checkpoint of the tree that ends with the entry.")
    signers: list[RequestSigner]
    summary: str = Field(description="What signing it publishes, in plain words.")
    sha256: str


class SignatureFile(_In):
    """A detached signature of a signing request, as ``vdto sign`` writes it (public data only)."""

    vdto_signature: Literal[1]
    request_sha256: Hex64
    agency: AgencyName
    key: Hex64 = Field(description="The agency's public key (hex) that made the signatures.")
    entry_sig: Hex128 | None = Field(description="Ed25519 over the entry's signed bytes.")
    checkpoint_sig: Hex128 | None = Field(description="Ed25519 over the checkpoint body.")


class AppendedEntry(BaseModel):
    seq: int
    kind: str
    hash: str


class SignatureResult(BaseModel):
    """Where a signing request stands after one agency's signature was accepted."""

    round: Round
    purpose: Literal["announce", "close"]
    request_sha256: str
    signed_by: list[str]
    waiting_for: list[str]
    appended: AppendedEntry | None = Field(
        None, description="The ledger entry appended when this signature completed the request."
    )
    next: str = Field(description="What happens next, in one line.")


class Ledger(BaseModel):
    total: int
    offset: int
    limit: int
    entries: list[dict[str, Any]]


class LedgerCheck(BaseModel):
    ok: bool
    entries: int
    first_bad: int | None
    problem: str
    last_hash: str | None
    agencies: dict[str, str]
    pinned: bool = Field(description="Checked against the agencies' public keys held by the server.")


class ProofItem(BaseModel):
    seq: int
    line: str = Field(description="The entry's ledger line, exactly.")
    inclusion: list[str] = Field(description="The RFC 9162 inclusion proof, hashes in hex.")


class InclusionProof(BaseModel):
    """A proof bundle (``vdto ledger prove``): check it with ``vdto verify proof.json``."""

    vdto_proof: Literal[1]
    origin: str
    checkpoint: str = Field(description="The signed checkpoint (note) the proofs lead to.")
    size: int
    entries: list[ProofItem]
    keys: list[ProofItem] = Field(description="The rule entry and every key change up to the checkpoint.")


class ConsistencyProof(BaseModel):
    """An RFC 9162 consistency proof between two tree sizes (``vdto ledger consistency``)."""

    vdto_consistency: Literal[1]
    origin: str
    old_size: int
    new_size: int
    proof: list[str]


class CosignedNote(_In):
    note: str = Field(
        max_length=256 * 1024, description="The checkpoint as the witness cosigned it (signed note)."
    )


class CosignatureResult(BaseModel):
    size: int = Field(description="The tree size of the checkpoint cosigned.")
    witnesses: list[str] = Field(description="The witnesses whose cosignatures were added.")
    checkpoint: str = Field(description="The checkpoint as the ledger now keeps it.")


class RubricOut(BaseModel):
    name: str
    version: int
    sha256: str
    origin: str = Field(description="Where it comes from: the latest announced round or the shipped default.")
    rubric: dict[str, Any]


class RegionRow(BaseModel):
    rank: int
    region_code: str
    name: str | None
    events: int | None
    event_deaths: float | None
    counted: int
    score: float | None
    per100k: float | None
    top_org: str | None
    top_org_share: float | None


class Regions(BaseModel):
    meta: dict[str, Any]
    min_count: int
    regions: list[RegionRow]


class PublishedScorecard(BaseModel):
    round: Round
    agency: str
    scorecard: dict[str, Any]
