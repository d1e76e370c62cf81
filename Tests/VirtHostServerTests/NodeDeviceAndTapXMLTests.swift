import HostNetworking
import Testing
import VirtHostAPI

@testable import VirtHostServer

/// The XML and input checks of host networking II that need no host: NICs
/// on TAPs, hostdev and vHBA XML, node device XML, PCI addresses, IP prefixes.
@Suite struct NodeDeviceAndTapXMLTests {
    @Test func aNICOnATapIsAnUnmanagedEthernetInterface() throws {
        var request = Virthost_V1_AttachInterfaceRequest()
        request.type = .tap
        request.source = "tap-web1"
        let nic = try NICAttach(request)
        let xml = nic.xml(mac: "52:54:00:00:00:07")
        #expect(xml.contains("<interface type=\"ethernet\">") || xml.contains("<interface type='ethernet'>"))
        #expect(xml.contains("dev=\"tap-web1\"") && xml.contains("managed=\"no\""))
        let domain = "<domain><devices>\(xml)</devices></domain>"
        let read = try #require(try DomainXML.interfaces(domain).first)
        #expect(read.type == .tap && read.source == "tap-web1" && read.mac == "52:54:00:00:00:07" && read.rawType == "ethernet")
        request.source = "a/b"
        #expect(throws: Refusal.self) { try NICAttach(request) }
        request.source = "tap0"
        request.directMode = "vepa"
        #expect(throws: Refusal.self) { try NICAttach(request) }
    }

    @Test func pciAddressesAreCheckedAndNamed() throws {
        let address = try #require(PCIAddress("0000:03:00.1"))
        #expect(address.description == "0000:03:00.1" && address.nodeDeviceName == "pci_0000_03_00_1")
        #expect(PCIAddress("03:00.1")?.description == "0000:03:00.1")
        for bad in ["", "0000:03:00", "0000:03:20.1", "0000:03:00.8", "00000:03:00.1", "0000:3:00.1", "../../x", "0000:03:00.1/x", "zzzz:03:00.1"] {
            #expect(PCIAddress(bad) == nil, "\(bad)")
        }
        let hostdev = NodeDeviceXML.hostdev(address, managed: true)
        #expect(hostdev.contains("managed=\"yes\"") && hostdev.contains("bus=\"0x03\"") && hostdev.contains("function=\"0x1\""))
        let domain = "<domain><devices>\(hostdev)</devices></domain>"
        #expect(try NodeDeviceXML.hostdevs(inDomainXML: domain).map(\.hostdev.pciAddress) == ["0000:03:00.1"])
        #expect(throws: Refusal.self) { try NodeDeviceService.deviceName("pci_0000/../x") }
        #expect(try NodeDeviceService.deviceName("0000:03:00.1") == "pci_0000_03_00_1")
    }

    @Test func nodeDeviceXMLIsRead() throws {
        let xml = """
            <device><name>pci_0000_03_00_0</name><path>/sys/devices/pci0000:00/0000:03:00.0</path><parent>pci_0000_00_01_0</parent>
            <driver><name>ixgbe</name></driver>
            <capability type='pci'><class>0x020000</class><domain>0</domain><bus>3</bus><slot>0</slot><function>0</function>
            <product id='0x10fb'>82599ES 10-Gigabit</product><vendor id='0x8086'>Intel Corporation</vendor>
            <capability type='virt_functions' maxCount='63'><address domain='0x0000' bus='0x03' slot='0x10' function='0x0'/></capability>
            <iommuGroup number='14'><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></iommuGroup>
            </capability></device>
            """
        let device = try NodeDeviceXML.device(xml)
        #expect(device.name == "pci_0000_03_00_0" && device.parent == "pci_0000_00_01_0" && device.driver == "ixgbe")
        #expect(device.pciAddress == "0000:03:00.0" && device.vendorID == "0x8086" && device.productID == "0x10fb")
        #expect(device.iommuGroup == 14 && device.sriovMaxVfs == 63 && device.sriovVfs == ["0000:03:10.0"])
        #expect(device.capabilities.contains("pci") && device.capabilities.contains("virt_functions"))
        #expect(NodeDeviceXML.pciClass(xml) == 0x020000)
        let vhba = NodeDeviceXML.vhba(parent: "scsi_host5", wwnn: "5001a4a93526d0a1", wwpn: "5001a4a93526d0a2")
        #expect(vhba.contains("<parent>scsi_host5</parent>") && vhba.contains("fc_host") && vhba.contains("<wwpn>5001a4a93526d0a2</wwpn>"))
    }

    @Test func addressesAndRoutesAreCheckedBeforeTheKernel() throws {
        func refused(_ interface: String, _ address: String) -> Bool {
            var request = Virthost_V1_AddressRequest()
            request.interface = interface
            request.address = address
            return (try? HostNetworkService.checkAddress(request)) == nil
        }
        #expect(!refused("eth0", "192.0.2.10/24") && !refused("eth0", "2001:db8::1/64") && !refused("eth0", "192.0.2.1/32"))
        for bad in ["192.0.2.10", "192.0.2.10/33", "192.0.2.0/24", "0.0.0.0/8", "224.0.0.1/4", "ff02::1/64", "2001:db8::zz/64", "1.2.3/24", "x/24", "192.0.2.1/-1", "192.0.2.1/ 24"] {
            #expect(refused("eth0", bad), "\(bad)")
        }
        #expect(refused("bad/name", "192.0.2.10/24"))
        #expect(try HostNetworkService.destination("default", family: 6).isIPv6)
        #expect(throws: Refusal.self) { try HostNetworkService.destination("10.0.0.0/8", family: 6) }
        #expect(IPPrefix.parse("10.1.2.3/8").map(\.network.description) == .success("10.0.0.0/8"))
    }
}
