/// Renders libvirt network XML for a lab network.
public enum NetworkRenderer {
    public static func render(_ net: LabNetwork, machines: [Machine]) -> XMLElement? {
        let n = net.network
        guard n.mode != .bridge else { return nil }
        var x = XMLElement("network")
        x.append(XMLElement("name", text: net.libvirtName))
        x.append(XMLElement("uuid", text: net.uuid))
        if n.mode == .nat { x.append(XMLElement("forward", [("mode", "nat")])) }
        x.append(XMLElement("bridge", [("name", net.bridgeName), ("stp", "on"), ("delay", "0")]))
        var ip = XMLElement("ip", [("address", n.cidr.firstHost.description), ("netmask", n.cidr.netmask.description)])
        var dhcp = XMLElement("dhcp")
        for m in machines {
            for nic in m.nics where nic.network.name == n.name {
                dhcp.append(XMLElement("host", [("mac", nic.mac), ("name", m.name), ("ip", nic.address.description)]))
            }
        }
        if !dhcp.children.isEmpty { ip.append(dhcp) }
        x.append(ip)
        return x
    }
}
