"""Resource limits (issue: hardening, item 5): a small compressed upload cannot expand without
bound in the server, and anonymous clients asking for ever new answers cannot push the public
scorecard out of the cache."""

from __future__ import annotations

import gzip

import duckdb
from fastapi.testclient import TestClient

from vdto.access.tokens import create_token
from vdto.api.access import Cache
from vdto.api.app import create_app
from vdto.store import Store


def test_a_gzip_bomb_upload_is_refused_while_it_is_read(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        token = create_token(store, "mx", "analyst")[0]
    header = b"id,date_start,date_end\n"
    bomb = gzip.compress(header + b"0" * (24 << 20), compresslevel=9)  # 24 MiB of text in about 24 KB
    assert len(bomb) < 100_000
    client = TestClient(create_app(db, max_upload_mb=2))
    res = client.post("/agencies/mx/imports/ucdp", headers={"Authorization": f"Bearer {token}"},
                      files={"file": ("ged.csv.gz", bomb, "application/gzip")})  # fmt: skip
    assert res.status_code in (400, 422), res.text
    assert "expands to more than 2 MiB" in res.json()["detail"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_new_keys_do_not_evict_what_is_read_often():
    cache = Cache(size=8)
    cache.put("scorecard", 1, "card")
    for i in range(100):  # a client asking for a new answer each time
        cache.put(("regions", i), 1, i)
        assert cache.get("scorecard", 1) == "card"  # the public scorecard, read in between, stays
    assert cache.get(("regions", 0), 1) is None  # the oldest of the new keys went


def test_unknown_query_parameters_do_not_make_new_cache_entries(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(db):
        pass
    app = create_app(db)
    client = TestClient(app)
    for i in range(20):
        client.get(f"/public/regions?from=2020-01-{i + 1:02d}")
    keys = list(app.state.vdto.cache._values)
    assert sum(1 for k in keys if isinstance(k, tuple) and k[0] == "regions") <= 1
