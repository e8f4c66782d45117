"""Bumble's view of the air -> bleak's types, so bleak code sees what a real OS stack reports."""

from __future__ import annotations

import struct
import uuid

from bleak.backends.scanner import AdvertisementData
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement

_Type = AdvertisingData.Type
_UUID_LISTS = {
    _Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    _Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}
_SERVICE_DATA = {
    _Type.SERVICE_DATA_16_BIT_UUID: 2,
    _Type.SERVICE_DATA_32_BIT_UUID: 4,
    _Type.SERVICE_DATA_128_BIT_UUID: 16,
}
_NAMES = (_Type.COMPLETE_LOCAL_NAME, _Type.SHORTENED_LOCAL_NAME)


def bleak_uuid(value: UUID) -> str:
    """The full lower-case 128-bit form, which is how bleak spells every UUID."""
    return str(uuid.UUID(bytes=bytes(reversed(value.to_bytes(force_128=True)))))


def _uuid_from_air(little_endian: bytes) -> str:
    return bleak_uuid(UUID.from_bytes(little_endian))


def advertisement_data(advertisement: Advertisement, rssi: int) -> AdvertisementData:
    """Decode every AD structure bleak reports; unknown ones are ignored as OS stacks do.

    With active scanning Bumble appends the scan response to the advertising data, so the same
    structure can appear twice: lists are de-duplicated, later values win.
    """
    local_name: str | None = None
    service_uuids: list[str] = []
    service_data: dict[str, bytes] = {}
    manufacturer_data: dict[int, bytes] = {}
    tx_power: int | None = None
    for ad_type, payload in advertisement.data.ad_structures:
        if ad_type in _NAMES and (local_name is None or ad_type == _Type.COMPLETE_LOCAL_NAME):
            local_name = payload.decode("utf-8", errors="replace")
        elif (size := _UUID_LISTS.get(ad_type)) is not None:
            for i in range(0, len(payload) - size + 1, size):
                if (found := _uuid_from_air(payload[i : i + size])) not in service_uuids:
                    service_uuids.append(found)
        elif (size := _SERVICE_DATA.get(ad_type)) is not None and len(payload) >= size:
            service_data[_uuid_from_air(payload[:size])] = bytes(payload[size:])
        elif ad_type == _Type.MANUFACTURER_SPECIFIC_DATA and len(payload) >= 2:
            (company,) = struct.unpack_from("<H", payload)
            manufacturer_data[company] = bytes(payload[2:])
        elif ad_type == _Type.TX_POWER_LEVEL and len(payload) == 1:
            (tx_power,) = struct.unpack("b", payload)
    return AdvertisementData(
        local_name=local_name,
        manufacturer_data=manufacturer_data,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=tx_power,
        rssi=rssi,
        platform_data=(advertisement,),
    )
