"""The simulator written as a Mesa 3 user would write it: a reference for `vdto.sim.engine`.

One :class:`CartelModel` (a ``mesa.Model``) is one replicate. It holds the plazas (plain
objects: value, people, state, owner), the directed neighbour pairs, one
:class:`Organization` agent per organization alive (members, violence, lineage root, key,
succession, weakness, score history) and one :class:`Buyer` agent per US buyer. Its
:meth:`~CartelModel.step` is one month, in the order of :func:`vdto.sim.engine.simulate`
(docs/model.md has every formula):

1. revenue: each plaza pays its owner, each buyer its supplier; the focal organization is
   picked in the month the policy starts;
2. frontier: a loop over the neighbour pairs finds the hostile ones and adds up, per
   organization, the value at stake, the force it meets, its value under threat and the force
   threatening it;
3. choice: each organization moves its violence towards its logit response over the levels
   (with the targeted policy's look-ahead, a Poisson-binomial over the contenders, and the
   regional policy's exposure);
4. clashes: a second loop over the hostile pairs draws attacks, wins and deaths; among the
   winners of a plaza the one with the smallest draw takes it;
5. one-sided killings per (organization, state) and the baseline homicides per state; the
   month's score points;
6. enforcement as the policy says (none, volume, targeted, kingpin, regional, Caribbean and
   combinations such as ``targeted+caribbean``);
7. people: arrests, recruitment, members killed; splits (a splinter is a new agent that takes
   a contiguous part of the territory); dismantling (``agent.remove()``, its plazas left empty,
   its buyers handed to the largest organization left); the DataCollector records the month.

Everything is plain Python over agents, plazas and pairs, except what is kept identical to
the engine on purpose, so that the same replicate gives the same homicides, the same splits
and the same survivors in both (a comparison replicate by replicate, not of distributions):

* **the random numbers**: the same counter-based keyed uniforms of :mod:`vdto.rng`, for the
  same item (pair, plaza, state, organization key, buyer) on the same named stream. The month
  part of a key comes from :func:`vdto.rng.month_keys` and the item part from
  :func:`vdto.rng.item_keys`; a draw mixes them with SplitMix64's finalizer (:func:`_mix64`,
  the function of :func:`vdto.rng.mix64` on Python integers). The attack draws of a month are
  taken as one table over the pairs (as cheap per draw as a Mesa user's
  ``self.random.random()``);
* **the starting map**: the initial owners are :func:`vdto.sim.startmap.draw` for the
  replicate's key (the exponential race over claims and the spread hops; the map is an input
  of the month loop, not part of it);
* **the transcendental transforms**: Poisson draws are :func:`vdto.sim.kernels.poisson` called
  with the same key (inversion below a mean of 10, PTRS above), the normal CDF is
  ``0.5 * math.erfc(-x / sqrt(2))`` (the C library's ``erfc``, as in the kernel), and the
  logit's ``exp``, the discount's power and the score noise's ``log1p``/``cos`` are NumPy's
  (on this machine NumPy's SIMD ``exp``, ``log1p`` and ``power`` round differently from
  ``math``'s in a few per cent of cases).

Sums are added in the engine's order where it is a plain order (over plazas, pairs, months,
levels); where the engine sums over organization slots with NumPy's pairwise summation (totals
of members, revenue and exposure) or multiplies by the rubric's points with BLAS, the results
may differ in the last bits, hence ``rtol`` in the float comparisons. Ties go to the first
organization in slot order (the engine's ``argmax``/``argmin``) and a plaza won from several
pairs to the smallest draw, the first pair on equal draws; the look-ahead's contenders and the
regional policy's hottest plazas are picked by a stable sort, where the engine uses an unstable
one (they would differ only on an exact tie at the cut).
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from vdto.rng import Stream, item_keys, month_keys, replicate_keys, uniform_from
from vdto.sim import kernels, startmap
from vdto.sim.engine import CONTENDERS_EXTRA, KIND_POINTS, KINDS, MAX_FALL, OTHER_SPLIT, Outputs
from vdto.sim.params import Scenario, check_policy
from vdto.sim.world import World

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TO_UNIT = 2.0**-53
_SQRT2 = math.sqrt(2.0)
_POINTS = [float(p) for p in KIND_POINTS]
_OTHER = [float(s) for s in OTHER_SPLIT]


def _mix64(x: int) -> int:
    """SplitMix64's finalizer on a Python integer (the hash of :func:`vdto.rng.mix64`)."""
    x = ((x ^ (x >> 30)) * _M1) & _MASK
    x = ((x ^ (x >> 27)) * _M2) & _MASK
    return x ^ (x >> 31)


def _unit(h: int) -> float:
    """A uniform in [0, 1) from a 64-bit hash (its top 53 bits)."""
    return (h >> 11) * _TO_UNIT


def _item_key(item: int) -> int:
    """The item part of a draw's key (:func:`vdto.rng.item_keys` on a Python integer)."""
    return _mix64((item * _GOLDEN + _GOLDEN) & _MASK)


def _phi(x: float) -> float:
    """The standard normal CDF."""
    return 0.5 * math.erfc(-x / _SQRT2)


def _first_max(items, value):
    """The first item (in order) with the largest ``value``, or None."""
    best, best_v = None, -math.inf
    for it in items:
        v = value(it)
        if best is None or v > best_v:
            best, best_v = it, v
    return best


class Plaza:
    """A municipality (or grid cell): trafficking value, people, state, neighbours, owner."""

    __slots__ = (
        "baseline", "clash_deaths", "focal", "index", "last_deaths", "neighbours", "one_sided",
        "owner", "population", "start_owner", "state", "value", "young",
    )  # fmt: skip

    def __init__(self, index: int, world: World) -> None:
        self.index = index
        self.value = float(world.value[index])
        self.population = float(world.population[index])
        self.young = float(world.young[index])
        self.baseline = float(world.baseline[index])
        self.state = int(world.state[index])
        self.owner: Organization | None = None
        self.start_owner: Organization | None = None  # the owner at the start of the month
        self.neighbours: list[Plaza] = []  # in the order of the neighbour pairs
        self.focal = False  # held by the focal organization when the policy started
        self.clash_deaths = 0.0  # this month's clash homicides here
        self.one_sided = 0.0  # this month's expected one-sided homicides here
        self.last_deaths = 0.0  # last month's homicides here (regional policy)


class Organization(mesa.Agent):
    """A drug-trafficking organization: its members, violence, lineage and score history."""

    def __init__(self, model: CartelModel, slot: int, members: float, violence: float, root: int,
                 key: int) -> None:  # fmt: skip
        super().__init__(model)
        self.slot = slot  # the engine's organization slot (outputs are per slot)
        self.members = members
        self.members_prev = members  # members a month ago
        self.violence = violence
        self.root = root  # the founding organization of its lineage
        self.key = key  # every draw about it is keyed by this, never by its slot
        self.item_key = _item_key(key)
        self.succession = 0  # months of succession fight left
        self.weakness = 0.0  # share of members lost to the policy's enforcement, last year
        self.points = [0.0] * model.E.score_months  # rubric points caused, newest month first
        self.alive = True
        self.named_ahead = None
        self.clear_month()

    def clear_month(self) -> None:
        self.revenue = 0.0
        self.young_held = 0.0  # men aged 15-29 in its plazas (the recruitment pool)
        self.territory = 0.0  # trafficking value held
        self.buyer_volume = 0.0
        self.fv = 0.0  # value at stake on its attacking frontier
        self.rs = 0.0  # force met there (value-weighted)
        self.pv = 0.0  # its value under threat
        self.ap = 0.0  # force threatening it (value-weighted)
        self.caused = 0.0  # clash homicides it caused
        self.lost = 0.0  # members killed
        self.one_sided = 0.0
        self.hit = 0.0  # members the policy arrests

    @property
    def strength(self) -> float:
        return self.members / self.model.member_unit

    @property
    def surge(self) -> float:
        """How much more often its plazas are attacked after enforcement has weakened it."""
        return 1.0 + self.model.E.crackdown * self.weakness

    def collect_revenue(self) -> None:
        m = self.model
        self.revenue = m.flow * (
            m.X.territory_revenue * self.territory + m.X.buyer_revenue * self.buyer_volume
        )

    def choose_violence(self) -> None:
        """Move violence towards the logit response over the levels (all inputs are from
        before anyone's choice this month)."""
        m = self.model
        V, E, X = m.V, m.E, m.X
        lv = m.levels
        s = self.strength
        gain = V.attack_rate * lv * self.fv * (lv * s) / (lv * s + self.rs + V.incumbent)
        loss = V.attack_rate * self.pv * self.ap / (self.ap + lv * s + V.incumbent)
        payoff = X.territory_revenue * m.flow * V.horizon * (gain - loss) - V.cost * lv * s * m.scale
        if m.on and "targeted" in m.parts:
            payoff = payoff - E.target_loss * self.revenue * self.named_ahead
        if m.on and "regional" in m.parts:
            exposure = lv * self.fv
            payoff = payoff - E.regional_loss * self.revenue * exposure / (m.exposed + exposure)
        z = V.response * payoff / m.scale
        w = np.exp(z - z.max())
        choice = float((w * lv).sum() / w.sum())
        violence = self.violence + V.adjustment * (choice - self.violence)
        if self.succession > 0:
            violence = max(violence, E.succession_floor)
        self.violence = violence

    def score_month(self) -> list[float]:
        """The month's homicides it caused by victim kind, and its score points."""
        V = self.model.V
        rival = min(max(V.rival_share - V.rival_share_drop * self.violence, 0.0), 1.0)
        others = self.caused * (1 - rival) + self.one_sided
        kinds = [self.caused * rival] + [others * s for s in _OTHER]
        self.points = [sum(k * p for k, p in zip(kinds, _POINTS, strict=True)), *self.points[:-1]]
        return kinds


class Buyer(mesa.Agent):
    """A US wholesaler or distributor buying from one organization."""

    def __init__(self, model: CartelModel, index: int, supplier: Organization, volume: float) -> None:
        super().__init__(model)
        self.index = index
        self.key = _item_key(index)
        self.supplier = supplier
        self.volume = volume


class CartelModel(mesa.Model):
    """Replicate ``replicate`` of ``scenario.run.seed`` under ``policy``, one ``step()`` a month."""

    def __init__(self, world: World, scenario: Scenario, policy: str, replicate: int = 0, *,
                 flow_factor: float | None = None, detail: bool = False) -> None:  # fmt: skip
        key = replicate_keys(scenario.run.seed, 1, replicate)[0]
        super().__init__(seed=int(key >> np.uint64(32)))  # Mesa's own generator: not used
        self.key = key
        self.world, self.scenario, self.policy, self.detail = world, scenario, policy, detail
        self.parts = check_policy(policy)
        self.V, self.E, self.X, self.P, self.C = (
            scenario.violence,
            scenario.enforcement,
            scenario.economy,
            scenario.people,
            scenario.channels,
        )
        if "caribbean" in self.parts and flow_factor is None:
            from vdto.routes.lever import mexico_flow_factor

            flow_factor = mexico_flow_factor(self.E.caribbean_change)
        self.flow_after = float(flow_factor) if "caribbean" in self.parts else 1.0
        self.months = scenario.run.months
        self.focal_month = min(self.E.start_month, self.months - 1)
        self.levels = np.asarray(self.V.levels, dtype=float)
        self.n0 = world.n_orgs
        self.n_slots = self.n0 + scenario.world.splinter_slots
        enforcing = [p for p in self.parts if p in ("volume", "kingpin", "targeted", "regional")]
        self.share = self.E.capacity / len(enforcing) if enforcing else 0.0

        # units, from the world at the start (the engine's constants, computed the same way)
        n_buyers = len(world.volume)
        volume = world.volume / world.volume.mean() * (world.value.sum() / max(n_buyers, 1))
        money = self.X.territory_revenue * world.value.sum() + self.X.buyer_revenue * volume.sum()
        members0 = float(world.members.sum())
        young = float(world.young.sum())
        self.scale = money / self.n0  # money unit: a founder's mean revenue with every plaza held
        self.member_unit = members0 / self.n0
        self.revenue_per_member = money / members0
        self.pool0 = young / (young + self.P.pool_half * members0)
        self.h0 = world.hostility.tolist()

        # plazas, neighbour pairs, states
        self.plazas = [Plaza(m, world) for m in range(world.n_plazas)]
        self.pairs = [
            (self.plazas[a], self.plazas[b])
            for a, b in zip(world.src.tolist(), world.dst.tolist(), strict=True)
        ]
        for a, b in self.pairs:
            a.neighbours.append(b)
        self.pair_keys = item_keys(np.arange(len(self.pairs)))
        self.pair_key = self.pair_keys.tolist()
        self.n_states = world.n_states
        self.state_key = item_keys(np.arange(self.n_states) + (1 << 40)).tolist()
        self.state_baseline = [0.0] * self.n_states
        for p in self.plazas:
            self.state_baseline[p.state] += p.baseline
        self.plaza_key = [_item_key(m) for m in range(len(self.plazas))]

        # organizations: the founders, then splinters in the slots after them
        self.slots: list[Organization] = []  # every organization ever, by slot (the dismantled too)
        for i, (members, okey) in enumerate(
            zip(world.members.tolist(), world.org_keys.tolist(), strict=True)
        ):
            self.slots.append(Organization(self, i, members, self.V.start, i, okey))
        for p, o in zip(self.plazas, startmap.draw(world, np.array([key]))[0].tolist(), strict=True):
            p.owner = self.slots[o] if o >= 0 else None
        self.start_held = [sum(1 for p in self.plazas if p.owner is org) for org in self.slots]
        suppliers = world.supplier.tolist()
        self.buyers = [Buyer(self, b, self.slots[suppliers[b]], v) for b, v in enumerate(volume.tolist())]
        self.next_slot = self.n0
        self.blocked = 0
        self.struck: Organization | None = None  # a kingpin strike's organization that splits this month

        self.focal = 0  # slot of the largest organization by revenue when the policy starts
        self.focal_baseline = 0.0
        self.target: Organization | None = None
        self.first_named: Organization | None = None
        self.on, self.flow, self.exposed = False, 1.0, 0.0

        reporters = {name: name for name in (
            "homicides", "homicides_state", "homicides_source", "deaths_kind", "members", "recruits", "arrests",
            "members_killed", "alive", "splits", "splits_blocked", "dismantled", "revenue", "target_slot",
            "focal_deaths", "rival_violence", "violence_mean",
        )}  # fmt: skip
        if detail:
            reporters |= {
                "org_violence": lambda m: (
                    [o.violence if o.alive else math.nan for o in m.slots]
                    + [math.nan] * (m.n_slots - len(m.slots))
                ),
                "org_points": lambda m: [o.points[0] for o in m.slots] + [0.0] * (m.n_slots - len(m.slots)),
                "org_members": lambda m: [o.members for o in m.slots] + [0.0] * (m.n_slots - len(m.slots)),
            }
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    # -- helpers
    def organizations(self) -> list[Organization]:
        """The organizations alive (the model's Organization agents), in slot order."""
        agents = self.agents_by_type.get(Organization)
        return sorted(agents, key=lambda o: o.slot) if agents else []

    def month_key(self, t: int, stream: Stream) -> int:
        return int(month_keys(self.key, t, stream))

    def hostility(self, a: Organization, d: Organization) -> float:
        """Between two of one lineage, kin hostility; else the founders' (1 rivals, 0.5 neutral, 0.1 allies)."""
        return self.V.kin_hostility if a.root == d.root else self.h0[a.root][d.root]

    # -- one month
    def step(self) -> None:
        t = self.steps - 1
        self.on = t >= self.E.start_month
        self.flow = self.flow_after if self.on else 1.0
        orgs = self.organizations()
        for o in self.slots:  # the dismantled too: they cause nothing from now on
            o.clear_month()
        self._revenue(t, orgs)
        self._frontier(orgs)
        self._choose_violence(orgs)
        self._clashes(t)
        self._killings(t, orgs)
        kinds = [o.score_month() for o in self.slots]
        self.deaths_kind = [sum(k[j] for k in kinds) for j in range(len(KINDS))]
        self._enforce(t)
        self._people(t)
        if "regional" in self.parts:
            for p in self.plazas:
                p.last_deaths = p.clash_deaths + p.one_sided
        self._record()
        self.datacollector.collect(self)

    def _revenue(self, t: int, orgs: list[Organization]) -> None:
        for p in self.plazas:
            p.start_owner = p.owner  # one-sided killings happen in the plazas held at the start
            if p.owner is not None:
                p.owner.territory += p.value
                p.owner.young_held += p.young
        for b in self.buyers:
            if b.supplier.alive:
                b.supplier.buyer_volume += b.volume
        for o in orgs:
            o.collect_revenue()
        self.revenue = sum(o.revenue for o in orgs)
        if t == self.focal_month:
            focal = _first_max(orgs, lambda o: o.revenue)
            self.focal = focal.slot if focal is not None else 0
            for p in self.plazas:
                p.focal = p.owner is not None and p.owner.slot == self.focal
            self.focal_baseline = sum(p.baseline for p in self.plazas if p.focal)

    def _frontier(self, orgs: list[Organization]) -> None:
        """The hostile pairs (the source's owner attacks a plaza held by another or by nobody)
        and the four frontier sums of each organization."""
        force = {o: o.strength * o.violence for o in orgs}
        surge = {o: o.surge for o in orgs}
        self.hostile = []
        for e, (src, dst) in enumerate(self.pairs):
            a, d = src.owner, dst.owner
            if a is None or a is d:
                continue
            self.hostile.append(e)
            if d is None:  # an empty plaza: no defender, hostility 1
                a.fv += dst.value
            else:
                vh = dst.value * self.hostility(a, d) * surge[d]
                a.fv += vh
                a.rs += vh * force[d]
                d.pv += vh
                d.ap += vh * force[a]
        for o in orgs:
            o.rs /= max(o.fv, 1e-12)
            o.ap /= max(o.pv, 1e-12)

    def _choose_violence(self, orgs: list[Organization]) -> None:
        if self.on and "targeted" in self.parts:
            self._named_ahead(orgs)
        if self.on and "regional" in self.parts:
            self.exposed = sum(o.violence * o.fv for o in orgs) + 1e-9
        self.agents_by_type[Organization].do("choose_violence")

    def _named_ahead(self, orgs: list[Organization]) -> None:
        """Each organization's discounted chance of being named in the coming rounds, per level:
        ``sum_k w_k P(k others above it)`` over the contenders (the organizations with the highest
        attainable scores), a Poisson-binomial of normal approximations of the score noise."""
        E, P = self.E, self.P
        base = {o: sum(o.points[:-1]) for o in orgs}
        mean_recent = sum(o.points[0] for o in orgs) / max(len(orgs), 1)  # over the alive organizations
        per_unit = {
            o: o.points[0] / max(o.violence, 1e-9) if o.violence > 0 else mean_recent + 1e-9 for o in orgs
        }
        tgt = self.target
        if tgt is None:
            to_fall = E.fall_months
        else:
            shrink = tgt.members_prev - tgt.members
            left = max(tgt.members - P.dismantle_below, 0.0)
            to_fall = left / max(shrink, 1e-9) if shrink > 0 else MAX_FALL
            to_fall = min(max(to_fall, 1.0), MAX_FALL)
        months = [0.0] + [to_fall + (k - 1) * E.fall_months for k in range(1, E.lookahead_rounds)]
        weights = (E.discount ** np.array(months)).tolist()
        top = {o: base[o] + per_unit[o] * float(self.levels[-1]) for o in orgs}
        expected = {o: base[o] + per_unit[o] * o.violence for o in orgs}
        # ties by key, never by position
        contenders = sorted(orgs, key=lambda o: (-top[o], o.key))[: E.lookahead_rounds + CONTENDERS_EXTRA]
        for o in orgs:
            weigh = self.C.restraint if o is tgt else self.C.deterrence
            ahead = [0.0] * len(self.levels)
            if o in contenders and weigh:
                for li, level in enumerate(self.levels.tolist()):
                    x = base[o] + per_unit[o] * level
                    dist = [1.0] + [0.0] * (len(weights) - 1)  # P(k others above), k < rounds
                    for other in contenders:
                        if other is o:
                            continue
                        y = expected[other]
                        p = _phi((y - x) / (E.score_noise * math.sqrt(x * x + y * y) + 1e-9))
                        for k in range(len(dist) - 1, 0, -1):
                            dist[k] = dist[k] * (1.0 - p) + dist[k - 1] * p
                        dist[0] *= 1.0 - p
                    acc = 0.0
                    for w, d in zip(weights, dist, strict=True):
                        acc += w * d
                    ahead[li] = acc
            o.named_ahead = np.array(ahead)

    def _clashes(self, t: int) -> None:
        """Attacks on the hostile pairs (a draw below attack rate x violence x hostility x
        surge), wins (below that x the contest's success), Poisson homicides; plazas change hands
        after the loop, each to the winner with the smallest draw."""
        V = self.V
        u_attack = uniform_from(month_keys(self.key, t, Stream.ATTACK), self.pair_keys).tolist()
        clash_key = self.month_key(t, Stream.CLASH)
        self.clash_state = [0.0] * self.n_states
        self.clash_total = 0.0
        self.focal_clash = 0.0
        for p in self.plazas:
            p.clash_deaths = 0.0
        won: dict[Plaza, tuple[float, Organization]] = {}
        for e in self.hostile:
            src, plaza = self.pairs[e]
            a, d = src.owner, plaza.owner
            u = u_attack[e]
            va = a.violence
            attack_p = V.attack_rate * va * (1.0 if d is None else self.hostility(a, d) * d.surge)
            if not u < attack_p:
                continue
            a_force = a.strength * va
            d_force = 0.0 if d is None else d.strength * d.violence
            win_p = a_force / (a_force + d_force + V.incumbent)
            vd = 0.0 if d is None else d.violence
            k = kernels.poisson(
                V.deaths_per_clash * (va + vd), np.uint64(_mix64(clash_key ^ self.pair_key[e]))
            )
            frac_a = va / max(va + vd, 1e-12) if va + vd > 0 else 1.0
            a.caused += k * frac_a
            if d is not None:
                d.caused += k * (1.0 - frac_a)
                d.lost += k * frac_a * min(max(V.rival_share - V.rival_share_drop * va, 0.0), 1.0)
                a.lost += k * (1.0 - frac_a) * min(max(V.rival_share - V.rival_share_drop * vd, 0.0), 1.0)
            plaza.clash_deaths += k
            self.clash_state[plaza.state] += k
            self.clash_total += k
            if plaza.focal:
                self.focal_clash += k
            if u < attack_p * win_p and (plaza not in won or u < won[plaza][0]):
                won[plaza] = (u, a)
        for plaza, (_, a) in won.items():
            plaza.owner = a

    def _killings(self, t: int, orgs: list[Organization]) -> None:
        """One-sided killings: one Poisson per (organization, state) of mean ``one_sided x``
        violence x people in the plazas it held there at the start of the month / 100,000;
        baseline homicides: one Poisson per state."""
        rate = self.V.one_sided / 1e5
        people = {o: [0.0] * self.n_states for o in orgs}
        people_focal = {o: [0.0] * self.n_states for o in orgs}
        for p in self.plazas:
            o = p.start_owner
            p.one_sided = 0.0
            if o is None:
                continue
            people[o][p.state] += p.population
            if p.focal:
                people_focal[o][p.state] += p.population
            p.one_sided = o.violence * p.population * rate  # expected (regional policy)
        key = self.month_key(t, Stream.ONE_SIDED)
        self.one_sided_state = [0.0] * self.n_states
        self.focal_one_sided = 0.0
        for o in orgs:
            for s in range(self.n_states):
                lam = rate * o.violence * people[o][s]
                if lam > 0.0:
                    k = kernels.poisson(lam, np.uint64(_mix64(key ^ o.key ^ self.state_key[s])))
                    o.one_sided += k
                    self.one_sided_state[s] += k
                    if people_focal[o][s] > 0.0:
                        self.focal_one_sided += k * people_focal[o][s] / people[o][s]
        key = self.month_key(t, Stream.BASELINE)
        self.baseline_state = [
            kernels.poisson(self.state_baseline[s], np.uint64(_mix64(key ^ self.state_key[s])))
            for s in range(self.n_states)
        ]

    # -- enforcement
    def _enforce(self, t: int) -> None:
        self.target_slot = -1
        if not self.on:
            return
        orgs = self.organizations()
        if "volume" in self.parts:
            total = max(sum(o.revenue for o in orgs), 1e-12)
            for o in orgs:
                o.hit += self.share * o.revenue / total
        if "targeted" in self.parts:
            self._targeted(t, orgs)
        if "regional" in self.parts:
            self._regional()
        if "kingpin" in self.parts:
            self._kingpin(t, orgs)

    def _targeted(self, t: int, orgs: list[Organization]) -> None:
        """Name the top of the published score (points of the last months x max(0, 1 + noise x a
        normal drawn per organization key)); arrest its members; some of its buyers switch to the
        organization with the lowest published score."""
        k1, k2 = self.month_key(t, Stream.SCORE_NOISE), self.month_key(t, Stream.SCORE_NOISE_2)
        u1 = np.array([_unit(_mix64(k1 ^ o.item_key)) for o in orgs])
        u2 = np.array([_unit(_mix64(k2 ^ o.item_key)) for o in orgs])
        eps = (np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)).tolist()
        published = {
            o: sum(o.points) * max(1.0 + self.E.score_noise * e, 0.0) for o, e in zip(orgs, eps, strict=True)
        }
        target = _first_max(orgs, published.get)
        self.target = target
        if target is None:
            return
        self.target_slot = target.slot
        if self.first_named is None:
            self.first_named = target
        if self.C.incapacitation:
            target.hit += self.share
        if self.C.buyers:
            cleanest = None
            for o in orgs:
                if o is not target and (cleanest is None or published[o] < published[cleanest]):
                    cleanest = o
            key = self.month_key(t, Stream.BUYER_SWITCH)
            for b in self.buyers:
                u = _unit(_mix64(key ^ b.key))
                if b.supplier is target and u < self.E.buyer_switch and cleanest is not None:
                    b.supplier = cleanest

    def _regional(self) -> None:
        """Capacity on the organizations holding last month's most violent plazas (the
        ``hot_plazas`` with most deaths and every plaza tied with the last of them), in
        proportion to the deaths there."""
        k = min(self.E.hot_plazas, len(self.plazas))
        kth = sorted((p.last_deaths for p in self.plazas), reverse=True)[k - 1]
        hot = [p for p in self.plazas if p.owner is not None and p.last_deaths > 0 and p.last_deaths >= kth]
        total = max(sum(p.last_deaths for p in hot), 1e-12)
        for p in hot:
            p.owner.hit += self.share * p.last_deaths / total

    def _kingpin(self, t: int, orgs: list[Organization]) -> None:
        """Capacity on the largest organization by revenue; every ``strike_interval`` months a
        strike removes its leader (and a share of its members), opens a succession fight and
        may split it."""
        E = self.E
        struck = _first_max(orgs, lambda o: o.revenue)
        if struck is None:
            return
        struck.hit += self.share
        if (t - E.start_month) % E.strike_interval == 0:
            struck.hit += E.strike_hit * struck.members
            struck.succession = E.succession_months
            if _unit(_mix64(self.month_key(t, Stream.KINGPIN) ^ _item_key(0))) < E.splinter_probability:
                self.struck = struck  # it splits with the month's other splits, after the arrests

    # -- people
    def _people(self, t: int) -> None:
        """Arrests (status quo in proportion to members, and the policy's), recruitment from
        revenue and the young men in the plazas held, members killed; then splits and dismantling."""
        P = self.P
        orgs = self.organizations()
        total = max(sum(o.members for o in orgs), 1e-12)
        self.recruits, self.arrests, self.members_killed = 0.0, 0.0, 0.0
        for o in self.slots:
            o.members_prev = o.members
        for o in orgs:
            n = o.members
            policy = min(o.hit, n)
            arrested = min(P.arrests * n / total + policy, n)
            per_member = o.revenue / max(n, 1e-12) / self.revenue_per_member
            pool = o.young_held / (o.young_held + P.pool_half * max(n, 1e-12)) / self.pool0
            recruits = P.recruitment * n * min(per_member, 3.0) ** P.revenue_elasticity * pool
            o.weakness = o.weakness * (11.0 / 12.0) + policy / max(n, 1e-12)
            o.members = max(n - arrested - min(o.lost, n), 0.0) + recruits
            o.hazard = P.defection * o.members / P.split_share + P.enforcement_split * policy / max(n, 1e-12)
            self.recruits += recruits
            self.arrests += arrested
            self.members_killed += o.lost
        # splits: a hazard that grows with size (Prieto-Curiel et al.'s fragmentation) and with
        # enforcement; the draw is keyed by the organization's key
        key = self.month_key(t, Stream.SPLIT)
        splitting = [o for o in orgs if _unit(_mix64(key ^ o.item_key)) < o.hazard or o is self.struck]
        for o in sorted(splitting, key=lambda o: o.key):  # slots in the order of the parents' keys
            self._split(t, o, succession=o is self.struck)
        self.struck = None
        self._dismantle()
        for o in self.organizations():
            o.succession = max(o.succession - 1, 0)

    def _split(self, t: int, parent: Organization, *, succession: bool) -> None:
        """A new organization (same lineage) takes a contiguous ``split_share`` of the parent's
        plazas, that share of its members and each of its buyers with that probability."""
        if self.next_slot >= self.n_slots:
            self.blocked += 1
            return
        j = self.next_slot
        self.next_slot += 1
        share = self.P.split_share
        own = [p for p in self.plazas if p.owner is parent]
        want = round(len(own) * share)
        child_key = _mix64(parent.key ^ _mix64(((t * 1024 + j) * _GOLDEN) & _MASK))
        child = Organization(self, j, parent.members * share, parent.violence, parent.root, child_key)
        parent.members *= 1.0 - share
        child.members_prev = parent.members_prev * share
        parent.members_prev *= 1.0 - share
        child.weakness = parent.weakness
        if succession:
            child.succession = self.E.succession_months
        self.slots.append(child)
        if want > 0:
            key = self.month_key(t, Stream.SPLINTER_PLAZAS) ^ parent.key
            u = {p: _unit(_mix64(key ^ self.plaza_key[p.index])) for p in own}
            for p in self._contiguous_part(parent, want, own, u):
                p.owner = child
        key = self.month_key(t, Stream.SPLINTER_BUYERS) ^ parent.key
        for b in self.buyers:
            if b.supplier is parent and _unit(_mix64(key ^ b.key)) < share:
                b.supplier = child

    @staticmethod
    def _contiguous_part(parent: Organization, want: int, own: list[Plaza], u: dict) -> list[Plaza]:
        """``want`` of the parent's plazas, grown from its plaza with the smallest draw ring by ring
        through its own neighbours (each ring in the order of their draws), from the untaken plaza
        with the smallest draw when the part has no untaken neighbour left."""
        taken: list[Plaza] = []
        seen: set[Plaza] = set()
        while len(taken) < want:
            rest = [p for p in own if p not in seen]
            if not rest:
                break
            seed = min(rest, key=u.get)
            seen.add(seed)
            taken.append(seed)
            ring_from = len(taken) - 1
            while len(taken) < want:
                ring = []
                for p in taken[ring_from:]:
                    for q in p.neighbours:
                        if q.owner is parent and q not in seen:
                            seen.add(q)
                            ring.append(q)
                if not ring:
                    break
                ring_from = len(taken)
                for q in sorted(ring, key=u.get):
                    if len(taken) < want:
                        taken.append(q)
                    else:
                        seen.discard(q)
        return taken

    def _dismantle(self) -> None:
        """Below ``dismantle_below`` members an organization is dismantled: it leaves the model,
        its plazas are left empty and its buyers go to the largest organization left."""
        gone = [o for o in self.organizations() if o.members < self.P.dismantle_below]
        if not gone:
            return
        for o in gone:
            o.alive = False
            o.members = 0.0
            o.violence = 0.0
            o.remove()
        for p in self.plazas:
            if p.owner is not None and not p.owner.alive:
                p.owner = None
        largest = _first_max(self.organizations(), lambda o: o.members)
        if largest is not None:
            for b in self.buyers:
                if b.supplier in gone:
                    b.supplier = largest

    # -- records
    def _record(self) -> None:
        orgs = self.organizations()
        self.homicides_state = [
            c + o + b
            for c, o, b in zip(self.clash_state, self.one_sided_state, self.baseline_state, strict=True)
        ]
        self.homicides = sum(self.homicides_state)
        self.homicides_source = [self.clash_total, sum(self.one_sided_state), sum(self.baseline_state)]
        self.focal_deaths = self.focal_clash + self.focal_one_sided + self.focal_baseline
        self.members = sum(o.members for o in orgs)
        self.alive = len(orgs)
        self.splits = self.next_slot - self.n0
        self.splits_blocked = self.blocked
        self.dismantled = self.next_slot - len(orgs)
        self.violence_mean = sum(o.violence for o in orgs) / len(orgs) if orgs else math.nan
        self.rival_violence = math.nan
        if self.on:
            first = self.first_named.slot if self.first_named is not None else self.focal
            others = [o.violence for o in orgs if o.slot != first]
            self.rival_violence = sum(others) / len(others) if others else math.nan


def run_reference(
    world: World,
    scenario: Scenario,
    policy: str,
    *,
    replicates: int | None = None,
    first: int = 0,
    flow_factor: float | None = None,
    detail: bool = False,
) -> Outputs:
    """Run replicates ``first .. first + replicates - 1`` for the scenario's months, one
    CartelModel each, and stack their DataCollector records into the arrays of
    :func:`vdto.sim.engine.simulate` (``detail``: the per-slot arrays too)."""
    R = scenario.run.replicates if replicates is None else replicates
    T = scenario.run.months
    if "caribbean" in check_policy(policy) and flow_factor is None:  # a route solve: once, not per replicate
        from vdto.routes.lever import mexico_flow_factor

        flow_factor = mexico_flow_factor(scenario.enforcement.caribbean_change)
    frames, focal, start_held = [], [], []
    for r in range(first, first + R):
        model = CartelModel(world, scenario, policy, r, flow_factor=flow_factor, detail=detail)
        for _ in range(T):
            model.step()
        frames.append(model.datacollector.get_model_vars_dataframe())
        focal.append(model.focal)
        start_held.append(model.start_held[: world.n_orgs])

    def column(col: str, dtype=np.float64) -> np.ndarray:
        """(replicates, months) or, for a list a month, (replicates, months, length)."""
        return np.array([f[col].to_list() for f in frames], dtype=dtype)

    def per_org(col: str) -> np.ndarray:
        return column(col) if detail else np.zeros((R, T, 0))

    return Outputs(
        homicides=column("homicides"),
        homicides_state=column("homicides_state", np.float32),
        homicides_source=column("homicides_source"),
        deaths_kind=column("deaths_kind"),
        members=column("members"),
        recruits=column("recruits"),
        arrests=column("arrests"),
        members_killed=column("members_killed"),
        alive=column("alive", np.int64),
        splits=column("splits", np.int64),
        splits_blocked=column("splits_blocked", np.int64),
        dismantled=column("dismantled", np.int64),
        revenue=column("revenue"),
        target=column("target_slot", np.int64),
        focal_deaths=column("focal_deaths"),
        rival_violence=column("rival_violence"),
        violence_mean=column("violence_mean"),
        focal=np.array(focal, dtype=np.int64),
        start_held=np.array(start_held, dtype=np.int64).reshape(R, world.n_orgs),
        org_violence=per_org("org_violence"),
        org_points=per_org("org_points"),
        org_members=per_org("org_members"),
        homicides_municipal=np.zeros((R, 0, 0), np.float32),  # the municipal panel is not ported
        lineage_deaths=np.zeros((R, 0, world.n_orgs)),
        strike_role=np.zeros((R, 0, 0), np.int8),
    )


__all__ = ["Buyer", "CartelModel", "Organization", "Plaza", "run_reference"]
