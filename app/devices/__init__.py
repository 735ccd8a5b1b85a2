"""Remote programming devices talking to the server (R22–R24): signed requests, heartbeats,
key insertions and results over JSON at ``/remote/v1`` (see docs/remote-protocol.md).

Three conversations, each one request and one answer in one transaction:
``heartbeat`` (the device is online and learns what is pending, R21, R23, R25;
with ``offline_updates``, R24), ``key_insertion`` (what the device writes into a
key, R14, R18, R22, R26, R29; its validity through ``validity``) and ``results``
(how the delivered jobs went, the key's audit trail, R18, R26, R28). Around
them: ``presence`` (devices that fell silent go offline, R23),
``device_settings`` (R22, R24, R26), ``files`` (USB files, R27), ``protocol``
(signatures, replay protection) and ``api`` (HTTP).
"""
