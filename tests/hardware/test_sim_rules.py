"""The simulators' own rules, tested on their own (no server code): the hardware's side of R12,
R14, R21, R23 and R26, and the wire module both sides share.

Until issue 9 the simulators borrowed the server's checks; now they implement
them, so each rule is pinned here. ``tests/test_sim_agrees_with_server.py``
then checks the two implementations agree on generated cases.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hardware.sim.device_crypto import answer_is_signed, blocking_list_is_signed, sign_request
from hardware.sim.user_key import (
    MAX_EXTENSION_INTERVAL_HOURS,
    SimError,
    UserKey,
    checked_windows,
    firmware_fits_generation,
    in_windows,
    interval_fits,
)
from hardware.wire import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    answer_message,
    blocking_list_message,
    compare_versions,
    parse_timestamp,
    request_message,
    rfc3339,
    version_at_least,
)

MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TENANT = "6f1c2b9e-0d4a-4c1e-9a57-3b8d2e7f1a00"


def _raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# --- schedules (R12) ------------------------------------------------------------------------


def test_a_schedule_window_includes_its_end_minute_and_only_its_days() -> None:
    windows = [{"days": ["MONDAY"], "start": "08:00", "end": "10:00"}]
    assert in_windows(windows, MONDAY_10)
    assert in_windows(windows, MONDAY_10 + timedelta(seconds=59))  # still 10:00
    assert not in_windows(windows, MONDAY_10 + timedelta(minutes=1))
    assert not in_windows(windows, MONDAY_10 - timedelta(hours=2, minutes=1))
    assert not in_windows(windows, MONDAY_10 + timedelta(days=1))  # a Tuesday


def test_the_simulator_clock_reads_windows_in_utc() -> None:
    # 11:30 at UTC+02:00 is 09:30 UTC, inside 08:00-10:00
    local = datetime.fromisoformat("2026-03-02T11:30:00+02:00")
    assert in_windows([{"days": ["MONDAY"], "start": "08:00", "end": "10:00"}], local)


@pytest.mark.parametrize(
    ("windows", "says"),
    [
        ([], "at least one window"),
        ([{"days": [], "start": "08:00", "end": "09:00"}], "days are some of"),
        ([{"days": ["MONDAY", "MONDAY"], "start": "08:00", "end": "09:00"}], "listed twice"),
        ([{"days": ["Montag"], "start": "08:00", "end": "09:00"}], "days are some of"),
        ([{"days": ["MONDAY"], "start": "8:00", "end": "09:00"}], "start must be HH:MM"),
        ([{"days": ["MONDAY"], "start": "08:00", "end": "24:00"}], "end must be HH:MM"),
        ([{"days": ["MONDAY"], "start": "08:00", "end": "0٩:00"}], "end must be HH:MM"),
        ([{"days": ["MONDAY"], "start": "09:00", "end": "09:00"}], "start must be before end"),
        (["MONDAY 08:00-09:00"], "not an object"),
    ],
)
def test_a_key_refuses_malformed_schedule_windows(windows: Any, says: str) -> None:
    with pytest.raises(SimError) as refused:
        checked_windows(windows)
    assert refused.value.code == "BAD_REQUEST" and says in refused.value.message


def test_well_formed_windows_are_taken_as_written() -> None:
    windows = [{"days": ["SATURDAY", "SUNDAY"], "start": "00:00", "end": "23:59"}]
    assert checked_windows(windows) == windows


# --- validity and revalidation (R12, R14) ---------------------------------------------------


def test_an_extension_interval_is_one_hour_to_730_days() -> None:
    assert MAX_EXTENSION_INTERVAL_HOURS == 17_520
    assert [interval_fits(h) for h in (0, 1, 17_520, 17_521)] == [False, True, True, False]


def test_an_e3_key_with_an_interval_opens_until_its_revalidation_runs_out() -> None:
    # given: an E3 key revalidated on Monday 10:00 with a 24-hour interval
    key = UserKey(
        "K-3", "E3", 2, "16.3.7",
        validity={"alwaysValid": True, "extensionIntervalHours": 24},
        schedule={"windows": [{"days": ["MONDAY"], "start": "00:00", "end": "23:59"}]},
        last_revalidated_at=MONDAY_10,
    )
    # then: it holds exactly 24 hours, the last instant included (R14)
    assert key.revalidation_allows(MONDAY_10 + timedelta(hours=24))
    assert not key.revalidation_allows(MONDAY_10 + timedelta(hours=24, seconds=1))


def test_a_key_refuses_an_interval_outside_its_range() -> None:
    key = UserKey("K-3", "E3", 2, "16.3.7")
    with pytest.raises(SimError) as refused:
        key.write(validity={"alwaysValid": True, "extensionIntervalHours": 17_521})
    assert refused.value.code == "BAD_REQUEST" and "17520" in refused.value.message


def test_a_validity_ends_at_the_first_instant_the_key_no_longer_works() -> None:
    until = MONDAY_10 + timedelta(days=1)
    key = UserKey(
        "K-2", "E2", 2, "16.3.7",
        validity={"alwaysValid": False, "validFrom": rfc3339(MONDAY_10),
                  "validUntil": rfc3339(until)},
    )
    assert key.validity_allows(MONDAY_10)
    assert key.validity_allows(until - timedelta(seconds=1))
    assert not key.validity_allows(until)
    assert not key.validity_allows(MONDAY_10 - timedelta(seconds=1))


# --- firmware generations (R10, R26) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "generation", "runs"),
    [("6.9.9", 1, True), ("7.0", 1, False), ("0.1", 1, True), ("9.9", 2, False),
     ("10.0", 2, True), ("16.3.7", 2, True), ("16.x", 2, False), ("1.2.3.4.5", 1, False)],
)
def test_a_key_generation_runs_its_own_firmware_majors(
    version: str, generation: int, runs: bool
) -> None:
    assert firmware_fits_generation(version, generation) is runs


def test_a_key_throws_away_an_image_whose_sha256_differs() -> None:
    # given: a key that was told the image's digest, then got other bytes
    key = UserKey("K-9", "E2", 2, "16.3.7")
    image = b"firmware" * 10
    key.begin_firmware("16.4.0", len(image), hashlib.sha256(b"other").hexdigest())
    key.write_firmware_chunk(0, image)
    # when / then: refused at the end, the old firmware stays
    with pytest.raises(SimError) as refused:
        key.finish_firmware()
    assert refused.value.code == "BAD_REQUEST" and key.firmware == "16.3.7"


# --- signed requests, answers and blocking lists (R21, R23) ----------------------------------


def test_a_device_signs_the_six_line_request_string() -> None:
    # given: a device key and a request
    private = Ed25519PrivateKey.generate()
    body = b'{"firmwareVersion":"5.2.0"}'
    path = f"/remote/v1/{TENANT}/WPD-1/heartbeat"
    # when
    headers = sign_request(private, "post", path, body, now=MONDAY_10 + timedelta(microseconds=7))
    # then: the time to the second, a 128-bit nonce, and a signature over exactly the
    # documented string (docs/remote-protocol.md)
    assert headers[TIMESTAMP_HEADER] == "2026-03-02T10:00:00Z"
    assert len(headers[NONCE_HEADER]) == 32
    expected = "\n".join(["KEYWARDEN-REMOTE-V1", "POST", path, "2026-03-02T10:00:00Z",
                          headers[NONCE_HEADER], hashlib.sha256(body).hexdigest()]).encode()
    assert request_message("post", path, headers[TIMESTAMP_HEADER],
                           headers[NONCE_HEADER], body) == expected
    private.public_key().verify(base64.b64decode(headers[SIGNATURE_HEADER]), expected)
    with pytest.raises(InvalidSignature):
        private.public_key().verify(base64.b64decode(headers[SIGNATURE_HEADER]), expected + b" ")


def test_a_device_trusts_an_answer_only_for_its_nonce_status_and_body() -> None:
    tenant = Ed25519PrivateKey.generate()
    nonce, body = "ab" * 16, b'{"ok":true}'
    signature = base64.b64encode(tenant.sign(answer_message(nonce, 200, body))).decode()
    assert answer_is_signed(_raw(tenant), signature, nonce, 200, body)
    assert answer_is_signed(_raw(tenant).hex(), signature, nonce, 200, body)
    assert not answer_is_signed(_raw(tenant), signature, "cd" * 16, 200, body)
    assert not answer_is_signed(_raw(tenant), signature, nonce, 400, body)
    assert not answer_is_signed(_raw(tenant), signature, nonce, 200, body + b" ")
    assert not answer_is_signed(_raw(Ed25519PrivateKey.generate()), signature, nonce, 200, body)
    assert not answer_is_signed(_raw(tenant), "not base64!", nonce, 200, body)
    assert not answer_is_signed("zz", signature, nonce, 200, body)


def _signed_list(tenant: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    served: dict[str, Any] = {"version": 3, "issuedAt": "2026-03-02T10:00:00Z",
                              "validUntil": "2026-03-02T12:00:00Z", "keyUids": ["04A1", "04B2"]}
    message = blocking_list_message(
        tenant_id=TENANT, version=served["version"], issued_at=served["issuedAt"],
        valid_until=served["validUntil"], key_uids=served["keyUids"],
    )
    served["signature"] = base64.b64encode(tenant.sign(message)).decode()
    return served | changes


def test_a_device_keeps_only_a_blocking_list_its_tenant_signed_for_it() -> None:
    tenant = Ed25519PrivateKey.generate()
    key = _raw(tenant).hex()
    assert blocking_list_is_signed(_signed_list(tenant), tenant_id=TENANT, tenant_key=key)
    for changed in ({"version": 4}, {"keyUids": ["04A1"]}, {"validUntil": None},
                    {"issuedAt": "2026-03-02T10:00:01Z"}, {"version": True},
                    {"keyUids": "04A1"}, {"issuedAt": "yesterday"}, {"signature": None}):
        served = _signed_list(tenant, **changed)
        assert not blocking_list_is_signed(served, tenant_id=TENANT, tenant_key=key), changed
    other_tenant = TENANT.replace("00", "01")
    assert not blocking_list_is_signed(_signed_list(tenant), tenant_id=other_tenant,
                                       tenant_key=key)
    incomplete = _signed_list(tenant)
    del incomplete["validUntil"]
    assert not blocking_list_is_signed(incomplete, tenant_id=TENANT, tenant_key=key)


# --- the wire module ------------------------------------------------------------------------


def test_times_are_written_in_utc_with_z_and_read_only_with_an_offset() -> None:
    local = datetime.fromisoformat("2026-03-02T11:00:00+01:00")
    assert rfc3339(local) == "2026-03-02T10:00:00Z"
    assert parse_timestamp("2026-03-02T11:00:00+01:00") == MONDAY_10
    assert parse_timestamp("2026-03-02T10:00:00") is None  # no offset: refused, not guessed
    assert parse_timestamp("") is None and parse_timestamp("x" * 41) is None
    with pytest.raises(ValueError):
        rfc3339(datetime(2026, 3, 2, 10, 0))


def test_versions_compare_as_numbers() -> None:
    assert compare_versions("10.2", "10.10") == -1
    assert compare_versions("12.3", "12.3.0") == 0
    assert version_at_least("16.3.10", "16.3.7")
    assert not version_at_least("16.3", "16.3.7")
    with pytest.raises(ValueError):
        compare_versions("16.3.x", "16.3")
