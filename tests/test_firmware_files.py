"""R25, R26: the vendor's signed firmware files, and firmware version rules (R10, R17, R22)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.errors import DomainError
from app.factory.firmware import (
    FORMAT,
    JOB_LOADING_MIN_KEY_FIRMWARE,
    JOB_LOADING_MIN_REMOTE_DEVICE_FIRMWARE,
    POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE,
    build_firmware_file,
    compare_versions,
    demo_image,
    is_version,
    make_firmware_file,
    verify_firmware_file,
    version_at_least,
)
from app.factory.vendor import canonical_payload, public_key_hex
from app.models import FirmwareTarget

VENDOR = Ed25519PrivateKey.generate()
TRUSTED = [public_key_hex(VENDOR)]
BUNDLE = "7F3A-CCB-2024"


def _firmware_file(
    target: FirmwareTarget = FirmwareTarget.KEY_GEN2,
    version: str = "16.3.7",
    image: bytes | None = None,
    signing_key: Ed25519PrivateKey = VENDOR,
) -> bytes:
    return make_firmware_file(
        target=target,
        version=version,
        image=demo_image(target, version, 4096) if image is None else image,
        certificate_bundle=BUNDLE,
        signing_key=signing_key,
        release_notes="Potential-free output support for E3 keys.",
    )


def _altered(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(data)
    change(document)
    return json.dumps(document).encode()


def _header(**overrides: Any) -> dict[str, Any]:
    image = overrides.pop("image", b"\x00firmware\xff")
    return {
        "target": "KEY_GEN2",
        "version": "12.3",
        "certificateBundle": BUNDLE,
        "sha256": hashlib.sha256(image).hexdigest(),
        "size": len(image),
        "createdAt": "2024-05-01T10:00:00+00:00",
        "releaseNotes": "",
        **overrides,
    }


def _refused(data: bytes, max_size: int | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        verify_firmware_file(data, TRUSTED, max_size=max_size)
    assert caught.value.field == "file"
    return caught.value


def test_a_signed_firmware_file_verifies_and_returns_its_image() -> None:
    # given every byte value in the image: the format must be binary-safe
    image = bytes(range(256)) * 3 + b"\x00"
    created = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    data = make_firmware_file(
        target=FirmwareTarget.REMOTE_BOOTLOADER,
        version="5.1.2",
        image=image,
        certificate_bundle=BUNDLE,
        signing_key=VENDOR,
        release_notes="Bootloader for the two-step roll-out.",
        created_at=created,
    )

    # when
    firmware = verify_firmware_file(data, TRUSTED, max_size=len(image))

    # then
    assert firmware.target is FirmwareTarget.REMOTE_BOOTLOADER
    assert firmware.version == "5.1.2"
    assert firmware.certificate_bundle == BUNDLE
    assert firmware.image == image
    assert firmware.sha256 == hashlib.sha256(image).hexdigest()
    assert firmware.release_notes == "Bootloader for the two-step roll-out."
    assert firmware.created_at == created
    assert firmware.signer == public_key_hex(VENDOR)
    assert json.loads(data)["format"] == FORMAT


def test_the_target_may_be_given_by_name_and_trusted_keys_in_any_case() -> None:
    # given
    data = make_firmware_file(
        target="KEY_GEN1",
        version="6.2",
        image=b"gen1",
        certificate_bundle=BUNDLE,
        signing_key=VENDOR,
    )

    # when
    firmware = verify_firmware_file(data, [public_key_hex(VENDOR).upper()])

    # then
    assert firmware.target is FirmwareTarget.KEY_GEN1
    assert firmware.release_notes == ""


def test_an_altered_image_byte_is_refused_as_bad_signature() -> None:
    # given one byte of the image flipped, its length unchanged
    def flip(document: dict[str, Any]) -> None:
        image = bytearray(base64.b64decode(document["image"]))
        image[100] ^= 0x01
        document["image"] = base64.b64encode(bytes(image)).decode()

    data = _altered(_firmware_file(), flip)

    # when
    error = _refused(data)

    # then
    assert error.code == "BAD_SIGNATURE"
    assert "SHA-256" in error.message


def test_an_altered_header_is_refused_as_bad_signature() -> None:
    # given the version raised after signing
    def newer(document: dict[str, Any]) -> None:
        document["header"]["version"] = "16.3.8"

    data = _altered(_firmware_file(), newer)

    # when
    error = _refused(data)

    # then
    assert error.code == "BAD_SIGNATURE"


def test_a_replaced_image_with_its_hash_updated_is_refused_as_bad_signature() -> None:
    # given an attacker swaps the image and fixes sha256 and size in the header
    def swap(document: dict[str, Any]) -> None:
        evil = b"evil firmware"
        document["image"] = base64.b64encode(evil).decode()
        document["header"]["sha256"] = hashlib.sha256(evil).hexdigest()
        document["header"]["size"] = len(evil)

    data = _altered(_firmware_file(), swap)

    # when
    error = _refused(data)

    # then
    assert error.code == "BAD_SIGNATURE"


def test_a_file_from_an_untrusted_signer_is_refused() -> None:
    # given a well-formed file signed by a key the tenant does not trust
    stranger = Ed25519PrivateKey.generate()
    data = _firmware_file(signing_key=stranger)

    # when
    error = _refused(data)

    # then
    assert error.code == "BAD_SIGNATURE"
    assert "does not trust" in error.message
    assert public_key_hex(stranger)[:16] in error.message


def test_a_file_claiming_the_trusted_signer_but_signed_by_another_key_is_refused() -> None:
    # given
    stranger = Ed25519PrivateKey.generate()

    def claim_vendor(document: dict[str, Any]) -> None:
        document["signer"] = public_key_hex(VENDOR)

    data = _altered(_firmware_file(signing_key=stranger), claim_vendor)

    # when
    error = _refused(data)

    # then
    assert error.code == "BAD_SIGNATURE"
    assert "does not match" in error.message


def test_a_signature_over_the_bare_header_does_not_count_as_a_firmware_signature() -> None:
    # given a vendor signature over the canonical header without the format tag,
    # as an extension file's signature is made (R31)
    def bare(document: dict[str, Any]) -> None:
        signature = VENDOR.sign(canonical_payload(document["header"]))
        document["signature"] = base64.b64encode(signature).decode()

    data = _altered(_firmware_file(), bare)

    # when
    error = _refused(data)

    # then
    assert error.code == "BAD_SIGNATURE"


def test_generation_1_firmware_with_a_two_digit_version_is_refused_naming_the_version() -> None:
    # given a vendor-signed file for a generation-1 key with firmware 10.1 (R10: up to 6.x)
    image = b"gen1 image"
    data = build_firmware_file(
        _header(target="KEY_GEN1", version="10.1", image=image), image, VENDOR
    )

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("header.version:")
    assert "R10" in error.message


def test_generation_2_firmware_below_10_is_refused() -> None:
    # given
    image = b"gen2 image"
    data = build_firmware_file(
        _header(target="KEY_GEN2", version="6.9", image=image), image, VENDOR
    )

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("header.version:")


def test_making_a_file_for_the_wrong_generation_is_refused() -> None:
    # when
    with pytest.raises(DomainError) as caught:
        _firmware_file(target=FirmwareTarget.KEY_GEN1, version="10.1")

    # then
    assert caught.value.code == "INVALID"
    assert caught.value.field == "file"
    assert caught.value.message.startswith("header.version:")


@pytest.mark.parametrize("version", ["16.3.x", "1.2.3.4.5", "12.3\n", "١٢.3", "12..3", "v12", ""])
def test_a_malformed_version_is_refused(version: str) -> None:
    # given
    image = b"image"
    data = build_firmware_file(_header(version=version, image=image), image, VENDOR)

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("header.version:")


def test_an_unknown_target_is_refused() -> None:
    # given
    image = b"image"
    data = build_firmware_file(_header(target="KEY_GEN3", image=image), image, VENDOR)

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("header.target:")


def test_an_image_over_the_size_limit_is_refused() -> None:
    # given
    data = _firmware_file(image=demo_image(FirmwareTarget.KEY_GEN2, "16.3.7", 2049))

    # when
    error = _refused(data, max_size=2048)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("header.size:")
    assert verify_firmware_file(data, TRUSTED, max_size=2049).image


def test_a_truncated_image_is_refused_naming_the_image() -> None:
    # given the image cut short after signing
    def truncate(document: dict[str, Any]) -> None:
        document["image"] = document["image"][:-8]

    data = _altered(_firmware_file(), truncate)

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("image:")


def test_an_image_that_is_not_base64_is_refused() -> None:
    # given an image of the right length with characters outside base64
    def garble(document: dict[str, Any]) -> None:
        document["image"] = "*" * len(document["image"])

    data = _altered(_firmware_file(), garble)

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("image:")


def test_a_header_size_that_disagrees_with_the_image_is_refused() -> None:
    # given a signed header stating one byte more than the image has
    image = b"abcdef"
    header = _header(image=image, size=len(image) + 1)
    data = build_firmware_file(header, image, VENDOR)

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("image:")


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (b"\x89PNG not json", "$"),
        (b"[1, 2]", "$"),
        (b"1" * 5000, "$"),
        (b"[" * 100_000, "$"),
        (b'{"format": "keywarden-extension/1", "header": {}}', "format"),
        (b'{"format": "keywarden-firmware/1", "header": []}', "header"),
    ],
)
def test_a_file_that_is_not_a_firmware_file_is_refused_naming_the_path(
    data: bytes, path: str
) -> None:
    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith(f"{path}:")


def test_a_field_given_twice_is_refused() -> None:
    # given a second "header" after the signed one: parsers disagree on which wins
    signed = _firmware_file()
    text = signed.decode().rstrip()
    assert text.endswith("}")
    data = (text[:-1] + ', "header": {"target": "KEY_GEN2"}}').encode()

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert "appears twice" in error.message


def test_an_unknown_header_field_is_refused() -> None:
    # given
    image = b"image"
    data = build_firmware_file(_header(image=image, installer="run-me.sh"), image, VENDOR)

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("header.installer:")


def test_a_creation_time_without_utc_offset_is_refused() -> None:
    # given
    image = b"image"
    data = build_firmware_file(_header(image=image, createdAt="2024-05-01T10:00:00"), image, VENDOR)

    # when
    error = _refused(data)

    # then
    assert error.code == "INVALID"
    assert error.message.startswith("header.createdAt:")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("16.3.7", "16.3.7", 0),
        ("16.3.10", "16.3.7", 1),
        ("16.3.6", "16.3.7", -1),
        ("12.3", "12.3.0", 0),
        ("12.3.0.0", "12.3", 0),
        ("10.2", "10.10", -1),
        ("10.10", "9.99", 1),
        ("6.2", "10.1", -1),
        ("5", "4.9.9", 1),
        ("12.03", "12.3", 0),
    ],
)
def test_versions_compare_as_numbers(a: str, b: str, expected: int) -> None:
    # when
    result = compare_versions(a, b)

    # then
    assert result == expected
    assert compare_versions(b, a) == -expected


def test_minimum_firmware_rules_accept_the_minimum_and_newer() -> None:
    # then: R22, potential-free output needs E3 key firmware 16.3.7
    assert version_at_least("16.3.7", POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE)
    assert version_at_least("16.3.10", POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE)
    assert not version_at_least("16.3.6", POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE)
    # R17: jobs load onto keys from 12.3 and at remote devices from 5
    assert version_at_least("12.3.0", JOB_LOADING_MIN_KEY_FIRMWARE)
    assert version_at_least("12.10", JOB_LOADING_MIN_KEY_FIRMWARE)
    assert not version_at_least("12.2.99", JOB_LOADING_MIN_KEY_FIRMWARE)
    assert version_at_least("5", JOB_LOADING_MIN_REMOTE_DEVICE_FIRMWARE)
    assert not version_at_least("4.12", JOB_LOADING_MIN_REMOTE_DEVICE_FIRMWARE)


@pytest.mark.parametrize("bad", ["12.x", "", "1.2.3.4.5", "12.3\n", "1" * 33])
def test_comparing_a_malformed_version_raises(bad: str) -> None:
    # then
    assert not is_version(bad)
    with pytest.raises(ValueError, match="not a firmware version"):
        compare_versions(bad, "12.3")
    with pytest.raises(ValueError, match="not a firmware version"):
        version_at_least("12.3", bad)


def test_demo_images_are_deterministic_per_target_and_version() -> None:
    # when
    first = demo_image(FirmwareTarget.REMOTE_DEVICE, "5.2", 100_000)
    again = demo_image("REMOTE_DEVICE", "5.2", 100_000)

    # then
    assert len(first) == 100_000
    assert first == again
    assert demo_image(FirmwareTarget.REMOTE_DEVICE, "5.2", 10) == first[:10]
    assert demo_image(FirmwareTarget.REMOTE_DEVICE, "5.3", 10) != first[:10]
    assert demo_image(FirmwareTarget.REMOTE_BOOTLOADER, "5.2", 10) != first[:10]
    assert len(set(first[:4096])) > 200
