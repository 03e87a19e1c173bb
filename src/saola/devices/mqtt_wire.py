"""A purpose-written MQTT v5 client connection for the ingest worker: receive in bulk, acknowledge in bulk.

Why not gmqtt (the client the worker used until 2026-11-25): py-spy of ``saola ingest`` at 10,000 msg/s
offered (bench/ingest_bench.py, 2 shared cores) showed its event-loop thread busy in ~83 % of the samples
with gmqtt's per-message work: every PUBLISH is sliced out of a buffer that is copied again for each read
(``buf += ...; buf = buf[n:]``), its MQTT v5 properties parsed into dicts, a task created for the message
callback with a done-callback, and one ``transport.write`` per PUBACK. Ingestion needs none of it per
message: this connection parses every complete PUBLISH of one socket read in one loop (topic, packet id,
payload; properties skipped) and hands the whole list to the worker in one call, and :meth:`puback`
writes the PUBACKs of a stored batch in one write. Measured with ``bench/mqtt_wire_bench.py``
(50,000 QoS 1 messages acknowledged every 50 ms, local Mosquitto, shared 2-core machine at load 5,
2026-11-25): the receiving process's CPU per message gmqtt 25.0 / 24.8 µs, this module 7.6 / 7.3 µs —
3.3× less (the rate, 5,500–6,500 msg/s, was the loaded publisher's in both cases).

What it implements, and only that (MQTT 5.0, OASIS standard):

* CONNECT with clean start off/on, Session Expiry Interval, Receive Maximum (the broker never has more
  than that many QoS 1 messages unacknowledged with us: backpressure), user name and password, keep
  alive; CONNACK (a refusal raises :class:`MqttRefused`); TLS through the ``ssl`` context given.
* SUBSCRIBE (one packet for all filters, QoS 1) and SUBACK.
* PUBLISH received with QoS 0 or 1 (we subscribe with QoS 1, so the broker never sends QoS 2; a QoS 2
  PUBLISH, a topic alias we did not allow or a malformed packet is a protocol error: the connection is
  closed, nothing is acknowledged, the broker sends again).
* PUBLISH sent with QoS 0 or 1 (downlink commands; their PUBACKs are counted, not waited for: the
  command store retries what a device does not answer).
* PINGREQ every ``keepalive / 2`` seconds; the connection is dropped when nothing arrived for
  ``1.5 × keepalive``. DISCONNECT both ways.

A PUBACK only means something on the connection that received the PUBLISH: after a reconnection the
broker sends the unacknowledged messages again (persistent session), so :meth:`puback` on a closed
connection does nothing and the worker stores the redelivered copies as duplicates (stored once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import struct
import time
from collections.abc import Callable, Sequence

log = logging.getLogger("saola.devices.mqtt")

CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0
PROP_SESSION_EXPIRY, PROP_RECEIVE_MAXIMUM = 0x11, 0x21
PROP_TOPIC_ALIAS_MAXIMUM, PROP_SERVER_KEEP_ALIVE = 0x22, 0x13

Received = tuple[str, bytes, int]  # topic, payload, packet id (0: QoS 0, nothing to acknowledge)


class MqttError(Exception):
    """The connection could not be made or broke the protocol."""


class MqttRefused(MqttError):
    """The broker refused the connection (CONNACK reason code ≥ 0x80)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"the broker refused the connection (CONNACK reason code 0x{code:02x})")
        self.code = code


def varint(n: int) -> bytes:
    """MQTT's Variable Byte Integer."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + varint(len(body)) + body


def connect_packet(client_id: str, *, clean_start: bool, keepalive: int, session_expiry: int,
                   receive_maximum: int, username: str | None = None, password: str | None = None) -> bytes:
    flags = (0x02 if clean_start else 0) | (0x80 if username is not None else 0) | (0x40 if password is not None
                                                                                    else 0)
    props = bytes((PROP_SESSION_EXPIRY,)) + struct.pack("!I", session_expiry)
    props += bytes((PROP_RECEIVE_MAXIMUM,)) + struct.pack("!H", max(1, min(receive_maximum, 65535)))
    body = _string("MQTT") + bytes((5, flags)) + struct.pack("!H", keepalive) + varint(len(props)) + props
    body += _string(client_id)
    if username is not None:
        body += _string(username)
    if password is not None:
        body += _string(password)
    return packet(CONNECT, body)


def subscribe_packet(packet_id: int, filters: Sequence[str], qos: int = 1) -> bytes:
    body = struct.pack("!H", packet_id) + b"\x00" + b"".join(_string(f) + bytes((qos,)) for f in filters)
    return packet(SUBSCRIBE, body)


def publish_packet(topic: str, payload: bytes, *, qos: int = 0, packet_id: int = 0, dup: bool = False) -> bytes:
    head = _string(topic) + (struct.pack("!H", packet_id) if qos else b"") + b"\x00"
    return packet(PUBLISH | (qos << 1) | (0x08 if dup else 0), head + payload)


def puback_packets(packet_ids: Sequence[int]) -> bytes:
    """The PUBACKs (reason Success, the 2-byte short form) of ``packet_ids``, as one buffer."""
    return struct.pack(f"!{len(packet_ids)}I", *[0x40020000 | pid for pid in packet_ids])


class MqttConnection(asyncio.Protocol):
    """One connection to the broker. ``on_publish`` receives the PUBLISH packets of each socket read as
    one list of ``(topic, payload, packet_id)``; ``closed`` is done when the connection is gone."""

    def __init__(self, on_publish: Callable[[MqttConnection, list[Received]], None], keepalive: int) -> None:
        self.on_publish = on_publish
        self.keepalive = keepalive
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        loop = asyncio.get_running_loop()
        self.connack: asyncio.Future[tuple[int, dict[int, int]]] = loop.create_future()
        self.suback: dict[int, asyncio.Future[bytes]] = {}
        self.closed: asyncio.Future[BaseException | None] = loop.create_future()
        self.last_in = time.monotonic()
        self.next_id = 0
        self.published_acked = 0  # PUBACKs received for our QoS 1 publishes
        self.server_receive_maximum = 65535  # how many of our QoS 1 publishes the broker takes unacknowledged
        self._pinger: asyncio.Task[None] | None = None

    # --- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio.Transport

    def connection_lost(self, exc: BaseException | None) -> None:
        self.transport = None
        if self._pinger is not None:
            self._pinger.cancel()
        for future in (self.connack, *self.suback.values()):
            if not future.done():
                future.set_exception(MqttError(f"connection lost: {exc or 'closed by the broker'}"))
        if not self.closed.done():
            self.closed.set_result(exc)

    def data_received(self, data: bytes) -> None:
        self.last_in = time.monotonic()
        buf = self.buffer
        buf += data
        view = memoryview(buf)
        size = len(buf)
        pos = 0
        received: list[Received] = []
        try:
            while size - pos >= 2:
                first = buf[pos]
                # remaining length (Variable Byte Integer, at most 4 bytes)
                length, shift, at, complete = 0, 0, pos + 1, False
                while at < size:
                    byte = buf[at]
                    at += 1
                    length |= (byte & 0x7F) << shift
                    if not byte & 0x80:
                        complete = True
                        break
                    shift += 7
                    if shift > 21:
                        raise MqttError("malformed remaining length")
                if not complete:
                    break
                end = at + length
                if end > size:
                    break
                kind = first & 0xF0
                if kind == PUBLISH:
                    qos = (first >> 1) & 0x03
                    topic_len = (buf[at] << 8) | buf[at + 1]
                    p = at + 2 + topic_len
                    topic = bytes(view[at + 2:p]).decode("utf-8", "replace")
                    if qos == 1:
                        packet_id = (buf[p] << 8) | buf[p + 1]
                        p += 2
                    elif qos == 0:
                        packet_id = 0
                    else:
                        raise MqttError("QoS 2 PUBLISH on a QoS 1 subscription")
                    props, shift = 0, 0  # the properties are skipped: their length
                    while True:
                        byte = buf[p]
                        p += 1
                        props |= (byte & 0x7F) << shift
                        if not byte & 0x80:
                            break
                        shift += 7
                    p += props
                    if p > end or not topic:
                        raise MqttError("malformed PUBLISH (or a topic alias, which we do not allow)")
                    received.append((topic, bytes(view[p:end]), packet_id))
                else:
                    self._control(kind, bytes(view[at:end]))
                pos = end
        except (MqttError, IndexError) as exc:
            view.release()
            log.error("MQTT protocol error; dropping the connection", extra={"error": str(exc)})
            if self.transport is not None:
                self.transport.abort()
            return
        view.release()
        if pos:
            del buf[:pos]
        if received:
            self.on_publish(self, received)

    def _control(self, kind: int, body: bytes) -> None:
        if kind == CONNACK:
            code = body[1] if len(body) > 1 else 0
            props = _properties(body[2:]) if len(body) > 2 else {}
            if not self.connack.done():
                self.connack.set_result((code, props))
        elif kind == SUBACK:
            packet_id = struct.unpack("!H", body[:2])[0]
            future = self.suback.pop(packet_id, None)
            if future is not None and not future.done():
                plen, at = _read_varint(body, 2)
                future.set_result(body[at + plen:])
        elif kind == PUBACK:
            self.published_acked += 1
        elif kind == DISCONNECT:
            log.warning("the MQTT broker disconnected us", extra={"reason_code": body[0] if body else 0})
            if self.transport is not None:
                self.transport.close()
        # PINGRESP: last_in is enough

    # --- sending ----------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def _write(self, data: bytes) -> None:
        if self.is_open:
            assert self.transport is not None
            self.transport.write(data)

    def _packet_id(self) -> int:
        self.next_id = self.next_id % 65535 + 1
        return self.next_id

    def puback(self, packet_ids: Sequence[int]) -> None:
        """Acknowledge ``packet_ids`` (0s are skipped: QoS 0) in one write; nothing when the connection is gone."""
        ids = [pid for pid in packet_ids if pid]
        if ids:
            self._write(puback_packets(ids))

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self._write(publish_packet(topic, data, qos=qos, packet_id=self._packet_id() if qos else 0))

    def publish_many(self, messages: Sequence[tuple[str, bytes]], qos: int = 1) -> None:
        """Several PUBLISH packets in one write (load generators: bench/ingest_bench.py)."""
        self._write(b"".join(publish_packet(topic, payload, qos=qos, packet_id=self._packet_id() if qos else 0)
                             for topic, payload in messages))

    async def subscribe(self, filters: Sequence[str], qos: int = 1, timeout: float = 10.0) -> bytes:
        """Subscribe to ``filters``; the SUBACK reason codes (one byte each: granted QoS, or ≥ 0x80 refused)."""
        packet_id = self._packet_id()
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.suback[packet_id] = future
        self._write(subscribe_packet(packet_id, filters, qos))
        return await asyncio.wait_for(future, timeout)

    def start_keepalive(self) -> None:
        if self.keepalive > 0:
            self._pinger = asyncio.create_task(self._ping_loop(), name="mqtt-keepalive")

    async def _ping_loop(self) -> None:
        while self.is_open:
            await asyncio.sleep(self.keepalive / 2)
            if time.monotonic() - self.last_in > self.keepalive * 1.5:
                log.warning("MQTT broker silent for 1.5 × keepalive; dropping the connection")
                if self.transport is not None:
                    self.transport.abort()
                return
            self._write(bytes((PINGREQ, 0)))

    async def disconnect(self) -> None:
        self._write(bytes((DISCONNECT, 0)))
        if self.transport is not None:
            self.transport.close()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self.closed), 2)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _properties(data: bytes) -> dict[int, int]:
    """The integer properties of a CONNACK we care about (Receive Maximum, Server Keep Alive...)."""
    out: dict[int, int] = {}
    length, at = _read_varint(data, 0)
    end = at + length
    sizes = {0x01: 1, 0x02: 4, 0x11: 4, 0x13: 2, 0x17: 1, 0x19: 1, 0x21: 2, 0x22: 2, 0x23: 2, 0x24: 1, 0x25: 1,
             0x27: 4, 0x28: 1, 0x29: 1, 0x2A: 1}
    while at < end:
        prop = data[at]
        at += 1
        if prop in sizes:
            out[prop] = int.from_bytes(data[at:at + sizes[prop]], "big")
            at += sizes[prop]
        elif prop == 0x26:  # user property: two strings
            for _ in range(2):
                at += 2 + struct.unpack("!H", data[at:at + 2])[0]
        elif prop == 0x0B:  # subscription identifier
            _value, at = _read_varint(data, at)
        else:  # the rest are strings or binary data
            at += 2 + struct.unpack("!H", data[at:at + 2])[0]
    return out


async def connect(host: str, port: int, *, client_id: str, on_publish: Callable[[MqttConnection, list[Received]], None],
                  tls: ssl.SSLContext | None = None, username: str | None = None, password: str | None = None,
                  clean_start: bool = False, session_expiry: int = 0, receive_maximum: int = 65535,
                  keepalive: int = 30, timeout: float = 10.0) -> MqttConnection:
    """Open a connection and wait for the broker's CONNACK; raises :class:`MqttError` (or ``OSError``)."""
    loop = asyncio.get_running_loop()
    _transport, conn = await asyncio.wait_for(loop.create_connection(
        lambda: MqttConnection(on_publish, keepalive), host, port, ssl=tls,
        server_hostname=host if tls is not None else None), timeout)
    conn._write(connect_packet(client_id, clean_start=clean_start, keepalive=keepalive, session_expiry=session_expiry,
                               receive_maximum=receive_maximum, username=username, password=password))
    try:
        code, props = await asyncio.wait_for(asyncio.shield(conn.connack), timeout)
    except BaseException:
        if conn.transport is not None:
            conn.transport.abort()
        raise
    if code >= 0x80:
        if conn.transport is not None:
            conn.transport.close()
        raise MqttRefused(code)
    conn.server_receive_maximum = props.get(PROP_RECEIVE_MAXIMUM, 65535)
    if PROP_SERVER_KEEP_ALIVE in props:
        conn.keepalive = props[PROP_SERVER_KEEP_ALIVE]
    conn.start_keepalive()
    return conn
