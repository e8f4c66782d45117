"""A real Mosquitto broker for the tests: password file, ACL, plain and TLS listeners on 127.0.0.1.

Readiness is the broker's own "running" log line followed by a real CONNACK (a TCP connect alone
proves nothing); stopping is terminate, wait, kill. The TLS material is made at test time with the
`cryptography` package: a throw-away CA and a server certificate for 127.0.0.1 / localhost.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from retrotread.config import MqttConfig

HOST = "127.0.0.1"
ADMIN = ("admin", "admin-secret")  # may do anything
VIEWER = ("viewer", "viewer-secret")  # reads everything, may not publish commands
_READY_TIMEOUT_S = 10.0


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Broker:
    """One mosquitto process; `start()` can be called again after `stop()` / `kill()`."""

    def __init__(
        self,
        workdir: Path,
        executable: str,
        *,
        tcp_nodelay: bool = False,
        max_queued_messages: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.executable = executable
        # None: mosquitto's default (1000; beyond that it drops, QoS 0 included); 0: no limit.
        self.max_queued_messages = max_queued_messages
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = workdir / "ca.pem"
        self.log: deque[str] = deque(maxlen=200)
        self.tcp_nodelay = tcp_nodelay
        self._process: subprocess.Popen[str] | None = None
        self._write_files()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        running = threading.Event()
        self._process = subprocess.Popen(
            [self.executable, "-c", str(self.workdir / "mosquitto.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._drain, args=(self._process, running), daemon=True).start()
        if not running.wait(_READY_TIMEOUT_S) or not self._connack_ok():
            self.stop()
            raise RuntimeError("mosquitto did not become ready:\n" + "\n".join(self.log))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    @property
    def pid(self) -> int:
        assert self._process is not None, "broker not running"
        return self._process.pid

    def kill(self) -> None:
        """Die like a crashed broker: no goodbye to anyone."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(5)

    # -- what tests connect with --------------------------------------------------------------

    def config(
        self,
        tid: str,
        *,
        user: tuple[str, str] | None = ADMIN,
        tls: bool = False,
        telemetry_hz: float = 1.0,
        discovery: bool = True,
    ) -> MqttConfig:
        """The real, validated `[mqtt]` section for this broker."""
        url = f"mqtts://{HOST}:{self.tls_port}" if tls else f"mqtt://{HOST}:{self.port}"
        return MqttConfig(
            url=url,
            username=user[0] if user else None,
            password=SecretStr(user[1]) if user else None,
            ca_file=self.ca_file if tls else None,
            id=tid,
            telemetry_hz=telemetry_hz,
            discovery=discovery,
        )

    # -- internals ----------------------------------------------------------------------------

    def _drain(self, process: subprocess.Popen[str], running: threading.Event) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.log.append(line.rstrip())
            if " running" in line:
                running.set()

    def _connack_ok(self) -> bool:
        """Send a real MQTT 3.1.1 CONNECT with the admin credentials; True on CONNACK accepted."""
        client_id, (user, password) = b"readiness-probe", ADMIN

        def field(data: bytes) -> bytes:
            return struct.pack("!H", len(data)) + data

        body = b"\x00\x04MQTT\x04\xc2\x00\x0a" + field(client_id) + field(user.encode())
        body += field(password.encode())
        packet = bytes([0x10, len(body)]) + body
        with socket.create_connection((HOST, self.port), timeout=5) as sock:
            sock.sendall(packet)
            answer = sock.recv(4)
        return answer == b"\x20\x02\x00\x00"

    def _write_files(self) -> None:
        work = self.workdir
        (work / "passwd").touch()
        for name, password in (ADMIN, VIEWER):
            subprocess.run(
                ["mosquitto_passwd", "-b", str(work / "passwd"), name, password],
                check=True,
                capture_output=True,
            )
        (work / "acl").write_text(
            f"user {ADMIN[0]}\ntopic readwrite #\n\n"
            f"user {VIEWER[0]}\ntopic read #\ntopic write probe/#\n"
        )
        _write_tls_material(work)
        lines = [
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {work / 'passwd'}",
            f"acl_file {work / 'acl'}",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            f"listener {self.port} {HOST}",
            f"listener {self.tls_port} {HOST}",
            f"cafile {self.ca_file}",
            f"certfile {work / 'server.pem'}",
            f"keyfile {work / 'server.key'}",
        ]
        if self.max_queued_messages is not None:
            lines.insert(0, f"max_queued_messages {self.max_queued_messages}")
        if self.tcp_nodelay:  # mosquitto's default is Nagle on: see benchmarks/mqtt.py
            lines.insert(0, "set_tcp_nodelay true")
        if os.geteuid() == 0:
            lines.insert(0, "user root")
        (work / "mosquitto.conf").write_text("\n".join(lines) + "\n")


def _write_tls_material(work: Path) -> None:
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "retrotread test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (work / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (work / "server.pem").write_bytes(server_cert.public_bytes(pem))
    (work / "server.key").write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )


class Inbox:
    """Everything a subscriber received, and a way to wait for one message without sleeping."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.received: list[aiomqtt.Message] = []
        self._arrived = asyncio.Event()

    async def pump(self) -> None:
        async for message in self.client.messages:
            self.received.append(message)
            self._arrived.set()

    def mark(self) -> int:
        return len(self.received)

    def on(self, topic: str, since: int = 0) -> list[str]:
        return [_text(m) for m in self.received[since:] if m.topic.value == topic]

    async def expect(
        self,
        topic: str,
        match: Callable[[str], bool] = lambda _payload: True,
        *,
        since: int = 0,
        within_s: float = 5.0,
    ) -> aiomqtt.Message:
        async with asyncio.timeout(within_s):
            index = since
            while True:
                for message in self.received[index:]:
                    if message.topic.value == topic and match(_text(message)):
                        return message
                index = len(self.received)
                self._arrived.clear()
                await self._arrived.wait()


def payload_json(message: aiomqtt.Message) -> Any:
    return json.loads(_text(message))


def _text(message: aiomqtt.Message) -> str:
    payload = message.payload
    return payload.decode() if isinstance(payload, bytes) else str(payload)


def client_for(broker: Broker, user: tuple[str, str] | None = ADMIN) -> aiomqtt.Client:
    return aiomqtt.Client(
        HOST,
        broker.port,
        username=user[0] if user else None,
        password=user[1] if user else None,
        identifier=f"test-{uuid.uuid4().hex[:8]}",
        timeout=5,
    )
