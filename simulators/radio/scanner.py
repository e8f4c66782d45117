"""bleak scanner backend: advertisements heard by the radio's observer, filtered as bleak does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from bleak.backends.scanner import AdvertisementDataCallback, BaseBleakScanner
from bumble.device import Advertisement

from simulators.radio.convert import advertisement_data

if TYPE_CHECKING:
    from simulators.radio.link import VirtualRadio


class VirtualRadioScanner(BaseBleakScanner):
    """Bound to one radio by a per-radio subclass (bleak instantiates backends itself)."""

    radio: ClassVar[VirtualRadio]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **_platform_args: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._scanning = False

    async def start(self) -> None:
        self.seen_devices = {}
        if not self._scanning:
            self._scanning = True
            await self.radio.add_listener(self)

    async def stop(self) -> None:
        if self._scanning:
            self._scanning = False
            await self.radio.remove_listener(self)

    def on_advertisement(self, advertisement: Advertisement, rssi: int) -> None:
        """Called by the radio for every advertising report while this scanner runs."""
        adv = advertisement_data(advertisement, rssi)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = advertisement.address.to_string(with_type_qualifier=False)
        device = self.create_or_update_device(address, address, adv.local_name, address, adv)
        self.call_detection_callbacks(device, adv)
