import Foundation
import Testing

/// Issue 22, part 7: the seed ISOs carry the nodes' secrets (SSH host keys; on a control
/// plane the cluster CA key and the bootstrap token). On every host, local and remote, a seed
/// is in the pool only while its guest boots, as mode 0600; once nestlab has seen the guest
/// ready, the seed is gone from the pool and from the domain's persistent definition.
extension SystemTests {
    /// The seed volumes of the lab's pool on `uri`; nil while the pool is not there.
    func seedVolumes(lab: String, uri: String) throws -> [String]? {
        let list = try System.run(["virsh", "-c", uri, "vol-list", "nestlab-\(lab)"])
        guard list.status == 0 else { return nil }
        return list.stdout.split(separator: "\n").compactMap { line -> String? in
            let name = line.split(separator: " ").first.map(String.init) ?? ""
            return name.contains("-seed-") ? name : nil
        }
    }

    /// While `up` runs in the background: waits until `machines` seeds are in the pool on `uri`
    /// (the guests are booting), then checks that each is 0600 as libvirt reports it.
    func expectSeedsAreSecretWhileBooting(
        lab: String, uri: String = "qemu:///system", machines: Int, during up: System.Background
    ) throws {
        let deadline = Date().addingTimeInterval(300)
        var seeds: [String] = []
        while Date() < deadline, !up.process.hasExited {
            seeds = try seedVolumes(lab: lab, uri: uri) ?? []
            if seeds.count == machines { break }
            usleep(250_000)
        }
        try #require(seeds.count == machines, "seeds on \(uri) while up ran: \(seeds)\n\(up.stderr)")
        for s in seeds {
            let xml = try System.run(["virsh", "-c", uri, "vol-dumpxml", "--pool", "nestlab-\(lab)", s])
            #expect(xml.status == 0 && xml.stdout.contains("<mode>0600</mode>"), "\(uri) \(s): \(xml.all)")
        }
    }

    /// After `up` saw the guests ready: no seed in the pool on `uri`, and no domain of the lab
    /// names one in its persistent definition (the next boot gets it back from `up`).
    func expectSeedsDropped(lab: String, uri: String = "qemu:///system", domains: [String]) throws {
        #expect(try seedVolumes(lab: lab, uri: uri) == [], "seeds left on \(uri), or no pool")
        for d in domains {
            let xml = try System.run(["virsh", "-c", uri, "dumpxml", "--inactive", d])
            #expect(xml.status == 0, "\(xml.all)")
            // (Its nestlab metadata still says which seed is the machine's.)
            let disks = xml.stdout.split(separator: "\n").filter { $0.contains("<source ") && $0.contains("-seed-") }
            #expect(disks.isEmpty, "\(uri) \(d) still has its seed disk: \(disks)")
            #expect(xml.stdout.contains("<nestlab:ready instance="), "\(uri) \(d): readiness not recorded")
        }
    }
}
