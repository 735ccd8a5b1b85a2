"""What firmware is for (R25, R26): its targets, the key generations they update, and how an
installed version compares with an image's.
"""

from __future__ import annotations

from app.factory.firmware import compare_versions, is_version
from app.models import FirmwareTarget, KeyGeneration, KeyStatus, RemoteDeviceKind

KEY_TARGETS = {
    FirmwareTarget.KEY_GEN1: KeyGeneration.GEN1,
    FirmwareTarget.KEY_GEN2: KeyGeneration.GEN2,
}
KEY_TARGET_OF = {generation: target for target, generation in KEY_TARGETS.items()}
DEVICE_TARGETS = (FirmwareTarget.REMOTE_BOOTLOADER, FirmwareTarget.REMOTE_DEVICE)
# R26: keys that take no firmware update.
NO_UPDATE = (KeyStatus.LOST, KeyStatus.DEFECTIVE, KeyStatus.NOT_ACTIVATED)
# R22, R23: devices that fetch firmware with their heartbeats (desk devices sit behind the bridge).
HEARTBEAT_KINDS = (RemoteDeviceKind.WALL, RemoteDeviceKind.MOBILE)

# How e-mails and messages name a target.
LABEL = {
    FirmwareTarget.KEY_GEN1: "generation-1 key",
    FirmwareTarget.KEY_GEN2: "generation-2 key",
    FirmwareTarget.REMOTE_DEVICE: "remote device",
    FirmwareTarget.REMOTE_BOOTLOADER: "remote device bootloader",
}


def is_lower(current: str, version: str) -> bool:
    """Whether firmware ``current`` is older than ``version``; unreadable counts as older."""
    if not is_version(current):
        return True
    return compare_versions(current, version) < 0


def stage(target: FirmwareTarget) -> str:
    """The stage of a transfer (R25, R26): "bootloader" or "firmware" for the device's own
    images, "key" for a key image it stores to flash keys with."""
    if target in KEY_TARGETS:
        return "key"
    return "bootloader" if target is FirmwareTarget.REMOTE_BOOTLOADER else "firmware"
