"""What firmware is for (app.firmware.targets, R25, R26) and chunked id lists (app.db)."""

from __future__ import annotations

from app.db import chunked
from app.firmware.targets import is_lower, stage
from app.models import FirmwareTarget


def test_unreadable_installed_firmware_counts_as_older() -> None:
    assert is_lower("12.2.9", "12.3")
    assert not is_lower("12.3.0", "12.3")  # equal as numbers
    assert not is_lower("16.3.7", "12.3")
    assert is_lower("unknown", "1.0")


def test_each_target_has_its_transfer_stage() -> None:
    assert stage(FirmwareTarget.REMOTE_BOOTLOADER) == "bootloader"
    assert stage(FirmwareTarget.REMOTE_DEVICE) == "firmware"
    assert stage(FirmwareTarget.KEY_GEN1) == stage(FirmwareTarget.KEY_GEN2) == "key"


def test_long_id_lists_go_in_pieces_of_at_most_the_chunk_size() -> None:
    assert [list(c) for c in chunked([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    assert list(chunked([], 2)) == []
    assert [len(c) for c in chunked(list(range(12_000)))] == [5000, 5000, 2000]
