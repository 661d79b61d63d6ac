"""Network interfaces and their addresses: Go's Interfaces, Interface.Addrs
and InterfaceAddrs."""

from typing import List, NamedTuple, Optional

from ._ffi import _c
from ._handle import Text, _encode, _text


class Interface(NamedTuple):
    """One network interface, as Go's ``net.Interface``: ``flags`` in Go's
    words joined by "|" ("up|broadcast|multicast|running"; "0" for none),
    ``hardware_addr`` "52:54:00:12:34:56", or "" when it has none
    (loopback)."""

    # Go's field name; it hides tuple.index, which nobody needs here.
    index: int  # type: ignore[assignment]
    name: str
    mtu: int
    flags: str
    hardware_addr: str


def interfaces() -> List[Interface]:
    """Every network interface, in index order (Go's ``Interfaces``)."""
    text = _text(_c.net_interfaces)
    out = []
    for line in text.split("\n") if text else []:
        fields = line.split(" ")
        hw = fields[4] if len(fields) > 4 else ""
        out.append(Interface(int(fields[0]), fields[1], int(fields[2]), fields[3], hw))
    return out


def interface_addrs(name: Optional[Text] = None) -> List[str]:
    """The addresses of interface ``name`` in CIDR form ("127.0.0.1/8",
    "::1/128"; Go's ``Interface.Addrs``), or of every interface when
    ``name`` is None (Go's ``InterfaceAddrs``). AddressError (a ValueError)
    when no interface has that name."""
    arg = None if name is None else _encode(name, "name")
    text = _text(_c.net_interface_addrs, arg)
    return text.split("\n") if text else []
