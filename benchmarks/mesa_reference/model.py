"""The simulator written as a Mesa 3 user would write it: a reference for `vdto.sim.engine`.

One :class:`CartelModel` (a ``mesa.Model``) is one replicate. It holds the plazas (plain
objects with an owner and a value), the directed neighbour pairs, one :class:`Organization`
agent per organization and one :class:`Buyer` agent per US buyer, and its :meth:`step` is one
month, in the order of :func:`vdto.sim.engine.simulate` (docs/model.md):

1. revenue: each plaza pays its owner, each buyer its supplier;
2. frontier: a loop over the directed neighbour pairs finds the hostile ones (attacker owns the
   source, the destination is held by someone else or nobody) and adds up, per organization,
   the value at stake and the force it meets;
3. choice: every organization picks its violence by a logit response over the levels;
4. clashes: a second loop over the hostile pairs draws attacks, wins and deaths; among the
   winners of a plaza the one with the smallest draw takes it; deaths are split between the two
   sides and into victim kinds;
5. enforcement, as the policy says (none, volume, targeted, kingpin, regional, Caribbean, and
   combinations such as ``targeted+caribbean``);
6. strength update; an organization below the threshold is dismantled (``agent.remove()``),
   its plazas left empty and its buyers handed to the strongest organization left.

Everything is plain Python over agents, plazas and pairs, except two things kept identical to
the vectorised model on purpose: the random numbers are the same counter-based keyed uniforms
(``uniform(replicate key, month, stream, item)`` from vdto.rng; each month's draws for
a stream are taken as one table indexed by the pair, plaza or buyer, which is as cheap as a
Mesa user's ``self.random.random()`` per draw), and the transcendental functions (``exp``,
``ndtr``, the Poisson inversion ``_poisson``) are NumPy's, so that the same replicate gives the
same deaths and the same survivors in both implementations.
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy.special import ndtr

from vdto.rng import Stream, normal, replicate_keys, uniform
from vdto.sim.engine import KIND_POINTS, KINDS, OTHER_SPLIT, Outputs, _poisson
from vdto.sim.params import Scenario, check_policy
from vdto.sim.world import World

_TINY = 1e-12


class Plaza:
    """A municipality (or grid cell): its value, its owner (an Organization or None) and the
    deaths of the last month in it."""

    __slots__ = ("deaths", "index", "last_deaths", "owner", "value")

    def __init__(self, index: int, value: float, owner: Organization | None) -> None:
        self.index = index
        self.value = value
        self.owner = owner
        self.deaths = 0.0
        self.last_deaths = 0.0


class Organization(mesa.Agent):
    """A drug-trafficking organization: strength, violence, hostility towards the others."""

    def __init__(
        self, model: CartelModel, slot: int, strength: float, violence: float, hostility: dict
    ) -> None:
        super().__init__(model)
        self.slot = slot  # position in the vectorised model's arrays (item number of its draws)
        self.strength = strength
        self.violence = violence
        self.hostility = hostility  # slot -> 1 rivals, 0.5 neutral, 0.1 allies (0 towards itself)
        self.alive = True
        self.succession = 0
        self.points = [0.0] * model.scenario.enforcement.score_months  # most recent first
        self.revenue = 0.0
        self.hit = 0.0
        self._clear_month()

    def _clear_month(self) -> None:
        self.territory_value = 0.0
        self.buyer_volume = 0.0
        self.frontier_value = 0.0  # value at stake on its attacking frontier
        self.frontier_force = 0.0  # value-weighted force of the defenders it faces
        self.threat_value = 0.0  # its own value under threat
        self.threat_force = 0.0  # value-weighted force of those threatening it
        self.deaths_attacking = 0.0
        self.deaths_defending = 0.0

    # -- 1. revenue
    def collect_revenue(self) -> None:
        m = self.model
        x = m.scenario.economy
        self.revenue = m.flow * (
            x.territory_revenue * self.territory_value + x.buyer_revenue * self.buyer_volume
        )

    # -- 3. choice of violence
    def choose_violence(self) -> None:
        m = self.model
        v, e, x = m.scenario.violence, m.scenario.enforcement, m.scenario.economy
        lv = m.levels
        s = self.strength
        fv, pv = self.frontier_value, self.threat_value
        rs = self.frontier_force / max(fv, _TINY)
        ap = self.threat_force / max(pv, _TINY)
        gain = v.attack_rate * lv * fv * (lv * s) / (lv * s + rs + v.incumbent)
        loss = v.attack_rate * pv * ap / (ap + lv * s + v.incumbent)
        payoff = x.territory_revenue * m.flow * v.horizon * (gain - loss) - v.cost * lv * s * m.scale
        if m.on and "targeted" in m.parts:
            payoff = payoff - e.target_loss * self.revenue * self.p_top(m.score_context)
        if m.on and "regional" in m.parts:
            exposure = lv * fv
            payoff = payoff - e.regional_loss * self.revenue * exposure / (m.regional_total + exposure)
        z = v.response * payoff / m.scale
        z = z - z.max()
        w = np.exp(z)
        choice = (w * lv).sum() / w.sum()
        violence = self.violence + v.adjustment * (choice - self.violence)
        if self.succession > 0:
            violence = max(violence, e.succession_floor)
        self.violence = float(violence)

    def expected_score(self, mean_recent: float) -> tuple[float, float]:
        """(points in the window's months that stay, expected points per unit of violence)."""
        base = 0.0
        for p in self.points[:-1]:
            base += p
        recent = self.points[0]
        per_unit = recent / max(self.violence, 1e-9) if self.violence > 0 else mean_recent + 1e-9
        return base, per_unit

    def p_top(self, ctx: dict) -> np.ndarray:
        """P(topping next month's published score) at each level, the others at their expected
        scores (normal approximation of the attribution noise)."""
        base, per_unit = ctx["parts"][self.slot]
        mine = base + per_unit * self.model.levels
        top2 = ctx["top2"]
        best_other = top2[0] if ctx["expected"][self.slot] >= top2[1] else top2[1]
        if not np.isfinite(best_other):
            best_other = 0.0
        sd = self.model.scenario.enforcement.score_noise * np.sqrt(mine**2 + best_other**2) + 1e-9
        return ndtr((mine - best_other) / sd)

    # -- 6. strength
    def update_strength(self) -> None:
        m = self.model
        v, x = m.scenario.violence, m.scenario.economy
        s = self.strength
        s = s + x.growth * self.revenue / m.scale - x.upkeep * s - v.cost * 0.1 * self.violence * s - self.hit
        self.strength = min(max(s, 0.0), x.max_strength)


class Buyer(mesa.Agent):
    """A US wholesaler or distributor buying from one organization."""

    def __init__(self, model: CartelModel, index: int, supplier: Organization, volume: float) -> None:
        super().__init__(model)
        self.index = index
        self.supplier = supplier
        self.volume = volume


class CartelModel(mesa.Model):
    """One replicate of the simulator (replicate number ``replicate`` of ``scenario.run.seed``)."""

    def __init__(
        self,
        world: World,
        scenario: Scenario,
        policy: str,
        replicate: int = 0,
        *,
        flow_factor: float | None = None,
        months: int | None = None,
    ) -> None:
        self.key = replicate_keys(scenario.run.seed, 1, replicate)[0]
        super().__init__(seed=int(self.key % np.uint64(2**32)))
        self.world, self.scenario, self.policy = world, scenario, policy
        self.parts = check_policy(policy)
        v, e = scenario.violence, scenario.enforcement
        if "caribbean" in self.parts and flow_factor is None:
            from vdto.routes.lever import mexico_flow_factor

            flow_factor = mexico_flow_factor(e.caribbean_change)
        self.flow_after = flow_factor if "caribbean" in self.parts else 1.0
        self.levels = np.asarray(v.levels, dtype=float)
        self.n_start = world.n_orgs
        self.n_slots = self.n_start + (scenario.world.splinter_slots if "kingpin" in self.parts else 0)
        enforcing = [p for p in self.parts if p in ("volume", "kingpin", "targeted", "regional")]
        self.share = e.capacity / len(enforcing) if enforcing else 0.0
        self.t = 0
        self.scale = 1.0

        # organizations: slot i of the vectorised model; None for a splinter slot not yet used
        mean_s = float(world.strength.mean())
        self.slots: list[Organization | None] = [None] * self.n_slots
        for i in range(self.n_start):
            hostility = {
                j: (float(world.hostility[i, j]) if j < self.n_start else 1.0) for j in range(self.n_slots)
            }
            hostility[i] = 0.0
            self.slots[i] = Organization(self, i, float(world.strength[i]) / mean_s, v.start, hostility)
        self.plazas = [
            Plaza(m, float(world.value[m]), self.slots[o] if o >= 0 else None)
            for m, o in enumerate(world.owner.tolist())
        ]
        self.edges = [
            (self.plazas[a], self.plazas[b])
            for a, b in zip(world.src.tolist(), world.dst.tolist(), strict=True)
        ]
        n_buyers = len(world.volume)
        volume = (
            world.volume / world.volume.mean() * (world.value.sum() / max(n_buyers, 1))
            if n_buyers
            else world.volume
        )
        self.buyers = [
            Buyer(self, b, self.slots[int(world.supplier[b])], float(volume[b])) for b in range(n_buyers)
        ]

        # the focal organization: the largest by revenue in the month the policy starts (slot 0
        # until then), and the plazas it held then
        self.months = scenario.run.months if months is None else months
        self.focal_month = min(e.start_month, self.months - 1)
        self.focal = 0
        self.focal_plazas: list[Plaza] = []

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "deaths": "month_deaths",
                "deaths_kind": "month_kinds",
                "deaths_org": "month_by_org",
                "violence": lambda m: [o.violence if o is not None and o.alive else np.nan for o in m.slots],
                "alive": lambda m: len(m.alive_orgs()),
                "revenue_mexico": "month_revenue",
                "target": "month_target",
                "dismantled": lambda m: sum(1 for o in m.slots if o is not None and not o.alive),
                "focal_deaths": lambda m: sum(p.deaths for p in m.focal_plazas),
            }
        )

    # -- helpers
    def alive_orgs(self) -> list[Organization]:
        """Organizations alive, in slot order (the order ties are broken in)."""
        return [o for o in self.slots if o is not None and o.alive]

    def draws(self, stream: Stream, n: int) -> list[float]:
        """This month's keyed uniforms of ``stream`` for items 0 .. n-1."""
        return uniform(self.key, self.t, stream, np.arange(n)).tolist()

    # -- one month
    def step(self) -> None:
        sc = self.scenario
        v, e = sc.violence, sc.enforcement
        t = self.t
        self.on = t >= e.start_month
        self.flow = self.flow_after if self.on else 1.0
        orgs = self.agents_by_type[Organization]
        for o in self.slots:
            if o is not None:
                o._clear_month()

        # 1. revenue
        for p in self.plazas:
            if p.owner is not None:
                p.owner.territory_value += p.value
        for b in self.buyers:
            b.supplier.buyer_volume += b.volume
        orgs.do("collect_revenue")
        self.month_revenue = float(
            np.sum([o.revenue if o is not None and o.alive else 0.0 for o in self.slots])
        )
        if t == self.focal_month:
            largest = None
            for o in self.alive_orgs():
                if largest is None or o.revenue > largest.revenue:
                    largest = o
            self.focal = 0 if largest is None else largest.slot
            self.focal_plazas = [p for p in self.plazas if p.owner is largest and largest is not None]
        if t == 0:  # the unit of money: the mean revenue of an organization at the start, before any policy
            x = sc.economy
            start = [
                x.territory_revenue * o.territory_value + x.buyer_revenue * o.buyer_volume
                for o in self.slots[: self.n_start]
            ]
            self.scale = max(float(np.mean(start)), 1e-9)

        # 2. frontier: hostile pairs and their aggregates
        hostile = []
        for e_idx, (a_pl, d_pl) in enumerate(self.edges):
            att, dfd = a_pl.owner, d_pl.owner
            if att is None or att is dfd:
                continue
            host = 1.0 if dfd is None else att.hostility[dfd.slot]
            stake = d_pl.value * host
            hostile.append((e_idx, att, dfd, d_pl, host, stake))
            att.frontier_value += stake
            att.frontier_force += stake * (0.0 if dfd is None else dfd.strength * dfd.violence)
        for _, att, dfd, _, _, stake in hostile:
            if dfd is not None:
                dfd.threat_value += stake
                dfd.threat_force += stake * (att.strength * att.violence)

        # 3. choice
        if self.on and "targeted" in self.parts:
            self.score_context = self._score_context()
        if self.on and "regional" in self.parts:
            exposed = [
                o.violence * o.frontier_value if o is not None and o.alive else 0.0 for o in self.slots
            ]
            self.regional_total = float(np.sum(exposed)) + 1e-9
        orgs.do("choose_violence")

        # 4. clashes
        u_attack = self.draws(Stream.ATTACK, len(self.edges)) if hostile else []
        u_deaths = self.draws(Stream.CLASH, len(self.edges)) if hostile else []
        claims: dict[Plaza, tuple[float, Organization]] = {}
        for p in self.plazas:
            p.deaths = 0.0
        month_deaths = 0.0
        for e_idx, att, dfd, d_pl, host, _ in hostile:
            va = att.violence
            vd = 0.0 if dfd is None else dfd.violence
            a_force = att.strength * va
            d_force = 0.0 if dfd is None else dfd.strength * vd
            attack_p = v.attack_rate * va * host
            u = u_attack[e_idx]
            if u >= attack_p:
                continue
            if u < attack_p * (a_force / (a_force + d_force + v.incumbent)):
                best = claims.get(d_pl)
                if best is None or u < best[0]:
                    claims[d_pl] = (u, att)
            lam = v.deaths_per_clash * (va + vd)
            d = float(_poisson(np.array([lam]), np.array([u_deaths[e_idx]]))[0])
            if d == 0.0:
                continue
            frac_a = va / max(va + vd, _TINY) if va + vd > 0 else 1.0
            att.deaths_attacking += d * frac_a
            if dfd is not None:
                dfd.deaths_defending += d * (1 - frac_a)
            d_pl.deaths += d
            month_deaths += d
        for plaza, (_, winner) in claims.items():
            plaza.owner = winner
        kinds_total = np.zeros(len(KINDS))
        by_org = [0.0] * self.n_slots
        for o in self.slots:
            if o is None:
                continue
            caused = o.deaths_attacking + o.deaths_defending
            rival = min(max(v.rival_share - v.rival_share_drop * o.violence, 0.0), 1.0)
            kinds = np.concatenate([[caused * rival], caused * (1 - rival) * OTHER_SPLIT])
            o.points = [float(kinds @ KIND_POINTS), *o.points[:-1]]
            kinds_total += kinds
            by_org[o.slot] = caused

        # 5. enforcement
        for o in self.slots:
            if o is not None:
                o.hit = 0.0
        target = None
        if self.on and "volume" in self.parts:
            alive = self.alive_orgs()
            total = float(np.sum([o.revenue if o is not None and o.alive else 0.0 for o in self.slots]))
            for o in alive:
                o.hit += self.share * o.revenue / max(total, _TINY)
        if self.on and "targeted" in self.parts:
            target = self._targeted()
        if self.on and "regional" in self.parts:
            self._regional()
        if self.on and "kingpin" in self.parts:
            self._kingpin()

        # 6. strength and dismantling
        orgs.do("update_strength")
        gone = [o for o in self.alive_orgs() if o.strength < e.dismantle_below]
        for o in gone:
            o.alive = False
            o.violence = 0.0
            o.strength = 0.0
            o.remove()
        if gone:
            for p in self.plazas:
                if p.owner is not None and not p.owner.alive:
                    p.owner = None
            left = self.alive_orgs()
            if left:
                best = max(left, key=lambda o: (o.strength, -o.slot))
                for b in self.buyers:
                    if b.supplier in gone:
                        b.supplier = best
        for o in self.slots:
            if o is not None:
                o.succession = max(o.succession - 1, 0)
        for p in self.plazas:
            p.last_deaths = p.deaths

        # outputs
        self.month_deaths = month_deaths
        self.month_kinds = kinds_total.tolist()
        self.month_by_org = by_org
        self.month_target = -1 if target is None else target.slot
        self.datacollector.collect(self)
        self.t += 1

    def _score_context(self) -> dict:
        """What every organization knows about next month's published score."""
        recent = [o.points[0] if o is not None else 0.0 for o in self.slots]
        mean_recent = float(np.mean(recent))
        parts, expected = {}, [-np.inf] * self.n_slots
        for o in self.slots:
            if o is None:
                continue
            parts[o.slot] = o.expected_score(mean_recent)
            if o.alive:
                base, per_unit = parts[o.slot]
                expected[o.slot] = base + per_unit * o.violence
        return {"parts": parts, "expected": expected, "top2": sorted(expected)[-2:]}

    def _targeted(self) -> Organization | None:
        """All capacity on the top of the published (noisy) score; its buyers may switch."""
        e = self.scenario.enforcement
        noise = (
            1.0
            + e.score_noise
            * normal(np.array([self.key]), self.t, Stream.SCORE_NOISE, Stream.SCORE_NOISE_2, self.n_slots)[0]
        )
        published = {}
        for o in self.alive_orgs():
            published[o] = sum(o.points) * max(float(noise[o.slot]), 0.0)
        if not published:
            return None
        target = None
        for o, score in published.items():  # first of the largest, in slot order
            if target is None or score > published[target]:
                target = o
        target.hit += self.share
        cleanest = None
        for o, score in published.items():
            if o is not target and (cleanest is None or score < published[cleanest]):
                cleanest = o
        if cleanest is not None:
            u = self.draws(Stream.BUYER_SWITCH, len(self.buyers))
            for b in self.buyers:
                if b.supplier is target and u[b.index] < e.buyer_switch:
                    b.supplier = cleanest
        return target

    def _regional(self) -> None:
        """Capacity on the plazas with the most deaths last month, shared by their owners."""
        e = self.scenario.enforcement
        k = min(e.hot_plazas, len(self.plazas))
        last = np.array([p.last_deaths for p in self.plazas])
        hot = [self.plazas[m] for m in np.argpartition(-last, k - 1)[:k].tolist()]
        hot = [p for p in hot if p.owner is not None and p.last_deaths > 0]
        total = max(float(np.sum([p.last_deaths for p in hot])), _TINY)
        pressure: dict[Organization, float] = {}
        for p in hot:
            pressure[p.owner] = pressure.get(p.owner, 0.0) + self.share * p.last_deaths / total
        for o, h in pressure.items():
            o.hit += h

    def _kingpin(self) -> None:
        """Capacity on the leadership of the largest organization; strikes, splinters."""
        e = self.scenario.enforcement
        alive = self.alive_orgs()
        if not alive:
            return
        struck = alive[0]
        for o in alive:
            if o.revenue > struck.revenue:
                struck = o
        struck.hit += self.share
        if (self.t - e.start_month) % e.strike_interval != 0:
            return
        struck.strength *= 1.0 - e.strike_hit
        struck.succession = e.succession_months
        u = float(uniform(self.key, self.t, Stream.KINGPIN, np.uint64(0)))
        j = next((s for s, o in enumerate(self.slots) if o is None), None)
        if u >= e.splinter_probability or j is None:
            return
        # a faction splits off with about half the plazas, strength and buyers
        hostility = dict(struck.hostility)
        hostility[struck.slot] = 1.0
        hostility[j] = 0.0
        faction = Organization(self, j, struck.strength * 0.5, struck.violence, hostility)
        struck.strength *= 0.5
        struck.hostility[j] = 1.0
        for o in self.slots:
            if o is not None and o is not struck:
                o.hostility[j] = o.hostility[struck.slot]
        faction.succession = e.succession_months
        self.slots[j] = faction
        for p in self._contiguous_half(struck, self.draws(Stream.SPLINTER_PLAZAS, len(self.plazas))):
            p.owner = faction
        u_buyer = self.draws(Stream.SPLINTER_BUYERS, len(self.buyers))
        for b in self.buyers:
            if b.supplier is struck and u_buyer[b.index] < 0.5:
                b.supplier = faction

    def _contiguous_half(self, org: Organization, u: list[float]) -> set[Plaza]:
        """Half of ``org``'s plazas (rounded down), grown from its plaza with the smallest draw
        through pairs of its own plazas, all the plazas next to the part taken so far at each round,
        in the order of their draws; when that part has no untaken neighbour left, from the
        untaken plaza with the smallest draw."""
        own = [p for p in self.plazas if p.owner is org]
        if len(own) < 2:
            return set()
        want = len(own) // 2
        first = min(own, key=lambda p: (u[p.index], p.index))
        taken = {first}
        inside = [(a, b) for a, b in self.edges if a.owner is org and b.owner is org]
        while len(taken) < want:
            ring = {b for a, b in inside if a in taken and b not in taken}
            if not ring:
                ring = {min((p for p in own if p not in taken), key=lambda p: (u[p.index], p.index))}
            taken.update(sorted(ring, key=lambda p: (u[p.index], p.index))[: want - len(taken)])
        return taken

    def rival_violence(self) -> list[float]:
        """Per month, the mean violence of the alive organizations other than the first one the
        policy named (the first target, or for other policies the focal organization)."""
        frame = self.datacollector.get_model_vars_dataframe()
        named = [t for t in frame["target"] if t >= 0]
        first = named[0] if named else self.focal
        rows = []
        for month in frame["violence"]:
            others = [v for slot, v in enumerate(month) if slot != first and not np.isnan(v)]
            rows.append(float(np.mean(others)) if others else np.nan)
        return rows


def run_reference(
    world: World,
    scenario: Scenario,
    policy: str,
    *,
    replicates: int | None = None,
    first: int = 0,
    months: int | None = None,
    flow_factor: float | None = None,
) -> Outputs:
    """Run replicates ``first .. first + replicates - 1``, one CartelModel each, for ``months``
    (default: the scenario's), and stack their records like :func:`vdto.sim.engine.simulate`."""
    R = scenario.run.replicates if replicates is None else replicates
    T = scenario.run.months if months is None else months
    parts = check_policy(policy)
    if "caribbean" in parts and flow_factor is None:  # a route solve: once, not per replicate
        from vdto.routes.lever import mexico_flow_factor

        flow_factor = mexico_flow_factor(scenario.enforcement.caribbean_change)
    frames, focal, rivals = [], [], []
    for r in range(first, first + R):
        model = CartelModel(world, scenario, policy, r, flow_factor=flow_factor, months=T)
        for _ in range(T):
            model.step()
        frames.append(model.datacollector.get_model_vars_dataframe())
        focal.append(model.focal)
        rivals.append(model.rival_violence())

    def stack(col: str, dtype=float) -> np.ndarray:
        return np.array([np.stack(f[col].to_numpy()) for f in frames], dtype=dtype)

    return Outputs(
        deaths=stack("deaths"),
        deaths_kind=stack("deaths_kind"),
        deaths_org=stack("deaths_org"),
        violence=stack("violence"),
        alive=stack("alive", np.int64),
        revenue_mexico=stack("revenue_mexico"),
        target=stack("target", np.int64),
        dismantled=stack("dismantled", np.int64),
        focal_deaths=stack("focal_deaths"),
        rival_violence=np.array(rivals, dtype=float),
        focal=np.array(focal, dtype=np.int64),
    )


__all__ = ["Buyer", "CartelModel", "Organization", "Plaza", "run_reference"]
