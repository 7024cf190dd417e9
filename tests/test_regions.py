"""INEGI geography: state and municipality codes from names in any spelling, polygons, population."""

from __future__ import annotations

import numpy as np
import pytest

from vdto.geography import STATES, geography


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Guanajuato state", "11"),
        ("Distrito Federal", "09"),
        ("Ciudad de México", "09"),
        ("México state", "15"),
        ("Estado de México", "15"),
        ("Michoacán de Ocampo", "16"),
        ("MICHOACAN", "16"),
        ("Veracruz de Ignacio de la Llave", "30"),
        ("Nuevo León", "19"),
        ("7", "07"),
        ("32", "32"),
    ],
)
def test_state_names(name, code):
    assert geography().state_code(name) == code


def test_unknown_state():
    assert geography().state_code("Texas") is None
    assert geography().state_code(None) is None


@pytest.mark.parametrize(
    ("state", "name", "code"),
    [
        ("11", "Irapuato municipality", "11017"),
        ("14", "Puerto Vallarta", "14067"),
        ("12", "Acapulco de Juárez municipality", "12001"),
        ("12", "ACAPULCO DE JUAREZ", "12001"),
        ("11", "11007", "11007"),
    ],
)
def test_municipality_names(state, name, code):
    assert geography().mun_code(state, name) == code


def test_municipality_must_be_in_its_state():
    assert geography().mun_code("14", "Irapuato") is None
    assert geography().mun_code("14", "11017") is None


def test_catalog_covers_every_polygon():
    codes, shapes = geography().municipality_shapes()
    assert len(codes) == len(shapes) == 2457
    catalog = set(geography().municipalities["mun_code"])
    assert set(codes) <= catalog
    assert {c[:2] for c in codes} == set(STATES)


def test_locate_points():
    # Irapuato centre, Mexico City Zócalo, a point in the Gulf of Mexico, a missing coordinate
    lat = np.array([20.6767, 19.4326, 24.0, np.nan])
    lon = np.array([-101.3563, -99.1332, -93.0, -99.0])
    got = geography().locate(lat, lon)
    assert got[0] == "11017"
    assert got[1][:2] == "09"
    assert got[2] is None and got[3] is None


def test_state_population_projection():
    pop = geography().population
    assert set(pop["state_code"]) == set(STATES)
    y2020 = pop[pop["date"] == "2020-07-01"]
    assert len(y2020) == 32
    # CONAPO projects roughly 127-130 million people in mid-2020
    assert 120e6 < y2020["population"].sum() < 135e6
