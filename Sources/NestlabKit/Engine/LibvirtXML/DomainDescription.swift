import Foundation
import NestlabCore

/// The fields of a domain's XML (`virDomainGetXMLDesc`) that nestlab reads.
struct DomainDescription: Sendable, Equatable {
    /// `<domain type=…>`: `kvm`, `qemu`, `test`…
    var type: String?
    /// `<vcpu>`: the number of vCPUs.
    var vcpus: Int?
    /// `<memory>`, in KiB (the unit libvirt writes it in).
    var memoryKiB: UInt64?
    /// The size of `<memoryBacking><hugepages><page>`, in KiB.
    var hugepageKiB: UInt64?
    /// `<os><kernel>` and `<os><initrd>`: the host files of a direct kernel boot.
    var kernel: String?
    var initrd: String?
    /// `<devices><disk><source>`: the host files and storage volumes the domain's disks use.
    var disks: [DiskSource] = []
    /// nestlab's element in `<metadata>` (namespace `NestlabXMLNS.uri`); nil on domains nestlab did
    /// not define.
    var metadata: LabMetadata?
}

extension DomainDescription {
    /// Where one disk's bytes come from: a host file, or a volume of a storage pool.
    struct DiskSource: Sendable, Equatable {
        var file: String?
        var pool: String?
        var volume: String?
    }

    /// Decodes the XML libvirt gave for the domain `name` (named in errors).
    init(xml: String, of name: String) throws(LibvirtXMLError) {
        let domain = try LibvirtXMLElement.parse(xml, kind: .domain, name: name)
        type = domain.attributes["type"]
        vcpus = domain.child("vcpu").flatMap { Int($0.text) }
        memoryKiB = domain.child("memory").flatMap { UInt64($0.text) }
        hugepageKiB = domain.at("memoryBacking", "hugepages", "page").flatMap(Self.kib)
        kernel = domain.at("os", "kernel")?.text
        initrd = domain.at("os", "initrd")?.text
        disks =
            domain.child("devices")?.children("disk").compactMap { disk in
                guard let source = disk.child("source") else { return nil }
                let s = DiskSource(
                    file: source.attributes["file"] ?? source.attributes["dev"], pool: source.attributes["pool"],
                    volume: source.attributes["volume"])
                return s == DiskSource() ? nil : s
            } ?? []
        metadata = domain.child("metadata")?.children.first { $0.namespace == NestlabXMLNS.uri }
            .flatMap(LabMetadata.init(element:))
    }

    /// A `<page size=… unit=…>` in KiB; a page without a unit is in KiB.
    private static func kib(_ page: LibvirtXMLElement) -> UInt64? {
        guard let size = UInt64(page.attributes["size"] ?? "") else { return nil }
        let factor: UInt64
        switch page.attributes["unit"]?.lowercased() ?? "kib" {
        case "m", "mib": factor = 1024
        case "g", "gib": factor = 1024 * 1024
        default: factor = 1
        }
        let (kib, overflow) = size.multipliedReportingOverflow(by: factor)
        return overflow ? nil : kib
    }
}
