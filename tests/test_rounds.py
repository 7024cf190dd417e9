"""Rounds, two rankers and their comparison, on small hand-made data and end to end on real data."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from vdto.errors import VdtoError
from vdto.events import generic
from vdto.events.ingest import import_events
from vdto.publication.agreement import compare
from vdto.publication.keys import Signer, new_keypair
from vdto.publication.ledger import verify
from vdto.publication.rounds import (
    announce_round,
    close_round,
    dissents,
    get_round,
    list_rounds,
    monitor,
    open_round,
)
from vdto.store import Store

from .conftest import run_here

MAPPING = """
source = "{source}"
default_category = "homicide"
[columns]
source_id = "id"
date = "date"
deaths = "deaths"
perpetrator = "group"
[victims]
civilian = "deaths"
"""


def agency_file(tmp_path, agency: str, rows: list[tuple[str, str, int, str]]) -> None:
    """Import (id, date, deaths, group) rows as one agency's data."""
    csv = tmp_path / f"{agency}.csv"
    pd.DataFrame(rows, columns=["id", "date", "deaths", "group"]).to_csv(csv, index=False)
    mp = tmp_path / f"{agency}.toml"
    mp.write_text(MAPPING.format(source=f"fiscalia-{agency}"))
    spec, digest = generic.load_mapping(mp)
    import_events(
        tmp_path / "s.duckdb",
        "csv",
        csv,
        generic.parse,
        mapping=spec,
        mapping_sha256=digest,
        agency=agency,
    )


def many(prefix: str, group: str, n: int, deaths: int = 1, day: str = "2020-11-15") -> list[tuple]:
    return [(f"{prefix}{i}", day, deaths, group) for i in range(n)]


@pytest.fixture
def keys(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    return {a: Signer.load(new_keypair(a, folder)[0]) for a in ("mx", "us")}


def test_agreement_names_the_target_and_dissent_blocks_it(tmp_path):
    agency_file(tmp_path, "mx", many("a", "CJNG", 20) + many("b", "Cártel de Sinaloa", 5))
    agency_file(tmp_path, "us", many("a", "CJNG", 5) + many("b", "Cártel de Sinaloa", 20))
    with Store(tmp_path / "s.duckdb") as store:
        assert store.agencies() == ["mx", "us"]
        rnd = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], draws=200)
        assert rnd.target is None and "do not agree" in rnd.decision["reason"]
        assert rnd.decision["per_agency"]["mx"]["target"] == "cjng"
        assert rnd.decision["per_agency"]["us"]["target"] == "sinaloa"
        assert set(dissents(store, rnd.round_id)["agency"]) == {"mx", "us"}
        with pytest.raises(VdtoError, match="no target to announce"):
            announce_round(store, rnd.round_id, tmp_path / "ledger.jsonl", [])
        with pytest.raises(VdtoError, match="still open"):
            open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx"])
        with pytest.raises(VdtoError, match="needs a reason"):
            close_round(store, rnd.round_id, "withdrawn")
        close_round(store, rnd.round_id, "withdrawn", "rankers disagree")
        # one agency cannot make its own decision stand for a round it shares with another
        with pytest.raises(VdtoError, match="only when they agree"):
            open_round(
                store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], require_agreement=False, draws=200
            )
        solo = open_round(
            store, date(2020, 1, 1), date(2020, 12, 31), ["mx"], require_agreement=False, draws=200
        )
        assert solo.target == "cjng"
        assert list_rounds(store)["status"].tolist() == ["closed", "open"]


def test_announce_close_and_next_round(tmp_path, keys):
    agency_file(
        tmp_path,
        "mx",
        many("a", "CJNG", 30) + many("b", "Cártel de Sinaloa", 12) + many("c", "Cártel del Golfo", 2),
    )
    agency_file(
        tmp_path,
        "us",
        many("a", "CJNG", 28) + many("b", "Cártel de Sinaloa", 11) + many("c", "Cártel del Golfo", 2),
    )
    ledger = tmp_path / "ledger.jsonl"
    with Store(tmp_path / "s.duckdb") as store:
        first = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], draws=200)
        assert first.target == "cjng"
        with pytest.raises(VdtoError, match="no key for agency 'us'"):
            announce_round(store, first.round_id, ledger, [keys["mx"]])
        assert not ledger.exists()
        announced = announce_round(store, first.round_id, ledger, [keys["mx"], keys["us"]])
        assert announced.status == "announced" and announced.ledger_hash
        close_round(store, first.round_id, "dismantled", ledger_path=ledger, signers=[keys["mx"], keys["us"]])
        second = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], draws=200)
        assert second.target == "sinaloa"
        # the dismantled organization is listed apart in the evidence, not ranked
        card = second.evidence["mx"]
        assert "cjng" not in [r["org"] for r in card["ranking"]]
        assert [r["org"] for r in card["dismantled"]] == ["cjng"]
    report = verify(ledger, {a: k.public_hex for a, k in keys.items()})
    assert report.ok and report.entries == 3
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [e["kind"] for e in entries] == ["rule", "announcement", "round-close"]
    assert entries[0]["payload"]["agencies"] == {a: k.public_hex for a, k in keys.items()}
    assert {s["agency"] for s in entries[1]["signatures"]} == {"mx", "us"}  # co-signed
    assert entries[1]["payload"]["target"] == "cjng"


def test_monitor_compares_after_with_before(tmp_path, keys):
    # announced "today" in the store's terms: events before and after a date
    rows = many("a", "CJNG", 10, day="2020-06-10") + many("b", "CJNG", 4, day="2020-07-10")
    agency_file(tmp_path, "mx", rows + many("c", "Cártel de Sinaloa", 3, day="2020-06-10"))
    with Store(tmp_path / "s.duckdb") as store:
        rnd = open_round(store, date(2020, 1, 1), date(2020, 6, 30), ["mx"], draws=100)
        announce_round(store, rnd.round_id, tmp_path / "l.jsonl", [keys["mx"]])
        store.con.execute("UPDATE rounds SET announced_at = TIMESTAMP '2020-07-01 00:00:00'")
        watch = monitor(store, rnd.round_id, as_of=date(2020, 7, 31))
    cjng = watch[watch["org"] == "cjng"].iloc[0]
    # 31 days after (July) against the 31 days before (June): 4 against 10 killings of civilians
    assert (cjng["score_before"], cjng["score_after"]) == (20.0, 8.0)
    assert cjng["change"] == pytest.approx(-0.6) and cjng["target"]
    sinaloa = watch[watch["org"] == "sinaloa"].iloc[0]
    assert (sinaloa["score_before"], sinaloa["score_after"]) == (6.0, 0.0)


def test_compare_reports_tau_and_the_events_behind_differences(tmp_path):
    shared = many("s", "CJNG", 10) + many("t", "Cártel de Sinaloa", 6) + many("u", "Cártel del Golfo", 3)
    agency_file(tmp_path, "mx", [*shared, *many("x", "Cártel del Golfo", 5)])  # mx also knows 5 Gulf killings
    agency_file(tmp_path, "us", shared)
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        c = compare(store, "mx", "us", date(2020, 1, 1), date(2020, 12, 31), draws=200)
    # before decay mx: cjng 20, gulf 16, sinaloa 12; us: cjng 20, sinaloa 12, gulf 6: one discordant pair of three
    assert c.table["org"].tolist() == ["cjng", "gulf", "sinaloa"]
    assert c.tau == pytest.approx(1 / 3)
    assert c.top1_agree and c.targets == ("cjng", "cjng")
    gulf = c.drivers[c.drivers["org"] == "gulf"]
    assert len(gulf) == 5 and (gulf["why"] == "only in mx's data").all()
    # five Gulf killings of a civilian (2.0 points each) on 15 November, 46 days before the end: decayed
    assert gulf["difference"].sum() == pytest.approx(10.0 * 0.5 ** (46 / 180))


@pytest.mark.slow
def test_two_agencies_end_to_end_on_real_data(tmp_path, ucdp_file):
    """Halves of the real UCDP file: compare, open, announce, close as dismantled, next round."""
    raw = pd.read_csv(ucdp_file, dtype=str, keep_default_na=False)
    raw.iloc[0::2].to_csv(tmp_path / "mx.csv", index=False)
    raw.iloc[1::2].to_csv(tmp_path / "us.csv", index=False)
    db, ledger, kdir = str(tmp_path / "s.duckdb"), str(tmp_path / "ledger.jsonl"), str(tmp_path / "keys")

    def ok(*args):
        res = (
            run_here(*args, "--db", db) if args[0] not in ("keys", "verify", "recompute") else run_here(*args)
        )
        assert res.returncode == 0, res.stderr
        return res

    ok("import", "ucdp", str(tmp_path / "mx.csv"), "--agency", "mx", "-q")
    ok("import", "ucdp", str(tmp_path / "us.csv"), "--agency", "us", "-q")
    window = ("--from", "2021", "--to", "2021", "--draws", "400")
    cmp = json.loads(ok("rankings", "compare", "mx", "us", *window, "-f", "json").stdout)
    assert cmp["top1_agree"] and cmp["kendall_tau"] > 0.7
    ok("keys", "new", "mx", "--dir", kdir)
    ok("keys", "new", "us", "--dir", kdir)
    assert "PRIVATE" not in ok("keys", "new", "third", "--dir", kdir).stdout
    ok("round", "open", *window, "--agencies", "mx,us")
    keys = ("--key", f"{kdir}/mx.key", "--key", f"{kdir}/us.key")
    ok("round", "announce", "1", "--ledger", ledger, *keys)
    ok("round", "close", "1", "--dismantled", "--ledger", ledger, *keys)
    second = ok("round", "open", *window, "--agencies", "mx,us").stdout
    assert "decision: sinaloa" in second
    ok("round", "announce", "2", "--ledger", ledger, *keys)
    with Store(db, read_only=True) as store:
        assert [get_round(store, i).target for i in (1, 2)] == ["cjng", "sinaloa"]
    res = ok("verify", ledger, "--trust", f"{kdir}/mx.pub", "--trust", f"{kdir}/us.pub")
    assert "OK, 4 entries" in res.stdout
    # signed with a key the rule did not declare: caught, with the entry's position
    res = run_here(
        "round",
        "close",
        "2",
        "--withdrawn",
        "--reason",
        "test",
        "--ledger",
        ledger,
        "--key",
        f"{kdir}/third.key",
        "--db",
        db,
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    # one changed byte in the published ledger: `vdto verify` fails and names the entry
    lines = (tmp_path / "ledger.jsonl").read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"target":"cjng"', b'"target":"cjnG"', 1)
    (tmp_path / "tampered.jsonl").write_bytes(b"\n".join(lines))
    res = run_here("verify", str(tmp_path / "tampered.jsonl"))
    assert res.returncode == 1 and "entry 2" in res.stderr
    # the public scorecard of round 2, signed into the ledger, recomputed from what it publishes
    for extra in ("third.key", "third.pub"):
        (tmp_path / "keys" / extra).unlink()
    site = tmp_path / "site"
    ok("publish", str(site), "--round", "2", "--ledger", ledger, *keys, "--keys", kdir, "--draws", "500")
    assert "OK, 5 entries" in ok("verify", str(site / "ledger.jsonl"), "--trust", kdir).stdout
    assert ok("recompute", str(site)).stdout.startswith("ok:")
    card = json.loads((site / "scorecard.json").read_text())
    assert card["round"]["id"] == 2 and card["ranking"][0]["org"] == "sinaloa"
    assert [d["org"] for d in card["dismantled"]] == ["cjng"]
    published = site.rglob("*")
    text = b"".join(p.read_bytes() for p in published if p.is_file())
    assert b"ucdp-ged" not in text and b"ged_mexico" not in text
