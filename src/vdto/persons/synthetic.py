"""Synthetic person-level case files: cells, persons, links and ties drawn over real or synthetic events.

Real person-level case files (who belongs to which cell, who is suspected of which event) are not
public, so the tests, the benchmarks and the demo use case files drawn by :func:`generate` over a
window's events and their attribution probabilities (the frames of
:class:`vdto.scoring.engine.ScoreResult`). Everything in them is made up: identifiers are
``SYN-0000001`` (persons) and ``SYN-C-00001`` (cells), and no person has a name.

The generative model, in order (every number below is a parameter of :class:`Assumptions`):

1. **Who did each event.** Each event is given to one organization with its attribution
   probabilities (a uniform ``u`` per event; the organization is the first whose cumulative
   probability exceeds ``u``, as in the scoring engine's Monte Carlo), or to nobody with the rest
   of the probability; an event given to nobody gets no persons.
2. **Cells.** Each organization with attributed events gets ``max(1, round(E / events_per_cell))``
   cells, ``E`` its expected number of events (the sum of its probabilities); when ``persons`` is
   given, the total number of cells is ``persons / members_per_cell`` instead, shared out in
   proportion to ``E``. Each cell's share of its organization's events is Pareto
   (``cell_share_shape``), so a few cells carry most of an organization's violence. The cells are
   territorial: an organization's events, sorted by state, municipality and date, are cut into
   consecutive runs of those shares; a cell's region is the modal INEGI state of its events.
3. **Persons.** A cell's number of members is one plus a multinomial share of the rest, in
   proportion to the cell's events (so the members per event are alike across cells and the
   person-level concentration comes from the persons' propensities, not from the cells); cell
   sizes are as heavy-tailed as the cells' shares. Each person has a propensity to take part in
   violence, Pareto with shape ``activity_shape`` (scale 1).
4. **Participants.** ``1 + Poisson(participants_mean - 1)`` persons take part in each event
   (never more than its cell has), drawn from the event's cell with probabilities proportional to
   their propensities, without replacement (successive sampling: the ``j``-th participant is
   drawn with the first ``j`` taken out, so however skewed a cell no draw is wasted). With
   ``links`` given, the Poisson mean is ``links / events - 1`` and the counts are then moved up or
   down (a multivariate hypergeometric draw over the events' room) so that the total is exact.
5. **Links.** Each participation is a link, of kind suspect, arrested, charged or convicted
   (``kind_mix``), with the analyst's confidence drawn from a Beta distribution per kind
   (``confidence_beta``), rounded to three decimals.
6. **Ties.** Two persons who share an event are tied, with weight the number of events they share
   (co-offending); brokers add ties between members of different cells of the same organization,
   ``cross_cell_tie_share`` of all ties, weight 1. The brokers are ``broker_share`` of the
   members of organizations with two cells or more (and each such organization's most active
   member); a broker tie joins a broker of the organization and a member of another of its cells,
   both drawn uniformly.
7. **Roles.** One leader per cell, drawn in proportion to ``propensity ** leader_activity_power``
   (a leader is not necessarily the most active member); one or two lieutenants
   (``lieutenant_two_share``) in proportion to propensity; brokers who hold no such rank are
   associates; everyone else is a member.
8. **Dates.** A membership starts ``1 + Exponential(lead_days_mean)`` days before the person's
   first linked event (a person without links joins at a uniform day from ``lead_days_mean``
   days before the window to its end); ``ended_share`` of memberships end, on or after the last
   linked event, ``Exponential(tail_days_mean)`` days later but no later than the window's last
   day; the others are still running. ``prior_membership_share`` of the persons of organizations
   with two or more cells had an earlier membership in another cell of the same organization,
   lasting ``Exponential(lead_days_mean)`` days and ending ``1 + Exponential(gap_days_mean)`` days
   before the current one starts, so memberships never overlap.

**Concentration.** The one number the model is built to reproduce is how concentrated violence is
among persons: :data:`CONCENTRATION_TARGET` says the top 10% of persons hold half of the
person-level violence. The order of magnitude comes from the focused-deterrence literature:
Kennedy, Braga, Piehl & Waring; Braga, Kennedy, Piehl & Waring (2001), *Reducing Gun Violence:
The Boston Gun Project's Operation Ceasefire*, NIJ Research Report NCJ 188741 (with Braga,
Kennedy, Waring & Piehl 2001 in the Journal of Research in Crime and Delinquency), found that some
61 gangs of about 1,300 members, around 1% of the city's youth of that age, accounted for about
60% of Boston's youth homicides; the Group Violence Intervention's group audit (National Network
for Safe Communities) finds the same pattern city after city, a few hundred group members, a
fraction of a percent of the population, tied to half or more of the homicides and shootings. The
target is a round number of that order for the persons in an organization's case files, not a
measured value. For a Pareto distribution of shape ``alpha`` the share held by the top ``p`` is
``p ** (1 - 1/alpha)``, so a top-10% share of 0.5 gives
``alpha = 1 / (1 - log 0.5 / log 0.1) ~ 1.43`` (:func:`pareto_shape_for`, :data:`ACTIVITY_SHAPE`).
The realised share (:func:`concentration`: each person's sum over links of the event's weight x
the attribution probability x the link's confidence, a simple proxy) also carries the variation of
the events' weights, the cells' sizes and the chance of who takes part in which event, so with
``calibrate`` (the default) the shape is then moved, within ``calibration_bounds``, until the
realised share is within ``calibration_tolerance`` of the target (regula falsi on common random
numbers: only who fills each event's places changes). Where the target is out of reach, the bound
closest to it is kept and ``meta`` says so (``concentration``, ``activity_shape_used``). Two
things pull the other way: a cell's members share its events, so a very active person's share is
capped by the events of the cell (the within-cell top 10% of a small heavy-tailed sample holds
less than the population's), and the events' weights are heavy-tailed (on the bundled UCDP events
of 2021 the top 10% of events hold 70% of the weight), so a person with few links holds what
chance gave. The defaults give a person about 14 links (``events_per_cell x participants_mean /
members_per_cell``), enough for both to roughly cancel: on the UCDP events of 2021 the closed-form
shape gives 0.51-0.57 and the calibrated shapes are 1.4-2.4 (seeds 0-4); on 400 events of equal
weight it gives 0.30-0.37 and the calibrated shapes are 0.66-1.07 (a shape under 1, whose mean is
infinite, is allowed: only the propensities' ratios within a finite cell matter). With far fewer
links per person the events' weights decide the concentration whatever the shape. With
``calibrate=False`` the closed-form shape is used as it is.

**These numbers are assumptions, not estimates from Mexican data.** No public person-level data
on Mexican criminal organizations exists to estimate them from; the concentration target borrows
the order of magnitude of US street-group studies, and the cell sizes, the participants per event,
the mix of link kinds and their confidences, the share of broker ties and the membership dates are
plausible guesses chosen to exercise the person-level scoring, not findings. Nothing computed on
synthetic case files says anything about real persons.

Everything is drawn from ``numpy.random`` generators seeded by ``SeedSequence(seed, spawn_key=
(stream,))``, one named stream per step, with no global state: the same seed and inputs give
identical frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.files import atomic_write, csv_safe

GENERATOR_VERSION = "1"

#: (share of persons, share of the person-level violence they hold): the documented target.
CONCENTRATION_TARGET: tuple[float, float] = (0.10, 0.50)

KINDS: tuple[str, ...] = ("suspect", "arrested", "charged", "convicted")

#: The named random streams, one per step (their positions are the SeedSequence spawn keys).
_STREAMS: tuple[str, ...] = (
    "attribution",
    "cells",
    "members",
    "propensity",
    "participants",
    "links",
    "roles",
    "dates",
    "brokers",
    "prior",
    "who",
)

_NONE = -1


def pareto_shape_for(persons_share: float, violence_share: float) -> float:
    """The Pareto shape whose top ``persons_share`` holds ``violence_share`` of the total.

    For a Pareto distribution of shape ``alpha > 1`` the top ``p`` share holds ``p ** (1 - 1/alpha)``
    of the total, so ``alpha = 1 / (1 - log(s) / log(p))``.

    >>> round(pareto_shape_for(0.10, 0.50), 4)
    1.4307
    """
    if not (0 < persons_share < 1 and persons_share < violence_share < 1):
        raise ValueError("need 0 < persons_share < violence_share < 1")
    return 1.0 / (1.0 - math.log(violence_share) / math.log(persons_share))


#: Pareto shape of the persons' propensities that gives :data:`CONCENTRATION_TARGET` (~1.43).
ACTIVITY_SHAPE: float = pareto_shape_for(*CONCENTRATION_TARGET)


@dataclass(frozen=True)
class Assumptions:
    """Every parameter of the generator, with its meaning. All are assumptions, not estimates.

    Attributes
    ----------
    events_per_cell
        Expected attributed events per cell: an organization with ``E`` expected events gets
        ``max(1, round(E / events_per_cell))`` cells (unless ``persons`` is given).
    members_per_cell
        Mean members per cell: the default number of persons is this times the number of cells;
        with ``persons`` given, the number of cells is ``persons / members_per_cell``. With the
        other defaults a person has about 14 links (with few links per person the realised
        concentration follows the events' weights more than the persons' propensities).
    cell_share_shape
        Pareto shape of a cell's share of its organization's events (and so of its size): the
        smaller, the more heavy-tailed the cell sizes.
    activity_shape
        Pareto shape of a person's propensity to take part in violence, chosen so the top 10% of
        persons hold half of the person-level violence: ``1 / (1 - log 0.5 / log 0.1) ~ 1.43``
        (see :func:`pareto_shape_for`); the starting point of the calibration.
    participants_mean
        Mean persons per event: ``1 + Poisson(participants_mean - 1)`` take part (at most the
        size of the cell).
    cross_cell_tie_share
        Share of all ties that are broker ties between members of different cells of the same
        organization.
    broker_share
        Share of the members of organizations with two cells or more who are brokers (associates
        unless they lead).
    kind_mix
        Probability of each link kind (suspect, arrested, charged, convicted), in that order.
    confidence_beta
        Beta(a, b) of the analyst's confidence per link kind, in the order of ``kind_mix``: a
        suspicion is uncertain (mean 0.40), an arrest less so (0.65), a charge more (0.80), a
        conviction nearly sure (0.95).
    leader_activity_power
        A cell's leader is drawn in proportion to ``propensity ** leader_activity_power`` (0:
        uniformly, 1: as active members are; leaders order more than they take part).
    lieutenant_two_share
        Share of cells with two lieutenants (the others have one; a cell of one has none).
    lead_days_mean
        Mean days between the start of a membership and the person's first linked event (and mean
        length of a prior membership).
    ended_share
        Share of memberships that have ended (the others run on past the window).
    tail_days_mean
        Mean days between an ended membership's last linked event and its end.
    prior_membership_share
        Share of persons (of organizations with two or more cells) with an earlier membership in
        another cell of the same organization.
    gap_days_mean
        Mean days between the end of a prior membership and the start of the next, minus one.
    calibrate
        Move ``activity_shape`` until the realised concentration hits :data:`CONCENTRATION_TARGET`.
    calibration_tolerance
        How close to the target's violence share the realised share must come.
    calibration_bounds
        The range of shapes the calibration searches.
    """

    events_per_cell: float = 120.0
    members_per_cell: float = 25.0
    cell_share_shape: float = 1.5
    activity_shape: float = ACTIVITY_SHAPE
    participants_mean: float = 3.0
    cross_cell_tie_share: float = 0.10
    broker_share: float = 0.05
    kind_mix: tuple[float, float, float, float] = (0.45, 0.30, 0.15, 0.10)
    confidence_beta: tuple[tuple[float, float], ...] = ((2.0, 3.0), (6.5, 3.5), (8.0, 2.0), (19.0, 1.0))
    leader_activity_power: float = 0.5
    lieutenant_two_share: float = 0.5
    lead_days_mean: float = 365.0
    ended_share: float = 0.3
    tail_days_mean: float = 90.0
    prior_membership_share: float = 0.05
    gap_days_mean: float = 30.0
    calibrate: bool = True
    calibration_tolerance: float = 0.01
    calibration_bounds: tuple[float, float] = (0.5, 64.0)

    def __post_init__(self) -> None:
        positive = ("events_per_cell", "members_per_cell", "cell_share_shape", "lead_days_mean",
                    "tail_days_mean", "gap_days_mean")  # fmt: skip
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if not self.activity_shape > 0:
            raise ValueError("activity_shape must be positive")
        if not self.participants_mean >= 1:
            raise ValueError("participants_mean must be at least 1")
        for name in ("cross_cell_tie_share", "ended_share", "prior_membership_share", "lieutenant_two_share"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1)")
        if (
            len(self.kind_mix) != len(KINDS)
            or min(self.kind_mix) < 0
            or not math.isclose(sum(self.kind_mix), 1)
        ):
            raise ValueError("kind_mix needs four non-negative shares summing to 1")
        if len(self.confidence_beta) != len(KINDS) or min(min(ab) for ab in self.confidence_beta) <= 0:
            raise ValueError("confidence_beta needs four (a, b) pairs of positive numbers")


@dataclass(frozen=True)
class CaseFiles:
    """Raw case files as a user would import them (the case-file format of :mod:`vdto.persons`).

    ``cells``: cell, organization, name, region. ``persons``: person, cell, role, start, end, name
    (one row per membership; ``end`` missing while it lasts; ``name`` always missing here).
    ``links``: person, source, source_id, kind, confidence. ``ties``: person, other, weight
    (``person < other``). ``meta``: the seed, the parameters, the generator's version, the
    concentration target and its realised value, and the counts.
    """

    cells: pd.DataFrame
    persons: pd.DataFrame
    links: pd.DataFrame
    ties: pd.DataFrame
    meta: dict

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``cells.csv``, ``persons.csv``, ``links.csv`` and ``ties.csv`` (UTF-8, dates
        YYYY-MM-DD, empty cells for missing values) into ``folder``, each atomically."""
        folder = Path(folder)
        out = []
        for name, frame in (("cells", self.cells), ("persons", self.persons), ("links", self.links),
                            ("ties", self.ties)):  # fmt: skip
            safe = csv_safe(frame)

            def write(tmp: Path, safe: pd.DataFrame = safe) -> None:
                safe.to_csv(tmp, index=False, encoding="utf-8", date_format="%Y-%m-%d", lineterminator="\n")

            out.append(atomic_write(folder / f"{name}.csv", write, mode=0o644))
        return out


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAMS.index(stream) + 1,)))


def _days(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of a column of dates (date objects, strings or datetimes)."""
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(np.int64)


def _event_frame(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start and end days, weights and location strings (state + municipality) of the events."""
    start = _days(events["date_start"])
    end = _days(events["date_end"].fillna(events["date_start"])) if "date_end" in events else start
    end = np.maximum(start, end)
    weight = events["weight"].to_numpy(float) if "weight" in events else np.ones(len(events))
    state = events["state_code"] if "state_code" in events else pd.Series([None] * len(events))
    return start, end, weight, state.astype(object).where(state.notna(), "").astype(str).to_numpy()


def _attribution(attribution: pd.DataFrame, n_events: int) -> tuple[pd.DataFrame, list[str]]:
    att = attribution[["event", "org", "prob"]].copy()
    att["event"] = att["event"].astype(np.int64)
    att = att[(att["prob"] > 0) & (att["event"] >= 0) & (att["event"] < n_events)]
    att = att.groupby(["event", "org"], as_index=False, sort=True)["prob"].sum()
    orgs = sorted(att["org"].astype(str).unique())
    att["o"] = att["org"].map({o: i for i, o in enumerate(orgs)}).astype(np.int64)
    return att.reset_index(drop=True), orgs


def _prob_of(att: pd.DataFrame, n_orgs: int, event: np.ndarray, org: np.ndarray) -> np.ndarray:
    """The attribution probability of each (event, org index) pair (0 where there is none)."""
    keys = att["event"].to_numpy(np.int64) * n_orgs + att["o"].to_numpy(np.int64)  # sorted
    if keys.size == 0:
        return np.zeros(len(event))
    want = event.astype(np.int64) * n_orgs + org.astype(np.int64)
    pos = np.searchsorted(keys, want).clip(max=keys.size - 1)
    return np.where(keys[pos] == want, att["prob"].to_numpy(float)[pos], 0.0)


def _top_share(values: np.ndarray, top: float) -> float:
    """Share of ``values.sum()`` held by the largest ``top`` share of the values."""
    total = float(values.sum())
    if values.size == 0 or total <= 0:
        return float("nan")
    k = max(1, math.floor(top * values.size + 0.5))
    return float(np.sort(values)[::-1][:k].sum() / total)


def _segment_keys(group: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    """``group + cumulative share of the weight within the group`` for items sorted by group (the
    last of each group exactly ``group + 1``): drawing ``g + u`` and taking the first key above it
    picks an item of group ``g`` in proportion to its weight."""
    total = np.bincount(group, weights=weights, minlength=n_groups)
    csum = np.cumsum(weights)
    first = np.searchsorted(group, np.arange(n_groups))
    before = np.concatenate([[0.0], csum])[first]
    share = (csum - before[group]) / np.where(total > 0, total, 1.0)[group]
    last = np.r_[group[1:] != group[:-1], True] if group.size else np.zeros(0, bool)
    share[last] = 1.0
    return group + share


def _pick(keys: np.ndarray, group: np.ndarray, lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Items drawn from :func:`_segment_keys` keys, one per ``group`` entry, kept in ``[lo, hi)``."""
    return np.clip(np.searchsorted(keys, group + u, side="right"), lo, hi - 1)


def _participants(
    rng: np.random.Generator,
    ev_cell: np.ndarray,
    counts: np.ndarray,
    pkeys: np.ndarray,
    p_cell: np.ndarray,
    cell_lo: np.ndarray,
    cell_hi: np.ndarray,
    propensity: np.ndarray,
    rounds: int = 20,
) -> np.ndarray:
    """``counts[i]`` distinct members of cell ``ev_cell[i]`` for each event, drawn in proportion
    to propensity without replacement (successive sampling), one slot per event and pass: the
    ``j``-th participant is drawn from the cell's propensities with the first ``j`` removed (the
    uniform is scaled to the mass left and stepped over the removed intervals), so no draw is
    rejected however skewed the cell. The rare repeat that rounding leaves is redrawn (after
    ``rounds`` redraws, by exponential keys over the whole cell). Slots are grouped by event."""
    n_d = len(counts)
    if n_d == 0 or counts.sum() == 0:
        return np.zeros(0, np.int64)
    total = np.bincount(p_cell, weights=propensity, minlength=len(cell_lo))
    share = propensity / total[p_cell]
    lo_share = (pkeys - p_cell) - share
    top = int(counts.max())
    chosen = np.zeros((n_d, top), np.int64)
    by_count = np.argsort(-counts, kind="stable")
    n_at = np.searchsorted(-counts[by_count], -np.arange(top), side="left")  # events with > j
    for j in range(top):
        act = by_count[: n_at[j]]
        k = ev_cell[act]
        t = rng.random(act.size)
        if j:
            prev = chosen[act, :j]
            t = t * np.clip(1.0 - share[prev].sum(axis=1), 0.0, 1.0)
            lo = lo_share[prev]
            order = np.argsort(lo, axis=1, kind="stable")
            lo = np.take_along_axis(lo, order, axis=1)
            sh = share[np.take_along_axis(prev, order, axis=1)]
            for c in range(j):
                t = t + np.where(lo[:, c] <= t, sh[:, c], 0.0)
        chosen[act, j] = _pick(pkeys, k, cell_lo[k], cell_hi[k], np.minimum(t, 1.0))
    slot_ev = np.repeat(np.arange(n_d), counts)
    starts = np.concatenate([[0], np.cumsum(counts)])
    person = chosen[slot_ev, np.arange(slot_ev.size) - starts[slot_ev]]
    slot_cell = ev_cell[slot_ev]
    n = max(int(propensity.size), 1)
    active = np.arange(slot_ev.size)
    for _ in range(rounds):
        key = slot_ev[active] * n + person[active]
        order = np.argsort(key, kind="stable")
        ks = key[order]
        dup = active[order[1:][ks[1:] == ks[:-1]]]
        if dup.size == 0:
            return person
        c = slot_cell[dup]
        person[dup] = _pick(pkeys, c, cell_lo[c], cell_hi[c], rng.random(dup.size))
        active = active[np.isin(slot_ev[active], np.unique(slot_ev[dup]))]
    for e in np.unique(slot_ev[active]):
        k = ev_cell[e]
        members = np.arange(cell_lo[k], cell_hi[k])
        race = rng.exponential(size=members.size) / propensity[members]
        person[starts[e] : starts[e + 1]] = members[np.argsort(race, kind="stable")[: counts[e]]]
    return person


def _calibrate(
    fill: Callable[[float], tuple[np.ndarray, np.ndarray, float]],
    alpha: float,
    first: tuple[np.ndarray, np.ndarray, float],
    a: Assumptions,
    evaluations: int = 8,
) -> tuple[float, tuple[np.ndarray, np.ndarray, float], int]:
    """The Pareto shape within ``a.calibration_bounds`` whose realised concentration is within
    ``a.calibration_tolerance`` of the target, the fill it gives and the number of fills.

    Regula falsi (Illinois variant) on ``log(alpha)``, bracketed by the first shape and the
    bound on the side of the target (the concentration falls as the shape grows); every fill uses
    the same random numbers, so fills differ only by the shape. When the bound does not reach the
    target, or after ``evaluations`` fills, the fill closest to the target is kept.
    """
    target, tol = CONCENTRATION_TARGET[1], a.calibration_tolerance
    bound = a.calibration_bounds[1] if first[2] > target else a.calibration_bounds[0]
    out = fill(bound)
    tries = 2
    best = (alpha, first) if abs(first[2] - target) <= abs(out[2] - target) else (bound, out)
    x0, f0 = math.log(alpha), first[2] - target
    x1, f1 = math.log(bound), out[2] - target
    if f0 * f1 > 0:
        return best[0], best[1], tries
    while tries < evaluations and abs(best[1][2] - target) > tol:
        x = (x0 * f1 - x1 * f0) / (f1 - f0) if f1 != f0 else (x0 + x1) / 2
        shape = math.exp(x)
        out = fill(shape)
        tries += 1
        f = out[2] - target
        if abs(f) < abs(best[1][2] - target):
            best = (shape, out)
        if f * f1 < 0:
            x0, f0 = x1, f1
        else:
            f0 /= 2
        x1, f1 = x, f
    return best[0], best[1], tries


def generate(
    events: pd.DataFrame,
    attribution: pd.DataFrame,
    *,
    seed: int,
    persons: int | None = None,
    links: int | None = None,
    assumptions: Assumptions = Assumptions(),
) -> CaseFiles:
    """Synthetic case files over ``events`` and their ``attribution`` (see the module).

    Parameters
    ----------
    events
        The window's events (:attr:`vdto.scoring.engine.ScoreResult.events`): ``source``,
        ``source_id``, ``date_start``, optional ``date_end``, ``state_code``, municipality
        (``mun_code`` or ``municipality_code``) and ``weight`` (1 if absent); row position is the
        event index.
    attribution
        ``event`` (row position in ``events``), ``org`` (registry id), ``prob``
        (:attr:`vdto.scoring.engine.ScoreResult.attribution`).
    seed
        Seed of every draw: the same seed and inputs give identical frames.
    persons, links
        Totals to hit exactly (a benchmark's size); by default they follow from ``assumptions``.
    assumptions
        The model's parameters (:class:`Assumptions`).

    Returns
    -------
    CaseFiles

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"source": "s", "source_id": [str(i) for i in range(200)],
    ...     "date_start": pd.Timestamp("2021-03-01"), "state_code": "14", "weight": 1.0})
    >>> att = pd.DataFrame({"event": range(200), "org": "cjng", "prob": 0.9})
    >>> case = generate(ev, att, seed=1, persons=100, links=400)
    >>> len(case.persons["person"].unique()), len(case.links), case.cells["organization"].unique().tolist()
    (100, 400, ['cjng'])
    """
    a = assumptions
    if persons is not None and persons < 1:
        raise ValueError("persons must be at least 1")
    if links is not None and links < 0:
        raise ValueError("links must be non-negative")
    events = events.reset_index(drop=True)
    n_ev = len(events)
    ev_start, ev_end, weight, state = _event_frame(events)
    mun_col = next((c for c in ("mun_code", "municipality_code") if c in events), None)
    mun = (
        events[mun_col].astype(object).where(events[mun_col].notna(), "").astype(str).to_numpy()
        if mun_col
        else state
    )
    att, orgs = _attribution(attribution, n_ev)
    n_orgs = len(orgs)
    if n_orgs == 0:
        if persons or links:
            raise ValueError("no event is attributed to an organization: there are no cells to fill")
        return _empty(seed, a, persons, links, n_ev)

    # 1. who did each event
    u = _rng(seed, "attribution").random(n_ev)
    a_ev = att["event"].to_numpy(np.int64)
    cum = att.groupby("event")["prob"].cumsum().to_numpy(float)
    hit = cum > u[a_ev]
    hit_ev, first = np.unique(a_ev[hit], return_index=True)
    ev_org = np.full(n_ev, _NONE, np.int64)
    ev_org[hit_ev] = att["o"].to_numpy(np.int64)[hit][first]

    # 2. cells
    expected = np.bincount(att["o"].to_numpy(np.int64), weights=att["prob"].to_numpy(float), minlength=n_orgs)
    if persons is None:
        n_cells = np.maximum(1, np.floor(expected / a.events_per_cell + 0.5)).astype(np.int64)
    else:
        if persons < n_orgs:
            raise ValueError(f"persons ({persons}) must be at least the number of organizations ({n_orgs})")
        total = max(n_orgs, persons / a.members_per_cell)
        n_cells = np.maximum(1, np.floor(expected * total / max(expected.sum(), 1e-300) + 0.5)).astype(
            np.int64
        )
        while n_cells.sum() > persons:  # rounding up can leave fewer persons than cells
            n_cells[np.argmax(n_cells)] -= 1
    n_c = int(n_cells.sum())
    cell_org = np.repeat(np.arange(n_orgs), n_cells)
    org_cell_lo = np.concatenate([[0], np.cumsum(n_cells)])
    rng = _rng(seed, "cells")
    ckeys = _segment_keys(cell_org, rng.pareto(a.cell_share_shape, n_c) + 1.0, n_orgs)
    drawn = np.flatnonzero(ev_org >= 0)
    s_codes = pd.factorize(state[drawn], sort=True)[0]
    m_codes = pd.factorize(mun[drawn], sort=True)[0]
    order = drawn[np.lexsort((drawn, ev_start[drawn], m_codes, s_codes, ev_org[drawn]))]
    o_sorted = ev_org[order]
    n_by_org = np.bincount(o_sorted, minlength=n_orgs)
    rank = np.arange(order.size) - np.concatenate([[0], np.cumsum(n_by_org)])[o_sorted]
    cell_sorted = _pick(ckeys, o_sorted, org_cell_lo[o_sorted], org_cell_lo[o_sorted + 1],
                        (rank + 0.5) / np.maximum(n_by_org[o_sorted], 1))  # fmt: skip
    ev_cell = np.full(n_ev, _NONE, np.int64)
    ev_cell[order] = cell_sorted
    cell_events = np.bincount(cell_sorted, minlength=n_c)

    # 3. persons
    n_p = int(persons) if persons is not None else max(n_c, int(np.floor(a.members_per_cell * n_c + 0.5)))
    rng = _rng(seed, "members")
    size = 1 + rng.multinomial(n_p - n_c, (cell_events + 0.5) / (cell_events + 0.5).sum())
    cell_lo = np.concatenate([[0], np.cumsum(size)])[:-1]
    cell_hi = cell_lo + size
    p_cell = np.repeat(np.arange(n_c), size)
    p_org = cell_org[p_cell]
    u_prop = _rng(seed, "propensity").random(n_p)

    # 4. participants per event (they do not depend on the propensities)
    rng = _rng(seed, "participants")
    d_cell = ev_cell[drawn]
    room = size[d_cell]
    lam = a.participants_mean - 1.0 if links is None else max(0.0, links / max(drawn.size, 1) - 1.0)
    counts = np.minimum(1 + rng.poisson(lam, drawn.size), room).astype(np.int64)
    if links is not None and drawn.size:
        gap = links - int(counts.sum())
        if gap > 0:
            spare = room - counts
            if gap > spare.sum():
                raise ValueError(
                    f"{links} links need more persons than the cells hold ({int(room.sum())} at most)"
                )
            counts += rng.multivariate_hypergeometric(spare, gap, method="marginals")
        elif gap < 0:
            spare = counts - 1 if (counts - 1).sum() >= -gap else counts
            counts -= rng.multivariate_hypergeometric(spare, -gap, method="marginals")
    elif links:
        raise ValueError("no event was drawn for an organization: there is nothing to link")
    l_ev = np.repeat(drawn, counts)

    # 5. links: kinds and confidences per slot, then who fills the slots
    rng = _rng(seed, "links")
    kind = rng.choice(len(KINDS), size=l_ev.size, p=np.asarray(a.kind_mix, float))
    beta = np.asarray(a.confidence_beta, float)
    confidence = np.clip(np.round(rng.beta(beta[kind, 0], beta[kind, 1]), 3), 0.001, 1.0)
    value = weight[l_ev] * _prob_of(att, n_orgs, l_ev, cell_org[ev_cell[l_ev]]) * confidence

    def fill(alpha: float) -> tuple[np.ndarray, np.ndarray, float]:
        prop = (1.0 - u_prop) ** (-1.0 / alpha)  # Pareto(alpha), scale 1, by its inverse CDF
        keys = _segment_keys(p_cell, prop, n_c)
        who = _participants(_rng(seed, "who"), d_cell, counts, keys, p_cell, cell_lo, cell_hi, prop)
        return who, prop, _top_share(np.bincount(who, weights=value, minlength=n_p), CONCENTRATION_TARGET[0])

    alpha, tries = a.activity_shape, 1
    filled = fill(alpha)
    if a.calibrate and abs(filled[2] - CONCENTRATION_TARGET[1]) > a.calibration_tolerance:
        alpha, filled, tries = _calibrate(fill, alpha, filled, a)
    person, propensity, realised = filled

    # 6. ties: co-offending (within an event's slots) and brokers
    pair_a: list[np.ndarray] = []
    pair_b: list[np.ndarray] = []
    starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
    for m in np.unique(counts[counts >= 2]):
        i, j = np.triu_indices(int(m), 1)
        s = starts[counts == m][:, None]
        pair_a.append(person[(s + i).ravel()])
        pair_b.append(person[(s + j).ravel()])
    pa = np.concatenate(pair_a) if pair_a else np.zeros(0, np.int64)
    pb = np.concatenate(pair_b) if pair_b else np.zeros(0, np.int64)
    co_keys, co_weight = np.unique(np.minimum(pa, pb) * n_p + np.maximum(pa, pb), return_counts=True)
    rng = _rng(seed, "brokers")
    multi = n_cells[p_org] >= 2
    share = a.cross_cell_tie_share
    n_cross = int(np.floor(share / (1 - share) * co_keys.size + 0.5)) if multi.any() else 0
    org_persons = np.bincount(p_org, weights=multi.astype(float), minlength=n_orgs)
    org_p_lo = np.searchsorted(p_org, np.arange(n_orgs))
    org_p_hi = np.searchsorted(p_org, np.arange(n_orgs), side="right")
    # the brokers: broker_share of the members of each organization with two cells or more, and
    # its most active member; a broker tie joins a broker and a member of another cell
    pool = multi & (rng.random(n_p) < a.broker_share)
    pool[np.lexsort((-propensity, p_org))[org_p_lo[org_persons > 0]]] = True
    pool_i = np.flatnonzero(pool)
    pool_lo = np.searchsorted(p_org[pool_i], np.arange(n_orgs))
    pool_hi = np.searchsorted(p_org[pool_i], np.arange(n_orgs), side="right")
    x_keys = np.zeros(0, np.int64)
    x_broker = np.zeros(0, np.int64)
    for _ in range(20):  # draw, drop same-cell pairs and repeats, top up
        need = n_cross - x_keys.size
        if need <= 0:
            break
        t_org = rng.choice(n_orgs, size=need, p=org_persons / org_persons.sum())
        broker = pool_i[rng.integers(pool_lo[t_org], pool_hi[t_org])]
        contact = rng.integers(org_p_lo[t_org], org_p_hi[t_org])
        ok = p_cell[broker] != p_cell[contact]
        keys = np.concatenate([x_keys, (np.minimum(broker, contact) * n_p + np.maximum(broker, contact))[ok]])
        _, first_at = np.unique(keys, return_index=True)
        first_at = np.sort(first_at)
        x_keys, x_broker = keys[first_at], np.concatenate([x_broker, broker[ok]])[first_at]
    x_keys, x_broker = x_keys[:n_cross], x_broker[:n_cross]
    x_order = np.argsort(x_keys)
    x_keys, x_broker = x_keys[x_order], x_broker[x_order]
    x_weight = np.ones(x_keys.size)
    t_keys = np.concatenate([co_keys, x_keys])
    t_weight = np.concatenate([co_weight, x_weight]).astype(float)
    t_order = np.argsort(t_keys, kind="stable")
    t_keys, t_weight = t_keys[t_order], t_weight[t_order]

    # 7. roles
    rng = _rng(seed, "roles")
    role = np.full(n_p, 2, np.int64)  # 0 leader, 1 lieutenant, 2 member, 3 associate
    role[np.unique(x_broker)] = 3
    lead_key = np.log(rng.random(n_p)) / propensity**a.leader_activity_power
    leader = np.lexsort((-lead_key, p_cell))[cell_lo]
    role[leader] = 0
    lt_key = np.log(rng.random(n_p)) / propensity
    lt_key[leader] = -np.inf
    n_lt = np.minimum(1 + (rng.random(n_c) < a.lieutenant_two_share), size - 1)
    by_key = np.lexsort((-lt_key, p_cell))
    lt_rank = np.arange(n_p) - cell_lo[p_cell[by_key]]
    role[by_key[lt_rank < n_lt[p_cell[by_key]]]] = 1

    # 8. dates
    rng = _rng(seed, "dates")
    t0 = int(ev_start.min()) if n_ev else 0
    t1 = int(ev_end.max()) if n_ev else 0
    first_day = np.full(n_p, np.iinfo(np.int64).max)
    last_day = np.full(n_p, np.iinfo(np.int64).min)
    np.minimum.at(first_day, person, ev_start[l_ev])
    np.maximum.at(last_day, person, ev_end[l_ev])
    linked = last_day > np.iinfo(np.int64).min
    lead = 1 + np.floor(rng.exponential(a.lead_days_mean, n_p)).astype(np.int64)
    joined = rng.integers(t0 - int(a.lead_days_mean), t1 + 1, n_p)
    start = np.where(linked, first_day - lead, joined)
    last = np.where(linked, last_day, start)
    ended = rng.random(n_p) < a.ended_share
    end = np.maximum(
        last, np.minimum(last + np.floor(rng.exponential(a.tail_days_mean, n_p)).astype(np.int64), t1)
    )

    rng = _rng(seed, "prior")
    prior = np.flatnonzero(multi & (rng.random(n_p) < a.prior_membership_share))
    po = p_org[prior]
    other = org_cell_lo[po] + rng.integers(0, n_cells[po] - 1) if prior.size else np.zeros(0, np.int64)
    other = other + (other >= p_cell[prior])
    prior_end = start[prior] - 1 - np.floor(rng.exponential(a.gap_days_mean, prior.size)).astype(np.int64)
    prior_start = prior_end - np.floor(rng.exponential(a.lead_days_mean, prior.size)).astype(np.int64)

    # frames
    width = max(7, len(str(n_p)))
    pid = np.array([f"SYN-{i:0{width}d}" for i in range(1, n_p + 1)], dtype=object)
    cid = np.array([f"SYN-C-{k:0{max(5, len(str(n_c)))}d}" for k in range(1, n_c + 1)], dtype=object)
    cells = pd.DataFrame(
        {
            "cell": cid,
            "organization": np.asarray(orgs, dtype=object)[cell_org] if n_c else [],
            "name": None,
            "region": _regions(state, ev_cell, n_c),
        }
    ).astype({"cell": "str", "organization": "str", "name": "str", "region": "str"})
    roles = np.array(["leader", "lieutenant", "member", "associate"], dtype=object)
    end_dt = end.astype("datetime64[D]")
    end_dt[~ended] = np.datetime64("NaT")
    members = pd.DataFrame(
        {
            "person": np.concatenate([pid, pid[prior]]),
            "cell": np.concatenate([cid[p_cell], cid[other]]),
            "role": np.concatenate([roles[role], np.full(prior.size, "member", dtype=object)]),
            "start": np.concatenate([start, prior_start]).astype("datetime64[D]"),
            "end": np.concatenate([end_dt, prior_end.astype("datetime64[D]")]),
            "name": None,
        }
    )
    members = members.sort_values(["person", "start"], kind="stable").reset_index(drop=True)
    members = members.astype({"start": "datetime64[s]", "end": "datetime64[s]", "name": "str"})
    src = events["source"].astype(str).to_numpy(dtype=object)
    sid = events["source_id"].astype(str).to_numpy(dtype=object)
    l_order = np.lexsort((l_ev, person))
    link_frame = pd.DataFrame(
        {
            "person": pid[person[l_order]],
            "source": src[l_ev[l_order]],
            "source_id": sid[l_ev[l_order]],
            "kind": np.asarray(KINDS, dtype=object)[kind[l_order]],
            "confidence": confidence[l_order],
        }
    )
    ties = pd.DataFrame({"person": pid[t_keys // n_p], "other": pid[t_keys % n_p], "weight": t_weight})

    meta = _meta(
        seed, a, persons, links, cells=n_c, persons=n_p, memberships=len(members), links=int(l_ev.size),
        ties=len(ties), events=n_ev, events_with_persons=int(drawn.size),
        cross_cell_tie_share=float(x_weight.size / max(t_keys.size, 1)), concentration=realised,
        activity_shape_used=alpha, calibration_evaluations=tries,
    )  # fmt: skip
    return CaseFiles(cells, members, link_frame, ties, meta)


def _meta(
    seed: int, a: Assumptions, asked_persons: int | None, asked_links: int | None, **counts: object
) -> dict:
    """The provenance of a generated set of case files: generator, seed, parameters, what was asked
    for, what came out (``counts``) and the concentration target."""
    requested = {"requested_persons": asked_persons, "requested_links": asked_links}
    return {
        "generator": "vdto.persons.synthetic", "generator_version": GENERATOR_VERSION, "seed": int(seed),
        "parameters": asdict(a), **requested, **counts, "concentration_target": list(CONCENTRATION_TARGET),
        "synthetic": True,
    }  # fmt: skip


def _empty(seed: int, a: Assumptions, persons: int | None, links: int | None, n_ev: int) -> CaseFiles:
    """Case files with no rows (a window in which no event is attributed to an organization)."""

    def frame(columns: tuple[str, ...]) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})

    persons_frame = frame(("person", "cell", "role", "start", "end", "name")).astype(
        {"start": "datetime64[s]", "end": "datetime64[s]"}
    )
    links_frame = frame(("person", "source", "source_id", "kind", "confidence")).astype({"confidence": float})
    meta = _meta(
        seed, a, persons, links, cells=0, persons=0, memberships=0, links=0, ties=0, events=n_ev,
        events_with_persons=0, cross_cell_tie_share=0.0, concentration=float("nan"),
        activity_shape_used=a.activity_shape, calibration_evaluations=0,
    )  # fmt: skip
    return CaseFiles(
        frame(("cell", "organization", "name", "region")),
        persons_frame,
        links_frame,
        frame(("person", "other")).assign(weight=pd.Series(dtype=float)),
        meta,
    )


def _regions(state: np.ndarray, ev_cell: np.ndarray, n_c: int) -> np.ndarray:
    """The modal state code of each cell's events (the smallest code on a tie; None without)."""
    out = np.full(n_c, None, dtype=object)
    ok = (ev_cell >= 0) & (state != "")
    if not ok.any():
        return out
    codes, uniq = pd.factorize(state[ok], sort=True)
    counts = np.bincount(ev_cell[ok] * len(uniq) + codes, minlength=n_c * len(uniq)).reshape(n_c, len(uniq))
    has = counts.sum(axis=1) > 0
    out[has] = np.asarray(uniq, dtype=object)[counts[has].argmax(axis=1)]
    return out


def person_violence(case: CaseFiles, events: pd.DataFrame, attribution: pd.DataFrame) -> pd.Series:
    """Each person's expected violence, a simple proxy: the sum over the person's links of the
    event's weight x the attribution probability of the organization of the cell the person
    belonged to on the event's first day x the link's confidence (0 for a link to an event not in
    ``events`` or outside every membership). Indexed by person (every person of ``case.persons``).

    The proxy counts two links of one person to one event twice and ignores that links are not
    independent; it is a measure of concentration, not the person-level score of the spec.
    """
    events = events.reset_index(drop=True)
    start, _, weight, _ = _event_frame(events)
    att, orgs = _attribution(attribution, len(events))
    index = pd.Index(events["source"].astype(str) + "\x1f" + events["source_id"].astype(str))
    lk = case.links
    ev = index.get_indexer(lk["source"].astype(str) + "\x1f" + lk["source_id"].astype(str))
    org_index = {o: i for i, o in enumerate(orgs)}
    ms = case.persons[["person", "cell", "start", "end"]].merge(
        case.cells[["cell", "organization"]], on="cell", how="left"
    )
    links = pd.DataFrame({"link": np.arange(len(lk)), "person": lk["person"].to_numpy(), "event": ev,
                          "confidence": lk["confidence"].to_numpy(float)})  # fmt: skip
    links = links[links["event"] >= 0]
    j = links.merge(ms, on="person", how="inner")
    day = start[j["event"].to_numpy(np.int64)]
    m_start = _days(j["start"])
    m_end = pd.to_datetime(j["end"])
    m_end_days = np.where(
        m_end.notna(), _days(m_end.fillna(pd.Timestamp("2262-01-01"))), np.iinfo(np.int64).max
    )
    j = j[(m_start <= day) & (day <= m_end_days)].drop_duplicates("link")
    o = j["organization"].map(org_index)
    j = j[o.notna()]
    e = j["event"].to_numpy(np.int64)
    value = (
        weight[e] * _prob_of(att, len(orgs), e, o[o.notna()].to_numpy(np.int64)) * j["confidence"].to_numpy()
    )
    per = pd.Series(value, index=j["person"].to_numpy()).groupby(level=0).sum()
    everyone = pd.Index(pd.unique(case.persons["person"]), name="person")
    return per.reindex(everyone, fill_value=0.0)


def concentration(
    case: CaseFiles, events: pd.DataFrame, attribution: pd.DataFrame, top: float = CONCENTRATION_TARGET[0]
) -> float:
    """Share of the total person-level expected violence (:func:`person_violence`) held by the top
    ``top`` share of persons (``round(top x persons)``, at least one); NaN when there is none.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"source": "s", "source_id": [str(i) for i in range(400)],
    ...     "date_start": pd.Timestamp("2021-03-01"), "state_code": "14", "weight": 1.0})
    >>> att = pd.DataFrame({"event": range(400), "org": "cjng", "prob": 1.0})
    >>> 0.3 < concentration(generate(ev, att, seed=3), ev, att) < 0.7
    True
    """
    if not 0 < top < 1:
        raise ValueError("top must be in (0, 1)")
    return _top_share(person_violence(case, events, attribution).to_numpy(float), top)


__all__ = [
    "ACTIVITY_SHAPE",
    "CONCENTRATION_TARGET",
    "Assumptions",
    "CaseFiles",
    "concentration",
    "generate",
    "pareto_shape_for",
    "person_violence",
]
