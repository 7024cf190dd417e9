"""The claims ledger: the measure of each claim, and the script that writes docs/claims.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vdto.sim.claims import claims, verdict
from vdto.sim.params import Scenario, load_scenario
from vdto.sim.world import grid_world

from .conftest import write_posterior

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("share", "word"), [(1.0, "supports"), (0.9, "supports"), (0.7, "most runs but not all"),
                                              (0.3, "does not support"), (0.05, "contradicts")])  # fmt: skip
def test_the_verdict_follows_the_share(share, word):
    assert word in verdict(share)


def test_claims_on_a_small_world_are_shares_with_effects_and_sentences():
    sc = Scenario.model_validate({"run": {"months": 30, "replicates": 6, "seed": 2}})
    t = claims(grid_world(6, 6, 3), sc, workers=1)
    assert len(t) == 6
    assert t["holds"].between(0, 1).all()
    assert (t["effect_lo90"] <= t["effect_median"]).all() and (t["effect_median"] <= t["effect_hi90"]).all()
    assert all(s.startswith("The model ") for s in t["sentence"])
    # paired runs on keyed draws: the same seed gives the same ledger
    pd.testing.assert_frame_equal(t, claims(grid_world(6, 6, 3), sc, workers=1))


def test_claims_over_draws_share_the_replicates_among_parameter_sets():
    sc = Scenario.model_validate({"run": {"months": 24, "replicates": 6, "seed": 2}})
    draws = [{"violence.attack_rate": 0.03}, {"violence.attack_rate": 0.12}]
    t = claims(grid_world(6, 6, 3), sc, workers=1, draws=draws)
    assert len(t) == 6 and np.isfinite(t["effect_median"]).all()


@pytest.mark.slow
def test_the_claims_script_writes_the_ledger_from_a_posterior(tmp_path):
    sc = load_scenario("default")
    write_posterior(tmp_path / "p.parquet")
    out = tmp_path / "claims.md"
    res = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "claims_figures.py"), str(tmp_path / "p.parquet"), str(out),
         "--draws", "2", "--replicates", "4", "--months", "20", "--workers", "1"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    assert text.count("- The model ") == 6
    for heading in (
        "## Over the posterior",
        "## With the default (uncalibrated) parameters",
        "four channels",
    ):
        assert heading in text
    assert "scenario sha256:" + sc.sha256()[:12] in text
