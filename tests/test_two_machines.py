"""Two agencies on two machines: each signs with its own key in its own process, and neither
process can read the other's private key; the coordinator that assembles holds no key at all."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from vdto.events import ucdp
from vdto.events.ingest import import_events
from vdto.publication.keys import load_trusted, new_keypair
from vdto.publication.ledger import Ledger, verify
from vdto.publication.rounds import announce_signed, announcement_request, get_round, open_round
from vdto.store import Store

EXAMPLES = Path(__file__).parents[1] / "examples"

#: Runs the vdto command line in a process that cannot open anything under the folder given
#: first: an audit hook refuses every open() there (the other agency's machine).
MACHINE = """
import os, sys
other = os.path.realpath(sys.argv[1])
def guard(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path == other or path.startswith(other + os.sep):
            raise PermissionError(13, "not this agency's machine", path)
sys.addaudithook(guard)
if sys.argv[2] == "--peek":
    try:
        open(sys.argv[3], "rb").read()
    except PermissionError:
        sys.exit(13)
    sys.exit(0)
from vdto.cli.app import main
sys.argv = ["vdto", *sys.argv[2:]]
main()
"""


def on_machine(home: Path, other: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``vdto ARGS`` as the agency whose machine is ``home``, unable to read ``other``."""
    return subprocess.run(
        [sys.executable, "-c", MACHINE, str(other), *args],
        cwd=home, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-machines")
    machines = {a: root / f"machine-{a}" for a in ("mx", "us")}
    for agency, home in machines.items():
        new_keypair(agency, home / "keys")
    coordinator = root / "coordinator"
    (coordinator / "pubs").mkdir(parents=True)
    for agency, home in machines.items():
        (coordinator / "pubs" / f"{agency}.pub").write_bytes((home / "keys" / f"{agency}.pub").read_bytes())
    db = coordinator / "store.duckdb"
    for agency in machines:
        import_events(db, "ucdp", EXAMPLES / f"{agency}-events.csv.gz", ucdp.parse, agency=agency)
    with Store(db) as store:
        rnd = open_round(store, date(2021, 1, 1), date(2021, 12, 31), ["mx", "us"], draws=300)
    return root, machines, coordinator, db, rnd.round_id


def sign_on_each_machine(machines: dict[str, Path], request: dict, name: str) -> list[dict]:
    signatures = []
    for agency, home in machines.items():
        other = next(h for a, h in machines.items() if a != agency)
        (home / name).write_text(json.dumps(request), encoding="utf-8")  # the request travels
        res = on_machine(home, other, "sign", name, "--key", f"keys/{agency}.key", "--out", "mine.sig.json")
        assert res.returncode == 0, res.stderr
        sig = json.loads((home / "mine.sig.json").read_text(encoding="utf-8"))
        assert "PRIVATE" not in json.dumps(sig) and sig["agency"] == agency
        signatures.append(sig)  # the signature travels back; the key stays
    return signatures


@pytest.mark.slow
def test_neither_machine_can_read_the_other_key(setting):
    _, machines, _, _, _ = setting
    own = on_machine(machines["mx"], machines["us"], "--peek", str(machines["mx"] / "keys" / "mx.key"))
    other = on_machine(machines["mx"], machines["us"], "--peek", str(machines["us"] / "keys" / "us.key"))
    assert (own.returncode, other.returncode) == (0, 13)
    # and the mx machine cannot sign as us: the key file cannot even be opened there
    res = on_machine(
        machines["mx"], machines["us"], "sign", "x.json", "--key", str(machines["us"] / "keys" / "us.key")
    )
    assert res.returncode != 0 and "Traceback" not in res.stderr


@pytest.mark.slow
def test_the_announcement_is_signed_on_two_machines_and_verifies(setting):
    _, machines, coordinator, db, round_id = setting
    ledger = coordinator / "ledger.jsonl"
    pubs = load_trusted([coordinator / "pubs"])
    with Store(db) as store:
        rule = announcement_request(store, round_id, ledger, pubs)
        assert rule["entry"]["kind"] == "rule"
        announce_signed(store, round_id, ledger, rule, sign_on_each_machine(machines, rule, "rule.json"))
        request = announcement_request(store, round_id, ledger)
        assert request["entry"]["kind"] == "announcement" and request["entry"]["quorum"] == ["mx", "us"]
        signatures = sign_on_each_machine(machines, request, "announce.json")
        # one machine's signature alone is refused, and nothing is appended
        before = ledger.read_bytes()
        with pytest.raises(Exception, match="no signature by 'us'"):
            announce_signed(store, round_id, ledger, request, signatures[:1])
        assert ledger.read_bytes() == before
        rnd = announce_signed(store, round_id, ledger, request, signatures)
        assert get_round(store, round_id).announced_at is not None and rnd.target == "cjng"
    report = verify(ledger, trusted=pubs)
    assert report.ok, report.problem
    assert (report.entries, report.checkpoint_size) == (2, 2)
    last = Ledger(ledger).entries()[-1]
    assert sorted(s["agency"] for s in last["signatures"]) == ["mx", "us"]
    # the coordinator never held a private key
    assert not [p for p in coordinator.rglob("*.key")]
