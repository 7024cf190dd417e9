"""The US enforcement package against a target, put together once for every shell.

:func:`package_for_target` resolves the target, loads the store's supply network, scores the
organizations (for where the business would go), selects the cases, and adds substitution and
succession risk; :func:`buyers_line` says in one line what the package would reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from vdto.errors import VdtoError
from vdto.network.bacrim import load_bacrim2020
from vdto.network.graph import SupplyNetwork
from vdto.network.package import Package, enforcement_package
from vdto.network.substitution import substitution, succession_risk
from vdto.network.supply import supply_shares
from vdto.render.fmt import money
from vdto.services.network import target_org
from vdto.services.scoring import score_window
from vdto.store import Store


@dataclass
class PackageReport:
    """The package, where the business goes, and who may take over the target's territory;
    ``synthetic``: ``"the synthetic supply network (seed 1)"`` when the generator made the
    network (its money is invented), else None."""

    package: Package
    substitution: pd.DataFrame
    succession: pd.DataFrame
    synthetic: str | None = None


def package_for_target(
    store: Store,
    target: str,
    budget: float,
    *,
    budget_kind: str = "cases",
    solver: str = "milp",
    time_limit: float = 20.0,
    start: date | None = None,
    end: date | None = None,
    agency: str | None = None,
) -> PackageReport:
    """The enforcement package against ``target`` (any name of it) on the store's supply network.

    Violence scores for substitution come from the store's events over ``[start, end]`` (default:
    the rubric's window ending at the last event), when it has any.
    """
    registry = store.registry()
    org_id = target_org(store, target)
    net = SupplyNetwork.load(store)
    scores = None
    if store.events.count():
        scores = score_window(store, start, end, draws=1, seed=0, agency=agency).table[["org", "score"]]
    pkg = enforcement_package(
        net, org_id, budget, budget_kind=budget_kind, solver=solver, time_limit=time_limit
    )
    return PackageReport(
        pkg,
        substitution(net, pkg, scores),
        succession_risk(load_bacrim2020(registry=registry), org_id, scores),
        net.synthetic_label(),
    )


def buyers_line(store: Store, target: str | None) -> str:
    """One line on the US enforcement package against ``target``, when the store has a network."""
    if target is None or not store.network.exists():
        return "enforcement package: no supply-network data in this store"
    try:
        net = SupplyNetwork.load(store)
        shares = supply_shares(net, target)
    except VdtoError as exc:
        return f"enforcement package: {exc.what}"
    buyers = shares[shares["type"].isin(["wholesaler", "distributor"])]
    where = net.synthetic_label() or "the store's network"
    return (
        f"enforcement package: {target} supplies {len(buyers):,} US buyers in {where}, "
        f"{money(buyers['revenue'].sum())} a year at stake"
    )
