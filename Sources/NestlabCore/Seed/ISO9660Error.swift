import Foundation

/// What can go wrong when building an ISO 9660 image.
public enum ISO9660Error: Error, Equatable, CustomStringConvertible {
    /// A file name Joliet cannot hold.
    case invalidName(String, reason: String)
    /// Two files with the same name.
    case duplicateName(String)
    /// A file larger than the 32-bit size field of a directory record.
    case fileTooLarge(name: String, size: Int)
    /// A volume label that is empty, too long, or has characters a label should not have.
    case invalidVolumeIdentifier(String)
    /// A date outside the years a directory record can store.
    case dateOutOfRange(Date)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason):
            return "invalid file name '\(name)' for the seed image: \(reason)"
        case .duplicateName(let name):
            return "file '\(name)' appears twice in the seed image; names must be unique"
        case .fileTooLarge(let name, let size):
            return "file '\(name)' is \(size) bytes; an ISO 9660 file holds at most \(UInt32.max) bytes"
        case .invalidVolumeIdentifier(let id):
            return "invalid volume identifier '\(id)': use 1 to 16 characters from a-z, A-Z, 0-9, '_' and '-'"
        case .dateOutOfRange(let date):
            return "date \(date) cannot be stored in an ISO 9660 image; use a date in the years 1900 to 2155"
        }
    }
}
