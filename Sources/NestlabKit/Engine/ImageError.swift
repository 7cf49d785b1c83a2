import Crypto
import Foundation
import NestlabCore
import Synchronization

public enum ImageError: Error, CustomStringConvertible {
    case missingFile(String, errno: Int32)
    case notFetched(image: String, url: String)

    public var description: String {
        switch self {
        case .missingFile(let p, let e):
            var hint = ""
            if p.contains("nestlab/test-image") { hint = "; build it with Tests/Scripts/build-test-image" }
            return "cannot read image file \(p): \(String(cString: strerror(e)))\(hint)"
        case .notFetched(let i, let u):
            return
                "image '\(i)' (\(u)) is not in the artifact cache; `nestlab cache fetch FILE` (or `nestlab up`) downloads it"
        }
    }
}
