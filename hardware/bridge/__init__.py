"""The site bridge agent (``keywarden-bridge``): the PC beside a desk programming device.

At a customer site, programming keys and user keys are read and written in a
desk programming device plugged into a PC (R22). This agent runs headless on
that PC: it talks to the device over the serial port (``hardware.link``) and to
Keywarden over one outbound WebSocket, executing the commands an administrator
queues for the bridge (read or write a key, load programming jobs, read results
and audit trails, key firmware, login signatures; R5, R10, R17, R18, R26, R28).

Modules: :mod:`.state` (enrolment and the device key pair on disk),
:mod:`.reports` (the durable report queue), :mod:`.backoff`, :mod:`.transport`
(graphql-transport-ws), :mod:`.desk` (the serial device, reopened on failure),
:mod:`.commands` (bridge command -> desk calls), :mod:`.agent` (the service),
:mod:`.status` and :mod:`.cli`.
"""

AGENT_VERSION = "0.1.0"
