import Foundation

/// A node's distribution, as far as the node scripts care.
public enum NodeOS: String, Sendable, Hashable, CaseIterable, Codable {
    case debian12 = "debian-12"
    case ubuntu2204 = "ubuntu-22.04"
    case ubuntu2404 = "ubuntu-24.04"

    /// Guess from an image's URL or file name.
    public static func guess(_ s: String) -> NodeOS {
        let l = s.lowercased()
        if l.contains("jammy") || l.contains("22.04") { return .ubuntu2204 }
        if l.contains("ubuntu") || l.contains("noble") || l.contains("24.04") { return .ubuntu2404 }
        return .debian12
    }
}
