"""The byte pipes under the desk link: the PC's serial port (pyserial) and the desk's pty end.

A pseudo-terminal moves bytes as fast as the kernel copies them and ignores the
baud rate, so the simulated desk paces its own end (:class:`PtyLine`): every byte
costs 10 bit times (start bit, 8 data bits, stop bit) in each direction, which is
what a 115200 baud UART line really carries (11,520 bytes/s).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import time
import tty

import serial


class TransportClosed(Exception):
    """The port is gone: the cable was pulled, the device closed its end, or we closed it."""


class SerialTransport:
    """The PC's end: a serial port opened with pyserial (a USB-serial device or a pty path)."""

    READ_SLICE = 0.05  # longest a read blocks, so the reader notices close() quickly

    def __init__(self, port: str, baudrate: int = 115200) -> None:
        try:
            self._serial = serial.Serial(
                port, baudrate=baudrate or 115200, timeout=self.READ_SLICE, exclusive=True
            )
        except (serial.SerialException, OSError) as exc:
            raise TransportClosed(f"cannot open {port}: {exc}") from None
        self.port = port
        self._write_lock = threading.Lock()

    def read(self) -> bytes:
        """What arrived (waiting up to READ_SLICE for the first byte); b"" if nothing did."""
        try:
            waiting = self._serial.in_waiting
            return bytes(self._serial.read(waiting or 1))
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # TypeError/AttributeError: pyserial after a concurrent close() has no fd left.
            raise TransportClosed(f"{self.port}: {exc}") from None

    def write(self, data: bytes) -> None:
        with self._write_lock:
            try:
                self._serial.write(data)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                raise TransportClosed(f"{self.port}: {exc}") from None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._serial.close()


class PtyLine:
    """The desk's end of the cable: the master side of a pseudo-terminal, optionally paced.

    ``baud`` > 0 emulates a UART line of that rate in both directions (writes are
    released no faster than the line could carry them, received bytes become
    visible only once the line could have delivered them); 0 means as fast as
    the pty goes. :meth:`unplug` closes the master: the PC's port fails, as when
    the USB cable is pulled.
    """

    def __init__(self, baud: int = 0) -> None:
        self.baud = baud
        self._master, self._slave = os.openpty()
        # Raw mode from the first moment: a cooked pty would echo the PC's bytes back to it
        # (and mangle 0x0d/0x03) before the PC's pyserial gets to configure the port.
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        self._write_lock = threading.Lock()
        self._tx_clock = 0.0
        self._rx_clock = 0.0

    def _byte_time(self, n: int) -> float:
        return n * 10.0 / self.baud if self.baud else 0.0

    def read(self, timeout: float) -> bytes:
        """Bytes the PC sent (b"" after ``timeout``); TransportClosed once unplugged."""
        if self._closed:
            raise TransportClosed("unplugged")
        ready, _, _ = select.select([self._master, self._wake_r], [], [], timeout)
        if self._closed:
            raise TransportClosed("unplugged")
        if self._master not in ready:
            return b""
        try:
            data = os.read(self._master, 4096)
        except OSError as exc:
            if exc.errno == errno.EIO:  # no process holds the PC end: nothing to read yet
                time.sleep(min(timeout, 0.01))
                return b""
            raise TransportClosed(str(exc)) from None
        if self.baud:
            now = time.monotonic()
            self._rx_clock = max(self._rx_clock, now) + self._byte_time(len(data))
            time.sleep(max(0.0, self._rx_clock - now))
        return data

    def write(self, data: bytes) -> None:
        """Send bytes to the PC, at line rate when paced; TransportClosed once unplugged."""
        with self._write_lock:
            if self._closed:
                raise TransportClosed("unplugged")
            # Paced in slices of 16 bytes (1.4 ms at 115200) so the PC sees bytes trickle in
            # as from a UART, and a frame cut by unplug() is really cut mid-way.
            step = 16 if self.baud else len(data) or 1
            view = memoryview(data)
            for i in range(0, len(data), step):
                chunk = view[i : i + step]
                if self.baud:
                    now = time.monotonic()
                    self._tx_clock = max(self._tx_clock, now) + self._byte_time(len(chunk))
                    time.sleep(max(0.0, self._tx_clock - now))
                    if self._closed:
                        raise TransportClosed("unplugged")
                self._write_all(chunk)

    def _write_all(self, chunk: memoryview) -> None:
        while chunk:
            try:
                written = os.write(self._master, chunk)
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)
                continue
            except OSError as exc:
                raise TransportClosed(str(exc)) from None
            chunk = chunk[written:]

    def unplug(self) -> None:
        """Pull the cable: the reader wakes up, and :meth:`release` closes both pty ends.

        The file descriptors are closed by the thread that reads the line (in
        :meth:`release`), never under its feet, so a descriptor number is never
        reused while a select() still watches it.
        """
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def release(self) -> None:
        """Close the pty (the PC's next read or write fails) and the wake-up pipe."""
        self._closed = True
        with self._write_lock:
            for fd in (self._master, self._slave, self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._master = self._slave = self._wake_r = self._wake_w = -1

    @property
    def closed(self) -> bool:
        return self._closed
