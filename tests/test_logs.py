"""No personal data in logs: the filter on its own, then a real server and the CLI failing on a
row that holds an ID number and phones, their stderr scanned for the full numbers."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib import error, request

import pytest
from sqlalchemy import Engine, text

from lianfang import logs
from lianfang.auth.choices import Role
from lianfang.pii import mask_id, mask_phone
from tests.factories import PASSWORD, VILLAGE, id_number, role_username
from tests.serving import free_port

NUMBER = id_number("19360229", 7)
PHONE = "13912345678"
RESPONSIBLE_PHONE = "13700001111"
PROBE_NAME = "日志探针"
SQLITE_PROBE = f"""CREATE TRIGGER log_probe BEFORE INSERT ON responsible
WHEN NEW.name = '{PROBE_NAME}' BEGIN SELECT zeroblob(2000000000); END"""
"""A responsible person of that name is refused with "string or blob too big", a DataError: a 500
whose statement has the phone among its parameters."""
PG_PROBE = (
    f"""CREATE FUNCTION log_probe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF NEW.name = '{PROBE_NAME}' THEN RAISE EXCEPTION 'refused % %', NEW.id_number, NEW.phone;
    END IF; RETURN NEW; END $$""",
    "CREATE TRIGGER log_probe BEFORE INSERT ON person FOR EACH ROW EXECUTE FUNCTION log_probe()",
)  # the number in the database's own message, as a PostgreSQL DETAIL line carries it


def test_filter_masks_message_arguments_and_traceback() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logs.add_filter(handler)
    logs.add_filter(handler)  # once is enough
    assert len(handler.filters) == 1
    logger = logging.getLogger("lianfang.test_logs")
    logger.addHandler(handler)
    try:
        raise ValueError(f"Key (id_number)=({NUMBER}) already exists, phone {PHONE}")
    except ValueError:
        logger.exception("saving %s failed (%s)", NUMBER, PHONE)
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert "Traceback" in written
    assert "ValueError" in written
    assert NUMBER not in written
    assert PHONE not in written
    assert written.count(mask_id(NUMBER)) == 2
    assert written.count(mask_phone(PHONE)) == 2


@pytest.fixture
def probe(engine: Engine) -> Iterator[str]:
    """The database refuses, with an error nothing expects, to store a responsible person
    (SQLite) or key person (PostgreSQL) named PROBE_NAME; the test database's URL."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        for statement in (SQLITE_PROBE,) if sqlite else PG_PROBE:
            connection.execute(text(statement))
    try:
        yield engine.url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER log_probe" + ("" if sqlite else " ON person")))
            if not sqlite:
                connection.execute(text("DROP FUNCTION log_probe()"))


def _environment() -> dict[str, str]:
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    environment.pop("LIANFANG_ADMIN_PASSWORD", None)
    return environment


def _post(url: str, body: dict[str, Any], token: str = "") -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} | (
        {"Authorization": f"Bearer {token}"} if token else {}
    )
    sent = request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with request.urlopen(sent, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _served(url: str, stderr: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "lianfang", "serve", "--port", str(port), "--db", url]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=stderr.open("wb"), env=_environment()
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with request.urlopen(f"{base}/login", timeout=2):
                return server, base
        except OSError:
            assert server.poll() is None, stderr.read_text()
            time.sleep(0.2)
    server.kill()
    raise AssertionError("the server did not start")


def test_server_log_of_a_500_holds_no_full_numbers(probe: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server, base = _served(probe, log)
    try:
        signed_in = {"username": role_username(Role.town_operator), "password": PASSWORD}
        token = _post(f"{base}/api/auth/token", signed_in)[1]["access_token"]
        person = {"name": PROBE_NAME, "id_number": NUMBER, "area_code": VILLAGE, "phone": PHONE,
                  "responsible": PROBE_NAME, "responsible_phone": RESPONSIBLE_PHONE}  # fmt: skip
        status, answer = _post(f"{base}/api/people", person, token)
        assert status == 500, answer
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = log.read_text(encoding="utf-8")
    assert "Traceback" in written, written[-3000:]
    for full in (NUMBER, PHONE, RESPONSIBLE_PHONE):
        assert full not in written, full
    if "postgresql" in probe:
        assert f"refused {mask_id(NUMBER)} {mask_phone(PHONE)}" in written  # masked, not lost
    else:
        assert "INSERT INTO responsible" in written
        assert "hide_parameters=True" in written  # the statement logged without its values


def test_cli_debug_traceback_holds_no_full_numbers(probe: str, tmp_path: Path) -> None:
    upload = tmp_path / "people.csv"
    upload.write_text(
        f"姓名,身份证号,联系电话,村(居)代码,负责人,负责人电话\n"
        f"{PROBE_NAME},{NUMBER},{PHONE},{VILLAGE},{PROBE_NAME},{RESPONSIBLE_PHONE}\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "lianfang", "people", "import", str(upload), "--db", probe]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False,
        env=_environment() | {"LIANFANG_DEBUG": "1"},
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "Traceback" in result.stderr
    for full in (NUMBER, PHONE, RESPONSIBLE_PHONE):
        assert full not in result.stderr + result.stdout, full
