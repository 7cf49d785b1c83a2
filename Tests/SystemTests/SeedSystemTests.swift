import Foundation
import Testing

/// Issue 22, part 7: the seed ISOs carry the nodes' secrets (SSH host keys; on a control
/// plane the cluster CA key and the bootstrap token), so on every host, local and remote, the
/// seed volumes of a running lab are mode 0600, as libvirt reports them from the pool.
extension SystemTests {
    func expectSeedsAreSecret(lab: String, uri: String = "qemu:///system", machines: Int) throws {
        let pool = "nestlab-\(lab)"
        let list = try System.run(["virsh", "-c", uri, "vol-list", pool])
        try #require(list.status == 0, "\(list.all)")
        let seeds = list.stdout.split(separator: "\n").compactMap { line -> String? in
            let name = line.split(separator: " ").first.map(String.init) ?? ""
            return name.contains("-seed-") ? name : nil
        }
        #expect(seeds.count == machines, "seeds on \(uri): \(seeds)")
        for s in seeds {
            let xml = try System.run(["virsh", "-c", uri, "vol-dumpxml", "--pool", pool, s])
            #expect(xml.status == 0 && xml.stdout.contains("<mode>0600</mode>"), "\(uri) \(s): \(xml.all)")
        }
    }
}
