"""Where the server and a simulator implement the same rule, they agree (generated cases).

Since issue 9 the simulators (``hardware/sim``) implement the hardware's rules
themselves instead of calling the server's functions, so a bug on one side is
no longer copied to the other. These properties hold both implementations side
by side: schedule windows (R12), extension intervals (R14), which key
generation runs which firmware (R10, R26), the signed key blocking list (R21),
and signed requests and answers of the remote protocol (R23).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.access.blocking_list import verify_served_blocking_list
from app.access.service import check_interval, check_windows
from app.devices.protocol import (
    DeviceAuthError,
    check_headers,
    sign_answer,
    verify_answer,
    verify_signature,
)
from app.errors import DomainError
from app.factory.firmware import make_firmware_file
from app.models import AccessResult, FirmwareTarget, Weekday
from hardware.sim.device_crypto import answer_is_signed, blocking_list_is_signed, sign_request
from hardware.sim.user_key import (
    ACCESS_RESULTS,
    WEEKDAYS,
    SimError,
    checked_windows,
    firmware_fits_generation,
    interval_fits,
)
from hardware.wire import blocking_list_message, request_message

TENANT = "6f1c2b9e-0d4a-4c1e-9a57-3b8d2e7f1a00"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CASES = hypothesis_settings(database=None, max_examples=200, deadline=None)

# "HH:MM" texts near the edges, and digits that are not ASCII ones.
_TIMES = st.one_of(
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 25), st.integers(0, 61)),
    st.sampled_from(["8:00", "08:0", "0٩:00", "12:3٤", "24:00", "23:59", "00:00", " 08:00"]),
)
_WINDOW = st.fixed_dictionaries(
    {
        "days": st.lists(st.sampled_from(WEEKDAYS), max_size=8),
        "start": _TIMES,
        "end": _TIMES,
    }
)


def _accepts(check: Callable[[Any], object], refusal: type[Exception], value: Any) -> bool:
    """Whether ``check`` takes ``value`` (False when it raises ``refusal``)."""
    try:
        check(value)
    except refusal:
        return False
    return True


def test_both_sides_name_the_same_days_and_access_results() -> None:
    # The names the key's memory and the audit trails carry on the wire (R12, R28).
    assert set(WEEKDAYS) == {d.value for d in Weekday}
    assert ACCESS_RESULTS == {r.value for r in AccessResult}


@CASES
@given(st.lists(_WINDOW, max_size=3))
# Found by this test: the server took "0٩:00" (\d matches Arabic-Indic digits), keys refuse it.
@example([{"days": ["MONDAY"], "start": "0٩:00", "end": "10:00"}])
def test_server_and_key_accept_the_same_schedule_windows(windows: list[dict[str, Any]]) -> None:
    # R12: a schedule the server stores is one a key's memory takes, and the other way round.
    server = _accepts(check_windows, DomainError, windows)
    assert server == _accepts(checked_windows, SimError, windows)


@CASES
@given(st.integers(-10, 20_000))
def test_server_and_key_accept_the_same_extension_intervals(hours: int) -> None:
    # R14
    assert _accepts(check_interval, DomainError, hours) == interval_fits(hours)


_VERSIONS = st.one_of(
    st.builds(
        lambda parts: ".".join(map(str, parts)),
        st.lists(st.integers(0, 20), min_size=1, max_size=4),
    ),
    st.sampled_from(["6", "6.99", "7.0", "9.9.9", "10", "10.0.0.0", "06.1", "1.2.3.4.5", "x"]),
)


@pytest.mark.parametrize(
    ("target", "generation"), [(FirmwareTarget.KEY_GEN1, 1), (FirmwareTarget.KEY_GEN2, 2)]
)
@CASES
@given(version=_VERSIONS)
def test_the_vendor_file_check_and_the_key_agree_on_which_generation_runs_a_version(
    target: FirmwareTarget, generation: int, version: str
) -> None:
    # R10, R26: a key firmware file the server accepts for a generation is one that
    # generation's keys install, and a file it refuses is one they refuse.
    try:
        make_firmware_file(
            target=target, version=version, image=b"\x00" * 16, certificate_bundle="CCB",
            signing_key=_VENDOR,
        )
        server = True
    except DomainError:
        server = False
    assert server == firmware_fits_generation(version, generation)


_VENDOR = Ed25519PrivateKey.generate()
_TENANT_KEY = Ed25519PrivateKey.generate()
_TENANT_PUBLIC = _TENANT_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _served_list(version: int, issued: datetime, uids: list[str]) -> dict[str, Any]:
    """A blocking list signed by the tenant as the heartbeat serves it (R21)."""
    served: dict[str, Any] = {
        "version": version,
        "issuedAt": issued.isoformat().replace("+00:00", "Z"),
        "validUntil": (issued + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "keyUids": uids,
    }
    message = blocking_list_message(
        tenant_id=TENANT, version=version, issued_at=served["issuedAt"],
        valid_until=served["validUntil"], key_uids=uids,
    )
    served["signature"] = base64.b64encode(_TENANT_KEY.sign(message)).decode()
    return served


_TAMPERING = st.sampled_from(
    [None, "version", "issuedAt", "validUntil", "keyUids", "signature", "tenant", "drop"]
)


@CASES
@given(
    version=st.integers(1, 10_000),
    issued=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.replace(microsecond=0)),
    uids=st.lists(st.text("0123456789ABCDEF", min_size=2, max_size=16), max_size=5),
    tampering=_TAMPERING,
)
def test_server_and_wall_device_agree_on_which_blocking_lists_are_signed(
    version: int, issued: datetime, uids: list[str], tampering: str | None
) -> None:
    # R21: the device keeps exactly the lists the server's own check accepts.
    served, tenant = _served_list(version, issued, uids), TENANT
    if tampering == "version":
        served["version"] += 1
    elif tampering in ("issuedAt", "validUntil"):
        served[tampering] = served[tampering].replace("Z", "+01:00")
    elif tampering == "keyUids":
        served["keyUids"] = [*uids, "04FF"]
    elif tampering == "signature":
        served["signature"] = base64.b64encode(b"\x00" * 64).decode()
    elif tampering == "tenant":
        tenant = TENANT.replace("0", "1")
    elif tampering == "drop":
        del served["validUntil"]
    server = verify_served_blocking_list(served, tenant_id=tenant, public_key=_TENANT_PUBLIC)
    device = blocking_list_is_signed(served, tenant_id=tenant, tenant_key=_TENANT_PUBLIC)
    assert server == device == (tampering is None)


@CASES
@given(
    body=st.binary(max_size=200),
    verb=st.sampled_from(["heartbeat", "key-inserted", "results"]),
    skew=st.integers(-600, 600),
    tampering=st.sampled_from([None, "body", "path", "key"]),
)
def test_the_server_accepts_exactly_the_requests_a_device_signed_in_time(
    body: bytes, verb: str, skew: int, tampering: str | None
) -> None:
    # R23: the device's signature over the documented string is what the server checks,
    # and the five-minute window is the same from both ends.
    device_key = Ed25519PrivateKey.generate()
    path = f"/remote/v1/{TENANT}/WPD-1/{verb}"
    headers = sign_request(device_key, "POST", path, body, now=NOW + timedelta(seconds=skew))
    received_body, received_path = body, path
    public = device_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if tampering == "body":
        received_body = body + b" "
    elif tampering == "path":
        received_path = path.replace("WPD-1", "WPD-2")
    elif tampering == "key":
        public = _TENANT_PUBLIC
    try:
        signed = check_headers(headers, NOW)
    except DeviceAuthError as refused:
        assert refused.code == "STALE_TIMESTAMP" and abs(skew) > 300
        return
    assert abs(skew) <= 300
    message = request_message("POST", received_path, signed.timestamp, signed.nonce, received_body)
    assert verify_signature(public, signed.signature, message) == (tampering is None)


@CASES
@given(
    body=st.binary(max_size=200),
    status=st.sampled_from([200, 400, 401]),
    tampering=st.sampled_from([None, "body", "status", "nonce"]),
)
def test_a_device_trusts_exactly_the_answers_the_server_signed_for_its_request(
    body: bytes, status: int, tampering: str | None
) -> None:
    # R23: what the server signs for an answer, the device checks, and both refuse a change.
    nonce = "5f0c1e9a7b3d4c2e8f6a1b0c9d8e7f6a"
    signature = sign_answer(
        _TENANT_KEY.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        nonce, status, body,
    )
    if tampering == "body":
        body = body + b"!"
    elif tampering == "status":
        status = 500
    elif tampering == "nonce":
        nonce = nonce[::-1]
    server = verify_answer(_TENANT_PUBLIC, signature, nonce, status, body)
    device = answer_is_signed(_TENANT_PUBLIC, signature, nonce, status, body)
    assert server == device == (tampering is None)
