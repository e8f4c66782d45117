"""The virtual radio: a bleak backend over Bumble devices joined by a LocalLink.

Production bleak code runs unmodified against simulated peripherals::

    async with VirtualRadio() as radio:
        device = await radio.add_peripheral("Treadmill")
        ...  # add a GATT server to `device` and start advertising
        async with BleakClient(str(device.random_address), backend=radio.client_backend) as c:
            ...
"""

from simulators.radio.link import DEFAULT_RSSI, VirtualRadio

__all__ = ["DEFAULT_RSSI", "VirtualRadio"]
