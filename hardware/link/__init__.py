"""The serial link between the bridge PC and a desk programming device (hardware/PROTOCOL.md).

- ``framing`` — COBS frames with a CRC-32, delimited by 0x00 (§2);
- ``crypto`` — the version handshake, X25519 + HKDF-SHA256 session keys, the
  desk's Ed25519 identity and its pinning on the PC (§3);
- ``session`` — stop-and-wait channels of ChaCha20-Poly1305 frames whose
  sequence numbers are the nonces: ordered, acknowledged, retransmitted,
  replays and tampering refused (§4);
- ``messages`` — the JSON requests, answers, events and error codes (§5);
- ``transport`` — pyserial on the PC, the pty end (with line-rate pacing) on the
  simulated desk;
- ``server`` — the desk's side; ``client`` — the PC's side, :class:`DeskClient`.
"""
