"""The transmission engine: an age-structured SEIR metapopulation, deterministic or stochastic.

Model
-----
Per village v and age band a, compartments S, E, A (asymptomatic infectious), I (symptomatic
infectious), R. With contact matrix C (symmetrised to the population), transmission rate β and
the infectious pressure x_g,b = (I + κA)_g,b / N_g,b of a group g (village, town, county)::

    λ_v,a(t) = β c(t) Σ_b C_ab [ w_v x_v,b + w_t m(t) x_town(v),b + w_c x_county(v),b ]
    S → E  at rate λ          E → A, I  at rate 1/T_E (asymptomatic share α_a)
    A, I → R at rate 1/T_I

c(t) is the scenario's contact factor, m(t) the market-day factor, w the contact shares
(village, town, rest of county). β is set from R0 by the next-generation matrix of the fully
susceptible population. Both kinds of run take one step a day by default (``steps_per_day``)
with the chances of ``Stepping``, which follow the continuous-time model at any step:
deterministic runs move the expected numbers, stochastic runs draw binomial transitions (a chain
binomial) with the exact vectorised samplers of ``sampling``. ``simulate_members`` runs several
stochastic members side by side as an extra array axis (villages × members × age bands);
``simulate_stacked`` returns them as one ``Trajectory`` with a leading members axis.

Severity (fever-clinic visits, admissions, ICU, deaths) is counted at symptom onset from
age-specific probabilities, reduced by vaccination and by the scenario's antivirals and
oximetry; ``severity.outcomes`` moves them to the day they happen and computes bed census.

Example
-------
>>> from lianfang.forecast import DiseaseParameters, Metapopulation, Scenario, simulate
>>> pop = Metapopulation.single([1500, 6000, 800, 1400, 300])
>>> run = simulate(pop, DiseaseParameters(), Scenario(seed_per_100k=10), days=120)
>>> bool(0.5 < run.infections.sum() / pop.total < 1.0)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import date

import numpy as np
from scipy import sparse

from lianfang.forecast import sampling
from lianfang.forecast.parameters import CHINA_CONTACTS, N_AGES, DiseaseParameters, FloatArray
from lianfang.forecast.population import ELDERLY_BANDS, Metapopulation
from lianfang.forecast.sampling import SPLIT_MAX_N, Infections, TableBinomial
from lianfang.forecast.scenario import DailyEffects, Scenario

STEPS_PER_DAY = 1
"""The default step of deterministic and stochastic runs alike (``Stepping``)."""
RUN_FORMAT = 6
"""Version of what a stored run's inputs compute to. Bump it whenever the same inputs give other
figures or another result layout (a change to the engine, severity, the ensemble's draws or the
fit): a stored run of another format is then refused a re-run, with its version named, instead
of silently giving other figures (``forecast.service.check_reproducible``). 4: steps that follow
the continuous-time model, seeds in every age band, market days in β, 7-day-mean peak dates
(issue 13 §6). 5: hospital and ICU stays by age band, admissions kept (and drawn) by age band
(issue 13 §3). 6: default delays onset→admission 7 d and onset→death 16 d, calibrated to
mainland China's national peak dates (issue 13 §3)."""
YOUNG_ADULTS = 1  # the age band returning migrant workers are counted in
ELDERLY = np.array([0.0, 0.0, 0.0, 1.0, 1.0])  # the bands aged 65 and over


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What one run produced, per day and village (sums over age), plus age totals.

    Runs drawn together (``simulate_stacked``) give one Trajectory whose fields, all but
    ``start``, ``codes`` and ``surge_beds``, have a leading members axis; ``member`` takes one
    run out."""

    start: date
    codes: tuple[str, ...]
    infections: FloatArray  # (days, villages) new infections
    symptomatic: FloatArray  # (days, villages) new symptomatic cases (by onset day)
    visits_at_onset: FloatArray  # (days, villages) fever-clinic visits, by onset day
    admissions_by_age: FloatArray  # (ages, days, villages) admissions by onset day and age band
    icu_by_age: FloatArray  # (ages, days, villages) ICU admissions, likewise
    deaths_at_onset: FloatArray  # (days, villages)
    elderly_symptomatic: FloatArray  # (days, villages) onsets aged 65+
    infections_by_age: FloatArray  # (days, ages)
    residents_end: FloatArray  # (villages, ages), returnees included
    susceptible_end: FloatArray  # (villages, ages)
    surge_beds: FloatArray  # (days,)
    antiviral_share: FloatArray | None = None
    """(villages,) share of the onsets aged 65+ eligible for an antiviral (red grade on the
    registry, else ``population.HIGH_RISK_ELDERLY``): the antiviral demand."""

    @property
    def days(self) -> int:
        return int(self.infections.shape[-2])

    @property
    def admissions_at_onset(self) -> FloatArray:
        """(days, villages) admissions by onset day, all ages."""
        return np.asarray(self.admissions_by_age.sum(axis=-3), dtype=np.float64)

    @property
    def icu_at_onset(self) -> FloatArray:
        """(days, villages) ICU admissions by onset day, all ages."""
        return np.asarray(self.icu_by_age.sum(axis=-3), dtype=np.float64)

    def member(self, index: int) -> Trajectory:
        """One run of a stacked Trajectory (views, not copies)."""
        return replace(self, **{name: getattr(self, name)[index] for name in PER_MEMBER})


PER_MEMBER = tuple(
    f.name
    for f in fields(Trajectory)
    if f.name not in ("start", "codes", "surge_beds", "antiviral_share")
)
"""The fields of a Trajectory that a stacked one holds per member."""


def contact_matrix(residents_by_age: FloatArray, raw: FloatArray | None = None) -> FloatArray:
    """The contact matrix made reciprocal for this population (C_ab N_a = C_ba N_b); bands with
    nobody in them have no contacts."""
    c = np.asarray(CHINA_CONTACTS if raw is None else raw, dtype=np.float64)
    n = np.asarray(residents_by_age, dtype=np.float64)
    present = n > 0
    flows = c * n[:, None]
    flows = (flows + flows.T) / 2.0
    out = np.zeros_like(c)
    out[present] = flows[present] / n[present, None]
    out[:, ~present] = 0.0
    return out


def well_mixed(residents_by_age: FloatArray) -> FloatArray:
    """Contacts with no age structure (one a day in all): everyone meets each band in proportion
    to its size, as in a single random contact layer. A ``contacts`` argument for ``simulate``;
    the number per day does not matter, since β is set from R0."""
    n = np.asarray(residents_by_age, dtype=np.float64)
    total = n.sum()
    share = n / total if total > 0 else n
    return np.asarray(np.tile(share, (len(n), 1)), dtype=np.float64)


@dataclass(frozen=True)
class Stepping:
    """The chances and weights of one step of dt days, from the continuous-time model.

    Within a step the force of infection is held constant, and every transition of a person
    already infected is the continuous-time chain's exact one over dt (rates b = 1/T_E,
    c = 1/T_I): from E a person is still latent (e^(−b dt)), infectious (``p_onset`` −
    ``p_onset_recover``) or, having passed through, recovered (``p_onset_recover``); from A or
    I, recovered with ``p_recover`` = 1 − e^(−c dt). Infections made in a step enter E at its
    end, so they stand for infections within half a step either side of that moment; the force
    of the step counts each infective's expected infectious time over that window, [dt/2, 3dt/2]
    from the step's start (``infectious_weight`` for A and I, ``latent_weight`` for E, in days),
    and for the infections of the step before, also the half step after their infection
    (``fresh_weight``), which no window would otherwise count. The windows tile time, so each
    infection is counted for exactly its expected infectious time, T_I, at any step.
    That keeps the latent period, the infectious period and the generation interval what the
    parameters say at any step (a half-day step changes the peak by well under a day), where
    counting infectives at the step's start and moving one stage a step lengthened each stage
    by about half a step."""

    dt: float
    p_onset: float
    p_onset_recover: float
    p_recover: float
    latent_weight: float
    infectious_weight: float
    fresh_weight: float

    @classmethod
    def of(cls, params: DiseaseParameters, dt: float) -> Stepping:
        b, c = 1.0 / params.latent_days, 1.0 / params.infectious_days
        stay_e, stay_i = np.exp(-b * dt), np.exp(-c * dt)
        p_onset = 1.0 - stay_e
        if abs(b - c) > 1e-9 * (b + c):
            through = b * (stay_e - stay_i) / (c - b)  # E at 0, infectious at dt
        else:
            through = b * dt * stay_e
        window = (0.5 * dt, 1.5 * dt)
        infectious_weight = (np.exp(-c * window[0]) - np.exp(-c * window[1])) / c
        latent_weight = _time_infectious(b, c, window[1]) - _time_infectious(b, c, window[0])
        # one infection enters E at a step's end; Σ_k E_k = 1/(1 − e^(−b dt)) and
        # Σ_k I_k = P(E → I) Σ_k E_k / (1 − e^(−c dt))
        return cls(
            dt=dt,
            p_onset=float(p_onset),
            p_onset_recover=float(p_onset - through),
            p_recover=float(1.0 - stay_i),
            latent_weight=float(latent_weight),
            infectious_weight=float(infectious_weight),
            fresh_weight=_time_infectious(b, c, window[0]),
        )


def _time_infectious(b: float, c: float, t: float) -> float:
    """Expected time spent infectious within [0, t] by a person latent at 0."""
    if abs(b - c) <= 1e-9 * (b + c):
        return float((1.0 - np.exp(-b * t) * (1.0 + b * t)) / b)
    return float(b / (c - b) * (-np.expm1(-b * t) / b + np.expm1(-c * t) / c))


def transmission_rate(
    params: DiseaseParameters, contacts: FloatArray, residents_by_age: FloatArray
) -> float:
    """β such that the next-generation matrix of a fully susceptible population has radius R0.

    One infective of band b infects β·m·T_I·w_b·C_ab·N_a/N_b people of band a, where w_b weighs
    asymptomatic infectiousness, T_I is the mean infectious time, at any step (``Stepping``), and
    m the mean contact multiplier of market days over their cycle (town contacts × the factor one
    day in ``market_every_days``: 1.022 by default), so that the realised R0 is the nominal one."""
    asym = params.array("asymptomatic_fraction")
    weight = (1 - asym) + params.asymptomatic_infectiousness * asym
    n = np.asarray(residents_by_age, dtype=np.float64)
    ratio = np.zeros((len(n), len(n)))
    present = n > 0
    ratio[np.ix_(present, present)] = n[present][:, None] / n[present][None, :]
    ngm = contacts * ratio * weight[None, :] * params.infectious_days * market_mean(params)
    radius = float(np.max(np.abs(np.linalg.eigvals(ngm))))
    return params.r0 / radius if radius > 0 else 0.0


def market_mean(params: DiseaseParameters) -> float:
    """The mean over a market cycle of the contact multiplier market days give."""
    if params.market_every_days <= 0:
        return 1.0
    extra = (params.market_day_factor - 1.0) / params.market_every_days
    return 1.0 + params.town_share * extra


@dataclass(frozen=True, eq=False)
class _Setup:
    """Everything a run needs, precomputed once."""

    beta: float
    stepping: Stepping
    latent_infectiousness: FloatArray  # (ages,) of a latent person, once infectious
    contacts: FloatArray
    to_town: sparse.csr_matrix
    to_county: sparse.csr_matrix
    effects: DailyEffects
    symptomatic_share: FloatArray
    p_visit: FloatArray
    p_admit: FloatArray  # given symptomatic, after vaccination
    p_icu: FloatArray
    p_death: FloatArray
    market: FloatArray  # (days,) town-contact multiplier
    arrivals: FloatArray  # (days, villages) returnees
    infected_arrival_share: float
    high_risk: FloatArray  # (villages,) share of 65+ eligible for antivirals


def _groups(index: np.ndarray) -> sparse.csr_matrix:
    n = len(index)
    return sparse.csr_matrix((np.ones(n), (index, np.arange(n))), shape=(int(index.max()) + 1, n))


def _severity(params: DiseaseParameters) -> tuple[FloatArray, ...]:
    asym = params.array("asymptomatic_fraction")
    sym = np.maximum(1.0 - asym, 1e-9)
    vac = params.array("vaccinated")
    # share of infections among the vaccinated, given their (small) protection from infection
    vac_inf = vac * (1 - params.ve_infection) / np.maximum(1 - vac * params.ve_infection, 1e-9)
    protect = 1.0 - vac_inf * params.ve_severe
    admit = np.minimum(params.array("hospital_given_infection") * protect / sym, 1.0)
    death = np.minimum(params.array("death_given_infection") * protect / sym, 1.0)
    return (
        1.0 - asym,
        params.array("fever_clinic_given_symptomatic"),
        admit,
        params.array("icu_given_hospital"),
        death,
    )


def _prepare(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    steps: int,
    raw_contacts: FloatArray | None = None,
) -> _Setup:
    by_age = pop.residents.sum(axis=0)
    contacts = contact_matrix(by_age, raw_contacts)
    sym, visit, admit, icu, death = _severity(params)
    market = np.ones(days)
    if params.market_every_days > 0:
        market[:: params.market_every_days] = params.market_day_factor
    arrivals = np.zeros((days, pop.villages))
    share = 0.0
    if scenario.festival is not None:
        fest = scenario.festival
        span = (fest.end - fest.start).days + 1
        per_day = pop.residents.sum(axis=1) * fest.returnees_per_1000 / 1000.0 / span
        for d, day in enumerate(scenario.calendar(days)):
            if fest.start <= day <= fest.end:
                arrivals[d] = per_day
        share = fest.infected_share
    asym = params.array("asymptomatic_fraction")
    stepping = Stepping.of(params, 1.0 / steps)
    return _Setup(
        beta=transmission_rate(params, contacts, by_age),
        stepping=stepping,
        latent_infectiousness=(1 - asym) + params.asymptomatic_infectiousness * asym,
        contacts=contacts,
        to_town=_groups(pop.town),
        to_county=_groups(pop.county),
        effects=scenario.daily(days),
        symptomatic_share=sym,
        p_visit=visit,
        p_admit=admit,
        p_icu=icu,
        p_death=death,
        market=market,
        arrivals=arrivals,
        infected_arrival_share=share,
        high_risk=pop.high_risk_share(),
    )


class _State:
    """Compartments, each (villages, members, ages); recovered = N − S − E − A − I."""

    def __init__(
        self, pop: Metapopulation, params: DiseaseParameters, whole: bool, members: int = 1
    ) -> None:
        n = np.repeat(pop.residents[:, None, :], members, axis=1)
        immune = 1.0 - (1.0 - params.array("prior_immunity")) * (
            1.0 - params.array("vaccinated") * params.ve_infection
        )
        self.N = np.round(n) if whole else n
        self.S = n * (1.0 - immune)
        if whole:  # whole people for the chain binomial
            self.S = np.floor(self.S)
        self.E = np.zeros_like(n)
        self.A = np.zeros_like(n)
        self.I = np.zeros_like(n)

    @property
    def R(self) -> FloatArray:  # noqa: N802 (compartment names)
        return np.asarray(self.N - self.S - self.E - self.A - self.I, dtype=np.float64)


class _Kernel:
    """One run's working buffers, allocated once: the step does no allocation of (V, M, A)
    arrays. Members (M) are independent runs side by side; group sums work on (V, M·A) views."""

    def __init__(
        self, setup: _Setup, params: DiseaseParameters, pop: Metapopulation, state: _State
    ) -> None:
        self.setup, self.params, self.pop, self.state = setup, params, pop, state
        shape = state.S.shape
        self.inf, self.mix, self.tmp, self.lam = (np.empty(shape) for _ in range(4))
        self.lam32 = np.empty(shape, dtype=np.float32)
        self.new_e, self.new_i, self.new_sym, self.rec_a, self.rec_i, self.spare = (
            np.zeros(shape) for _ in range(6)
        )
        self.draws: _Draws | None = None
        self.town_county = np.zeros(pop.towns, dtype=np.int64)
        self.town_county[pop.town] = pop.county
        self.refresh()

    def refresh(self) -> None:
        """Recompute the inverse group sizes (after arrivals change N)."""
        n = self.state.N
        flat = n.reshape(len(n), -1)
        with np.errstate(divide="ignore"):
            self.inv_n = np.where(n > 0, 1.0 / np.maximum(n, 1e-300), 0.0)
            town_n = self.setup.to_town @ flat
            county_n = self.setup.to_county @ flat
            self.inv_town = np.where(town_n > 0, 1.0 / np.maximum(town_n, 1e-300), 0.0)
            self.inv_county = np.where(county_n > 0, 1.0 / np.maximum(county_n, 1e-300), 0.0)

    def force(self, day: int) -> FloatArray:
        """−λ dt per village and age (so that e^(force) is the chance of escaping infection):
        each infective counted for its expected infectious time in the step's window
        (``Stepping``)."""
        s, p, st = self.setup, self.params, self.state
        np.multiply(st.A, p.asymptomatic_infectiousness, out=self.inf)
        self.inf += st.I
        self.inf *= s.stepping.infectious_weight
        np.multiply(st.E, s.latent_infectiousness * s.stepping.latent_weight, out=self.tmp)
        self.inf += self.tmp
        np.multiply(self.new_e, s.latent_infectiousness * s.stepping.fresh_weight, out=self.tmp)
        self.inf += self.tmp  # the last step's infections (new_e until this step's are drawn)
        inf, ages = self.inf.reshape(len(self.inf), -1), N_AGES  # (V, M·A) views
        town = (s.to_town @ inf) * self.inv_town
        county = (s.to_county @ inf) * self.inv_county
        groups = (p.town_share * s.market[day]) * town + p.county_share * county[self.town_county]
        np.multiply(self.inf, self.inv_n, out=self.mix)
        self.mix *= p.village_share
        np.take(groups, self.pop.town, axis=0, out=self.tmp.reshape(inf.shape))
        self.mix += self.tmp
        np.matmul(
            self.mix.reshape(-1, ages),
            s.contacts.T * (-s.beta * s.effects.contact[day]),
            out=self.lam.reshape(-1, ages),
        )
        return self.lam

    def exposure(self, day: int) -> FloatArray:
        """1 − exp(−λ dt) per village and age: the chance of infection within the step."""
        np.copyto(self.lam32, self.force(day), casting="same_kind")
        np.exp(self.lam32, out=self.lam32)  # float32 exp: several times faster, ample precision
        np.subtract(1.0, self.lam32, out=self.lam, casting="unsafe")
        return self.lam

    def step(self, day: int, rng: np.random.Generator | None) -> None:
        """Advance by one step; new infections and onsets are left in new_e and new_sym.

        new_i holds everyone who left E (onsets), rec_a and rec_i everyone who left A and I,
        including those who became infectious and recovered within the step."""
        st, step = self.state, self.setup.stepping
        if rng is None:
            through = step.p_onset_recover / step.p_onset
            np.multiply(st.S, self.exposure(day), out=self.new_e)
            np.multiply(st.E, step.p_onset, out=self.new_i)
            np.multiply(self.new_i, self.setup.symptomatic_share, out=self.new_sym)
            np.multiply(st.A, step.p_recover, out=self.rec_a)
            np.subtract(self.new_i, self.new_sym, out=self.spare)
            self.spare *= through
            self.rec_a += self.spare
            np.multiply(st.I, step.p_recover, out=self.rec_i)
            np.multiply(self.new_sym, through, out=self.spare)
            self.rec_i += self.spare
        else:
            self._draw(rng, day)
        st.S -= self.new_e
        st.E += self.new_e
        st.E -= self.new_i
        st.A += self.new_i
        st.A -= self.new_sym
        st.A -= self.rec_a
        st.I += self.new_sym
        st.I -= self.rec_i

    def _draw(self, rng: np.random.Generator, day: int) -> None:
        """Chain-binomial transitions (exact binomial draws, see ``sampling``)."""
        st = self.state
        if self.draws is None:
            self.draws = _Draws(self.setup, st.S.shape)
        draws = self.draws
        draws.infect.draw(rng, st.S, self.force(day), self.new_e)
        draws.onset.draw(rng, st.E, self.new_i)
        draws.split.draw(rng, self.new_i, self.new_sym)
        draws.recover.draw(rng, st.A, self.rec_a)
        draws.recover.draw(rng, st.I, self.rec_i)
        # of those who left E, some also recovered within the step
        np.subtract(self.new_i, self.new_sym, out=self.inf)  # (inf is free until the next step)
        draws.through.draw(rng, self.inf, self.spare)
        self.rec_a += self.spare
        draws.through.draw(rng, self.new_sym, self.spare)
        self.rec_i += self.spare


class _Draws:
    """The samplers of a stochastic run's transitions (one step length a run)."""

    def __init__(self, setup: _Setup, shape: tuple[int, ...]) -> None:
        every_age = np.ones(shape[-1])
        step = setup.stepping
        self.infect = Infections(shape)
        self.onset = TableBinomial(step.p_onset * every_age, shape)
        self.recover = TableBinomial(step.p_recover * every_age, shape)
        # new onsets are fewer than E: smaller tables (five of them, one per age band) suffice
        self.split = TableBinomial(setup.symptomatic_share, shape, max_n=SPLIT_MAX_N)
        self.through = TableBinomial(
            step.p_onset_recover / step.p_onset * every_age, shape, max_n=SPLIT_MAX_N
        )


def _arrive(kernel: _Kernel, day: int, rng: np.random.Generator | None) -> FloatArray:
    """Returning migrants join the 15–59 band; some arrive infected. Returns infected arrivals
    (villages, members)."""
    setup, state = kernel.setup, kernel.state
    shape = state.S.shape[:2]
    arrivals = np.broadcast_to(setup.arrivals[day][:, None], shape)
    if not setup.arrivals[day].any():
        return np.zeros(shape)
    if rng is None:
        infected = arrivals * setup.infected_arrival_share
    else:
        arrivals = rng.poisson(arrivals).astype(np.float64)
        infected = rng.binomial(arrivals.astype(np.int64), setup.infected_arrival_share).astype(
            np.float64
        )
    state.N[..., YOUNG_ADULTS] += arrivals
    state.S[..., YOUNG_ADULTS] += arrivals - infected
    state.E[..., YOUNG_ADULTS] += infected
    kernel.refresh()
    return np.asarray(infected, dtype=np.float64)


def simulate(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    rng: np.random.Generator | None = None,
    steps_per_day: int | None = None,
    contacts: FloatArray | None = None,
) -> Trajectory:
    """Run the model for ``days`` from ``scenario.start``.

    Deterministic when ``rng`` is None, a chain binomial when a generator is given; both take
    ``steps_per_day`` steps (default 1: the same discrete model, so the deterministic run is the
    stochastic one's expectation; see ``Stepping`` for why halving the step changes little).
    ``contacts`` replaces the China contact
    matrix (contacts a day by age band, row meets column; e.g. ``well_mixed``). Inputs are not
    changed.
    """
    return simulate_members(pop, params, scenario, days, rng, 1, steps_per_day, contacts)[0]


def simulate_members(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    rng: np.random.Generator | None,
    members: int,
    steps_per_day: int | None = None,
    contacts: FloatArray | None = None,
) -> list[Trajectory]:
    """``members`` independent stochastic runs drawn together from one generator, as an extra
    array axis: each numpy call serves them all, so its fixed cost is shared. Each member has
    the distribution of a ``simulate`` run (the random streams differ)."""
    runs = simulate_stacked(pop, params, scenario, days, rng, members, steps_per_day, contacts)
    return [runs.member(m) for m in range(members)]


def simulate_stacked(
    pop: Metapopulation,
    params: DiseaseParameters,
    scenario: Scenario,
    days: int,
    rng: np.random.Generator | None,
    members: int,
    steps_per_day: int | None = None,
    contacts: FloatArray | None = None,
    on_day: Callable[[int], None] | None = None,
) -> Trajectory:
    """``simulate_members``'s runs as one Trajectory with a leading members axis on every
    series (``infections`` is (members, days, villages)), for code that treats them together.
    ``on_day(d)`` is called after each simulated day with the days done (progress)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if members < 1 or (rng is None and members > 1):
        raise ValueError("members must be at least 1, and 1 without a generator")
    steps = steps_per_day or STEPS_PER_DAY
    setup = _prepare(pop, params, scenario, days, steps, contacts)
    state = _State(pop, params, whole=rng is not None, members=members)
    _seed(pop, scenario, state, rng)
    kernel = _Kernel(setup, params, pop, state)
    out = _Recorder(days, pop.villages, members, setup, counts=rng is not None)
    infections = np.empty_like(state.S)
    onsets = np.empty_like(state.S)
    for day in range(days):
        infected_arrivals = _arrive(kernel, day, rng)
        infections.fill(0.0)
        onsets.fill(0.0)
        for _ in range(steps):
            kernel.step(day, rng)
            infections += kernel.new_e
            onsets += kernel.new_sym
        out.record(day, infections, onsets, infected_arrivals, rng)
        if on_day is not None:
            on_day(day + 1)
    return out.trajectory(scenario, pop, state, setup)


def _seed(
    pop: Metapopulation, scenario: Scenario, state: _State, rng: np.random.Generator | None
) -> None:
    """The first infections (exposed on the first day): ``seed_per_100k`` of the population,
    spread over villages by ``pop.seeding()`` and within a village over the age bands in
    proportion to their susceptible residents (Poisson counts in a stochastic run)."""
    per_village = scenario.seed_per_100k * pop.total / 1e5 * pop.seeding()
    susceptible = state.S[:, 0, :]
    total = susceptible.sum(axis=1, keepdims=True)
    share = np.divide(susceptible, total, out=np.zeros_like(susceptible), where=total > 0)
    seeds = np.broadcast_to((per_village[:, None] * share)[:, None, :], state.S.shape)
    if rng is not None:
        seeds = rng.poisson(seeds).astype(np.float64)
    seeds = np.minimum(seeds, state.S)
    state.S -= seeds
    state.E += seeds


class _Recorder:
    """Daily series of all members, filled in as the run goes."""

    def __init__(
        self, days: int, villages: int, members: int, setup: _Setup, counts: bool = False
    ) -> None:
        # visits, deaths (drawn in stochastic runs), symptomatic, aged 65+, each (members, days,
        # villages): one write a day serves every member, and each array stays small enough
        # (10 MB for a Nantong batch) to sit under glibc's 32 MB mmap ceiling, so freed memory
        # is reused by the next batch instead of being faulted in afresh. Admissions and ICU are
        # kept by age band (members, ages, days, villages): each band has its own stay.
        # A stochastic run's series are whole counts (every figure recorded is drawn), which
        # float32 holds exactly up to 2**24 a village a day: half the memory of a batch (a
        # national one's 15 series of 500,000 villages is 4.5 GB instead of 9 GB over 30
        # days), the same figures, since every sum and convolution after is in float64.
        dtype = np.float32 if counts else np.float64
        self.series = [np.zeros((members, days, villages), dtype) for _ in range(4)]
        self.severe = [np.zeros((members, N_AGES, days, villages), dtype) for _ in range(2)]
        self.infections = np.zeros((members, days, villages), dtype)
        self.by_age = np.zeros((members, days, N_AGES))
        shape = (days, N_AGES)
        self.weights = np.stack(  # (days, 4, ages): onsets by age → the four series
            [
                np.broadcast_to(setup.p_visit, shape),
                setup.p_death[None, :] * setup.effects.fatal,
                np.ones(shape),
                np.broadcast_to(ELDERLY, shape),
            ],
            axis=1,
        )
        # (2, ages): P(admission), P(ICU) of an onset, before antivirals
        self.p_severe = np.stack([setup.p_admit, setup.p_admit * setup.p_icu])
        # antivirals cut admissions, ICU and deaths of each village's eligible share of its
        # onsets aged 65+: (villages · members,) in the order of the onsets' rows
        self.antiviral = setup.effects.antiviral
        self.eligible = np.repeat(setup.high_risk, members)
        self.ages = np.ones(N_AGES)

    def record(
        self,
        day: int,
        infections: FloatArray,
        onsets: FloatArray,
        infected_arrivals: FloatArray,
        rng: np.random.Generator | None,
    ) -> None:
        villages, members, ages = onsets.shape
        # (4, villages · members): a matmul beats four reductions
        rows = onsets.reshape(-1, ages)
        counts = self.weights[day] @ rows.T
        severe = rows[None, :, :] * self.p_severe[:, None, :]  # (2, villages · members, ages)
        if self.antiviral[day] > 0:
            kept = 1.0 - self.antiviral[day] * self.eligible
            treated = self.weights[day, 1, ELDERLY_BANDS] @ rows[:, ELDERLY_BANDS].T
            counts[1] -= treated * (self.antiviral[day] * self.eligible)
            severe[:, :, ELDERLY_BANDS] *= kept[None, :, None]
        if rng is not None:  # Poisson counts of visits, deaths, admissions, ICU; 0 gives 0
            for drawn in (counts[:2].reshape(-1), severe.reshape(-1)):
                some = np.flatnonzero(drawn > 0)
                drawn[some] = sampling.poisson(rng, drawn[some])
        counts = counts.reshape(4, villages, members)
        new = (infections.reshape(-1, ages) @ self.ages).reshape(villages, members)
        new += infected_arrivals
        for series, count in zip(self.series, counts, strict=True):
            series[:, day] = count.T
        for kept, by_age in zip(
            self.severe, severe.reshape(2, villages, members, ages), strict=True
        ):
            kept[:, :, day] = by_age.transpose(1, 2, 0)
        self.infections[:, day] = new.T
        by_age = np.ones(villages) @ infections.reshape(villages, -1)
        self.by_age[:, day] = by_age.reshape(members, ages)
        self.by_age[:, day, YOUNG_ADULTS] += infected_arrivals.sum(axis=0)

    def trajectory(
        self, scenario: Scenario, pop: Metapopulation, state: _State, setup: _Setup
    ) -> Trajectory:
        """All members as one stacked Trajectory."""
        visits, deaths, symptomatic, elderly = self.series
        admissions, icu = self.severe
        return Trajectory(
            start=scenario.start,
            codes=pop.codes,
            infections=self.infections,
            symptomatic=symptomatic,
            visits_at_onset=visits,
            admissions_by_age=admissions,
            icu_by_age=icu,
            deaths_at_onset=deaths,
            elderly_symptomatic=elderly,
            infections_by_age=self.by_age,
            residents_end=state.N.transpose(1, 0, 2).copy(),  # (members, villages, ages)
            susceptible_end=state.S.transpose(1, 0, 2).copy(),
            surge_beds=setup.effects.surge_beds,
            antiviral_share=setup.high_risk,
        )
