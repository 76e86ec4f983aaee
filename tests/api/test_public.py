"""The public medicine lookup: no sign-in, no personal data, rate-limited per address."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lianfang.api.ratelimit import TokenBucket
from lianfang.auth.scope import SYSTEM
from lianfang.resources import ledger
from lianfang.resources.choices import FacilityType
from tests.factories import VILLAGE, VILLAGE_2
from tests.resources.factories import facility, item


def test_the_lookup_needs_no_sign_in_and_answers_nearest_first(
    client: TestClient, session: Session
) -> None:
    ibu = item(session, "ibuprofen")
    here = facility(session, "P-HERE", VILLAGE, FacilityType.pharmacy)
    there = facility(session, "P-THERE", VILLAGE_2, FacilityType.pharmacy)
    closed = facility(session, "P-SHUT", VILLAGE, FacilityType.pharmacy)
    for place, quantity in ((here, 3), (there, 80), (closed, 5)):
        ledger.receive(session=session, actor=SYSTEM, facility_id=place.id, item_id=ibu.id,
                       quantity=quantity)  # fmt: skip
    closed.status = closed.status.closed
    session.flush()
    answer = client.get("/api/public/medicine", params={"item": "布洛芬", "near": VILLAGE,
                                                        "limit": 50})  # fmt: skip
    assert answer.status_code == 200, answer.text
    names = [r["name"] for r in answer.json()["results"]]
    assert here.name in names
    assert there.name in names
    assert closed.name not in names
    kms = [r["km"] for r in answer.json()["results"]]
    assert kms == sorted(kms)
    row = next(r for r in answer.json()["results"] if r["name"] == here.name)
    assert row["level"] == "少量"
    assert "balance" not in row
    assert client.get("/api/public/medicine", params={"item": "nothing", "near": VILLAGE}
                      ).status_code == 404  # fmt: skip


def test_too_many_lookups_answer_429_with_retry_after(client: TestClient) -> None:
    client.app.state.public_bucket = TokenBucket(2)  # type: ignore[attr-defined]
    params = {"item": "ibuprofen", "near": VILLAGE}
    assert client.get("/api/public/medicine", params=params).status_code == 200
    assert client.get("/api/public/medicine", params=params).status_code == 200
    third = client.get("/api/public/medicine", params=params)
    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) >= 1


def test_the_bucket_refills_with_time() -> None:
    now = [0.0]
    bucket = TokenBucket(60, clock=lambda: now[0])
    assert all(bucket.take("a") == 0 for _ in range(60))
    assert bucket.take("a") > 0
    assert bucket.take("b") == 0  # another address has its own bucket
    now[0] += 1.0
    assert bucket.take("a") == 0
