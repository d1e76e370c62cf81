from google.protobuf import timestamp_pb2 as _timestamp_pb2
from virthost.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ForwardMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FORWARD_MODE_UNSPECIFIED: _ClassVar[ForwardMode]
    FORWARD_MODE_ISOLATED: _ClassVar[ForwardMode]
    FORWARD_MODE_NAT: _ClassVar[ForwardMode]
    FORWARD_MODE_ROUTE: _ClassVar[ForwardMode]
    FORWARD_MODE_BRIDGE: _ClassVar[ForwardMode]
    FORWARD_MODE_MACVTAP: _ClassVar[ForwardMode]
    FORWARD_MODE_HOSTDEV: _ClassVar[ForwardMode]
    FORWARD_MODE_OPEN: _ClassVar[ForwardMode]
    FORWARD_MODE_OPENVSWITCH: _ClassVar[ForwardMode]
FORWARD_MODE_UNSPECIFIED: ForwardMode
FORWARD_MODE_ISOLATED: ForwardMode
FORWARD_MODE_NAT: ForwardMode
FORWARD_MODE_ROUTE: ForwardMode
FORWARD_MODE_BRIDGE: ForwardMode
FORWARD_MODE_MACVTAP: ForwardMode
FORWARD_MODE_HOSTDEV: ForwardMode
FORWARD_MODE_OPEN: ForwardMode
FORWARD_MODE_OPENVSWITCH: ForwardMode

class NetworkRef(_message.Message):
    __slots__ = ("name", "uuid")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ...) -> None: ...

class Network(_message.Message):
    __slots__ = ("name", "uuid", "active", "persistent", "autostart", "bridge", "forward_mode", "addresses", "spec")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    FORWARD_MODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    name: str
    uuid: str
    active: bool
    persistent: bool
    autostart: bool
    bridge: str
    forward_mode: ForwardMode
    addresses: _containers.RepeatedScalarFieldContainer[str]
    spec: NetworkSpec
    def __init__(self, name: _Optional[str] = ..., uuid: _Optional[str] = ..., active: bool = ..., persistent: bool = ..., autostart: bool = ..., bridge: _Optional[str] = ..., forward_mode: _Optional[_Union[ForwardMode, str]] = ..., addresses: _Optional[_Iterable[str]] = ..., spec: _Optional[_Union[NetworkSpec, _Mapping]] = ...) -> None: ...

class ListNetworksRequest(_message.Message):
    __slots__ = ("active_only", "inactive_only", "page_size", "page_token", "name_prefix")
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    inactive_only: bool
    page_size: int
    page_token: str
    name_prefix: str
    def __init__(self, active_only: bool = ..., inactive_only: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ...) -> None: ...

class ListNetworksResponse(_message.Message):
    __slots__ = ("networks", "next_page_token", "event_sequence", "event_epoch")
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    networks: _containers.RepeatedCompositeFieldContainer[Network]
    next_page_token: str
    event_sequence: int
    event_epoch: int
    def __init__(self, networks: _Optional[_Iterable[_Union[Network, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., event_sequence: _Optional[int] = ..., event_epoch: _Optional[int] = ...) -> None: ...

class GetNetworkXMLRequest(_message.Message):
    __slots__ = ("network", "inactive")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    network: NetworkRef
    inactive: bool
    def __init__(self, network: _Optional[_Union[NetworkRef, _Mapping]] = ..., inactive: bool = ...) -> None: ...

class GetNetworkXMLResponse(_message.Message):
    __slots__ = ("xml",)
    XML_FIELD_NUMBER: _ClassVar[int]
    xml: str
    def __init__(self, xml: _Optional[str] = ...) -> None: ...

class DefineNetworkRequest(_message.Message):
    __slots__ = ("spec", "xml", "start", "autostart")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    XML_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    spec: NetworkSpec
    xml: str
    start: bool
    autostart: bool
    def __init__(self, spec: _Optional[_Union[NetworkSpec, _Mapping]] = ..., xml: _Optional[str] = ..., start: bool = ..., autostart: bool = ...) -> None: ...

class NetworkSpec(_message.Message):
    __slots__ = ("name", "bridge_name", "ips", "mtu", "domain", "uuid", "isolated", "nat", "routed", "bridged", "macvtap", "hostdev", "ovs")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_NAME_FIELD_NUMBER: _ClassVar[int]
    IPS_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    ISOLATED_FIELD_NUMBER: _ClassVar[int]
    NAT_FIELD_NUMBER: _ClassVar[int]
    ROUTED_FIELD_NUMBER: _ClassVar[int]
    BRIDGED_FIELD_NUMBER: _ClassVar[int]
    MACVTAP_FIELD_NUMBER: _ClassVar[int]
    HOSTDEV_FIELD_NUMBER: _ClassVar[int]
    OVS_FIELD_NUMBER: _ClassVar[int]
    name: str
    bridge_name: str
    ips: _containers.RepeatedCompositeFieldContainer[NetworkIP]
    mtu: int
    domain: str
    uuid: str
    isolated: IsolatedNetwork
    nat: NatNetwork
    routed: RoutedNetwork
    bridged: BridgedNetwork
    macvtap: MacvtapNetwork
    hostdev: HostdevNetwork
    ovs: OvsNetwork
    def __init__(self, name: _Optional[str] = ..., bridge_name: _Optional[str] = ..., ips: _Optional[_Iterable[_Union[NetworkIP, _Mapping]]] = ..., mtu: _Optional[int] = ..., domain: _Optional[str] = ..., uuid: _Optional[str] = ..., isolated: _Optional[_Union[IsolatedNetwork, _Mapping]] = ..., nat: _Optional[_Union[NatNetwork, _Mapping]] = ..., routed: _Optional[_Union[RoutedNetwork, _Mapping]] = ..., bridged: _Optional[_Union[BridgedNetwork, _Mapping]] = ..., macvtap: _Optional[_Union[MacvtapNetwork, _Mapping]] = ..., hostdev: _Optional[_Union[HostdevNetwork, _Mapping]] = ..., ovs: _Optional[_Union[OvsNetwork, _Mapping]] = ...) -> None: ...

class NetworkIP(_message.Message):
    __slots__ = ("address", "prefix", "dhcp_ranges", "dhcp_hosts")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    DHCP_RANGES_FIELD_NUMBER: _ClassVar[int]
    DHCP_HOSTS_FIELD_NUMBER: _ClassVar[int]
    address: str
    prefix: int
    dhcp_ranges: _containers.RepeatedCompositeFieldContainer[DhcpRange]
    dhcp_hosts: _containers.RepeatedCompositeFieldContainer[DhcpHost]
    def __init__(self, address: _Optional[str] = ..., prefix: _Optional[int] = ..., dhcp_ranges: _Optional[_Iterable[_Union[DhcpRange, _Mapping]]] = ..., dhcp_hosts: _Optional[_Iterable[_Union[DhcpHost, _Mapping]]] = ...) -> None: ...

class DhcpRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class DhcpHost(_message.Message):
    __slots__ = ("mac", "ip", "hostname")
    MAC_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    mac: str
    ip: str
    hostname: str
    def __init__(self, mac: _Optional[str] = ..., ip: _Optional[str] = ..., hostname: _Optional[str] = ...) -> None: ...

class IsolatedNetwork(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NatNetwork(_message.Message):
    __slots__ = ("dev", "port_start", "port_end")
    DEV_FIELD_NUMBER: _ClassVar[int]
    PORT_START_FIELD_NUMBER: _ClassVar[int]
    PORT_END_FIELD_NUMBER: _ClassVar[int]
    dev: str
    port_start: int
    port_end: int
    def __init__(self, dev: _Optional[str] = ..., port_start: _Optional[int] = ..., port_end: _Optional[int] = ...) -> None: ...

class RoutedNetwork(_message.Message):
    __slots__ = ("dev",)
    DEV_FIELD_NUMBER: _ClassVar[int]
    dev: str
    def __init__(self, dev: _Optional[str] = ...) -> None: ...

class BridgedNetwork(_message.Message):
    __slots__ = ("bridge",)
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    bridge: str
    def __init__(self, bridge: _Optional[str] = ...) -> None: ...

class MacvtapNetwork(_message.Message):
    __slots__ = ("mode", "interfaces", "vlan_tags")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_UNSPECIFIED: _ClassVar[MacvtapNetwork.Mode]
        MODE_BRIDGE: _ClassVar[MacvtapNetwork.Mode]
        MODE_VEPA: _ClassVar[MacvtapNetwork.Mode]
        MODE_PRIVATE: _ClassVar[MacvtapNetwork.Mode]
        MODE_PASSTHROUGH: _ClassVar[MacvtapNetwork.Mode]
    MODE_UNSPECIFIED: MacvtapNetwork.Mode
    MODE_BRIDGE: MacvtapNetwork.Mode
    MODE_VEPA: MacvtapNetwork.Mode
    MODE_PRIVATE: MacvtapNetwork.Mode
    MODE_PASSTHROUGH: MacvtapNetwork.Mode
    MODE_FIELD_NUMBER: _ClassVar[int]
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    VLAN_TAGS_FIELD_NUMBER: _ClassVar[int]
    mode: MacvtapNetwork.Mode
    interfaces: _containers.RepeatedScalarFieldContainer[str]
    vlan_tags: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, mode: _Optional[_Union[MacvtapNetwork.Mode, str]] = ..., interfaces: _Optional[_Iterable[str]] = ..., vlan_tags: _Optional[_Iterable[int]] = ...) -> None: ...

class HostdevNetwork(_message.Message):
    __slots__ = ("pci_addresses", "pf", "unmanaged", "vlan_tags")
    PCI_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    PF_FIELD_NUMBER: _ClassVar[int]
    UNMANAGED_FIELD_NUMBER: _ClassVar[int]
    VLAN_TAGS_FIELD_NUMBER: _ClassVar[int]
    pci_addresses: _containers.RepeatedScalarFieldContainer[str]
    pf: str
    unmanaged: bool
    vlan_tags: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, pci_addresses: _Optional[_Iterable[str]] = ..., pf: _Optional[str] = ..., unmanaged: bool = ..., vlan_tags: _Optional[_Iterable[int]] = ...) -> None: ...

class OvsNetwork(_message.Message):
    __slots__ = ("bridge", "vlan_tags", "port_groups")
    BRIDGE_FIELD_NUMBER: _ClassVar[int]
    VLAN_TAGS_FIELD_NUMBER: _ClassVar[int]
    PORT_GROUPS_FIELD_NUMBER: _ClassVar[int]
    bridge: str
    vlan_tags: _containers.RepeatedScalarFieldContainer[int]
    port_groups: _containers.RepeatedCompositeFieldContainer[OvsPortGroup]
    def __init__(self, bridge: _Optional[str] = ..., vlan_tags: _Optional[_Iterable[int]] = ..., port_groups: _Optional[_Iterable[_Union[OvsPortGroup, _Mapping]]] = ...) -> None: ...

class OvsPortGroup(_message.Message):
    __slots__ = ("name", "is_default", "vlan_tags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    VLAN_TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    is_default: bool
    vlan_tags: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., is_default: bool = ..., vlan_tags: _Optional[_Iterable[int]] = ...) -> None: ...

class SetNetworkAutostartRequest(_message.Message):
    __slots__ = ("network", "autostart")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    network: NetworkRef
    autostart: bool
    def __init__(self, network: _Optional[_Union[NetworkRef, _Mapping]] = ..., autostart: bool = ...) -> None: ...

class ListDhcpLeasesRequest(_message.Message):
    __slots__ = ("network", "mac", "page_size", "page_token")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    network: NetworkRef
    mac: str
    page_size: int
    page_token: str
    def __init__(self, network: _Optional[_Union[NetworkRef, _Mapping]] = ..., mac: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class DhcpLease(_message.Message):
    __slots__ = ("interface", "mac", "ip", "prefix", "hostname", "client_id", "expires_at")
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    interface: str
    mac: str
    ip: str
    prefix: int
    hostname: str
    client_id: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, interface: _Optional[str] = ..., mac: _Optional[str] = ..., ip: _Optional[str] = ..., prefix: _Optional[int] = ..., hostname: _Optional[str] = ..., client_id: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListDhcpLeasesResponse(_message.Message):
    __slots__ = ("leases", "next_page_token")
    LEASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    leases: _containers.RepeatedCompositeFieldContainer[DhcpLease]
    next_page_token: str
    def __init__(self, leases: _Optional[_Iterable[_Union[DhcpLease, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateDhcpHostRequest(_message.Message):
    __slots__ = ("network", "add", "host", "ip_address")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    network: NetworkRef
    add: bool
    host: DhcpHost
    ip_address: str
    def __init__(self, network: _Optional[_Union[NetworkRef, _Mapping]] = ..., add: bool = ..., host: _Optional[_Union[DhcpHost, _Mapping]] = ..., ip_address: _Optional[str] = ...) -> None: ...
