"""Global ids (app.ids): one spelling for the API, the bridge protocol and device files."""

from __future__ import annotations

import pytest

from app.errors import DomainError
from app.ids import decode_id, decode_ids, parse_global_id, to_global_id


def test_a_global_id_reads_back_as_its_type_and_primary_key() -> None:
    gid = to_global_id("Key", 7)

    assert gid == "S2V5Ojc"  # url-safe base64 of "Key:7", without padding
    assert parse_global_id(gid) == ("Key", "7")
    assert decode_id(gid, "Key", "keyId") == ("Key", 7)


def test_text_that_is_no_global_id_parses_to_none() -> None:
    assert parse_global_id("not base64 at all!") is None
    assert parse_global_id(to_global_id("Key", "")) is None  # no primary key
    assert parse_global_id("S2V5") is None  # "Key", no separator


def test_an_id_of_another_type_is_not_found_naming_the_field() -> None:
    with pytest.raises(DomainError) as refused:
        decode_id(to_global_id("Cylinder", 3), ("Key", "ProgrammingKey"), "keyId")

    assert refused.value.code == "NOT_FOUND"
    assert refused.value.field == "keyId"
    assert "Key or ProgrammingKey" in refused.value.message


def test_an_id_whose_primary_key_is_not_a_number_is_not_found() -> None:
    with pytest.raises(DomainError) as refused:
        decode_id(to_global_id("Key", "abc"), "Key", "keyId")

    assert refused.value.field == "keyId"


def test_a_list_of_ids_may_mix_types_and_an_error_names_the_item() -> None:
    # given: a key, a key group, then a cylinder where only keys and key groups are taken
    gids = [to_global_id("Key", 1), to_global_id("KeyGroup", 2), to_global_id("Cylinder", 3)]

    assert decode_ids(gids[:2], ("Key", "KeyGroup"), "add") == [("Key", 1), ("KeyGroup", 2)]
    with pytest.raises(DomainError) as refused:
        decode_ids(gids, ("Key", "KeyGroup"), "add")

    assert (refused.value.code, refused.value.field) == ("NOT_FOUND", "add.2")
