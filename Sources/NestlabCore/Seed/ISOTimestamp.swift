import Foundation

/// A point in time in the two forms ISO 9660 stores, always in UTC.
struct ISOTimestamp: Sendable {
    let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    init(_ date: Date) throws(ISO9660Error) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard let year = c.year, let month = c.month, let day = c.day,
            let hour = c.hour, let minute = c.minute, let second = c.second,
            (1900...2155).contains(year)
        else { throw .dateOutOfRange(date) }
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (
            year, month, day, hour, minute, second
        )
    }

    /// The 7-byte directory record form: years since 1900, then fields, then GMT offset 0.
    var recordBytes: [UInt8] {
        [UInt8(year - 1900), UInt8(month), UInt8(day), UInt8(hour), UInt8(minute), UInt8(second), 0]
    }

    /// The 17-byte volume descriptor form: `YYYYMMDDHHMMSScc` in digits, then GMT offset 0.
    var descriptorBytes: [UInt8] {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let digits = pad(year, 4) + pad(month, 2) + pad(day, 2) + pad(hour, 2) + pad(minute, 2) + pad(second, 2) + "00"
        return Array(digits.utf8) + [0]
    }

    static let unsetDescriptorBytes: [UInt8] = Array(repeating: UInt8(ascii: "0"), count: 16) + [0]
}
