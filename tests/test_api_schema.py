"""schemathesis against the API's OpenAPI document: no server error, every answer as documented.

Runs in process (ASGI, no network) over a store with published data. Each operation is called
with a token of the role it needs, for agency ``mx``; generated agency names that are valid are
replaced by ``mx`` so the agency's own space is exercised as well as the refusals. Bounded:
a handful of examples per operation.
"""

from __future__ import annotations

import re
import warnings
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from vdto.access.tokens import create_token
from vdto.api import simulations
from vdto.api.app import create_app
from vdto.publication.keys import Signer, new_keypair
from vdto.publication.rounds import announce_round, open_round
from vdto.store import Store

from .test_api import MX_DATA, US_DATA, agency_csv, load

warnings.filterwarnings("ignore", message=".*httpx2.*")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
AGENCY = re.compile(r"^[a-z0-9_-]{1,32}$")
EXAMPLES = 10  # per operation and mode


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schema")
    db = folder / "s.duckdb"
    load(db, *agency_csv(folder, "mx", MX_DATA), "mx")
    load(db, *agency_csv(folder, "us", US_DATA), "us")
    keys = folder / "keys"
    signers = [Signer.load(new_keypair(a, keys)[0]) for a in ("mx", "us")]
    ledger = folder / "ledger.jsonl"
    with Store(db) as store:
        rnd = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], draws=100)
        announce_round(store, rnd.round_id, ledger, signers)
        tokens = {role: create_token(store, "mx", role)[0] for role in ("analyst", "publisher", "admin")}
    app = create_app(db, ledger=ledger, public_keys=keys, max_upload_mb=1)
    # generated launches are answered 429 (a documented answer) instead of running real simulations
    simulations.jobs_for(app).active = 0
    return app, tokens


def _role(path: str) -> str:
    if path.endswith(("/tokens", "/tokens/{token_id}", "/audit")):
        return "admin"
    if path.endswith(("/announce", "/close", "/signing-request", "/signatures")):
        return "publisher"
    return "analyst"


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"]
)
def test_api_answers_as_documented(served, mode):
    app, tokens = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
            derandomize=True,
        )  # fmt: skip
        def check(case) -> None:
            agency = case.path_parameters.get("agency") if case.path_parameters else None
            if isinstance(agency, str) and AGENCY.match(agency):
                case.path_parameters["agency"] = "mx"
            case.call_and_validate(
                headers={"Authorization": f"Bearer {tokens[_role(case.operation.path)]}"}, checks=CHECKS
            )

        try:
            check()
        except Unsatisfiable:  # nothing to make invalid (no parameter, no body)
            assert mode == GenerationMode.NEGATIVE
