import Foundation

/// The fields of a network's XML (`virNetworkGetXMLDesc`) that nestlab reads.
struct NetworkDescription: Sendable, Equatable {
    /// One `<ip>` element: the host's address on the network and its netmask (nil where the
    /// element gives a `prefix` instead, as IPv6 ones do).
    struct IP: Sendable, Equatable {
        var address: String?
        var netmask: String?
    }

    /// The `<ip>` elements, in document order.
    var ips: [IP]
}

extension NetworkDescription {
    /// Decodes the XML libvirt gave for the network `name` (named in errors).
    init(xml: String, of name: String) throws(LibvirtXMLError) {
        let network = try LibvirtXMLElement.parse(xml, kind: .network, name: name)
        ips = network.children("ip").map { IP(address: $0.attributes["address"], netmask: $0.attributes["netmask"]) }
    }
}
