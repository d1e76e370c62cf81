from virthost.v1 import common_pb2 as _common_pb2
from virthost.v1 import domain_pb2 as _domain_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeDevice(_message.Message):
    __slots__ = ("name", "parent", "capabilities", "driver", "pci_address", "vendor_id", "vendor", "product_id", "product", "iommu_group", "sriov_max_vfs", "sriov_vfs", "sriov_pf", "interface", "scsi_host", "wwnn", "wwpn", "xml")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    PCI_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VENDOR_ID_FIELD_NUMBER: _ClassVar[int]
    VENDOR_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    IOMMU_GROUP_FIELD_NUMBER: _ClassVar[int]
    SRIOV_MAX_VFS_FIELD_NUMBER: _ClassVar[int]
    SRIOV_VFS_FIELD_NUMBER: _ClassVar[int]
    SRIOV_PF_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    SCSI_HOST_FIELD_NUMBER: _ClassVar[int]
    WWNN_FIELD_NUMBER: _ClassVar[int]
    WWPN_FIELD_NUMBER: _ClassVar[int]
    XML_FIELD_NUMBER: _ClassVar[int]
    name: str
    parent: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    driver: str
    pci_address: str
    vendor_id: str
    vendor: str
    product_id: str
    product: str
    iommu_group: int
    sriov_max_vfs: int
    sriov_vfs: _containers.RepeatedScalarFieldContainer[str]
    sriov_pf: str
    interface: str
    scsi_host: int
    wwnn: str
    wwpn: str
    xml: str
    def __init__(self, name: _Optional[str] = ..., parent: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., driver: _Optional[str] = ..., pci_address: _Optional[str] = ..., vendor_id: _Optional[str] = ..., vendor: _Optional[str] = ..., product_id: _Optional[str] = ..., product: _Optional[str] = ..., iommu_group: _Optional[int] = ..., sriov_max_vfs: _Optional[int] = ..., sriov_vfs: _Optional[_Iterable[str]] = ..., sriov_pf: _Optional[str] = ..., interface: _Optional[str] = ..., scsi_host: _Optional[int] = ..., wwnn: _Optional[str] = ..., wwpn: _Optional[str] = ..., xml: _Optional[str] = ...) -> None: ...

class ListNodeDevicesRequest(_message.Message):
    __slots__ = ("capability", "page_size", "page_token", "name_prefix")
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    capability: str
    page_size: int
    page_token: str
    name_prefix: str
    def __init__(self, capability: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ...) -> None: ...

class ListNodeDevicesResponse(_message.Message):
    __slots__ = ("devices", "next_page_token")
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[NodeDevice]
    next_page_token: str
    def __init__(self, devices: _Optional[_Iterable[_Union[NodeDevice, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetNodeDeviceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListAssignableDevicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Hostdev(_message.Message):
    __slots__ = ("pci_address", "managed", "alias")
    PCI_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MANAGED_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    pci_address: str
    managed: bool
    alias: str
    def __init__(self, pci_address: _Optional[str] = ..., managed: bool = ..., alias: _Optional[str] = ...) -> None: ...

class ListHostdevsRequest(_message.Message):
    __slots__ = ("domain", "inactive")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    inactive: bool
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., inactive: bool = ...) -> None: ...

class ListHostdevsResponse(_message.Message):
    __slots__ = ("hostdevs",)
    HOSTDEVS_FIELD_NUMBER: _ClassVar[int]
    hostdevs: _containers.RepeatedCompositeFieldContainer[Hostdev]
    def __init__(self, hostdevs: _Optional[_Iterable[_Union[Hostdev, _Mapping]]] = ...) -> None: ...

class HostdevRequest(_message.Message):
    __slots__ = ("domain", "pci_address", "managed", "scope")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PCI_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MANAGED_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    domain: _domain_pb2.DomainRef
    pci_address: str
    managed: bool
    scope: _common_pb2.DeviceScope
    def __init__(self, domain: _Optional[_Union[_domain_pb2.DomainRef, _Mapping]] = ..., pci_address: _Optional[str] = ..., managed: bool = ..., scope: _Optional[_Union[_common_pb2.DeviceScope, _Mapping]] = ...) -> None: ...

class SetSriovVfsRequest(_message.Message):
    __slots__ = ("device", "vfs")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    VFS_FIELD_NUMBER: _ClassVar[int]
    device: str
    vfs: int
    def __init__(self, device: _Optional[str] = ..., vfs: _Optional[int] = ...) -> None: ...

class CreateVhbaRequest(_message.Message):
    __slots__ = ("parent", "wwnn", "wwpn")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    WWNN_FIELD_NUMBER: _ClassVar[int]
    WWPN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    wwnn: str
    wwpn: str
    def __init__(self, parent: _Optional[str] = ..., wwnn: _Optional[str] = ..., wwpn: _Optional[str] = ...) -> None: ...
