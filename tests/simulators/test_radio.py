"""The virtual radio through bleak's public API only, against a tiny GATT server built here."""

from __future__ import annotations

import asyncio
import struct
import uuid

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.exc import BleakGATTProtocolErrorCode as Code
from bumble.att import ATT_Error
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from hypothesis import given
from hypothesis import strategies as st

from simulators.radio import DEFAULT_RSSI, VirtualRadio
from simulators.radio.convert import advertisement_data
from tests.support.virtual_time import advance


def full(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


SERVICE = 0xFFE0
READ, WRITE, NOTIFY, INDICATE, REFUSE = 0xFFE1, 0xFFE2, 0xFFE3, 0xFFE4, 0xFFE5
CCCD = full(0x2902)
SERVICE_DATA = b"\x01\x00"


class TinyServer:
    """A peripheral with one of each kind of characteristic. INDICATE echoes writes the way an
    FTMS control point answers them: write response first, then the indication."""

    def __init__(self, device: Device, service: int) -> None:
        self.device = device
        self.address = device.random_address.to_string(with_type_qualifier=False)
        self.writes: asyncio.Queue[bytes] = asyncio.Queue()
        self.connections: list[Connection] = []
        props = Characteristic.Properties
        self.notify: Characteristic[bytes] = Characteristic(
            UUID.from_16_bits(NOTIFY), props.NOTIFY, Characteristic.READABLE, b""
        )
        self.indicate: Characteristic[bytes] = Characteristic(
            UUID.from_16_bits(INDICATE),
            props.WRITE | props.INDICATE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._echo),
        )
        readable = Characteristic(
            UUID.from_16_bits(READ), props.READ, Characteristic.READABLE, b"hello"
        )
        writable = Characteristic(
            UUID.from_16_bits(WRITE),
            props.WRITE | props.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=lambda _c, value: self.writes.put_nowait(value)),
        )
        refusing: Characteristic[bytes] = Characteristic(
            UUID.from_16_bits(REFUSE),
            props.WRITE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._refuse),
        )
        device.add_service(
            Service(
                UUID.from_16_bits(service),
                [readable, writable, self.notify, self.indicate, refusing],
            )
        )
        device.on(Device.EVENT_CONNECTION, self.connections.append)

    @classmethod
    async def start(cls, radio: VirtualRadio, name: str, service: int = SERVICE) -> TinyServer:
        server = cls(await radio.add_peripheral(name), service)
        uuid16 = struct.pack("<H", service)
        advertising = AdvertisingData(
            [
                (AdvertisingData.FLAGS, b"\x06"),
                (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode()),
                (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, uuid16),
                (AdvertisingData.SERVICE_DATA_16_BIT_UUID, uuid16 + SERVICE_DATA),
            ]
        )
        await server.device.start_advertising(
            advertising_data=bytes(advertising), auto_restart=True, advertising_interval_min=100
        )
        return server

    def _echo(self, connection: Connection, value: bytes) -> None:
        asyncio.get_running_loop().create_task(
            self.device.indicate_subscriber(connection, self.indicate, b"ack:" + value)
        )

    def _refuse(self, _connection: Connection, _value: bytes) -> None:
        raise ATT_Error(0xFD)


@pytest.fixture
async def server(radio: VirtualRadio) -> TinyServer:
    return await TinyServer.start(radio, "Tiny")


# Scanning


async def test_scan_filters_by_service_uuid_and_reports_advertisement(
    radio: VirtualRadio, server: TinyServer
) -> None:
    other = await TinyServer.start(radio, "Other", service=0xFFF0)
    radio.set_rssi(server.address, -70)

    found = await BleakScanner.discover(
        timeout=1.0, service_uuids=[full(SERVICE)], return_adv=True, backend=radio.scanner_backend
    )

    assert list(found) == [server.address]
    device, adv = found[server.address]
    assert device.name == "Tiny"
    assert adv.local_name == "Tiny"
    assert adv.service_uuids == [full(SERVICE)]
    assert adv.service_data == {full(SERVICE): SERVICE_DATA}
    assert adv.rssi == -70
    assert other.address not in found


async def test_find_device_by_name_and_address(radio: VirtualRadio, server: TinyServer) -> None:
    other = await TinyServer.start(radio, "Other")
    backend = radio.scanner_backend

    by_name = await BleakScanner.find_device_by_name("Other", backend=backend)
    by_address = await BleakScanner.find_device_by_address(server.address.lower(), backend=backend)
    missing = await BleakScanner.find_device_by_name("Nobody", timeout=3.0, backend=backend)

    assert by_name is not None
    assert by_name.address == other.address
    assert by_address is not None
    assert by_address.address == server.address
    assert missing is None
    assert radio.rssi(other.address) == DEFAULT_RSSI


async def test_concurrent_scanners_survive_a_failing_detection_callback(
    radio: VirtualRadio, server: TinyServer
) -> None:
    def broken(_device: object, _adv: object) -> None:
        raise RuntimeError("callback bug")

    backend = radio.scanner_backend
    async with BleakScanner(broken, backend=backend):
        first, second = await asyncio.gather(
            BleakScanner.discover(timeout=1.0, backend=backend),
            BleakScanner.find_device_by_name("Tiny", backend=backend),
        )
    assert [d.address for d in first] == [server.address]
    assert second is not None


# Connection and discovery


async def test_connect_discovers_services_with_properties(
    radio: VirtualRadio, server: TinyServer
) -> None:
    device = await BleakScanner.find_device_by_name("Tiny", backend=radio.scanner_backend)
    assert device is not None
    async with BleakClient(device, backend=radio.client_backend) as client:
        assert client.is_connected
        assert client.name == "Tiny"
        assert client.mtu_size > 23
        service = client.services.get_service(full(SERVICE))
        assert service is not None
        props = {c.uuid: sorted(c.properties) for c in service.characteristics}
        assert props == {
            full(READ): ["read"],
            full(WRITE): ["write", "write-without-response"],
            full(NOTIFY): ["notify"],
            full(INDICATE): ["indicate", "write"],
            full(REFUSE): ["write"],
        }
        notify = client.services.get_characteristic(full(NOTIFY))
        assert notify is not None
        assert [d.uuid for d in notify.descriptors] == [CCCD]
    assert not client.is_connected


async def test_connect_by_unknown_address_raises_device_not_found(radio: VirtualRadio) -> None:
    client = BleakClient("C0:FF:FF:FF:FF:FF", backend=radio.client_backend)
    with pytest.raises(BleakDeviceNotFoundError):
        await client.connect()


async def test_connect_times_out_when_peripheral_is_not_advertising(
    radio: VirtualRadio,
) -> None:
    silent = await radio.add_peripheral("Silent")
    client = BleakClient(str(silent.random_address), timeout=5.0, backend=radio.client_backend)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        await client.connect()
    assert loop.time() - started == pytest.approx(5.0)
    assert not client.is_connected

    await silent.start_advertising(advertising_interval_min=100)
    await client.connect()
    await advance(1.0)  # room for a stray completion of the abandoned attempt
    assert client.is_connected
    assert len(silent.connections) == 1
    await client.disconnect()


# Reads, writes, errors


async def test_read_and_write_with_and_without_response(
    radio: VirtualRadio, server: TinyServer
) -> None:
    async with BleakClient(server.address, backend=radio.client_backend) as client:
        assert await client.read_gatt_char(full(READ)) == bytearray(b"hello")

        await client.write_gatt_char(full(WRITE), b"\x01\x02", response=True)
        assert server.writes.get_nowait() == b"\x01\x02"

        await client.write_gatt_char(full(WRITE), b"\x03", response=False)
        assert await server.writes.get() == b"\x03"


async def test_att_error_surfaces_as_bleak_protocol_error(
    radio: VirtualRadio, server: TinyServer
) -> None:
    async with BleakClient(server.address, backend=radio.client_backend) as client:
        with pytest.raises(BleakGATTProtocolError) as caught:
            await client.write_gatt_char(full(REFUSE), b"\x00", response=True)
        assert caught.value.code is Code.CCCD_IMPROPERLY_CONFIGURED
        assert client.is_connected


async def test_operations_when_not_connected_raise_bleak_error(
    radio: VirtualRadio, server: TinyServer
) -> None:
    client = BleakClient(server.address, backend=radio.client_backend)
    await client.connect()
    read_char = client.services.get_characteristic(full(READ))
    assert read_char is not None
    await client.disconnect()
    with pytest.raises(BleakError):
        await client.read_gatt_char(read_char)


# Notifications and indications


async def test_notifications_arrive_in_order_and_stop(
    radio: VirtualRadio, server: TinyServer
) -> None:
    received: list[bytes] = []
    async with BleakClient(server.address, backend=radio.client_backend) as client:
        await client.start_notify(full(NOTIFY), lambda _c, data: received.append(bytes(data)))
        notify = client.services.get_characteristic(full(NOTIFY))
        assert notify is not None
        cccd = notify.get_descriptor(CCCD)
        assert cccd is not None
        assert await client.read_gatt_descriptor(cccd.handle) == b"\x01\x00"

        for i in range(50):
            await server.device.notify_subscribers(server.notify, bytes([i]))
        await client.read_gatt_char(full(READ))  # a round trip: everything sent has arrived
        assert received == [bytes([i]) for i in range(50)]

        await client.stop_notify(full(NOTIFY))
        assert await client.read_gatt_descriptor(cccd.handle) == b"\x00\x00"
        await server.device.notify_subscribers(server.notify, b"late")
        await client.read_gatt_char(full(READ))
        assert len(received) == 50


async def test_indication_answers_a_write(radio: VirtualRadio, server: TinyServer) -> None:
    async with BleakClient(server.address, backend=radio.client_backend) as client:
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        await client.start_notify(full(INDICATE), lambda _c, data: answer.set_result(bytes(data)))
        indicate = client.services.get_characteristic(full(INDICATE))
        assert indicate is not None
        cccd = indicate.get_descriptor(CCCD)
        assert cccd is not None
        assert await client.read_gatt_descriptor(cccd.handle) == b"\x02\x00"

        await client.write_gatt_char(full(INDICATE), b"go", response=True)
        assert await asyncio.wait_for(answer, 1.0) == b"ack:go"


async def test_async_notification_callback_is_supported(
    radio: VirtualRadio, server: TinyServer
) -> None:
    got = asyncio.Event()

    async def on_data(_char: object, data: bytearray) -> None:
        if data == b"x":
            got.set()

    async with BleakClient(server.address, backend=radio.client_backend) as client:
        await client.start_notify(full(NOTIFY), on_data)
        await server.device.notify_subscribers(server.notify, b"x")
        await asyncio.wait_for(got.wait(), 1.0)


# Disconnection


async def test_peripheral_disconnect_fires_callback_and_reconnect_works(
    radio: VirtualRadio, server: TinyServer
) -> None:
    dropped = asyncio.Event()
    client = BleakClient(
        server.address,
        disconnected_callback=lambda _c: dropped.set(),
        backend=radio.client_backend,
    )
    await client.connect()
    await client.start_notify(full(NOTIFY), lambda _c, _d: None)

    await server.connections[-1].disconnect()
    await asyncio.wait_for(dropped.wait(), 1.0)
    assert not client.is_connected

    dropped.clear()
    await client.connect()  # the server restarts advertising (auto_restart)
    assert client.is_connected
    assert await client.read_gatt_char(full(READ)) == b"hello"
    await client.disconnect()
    assert dropped.is_set()  # bleak's platform backends fire it on our own disconnect too
    assert len(server.connections) == 2


async def test_pending_read_fails_with_bleak_error_when_link_drops(radio: VirtualRadio) -> None:
    device = await radio.add_peripheral("Slow")
    release = asyncio.Event()

    async def slow_read(_connection: Connection) -> bytes:
        await release.wait()
        return b"never"

    device.add_service(
        Service(
            UUID.from_16_bits(SERVICE),
            [
                Characteristic(
                    UUID.from_16_bits(READ),
                    Characteristic.Properties.READ,
                    Characteristic.READABLE,
                    CharacteristicValue(read=slow_read),
                )
            ],
        )
    )
    await device.start_advertising()
    async with BleakClient(str(device.random_address), backend=radio.client_backend) as client:
        read = asyncio.create_task(client.read_gatt_char(full(READ)))
        await advance(0.1)
        for connection in list(device.connections.values()):
            await connection.disconnect()
        with pytest.raises(BleakError, match="disconnected"):
            await read
        release.set()


# Several devices


async def test_two_clients_on_two_peripherals_at_once(
    radio: VirtualRadio, server: TinyServer
) -> None:
    other = await TinyServer.start(radio, "Other")
    seen_first: list[bytes] = []
    seen_second: list[bytes] = []
    async with (
        BleakClient(server.address, backend=radio.client_backend) as first,
        BleakClient(other.address, backend=radio.client_backend) as second,
    ):
        await first.start_notify(full(NOTIFY), lambda _c, d: seen_first.append(bytes(d)))
        await second.start_notify(full(NOTIFY), lambda _c, d: seen_second.append(bytes(d)))
        await server.device.notify_subscribers(server.notify, b"one")
        await other.device.notify_subscribers(other.notify, b"two")
        await first.read_gatt_char(full(READ))
        await second.read_gatt_char(full(READ))
        assert (seen_first, seen_second) == ([b"one"], [b"two"])


async def test_second_central_cannot_reach_a_connected_peripheral(
    radio: VirtualRadio, server: TinyServer
) -> None:
    """A connected peripheral stops advertising (as real controllers do), so it serves one
    central at a time unless the simulator advertises again."""
    async with BleakClient(server.address, backend=radio.client_backend):
        intruder = BleakClient(server.address, timeout=2.0, backend=radio.client_backend)
        with pytest.raises(TimeoutError):
            await intruder.connect()


async def test_peripheral_that_advertises_again_accepts_a_second_central(
    radio: VirtualRadio, server: TinyServer
) -> None:
    async with BleakClient(server.address, backend=radio.client_backend) as first:
        await server.device.start_advertising(advertising_interval_min=100)
        async with BleakClient(server.address, backend=radio.client_backend) as second:
            assert await first.read_gatt_char(full(READ)) == b"hello"
            assert await second.read_gatt_char(full(READ)) == b"hello"
    assert len(server.connections) == 2


async def test_services_filter_limits_discovery(radio: VirtualRadio, server: TinyServer) -> None:
    async with BleakClient(server.address, backend=radio.client_backend) as everything:
        all_uuids = {s.uuid for s in everything.services}
    async with BleakClient(
        server.address, services=[full(SERVICE)], backend=radio.client_backend
    ) as filtered:
        assert {s.uuid for s in filtered.services} == {full(SERVICE)}
    assert all_uuids > {full(SERVICE)}  # Bumble's GAP/GATT services are there too


async def test_failing_notification_callback_does_not_block_indications(
    radio: VirtualRadio, server: TinyServer
) -> None:
    calls: list[bytes] = []

    def explode(_char: object, data: bytearray) -> None:
        calls.append(bytes(data))
        raise RuntimeError("callback bug")

    async with BleakClient(server.address, backend=radio.client_backend) as client:
        await client.start_notify(full(INDICATE), explode)
        await client.write_gatt_char(full(INDICATE), b"1", response=True)
        # The server awaits the confirmation of the first indication before sending the next.
        await client.write_gatt_char(full(INDICATE), b"2", response=True)
        await client.read_gatt_char(full(READ))
        await advance(0.1)
        assert calls == [b"ack:1", b"ack:2"]


# Advertisement decoding (pure)


@given(
    name=st.text(min_size=1, max_size=8),
    uuids16=st.lists(st.integers(0, 0xFFFF), max_size=3, unique=True),
    uuid128=st.uuids(),
    data=st.binary(max_size=4),
    company=st.integers(0, 0xFFFF),
    tx_power=st.integers(-127, 20),
)
def test_advertisement_decodes_like_an_os_stack(
    name: str,
    uuids16: list[int],
    uuid128: uuid.UUID,
    data: bytes,
    company: int,
    tx_power: int,
) -> None:
    structures = [
        (AdvertisingData.SHORTENED_LOCAL_NAME, b"short"),
        (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode()),
        (
            AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            b"".join(struct.pack("<H", u) for u in uuids16),
        ),
        (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, uuid128.bytes[::-1]),
        (AdvertisingData.SERVICE_DATA_16_BIT_UUID, struct.pack("<H", SERVICE) + data),
        (AdvertisingData.MANUFACTURER_SPECIFIC_DATA, struct.pack("<H", company) + data),
        (AdvertisingData.TX_POWER_LEVEL, struct.pack("b", tx_power)),
    ]
    raw = bytes(AdvertisingData(structures))
    heard = Advertisement(address=Address("C0:00:00:00:00:01"), data_bytes=raw + raw)

    adv = advertisement_data(heard, rssi=-60)

    assert adv.local_name == name
    assert adv.service_uuids == [full(u) for u in uuids16] + [str(uuid128)]
    assert adv.service_data == {full(SERVICE): data}
    assert adv.manufacturer_data == {company: data}
    assert adv.tx_power == tx_power
    assert adv.rssi == -60
