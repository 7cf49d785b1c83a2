import Crypto
import Foundation

/// Deterministic MAC addresses in QEMU's locally administered 52:54:00 range.
enum MACAddress {
    static func derive(lab: String, machine: String, network: String, salt: Int = 0) -> String {
        let digest = Array(SHA256.hash(data: Data("\(lab)/\(machine)/\(network)/\(salt)".utf8)))
        return String(format: "52:54:00:%02x:%02x:%02x", digest[0], digest[1], digest[2])
    }
}
