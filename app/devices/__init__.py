"""Remote programming devices talking to the server (R22–R24): signed requests, heartbeats,
key insertions and results over JSON at ``/remote/v1`` (see docs/remote-protocol.md).
"""
