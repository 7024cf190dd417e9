"""Trafficking routes: the logit assignment against hand computations on small networks,
conservation and the fixed point on the bundled network, the calibration, the Caribbean lever,
and bad input (change strings, network files, the command line)."""

from __future__ import annotations

import itertools
import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from vdto.errors import ConfigError, VdtoError
from vdto.routes.assign import assign
from vdto.routes.calibrate import BASE_YEAR, TARGETS, TOLERANCE_PP, calibrate, default_calibration
from vdto.routes.corridors import CorridorNetwork, load_corridors, routes_of
from vdto.routes.lever import (
    HOMICIDES_2007,
    HOMICIDES_2010,
    SHORTAGE_SHARE,
    VALUE_RISE,
    elasticity_draws,
    mexico_flow_factor,
    parse_change,
    shift,
)

from .conftest import assert_one_line_exit_2, run_here

# ---------------------------------------------------------------------------------------------
# small networks


def _parallel_toml(
    costs: tuple[float, float] = (100.0, 150.0),
    *,
    theta: float = 0.01,
    alpha: float = 0.0,
    capacity: float = 1.0,
    hazard: tuple[float, float] = (0.0, 0.0),
    delay: tuple[float, float] = (0.0, 0.0),
    value_at_risk: float = 0.0,
    delay_cost: float = 0.0,
    extra_links: str = "",
) -> str:
    """Two parallel routes src > a > us and src > b > us; the cost, hazard and delay sit on the
    first leg; b is a Caribbean corridor whose first leg is marked ``caribbean``."""
    return f"""
name = "two-parallel"
source = "src"
sink = "us"
dispersion = {theta!r}
value_at_risk = {value_at_risk!r}
delay_cost = {delay_cost!r}
congestion_alpha = {alpha!r}
congestion_beta = 4.0

[[node]]
id = "src"
[[node]]
id = "a"
corridor = "central_america"
mexico = true
[[node]]
id = "b"
corridor = "caribbean"
[[node]]
id = "us"
entry = true

[[link]]
from = "src"
to = "a"
cost = {costs[0]!r}
hazard = {hazard[0]!r}
delay = {delay[0]!r}
capacity = {capacity!r}
[[link]]
from = "src"
to = "b"
cost = {costs[1]!r}
hazard = {hazard[1]!r}
delay = {delay[1]!r}
capacity = {capacity!r}
caribbean = true
[[link]]
from = "a"
to = "us"
cost = 0
[[link]]
from = "b"
to = "us"
cost = 0
{extra_links}
"""


def _load(tmp_path: Path, text: str, name: str = "net.toml") -> CorridorNetwork:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_corridors(path)


def _parallel(**kw) -> CorridorNetwork:
    """The same network, validated from a dict (for hypothesis, where tmp_path does not fit)."""
    import tomllib

    return CorridorNetwork.model_validate(tomllib.loads(_parallel_toml(**kw)))


def _route_index(routes, via: str) -> int:
    return next(i for i, p in enumerate(routes.paths) if via in p)


def _logit(theta: float, cost: np.ndarray) -> np.ndarray:
    e = np.exp(-theta * (cost - cost.min()))
    return e / e.sum()


def test_two_routes_without_congestion_follow_the_logit_formula(tmp_path):
    theta, c1, c2 = 0.01, 100.0, 150.0
    r = routes_of(_load(tmp_path, _parallel_toml((c1, c2), theta=theta)))
    a = assign(r)
    i, j = _route_index(r, "a"), _route_index(r, "b")
    by_hand = math.exp(-theta * c1) / (math.exp(-theta * c1) + math.exp(-theta * c2))
    assert a.shares[i] == pytest.approx(by_hand, abs=1e-6)
    assert a.shares[j] == pytest.approx(1 - by_hand, abs=1e-6)
    assert a.route_cost[[i, j]] == pytest.approx([c1, c2], abs=1e-9)
    assert a.via_mexico == pytest.approx(by_hand, abs=1e-6)
    assert a.by_corridor()["caribbean"] == pytest.approx(1 - by_hand, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    c1=st.floats(0, 5000),
    c2=st.floats(0, 5000),
    theta=st.floats(1e-4, 3e-3),
)
def test_logit_formula_holds_for_any_costs(c1, c2, theta):
    r = routes_of(_parallel(costs=(c1, c2), theta=theta))
    a = assign(r)
    i = _route_index(r, "a")
    by_hand = 1.0 / (1.0 + math.exp(-theta * (c2 - c1)))
    assert a.shares[i] == pytest.approx(by_hand, abs=1e-6)
    assert a.shares.sum() == pytest.approx(1.0, abs=1e-12)


def test_identical_routes_with_congestion_split_evenly():
    cap = 0.4
    r = routes_of(_parallel(costs=(200.0, 200.0), theta=0.02, alpha=1.0, capacity=cap))
    a = assign(r)
    assert a.shares == pytest.approx([0.5, 0.5], abs=1e-6)
    # BPR by hand at half the flow on each first leg
    assert a.route_cost == pytest.approx([200.0 * (1 + (0.5 / cap) ** 4)] * 2, rel=1e-6)


def _wardrop_share(c1: float, c2: float, cap: float) -> float:
    """Deterministic user equilibrium of two BPR links (alpha 1, beta 4): equal costs."""
    return optimize.brentq(
        lambda x: c1 * (1 + (x / cap) ** 4) - c2 * (1 + ((1 - x) / cap) ** 4), 0.0, 1.0, xtol=1e-14
    )


def test_near_deterministic_choice_equalises_costs():
    """With theta large the logit equilibrium approaches Wardrop's: used routes cost the same."""
    theta, c1, c2, cap = 100.0, 100.0, 150.0, 0.5  # 1/theta = 0.01 USD on costs of about 250 USD
    r = routes_of(_parallel(costs=(c1, c2), theta=theta, alpha=1.0, capacity=cap))
    a = assign(r)
    i, j = _route_index(r, "a"), _route_index(r, "b")
    gap = abs(a.route_cost[i] - a.route_cost[j])
    assert gap < 1.0 / theta
    # the logit relation between the shares and the remaining cost gap
    assert math.log(a.shares[i] / a.shares[j]) == pytest.approx(
        theta * (a.route_cost[j] - a.route_cost[i]), abs=1e-4
    )
    assert a.shares[i] == pytest.approx(_wardrop_share(c1, c2, cap), abs=1e-3)
    # the free-flow cheaper route does not take everything: congestion bites
    assert 0.4 < a.shares[i] < 0.7


def test_very_large_dispersion_still_reaches_wardrop():
    theta, c1, c2, cap = 1000.0, 100.0, 150.0, 0.5
    r = routes_of(_parallel(costs=(c1, c2), theta=theta, alpha=1.0, capacity=cap))
    a = assign(r)
    assert a.shares[_route_index(r, "a")] == pytest.approx(_wardrop_share(c1, c2, cap), abs=1e-3)


def test_hazard_and_delay_add_their_cost_by_hand(tmp_path):
    theta, var, dc = 0.002, 12_000.0, 40.0
    h, d = (0.1, 0.3), (5.0, 2.0)
    text = _parallel_toml((1000.0, 800.0), theta=theta, hazard=h, delay=d, value_at_risk=var, delay_cost=dc)
    r = routes_of(_load(tmp_path, text))
    i, j = _route_index(r, "a"), _route_index(r, "b")
    for m in (1.0, 0.5, 3.0):  # Caribbean intensity scales hazard and delay of route b's first leg
        a = assign(r, caribbean_intensity=m)
        ci = 1000.0 + var * (1 - math.exp(-h[0])) + dc * d[0]
        cj = 800.0 + var * (1 - math.exp(-h[1] * m)) + dc * d[1] * m
        assert a.route_cost[[i, j]] == pytest.approx([ci, cj], rel=1e-12)
        assert a.seizure[[i, j]] == pytest.approx([1 - math.exp(-h[0]), 1 - math.exp(-h[1] * m)], rel=1e-12)
        assert a.shares[i] == pytest.approx(1 / (1 + math.exp(-theta * (cj - ci))), abs=1e-6)
        assert a.delivered == pytest.approx(a.shares[i] * math.exp(-h[0]) + a.shares[j] * math.exp(-h[1] * m))


def test_cost_multiplier_scales_a_link_cost(tmp_path):
    r = routes_of(_load(tmp_path, _parallel_toml((100.0, 150.0), theta=0.01)))
    a = assign(r, cost_multiplier={0: 2.0})  # link 0 is src > a
    assert a.route_cost[_route_index(r, "a")] == pytest.approx(200.0)
    assert a.shares[_route_index(r, "a")] == pytest.approx(1 / (1 + math.exp(-0.01 * (150 - 200))), abs=1e-6)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_assign_rejects_a_bad_intensity(bad):
    r = routes_of(_parallel())
    with pytest.raises(VdtoError) as err:
        assign(r, caribbean_intensity=bad)
    assert err.value.param == "caribbean_change"


# ---------------------------------------------------------------------------------------------
# the bundled network


@pytest.fixture(scope="module")
def cal():
    return default_calibration()


@pytest.fixture(scope="module", params=["calibrated", "raw"])
def bundled_assignment(request, cal):
    return cal.assign() if request.param == "calibrated" else assign(routes_of(load_corridors()))


def test_flow_is_conserved_at_every_node(bundled_assignment):
    a = bundled_assignment
    net = a.routes.network
    inflow = dict.fromkeys((n.id for n in net.node), 0.0)
    outflow = dict(inflow)
    for k, ln in enumerate(net.link):
        outflow[ln.source] += a.link_flow[k]
        inflow[ln.target] += a.link_flow[k]
    assert a.shares.sum() == pytest.approx(1.0, abs=1e-12)
    assert (a.shares >= 0).all()
    assert outflow[net.source] == pytest.approx(1.0, abs=1e-12)
    assert inflow[net.sink] == pytest.approx(1.0, abs=1e-12)
    assert inflow[net.source] == 0 and outflow[net.sink] == 0
    for node in inflow.keys() - {net.source, net.sink}:
        assert inflow[node] == pytest.approx(outflow[node], abs=1e-12), node
    assert a.by_corridor().sum() == pytest.approx(1.0, abs=1e-12)
    assert a.by_entry().sum() == pytest.approx(1.0, abs=1e-12)


def test_shares_are_the_logit_of_their_own_costs(bundled_assignment):
    a = bundled_assignment
    assert a.shares == pytest.approx(_logit(a.routes.network.dispersion, a.route_cost), abs=1e-6)


def test_every_route_enters_the_us_and_is_classed():
    r = routes_of(load_corridors())
    assert len(r.paths) == len(set(r.paths)) == r.incidence.shape[0]
    assert set(r.corridor) == {"eastern_pacific", "central_america", "caribbean", "direct"}
    for path, row in zip(r.paths, r.incidence, strict=True):
        assert path[0] == "andes" and path[-1] == "us_market"
        assert row.sum() == len(path) - 1


@settings(max_examples=25, deadline=None)
@given(st.floats(0.05, 10.0), st.floats(0.05, 10.0))
def test_less_caribbean_interdiction_moves_flow_out_of_mexico(cal, i1, i2):
    lo, hi = sorted((i1, i2))
    a_lo, a_hi = cal.assign(lo), cal.assign(hi)
    assert a_lo.by_corridor()["caribbean"] >= a_hi.by_corridor()["caribbean"] - 1e-6
    assert a_lo.via_mexico <= a_hi.via_mexico + 1e-6


# ---------------------------------------------------------------------------------------------
# calibration


def test_stored_calibration_reproduces_the_published_shares(cal):
    fit = cal.fit
    assert len(fit) == len(TARGETS)
    assert fit["within"].all(), fit
    assert (fit["residual_pp"].abs() <= TOLERANCE_PP).all()
    for t, row in zip(TARGETS, fit.itertuples(), strict=True):
        assert (row.year, row.measure, row.published) == (t.year, t.measure, t.share)
        assert t.low <= row.model <= t.high
    assert cal.routes.network.calibration.base_year == BASE_YEAR
    assert cal.base_intensity == cal.intensity[BASE_YEAR]


def test_calibration_is_exactly_identified():
    years = {t.year for t in TARGETS}
    assert len(years) + 1 == len(TARGETS)  # one intensity per year and one Eastern Pacific factor


@pytest.mark.slow
def test_fresh_calibration_agrees_with_the_stored_one(cal):
    fresh = calibrate(load_corridors())
    assert fresh.intensity.keys() == cal.intensity.keys()
    for year, value in cal.intensity.items():
        assert fresh.intensity[year] == pytest.approx(value, rel=1e-3), year
    assert fresh.ep_cost_factor == pytest.approx(cal.ep_cost_factor, rel=1e-3)
    assert fresh.fit["within"].all()


def test_calibration_table_round_trips_through_toml(cal, tmp_path):
    bundled = resources.files("vdto.data").joinpath("routes", "corridors.toml")
    body = bundled.read_text(encoding="utf-8").split("[calibration]")[0]
    net = _load(tmp_path, body + cal.to_toml())
    assert net.calibration is not None
    assert net.calibration.ep_cost_factor == pytest.approx(cal.ep_cost_factor, rel=1e-6)
    assert net.sha256() == cal.routes.network.sha256()


# ---------------------------------------------------------------------------------------------
# the lever


@pytest.fixture(scope="module")
def halved(cal):
    return shift(-0.5, calibration=cal, draws=2000, seed=7)


def test_same_seed_same_draws_other_seed_other_draws(cal, halved):
    again = shift(-0.5, calibration=cal, draws=2000, seed=7)
    other = shift(-0.5, calibration=cal, draws=2000, seed=8)
    assert np.array_equal(again.violence, halved.violence)
    assert not np.array_equal(other.violence, halved.violence)
    assert np.array_equal(other.after.shares, halved.after.shares)
    assert np.array_equal(other.before.shares, halved.before.shares)
    assert other.meta["seed"] == 8 and halved.meta["seed"] == 7


def test_mexico_flow_factor_is_one_at_no_change_and_falls_with_the_cut(cal, halved):
    assert mexico_flow_factor(0.0) == 1.0
    f = [mexico_flow_factor(c, cal) for c in (0.5, 0.0, -0.25, -0.5, -0.9)]
    assert all(x > y for x, y in itertools.pairwise(f)), f
    # one source of truth: the lever and the factor agree
    assert f[3] == pytest.approx(1 + halved.mexico_flow_change, rel=1e-12)


@pytest.mark.parametrize("change", [-0.9, -0.5, -0.1, 0.5])
def test_violence_moves_with_the_flow_through_mexico(cal, change):
    s = shift(change, calibration=cal, draws=500, seed=1)
    assert s.mexico_flow_change != 0
    assert (np.sign(s.violence) == np.sign(s.mexico_flow_change)).all()
    v = s.violence_summary()
    assert v["lo90"] <= v["median"] <= v["hi90"]


def test_elasticity_draws_stay_within_the_stated_ranges():
    rise = (HOMICIDES_2010 - HOMICIDES_2007) / HOMICIDES_2007
    d = elasticity_draws(5000, seed=3)
    lo, hi = SHORTAGE_SHARE[0] * rise / VALUE_RISE[1], SHORTAGE_SHARE[1] * rise / VALUE_RISE[0]
    assert lo <= d.min() and d.max() <= hi
    assert 0.19 < lo < 0.2 and 0.66 < hi < 0.67  # the documented range, about 0.2-0.7


def test_shift_table_columns_sum_to_one_by_kind(halved):
    t = halved.table()
    for kind in ("corridor", "entry"):
        part = t[t["kind"] == kind]
        assert part["before"].sum() == pytest.approx(1.0, abs=1e-9), kind
        assert part["after"].sum() == pytest.approx(1.0, abs=1e-9), kind
    total = t[t["kind"] == "total"].set_index("name")
    assert total.loc["via_mexico", "after"] == pytest.approx(halved.after.via_mexico)
    assert t["change_pp"].to_numpy() == pytest.approx((t["after"] - t["before"]).to_numpy() * 100)


@pytest.mark.parametrize("change", [-0.9, -0.5, -0.1])
def test_cutting_caribbean_interdiction_moves_flow_north_and_east(cal, change):
    s = shift(change, calibration=cal, draws=10, seed=0)
    east = ["us_florida", "us_puerto_rico", "us_gulf_coast"]
    assert s.after.by_entry()[east].sum() > s.before.by_entry()[east].sum()
    assert s.after.by_entry()["us_southwest"] < s.before.by_entry()["us_southwest"]
    assert s.after.by_corridor()["caribbean"] > s.before.by_corridor()["caribbean"]
    assert s.mexico_flow_change < 0


@pytest.mark.parametrize("change", [-1.0, -1.5, float("nan")])
def test_shift_rejects_a_change_that_leaves_no_interdiction(change):
    with pytest.raises(VdtoError) as err:
        shift(change, draws=10)
    assert err.value.param == "caribbean_change"


def test_shift_rejects_no_draws():
    with pytest.raises(VdtoError) as err:
        shift(-0.5, draws=0)
    assert err.value.param == "draws"


# ---------------------------------------------------------------------------------------------
# bad input: change strings


@pytest.mark.parametrize(
    ("text", "value"),
    [("-50%", -0.5), ("-0.5", -0.5), (" +25% ", 0.25), ("0", 0.0), ("-99.9%", -0.999), ("1.5", 1.5)],
)
def test_parse_change_reads_percent_and_fraction(text, value):
    assert parse_change(text) == pytest.approx(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_parse_change_accepts_a_number_or_names_the_option(text):
    t = text.strip()
    try:
        expected = float(t.rstrip("%")) / (100.0 if t.endswith("%") else 1.0)
    except ValueError:
        expected = None
    if expected is not None and math.isfinite(expected) and expected > -1.0:
        assert parse_change(text) == expected
    else:
        with pytest.raises(VdtoError) as err:
            parse_change(text)
        assert err.value.param == "caribbean_change"
        assert "\n" not in str(err.value)


@settings(max_examples=100, deadline=None)
@given(st.floats(max_value=-100.0, allow_nan=False), st.booleans())
def test_parse_change_rejects_minus_100_percent_or_less(pct, as_percent):
    text = f"{pct!r}%" if as_percent else repr(pct / 100.0)
    with pytest.raises(VdtoError) as err:
        parse_change(text)
    assert err.value.param == "caribbean_change"


# ---------------------------------------------------------------------------------------------
# bad input: network files


def test_unknown_node_in_a_link_is_named(tmp_path):
    extra = '[[link]]\nfrom = "a"\nto = "nowhere"\ncost = 1\n'
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, _parallel_toml(extra_links=extra), "bad.toml")
    assert "bad.toml" in err.value.where
    assert "'nowhere'" in err.value.what and "link 5" in err.value.what


def test_negative_cost_names_the_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, _parallel_toml((100.0, -5.0)), "bad.toml")
    assert err.value.where.endswith("bad.toml:link.1.cost")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("dispersion = 0.01", "dispersion = 0.0", "dispersion"),
        ("congestion_beta = 4.0", "congestion_beta = 0.5", "congestion_beta"),
        ('name = "two-parallel"', 'name = "two-parallel"\ncolour = "red"', "colour"),
        (
            '[[node]]\nid = "b"\ncorridor = "caribbean"',
            '[[node]]\nid = "b"\ncorridor = "arctic"',
            "(top level)",
        ),
    ],
)
def test_bad_network_values_name_their_key(tmp_path, old, new, key):
    text = _parallel_toml()
    assert old in text
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text.replace(old, new), "bad.toml")
    assert err.value.where.endswith(f"bad.toml:{key}")


def test_a_cycle_is_refused(tmp_path):
    extra = '[[link]]\nfrom = "a"\nto = "src"\ncost = 1\n'
    net = _load(tmp_path, _parallel_toml(extra_links=extra))
    with pytest.raises(ConfigError, match="cycle") as err:
        routes_of(net)
    assert err.value.where == "link"


def test_no_route_is_refused(tmp_path):
    text = (
        _parallel_toml()
        .replace('from = "a"\nto = "us"', 'from = "us"\nto = "a"')
        .replace('from = "b"\nto = "us"', 'from = "us"\nto = "b"')
    )
    net = _load(tmp_path, text)
    with pytest.raises(ConfigError, match="no route") as err:
        routes_of(net)
    assert err.value.where == "link"


def test_a_route_that_enters_the_us_nowhere_is_refused(tmp_path):
    net = _load(tmp_path, _parallel_toml().replace('id = "us"\nentry = true', 'id = "us"'))
    with pytest.raises(ConfigError, match="enters the US nowhere") as err:
        routes_of(net)
    assert err.value.where == "node.entry"


@pytest.mark.parametrize("text", ["name = [", "\xff\xfe", ""])
def test_unreadable_network_files_are_input_errors(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(VdtoError) as err:
        load_corridors(path)
    assert str(path) in err.value.where


def test_missing_network_file(tmp_path):
    with pytest.raises(VdtoError, match="file not found"):
        load_corridors(tmp_path / "absent.toml")


# ---------------------------------------------------------------------------------------------
# the command line


@pytest.mark.parametrize(("value", "needle"), [("abc", "is not a change"), ("-150%", "above -100%")])
def test_cli_bad_change(value, needle):
    res = run_here("routes", "shift", "--caribbean-interdiction", value)
    assert_one_line_exit_2(res, "--caribbean-interdiction", needle)


def test_cli_unknown_chart_format_writes_nothing(tmp_path):
    res = run_here(
        "routes", "shift", "--caribbean-interdiction", "-50%", "--chart", str(tmp_path / "out.gif")
    )
    assert_one_line_exit_2(res, "out.gif", ".png, .svg or .html")
    assert list(tmp_path.iterdir()) == []


def test_cli_uncalibrated_year():
    res = run_here("routes", "show", "--year", "1850")
    assert_one_line_exit_2(res, "--year", "1999")


def test_cli_bad_network_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(_parallel_toml((100.0, -5.0)), encoding="utf-8")
    res = run_here("routes", "show", "--network", str(bad))
    assert_one_line_exit_2(res, "bad.toml:link.1.cost")


def test_cli_network_without_an_eastern_pacific_leg_is_a_clean_error(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(_parallel_toml(), encoding="utf-8")
    res = run_here("routes", "show", "--network", str(path))
    assert res.returncode in (0, 2) and "Traceback" not in res.stderr


def test_cli_shift_json_carries_its_provenance():
    res = run_here("routes", "shift", "--caribbean-interdiction", "-50%", "-f", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    meta = doc["meta"]
    assert meta["vdto_version"]
    assert meta["network_sha256"] == load_corridors().sha256()
    assert meta["seed"] == 0 and meta["caribbean_change"] == -0.5
    assert meta["mexico_flow_change"] == pytest.approx(mexico_flow_factor(-0.5) - 1, rel=1e-9)
    rows = {(r["kind"], r["name"]): r for r in doc["rows"]}
    assert rows[("total", "via_mexico")]["before"] == pytest.approx(0.86, abs=0.005)
    assert rows[("corridor", "caribbean")]["after"] > rows[("corridor", "caribbean")]["before"]


def test_cli_show_json_has_the_calibration():
    res = run_here("routes", "show", "--year", "1999", "-f", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["meta"]["year"] == 1999
    assert len(doc["calibration"]) == len(TARGETS)
    assert doc["corridors"]["caribbean"] == pytest.approx(0.45, abs=0.005)


def test_cli_shift_chart_writes_a_png(tmp_path):
    path = tmp_path / "x.png"
    res = run_here(
        "routes", "shift", "--caribbean-interdiction", "-50%", "--chart", str(path), "--draws", "500"
    )
    assert res.returncode == 0, res.stderr
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
