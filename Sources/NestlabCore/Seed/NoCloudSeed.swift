import Crypto
import Foundation

/// The files of a cloud-init NoCloud seed: `user-data`, `meta-data` and, optionally,
/// `network-config`.
///
/// cloud-init finds the seed by its filesystem label `cidata`; the image is ISO 9660 with
/// Joliet so that the lower-case, hyphenated names survive.
public struct NoCloudSeed: Sendable, Hashable {
    /// The label cloud-init looks for.
    public static let volumeIdentifier = "cidata"

    public var userData: Data
    public var metaData: Data
    public var networkConfig: Data?

    public init(userData: Data, metaData: Data, networkConfig: Data? = nil) {
        self.userData = userData
        self.metaData = metaData
        self.networkConfig = networkConfig
    }

    public init(userData: String, metaData: String, networkConfig: String? = nil) {
        self.init(
            userData: Data(userData.utf8), metaData: Data(metaData.utf8),
            networkConfig: networkConfig.map { Data($0.utf8) })
    }

    /// The files as they appear in the image's root directory.
    public var files: [ISO9660Writer.File] {
        var files = [
            ISO9660Writer.File(name: "user-data", contents: userData),
            ISO9660Writer.File(name: "meta-data", contents: metaData),
        ]
        if let networkConfig {
            files.append(ISO9660Writer.File(name: "network-config", contents: networkConfig))
        }
        return files
    }

    /// Builds the seed image. Equal seeds and dates give byte-identical images.
    public func image(date: Date = Date(timeIntervalSince1970: 0)) throws(ISO9660Error) -> SeedImage {
        let writer = ISO9660Writer(volumeIdentifier: Self.volumeIdentifier, date: date)
        return SeedImage(bytes: try writer.image(files: files))
    }
}
