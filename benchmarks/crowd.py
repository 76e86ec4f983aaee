"""The simulated users of the load benchmark (benchmarks/serve_load.py): who they are, what they
ask for, and what each kind of request saw."""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import httpx2

USERS = 50
DURATION_S = 60.0
REQUEST_TIMEOUT_S = 30.0
PASSWORD = "bench-load-password-01"
# (account, users): the demo's accounts; the city commander reads and signs in but may not edit
ACCOUNTS = (("commander", 10), ("district", 15), ("town", 15), ("village", 10))
WRITERS = frozenset({"district", "town", "village"})
READ, WRITE, PAGE = "API read", "write", "page"


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Scope:
    """What an account reaches: the areas its pages show and the people it reads and writes."""

    areas: list[str]
    people: list[int]


@dataclass
class User:
    """One simulated user: their own client (connection, session cookie) and bearer token."""

    account: str
    client: httpx2.AsyncClient
    token: dict[str, str]
    scope: Scope
    rng: random.Random

    def area(self) -> str:
        """An area of the user's scope, at random."""
        return self.rng.choice(self.scope.areas)

    def person(self) -> int:
        """A person of the user's scope, at random."""
        return self.rng.choice(self.scope.people)


Send = Callable[[User], Awaitable[httpx2.Response]]


@dataclass(frozen=True)
class Action:
    """One kind of request in the mix: its name, kind, weight and the status that means success."""

    name: str
    kind: str
    weight: int
    expected: int
    send: Send


def _follow_up(user: User) -> dict[str, Any]:
    return {
        "method": user.rng.choice(("phone", "visit", "video")),
        "temperature_c": round(user.rng.uniform(36.2, 38.4), 1),
        "spo2_pct": user.rng.randint(94, 99),
        "notes": "load benchmark",
        "client_token": uuid.uuid4().hex,
    }


def _address(user: User) -> dict[str, str]:
    return {"address": f"{user.rng.randrange(1, 16)}组{user.rng.randrange(1, 80)}号"}


ACTIONS = (
    Action("GET /areas/{code}", PAGE, 3, 200, lambda u: u.client.get(f"/areas/{u.area()}")),
    Action("GET /people?area=", PAGE, 2, 200,
           lambda u: u.client.get("/people", params={"area": u.area()})),
    Action("GET /api/people?area=&size=50", READ, 3, 200,
           lambda u: u.client.get("/api/people", params={"area": u.area(), "size": 50},
                                  headers=u.token)),
    Action("GET /api/areas/{code}/coverage", READ, 2, 200,
           lambda u: u.client.get(f"/api/areas/{u.area()}/coverage", headers=u.token)),
    Action("GET /api/people/{id}", READ, 2, 200,
           lambda u: u.client.get(f"/api/people/{u.person()}", headers=u.token)),
    Action("POST /api/auth/token (sign-in)", WRITE, 1, 200,
           lambda u: u.client.post("/api/auth/token",
                                   json={"username": u.account, "password": PASSWORD})),
    Action("POST /api/people/{id}/follow-ups", WRITE, 2, 201,
           lambda u: u.client.post(f"/api/people/{u.person()}/follow-ups", json=_follow_up(u),
                                   headers=u.token)),
    Action("PATCH /api/people/{id}", WRITE, 1, 200,
           lambda u: u.client.patch(f"/api/people/{u.person()}", json=_address(u),
                                    headers=u.token)),
)  # fmt: skip
EDITS = frozenset({"POST /api/people/{id}/follow-ups", "PATCH /api/people/{id}"})


def actions_of(account: str) -> list[Action]:
    """The mix an account's users draw from: no edits for an account that may not edit."""
    return [a for a in ACTIONS if account in WRITERS or a.name not in EDITS]


async def checked(reply: Awaitable[httpx2.Response], expected: int, what: str) -> httpx2.Response:
    """A set-up request that must succeed (set-up is not measured)."""
    response = await reply
    if response.status_code != expected:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:200]}")
    return response


async def sign_in(client: httpx2.AsyncClient, account: str) -> dict[str, str]:
    """Sign in on the web (session cookie, through the CSRF form) and for the API (token)."""
    page = await checked(client.get("/login"), 200, "GET /login")
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError("GET /login: no CSRF token in the form")
    form = {"username": account, "password": PASSWORD, "csrf_token": found[1], "next": "/"}
    await checked(client.post("/login", data=form), 303, f"web sign-in as {account}")
    body = {"username": account, "password": PASSWORD}
    token = await checked(client.post("/api/auth/token", json=body), 200, "token")
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def scope_of(client: httpx2.AsyncClient, token: dict[str, str]) -> Scope:
    """The account's area, its children and up to 500 of its people."""
    me = (await checked(client.get("/api/me", headers=token), 200, "GET /api/me")).json()
    code = me["area_code"]
    kids = await checked(client.get(f"/api/areas/{code}/children", headers=token), 200, "kids")
    params = {"area": code, "size": 500}
    found = await checked(client.get("/api/people", params=params, headers=token), 200, "people")
    people = [p["id"] for p in found.json()["items"]]
    if not people:
        raise RuntimeError(f"no people within {code}: the demo world has none there")
    return Scope(areas=[code, *(k["code"] for k in kids.json())], people=people)


async def users(base: str, stack: AsyncExitStack) -> list[User]:
    """Sign every user in, one after another (not measured), and learn each account's scope."""
    out: list[User] = []
    scopes: dict[str, Scope] = {}
    for account, count in ACCOUNTS:
        for _ in range(count):
            client = await stack.enter_async_context(
                httpx2.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S,
                                   limits=httpx2.Limits(max_connections=1))
            )  # fmt: skip
            token = await sign_in(client, account)
            if account not in scopes:
                scopes[account] = await scope_of(client, token)
            out.append(User(account, client, token, scopes[account], random.Random(len(out))))
    return out


# --- the crowd ----------------------------------------------------------------------------------


@dataclass
class Endpoint:
    """What one kind of request saw: every request's seconds, and its failures by cause."""

    name: str
    kind: str
    seconds: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    seen: dict[str, str] = field(default_factory=dict)  # the first answer of each failure

    def record(self, seconds: float, failure: str | None, said: str = "") -> None:
        """Count one request (its time whether or not it succeeded)."""
        self.seconds.append(seconds)
        if failure is not None:
            self.failures[failure] += 1
            self.seen.setdefault(failure, said)


def message(response: httpx2.Response) -> str:
    """What a failed answer said: its English message when it is lianfang's JSON error."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message_en"), str):
        return str(body["message_en"])[:160]
    return " ".join(response.text.split())[:160]


async def attempt(user: User, action: Action, endpoint: Endpoint) -> None:
    """Send one request and record how long it took and whether it failed."""
    start = perf_counter()
    failure, text = None, ""
    try:
        response = await action.send(user)
        if response.status_code != action.expected:
            failure, text = str(response.status_code), message(response)
    except httpx2.TimeoutException:
        failure = "time-out"
    except httpx2.HTTPError as exc:
        failure, text = type(exc).__name__, str(exc)
    endpoint.record(perf_counter() - start, failure, text)


async def walk(user: User, deadline: float, stats: dict[str, Endpoint]) -> None:
    """One user's requests, one after another with no pause, until the deadline."""
    mix = actions_of(user.account)
    weights = [a.weight for a in mix]
    while perf_counter() < deadline:
        action = user.rng.choices(mix, weights)[0]
        await attempt(user, action, stats[action.name])


async def crowd(base: str) -> tuple[dict[str, Endpoint], float]:
    """All users at once for DURATION_S; the seconds from the start to the last answer."""
    async with AsyncExitStack() as stack:
        everyone = await users(base, stack)
        stats = {a.name: Endpoint(a.name, a.kind) for a in ACTIONS}
        start = perf_counter()
        walks = asyncio.gather(*(walk(u, start + DURATION_S, stats) for u in everyone))
        await asyncio.wait_for(walks, DURATION_S + REQUEST_TIMEOUT_S + 10)
        return stats, perf_counter() - start
