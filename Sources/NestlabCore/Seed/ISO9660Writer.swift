import Foundation

/// Writes a small, flat ISO 9660 image with a Joliet tree, entirely in memory.
///
/// The image holds only files in the root directory, which is all a cloud-init NoCloud
/// seed needs. Joliet carries the real (lower-case, hyphenated) names; the primary tree
/// carries 8.3 upper-case aliases that no consumer of a seed looks at. There is no Rock
/// Ridge: Linux and `isoinfo -J` read the Joliet names.
///
/// The output is a pure function of the volume identifier, the date and the files, so a
/// seed can be named by the hash of its bytes.
///
/// Layout (2048-byte sectors): 0-15 system area, 16 primary volume descriptor, 17 Joliet
/// supplementary volume descriptor, 18 set terminator, 19-22 path tables (primary L/M,
/// Joliet L/M), then the primary root directory, the Joliet root directory, and each
/// file's data starting on its own sector.
public struct ISO9660Writer: Sendable {
    /// One file in the image's root directory.
    public struct File: Sendable, Hashable {
        /// The name as Joliet records it, for example `user-data`.
        public var name: String
        /// The file's bytes.
        public var contents: Data

        public init(name: String, contents: Data) {
            self.name = name
            self.contents = contents
        }
    }

    /// The volume label, as `blkid` reports it (`LABEL=`).
    public var volumeIdentifier: String
    /// The date stamped on the volume and every directory record (stored in UTC).
    public var date: Date

    /// Creates a writer. The default date is the Unix epoch so that images are reproducible.
    public init(volumeIdentifier: String, date: Date = Date(timeIntervalSince1970: 0)) {
        self.volumeIdentifier = volumeIdentifier
        self.date = date
    }

    static let sectorSize = 2048
    // The longest Joliet name the specification allows (genisoimage's default limit).
    static let maxJolietNameLength = 64
    static let firstDirectorySector = 23

    /// Returns the image bytes for `files`, placed in the root directory in Joliet name order.
    public func image(files: [File]) throws(ISO9660Error) -> Data {
        try validateVolumeIdentifier()
        let stamp = try ISOTimestamp(date)
        try Self.validateFiles(files)
        let layout = Layout(files: files)
        var image = [UInt8](repeating: 0, count: layout.totalSectors * Self.sectorSize)
        writeDirectories(&image, layout, stamp)
        for (file, extent) in zip(layout.sorted, layout.extents) where !file.contents.isEmpty {
            image.replaceSubrange(at(extent), count: file.contents.count, with: file.contents)
        }
        writePathTables(&image, layout)
        writeVolumeDescriptors(&image, layout, stamp)
        return Data(image)
    }

    /// Each file's Joliet name is valid and unique, and its size fits a directory record.
    private static func validateFiles(_ files: [File]) throws(ISO9660Error) {
        var jolietNames = Set<String>()
        for file in files {
            try Self.validateJolietName(file.name)
            guard jolietNames.insert(file.name).inserted else {
                throw .duplicateName(file.name)
            }
            guard file.contents.count <= Int(UInt32.max) else {
                throw .fileTooLarge(name: file.name, size: file.contents.count)
            }
        }
    }

    /// Where everything goes: the two root directories after the path tables, then each file's data.
    private struct Layout {
        /// The files in Joliet order.
        let sorted: [File]
        /// Each sorted file's unique primary alias.
        let primaryNames: [[UInt8]]
        let primaryDirSector: Int
        let primaryDirSectors: Int
        let jolietDirSector: Int
        let jolietDirSectors: Int
        /// Each sorted file's first sector.
        let extents: [Int]
        let totalSectors: Int

        init(files: [File]) {
            // Files are laid out in Joliet order; each also gets a unique primary alias.
            sorted = files.sorted {
                ISO9660Writer.ucs2(of: $0.name).lexicographicallyPrecedes(ISO9660Writer.ucs2(of: $1.name))
            }
            let primaryNames = ISO9660Writer.primaryAliases(for: sorted.map(\.name))
            self.primaryNames = primaryNames
            let primaryRecordSizes = sorted.indices.map {
                ISO9660Writer.recordLength(identifierLength: primaryNames[$0].count)
            }
            let jolietRecordSizes = sorted.map {
                ISO9660Writer.recordLength(identifierLength: ISO9660Writer.ucs2(of: $0.name).count)
            }
            primaryDirSectors = ISO9660Writer.directorySectors(recordSizes: primaryRecordSizes)
            jolietDirSectors = ISO9660Writer.directorySectors(recordSizes: jolietRecordSizes)
            primaryDirSector = ISO9660Writer.firstDirectorySector
            jolietDirSector = primaryDirSector + primaryDirSectors
            var nextSector = jolietDirSector + jolietDirSectors
            var extents: [Int] = []
            for file in sorted {
                extents.append(nextSector)
                nextSector += ISO9660Writer.sectors(for: file.contents.count)
            }
            self.extents = extents
            totalSectors = nextSector
        }
    }

    /// The primary and Joliet root directories.
    private func writeDirectories(_ image: inout [UInt8], _ l: Layout, _ stamp: ISOTimestamp) {
        // Primary tree: alias names sorted by their bytes (ISO 9660 section 9.3 order).
        let primaryOrder = l.sorted.indices.sorted { l.primaryNames[$0].lexicographicallyPrecedes(l.primaryNames[$1]) }
        let primaryDir = Self.directory(
            selfSector: l.primaryDirSector, selfSectors: l.primaryDirSectors, date: stamp,
            entries: primaryOrder.map { (l.primaryNames[$0], l.extents[$0], l.sorted[$0].contents.count) })
        let jolietDir = Self.directory(
            selfSector: l.jolietDirSector, selfSectors: l.jolietDirSectors, date: stamp,
            entries: l.sorted.indices.map {
                (Self.ucs2(of: l.sorted[$0].name), l.extents[$0], l.sorted[$0].contents.count)
            })
        image.replaceSubrange(at(l.primaryDirSector), count: primaryDir.count, with: primaryDir)
        image.replaceSubrange(at(l.jolietDirSector), count: jolietDir.count, with: jolietDir)
    }

    /// Path tables: a single root entry each, little-endian (L) and big-endian (M).
    private func writePathTables(_ image: inout [UInt8], _ l: Layout) {
        let pathTables: [(sector: Int, dirSector: Int, bigEndian: Bool)] = [
            (19, l.primaryDirSector, false), (20, l.primaryDirSector, true),
            (21, l.jolietDirSector, false), (22, l.jolietDirSector, true),
        ]
        for table in pathTables {
            let entry = Self.rootPathTableEntry(dirSector: table.dirSector, bigEndian: table.bigEndian)
            image.replaceSubrange(at(table.sector), count: entry.count, with: entry)
        }
    }

    /// The primary and supplementary (Joliet) volume descriptors, and the set terminator.
    private func writeVolumeDescriptors(_ image: inout [UInt8], _ l: Layout, _ stamp: ISOTimestamp) {
        let primary = volumeDescriptor(
            joliet: false, totalSectors: l.totalSectors, rootSector: l.primaryDirSector,
            rootSectors: l.primaryDirSectors, pathTableL: 19, pathTableM: 20, stamp: stamp)
        let supplementary = volumeDescriptor(
            joliet: true, totalSectors: l.totalSectors, rootSector: l.jolietDirSector,
            rootSectors: l.jolietDirSectors, pathTableL: 21, pathTableM: 22, stamp: stamp)
        image.replaceSubrange(at(16), count: primary.count, with: primary)
        image.replaceSubrange(at(17), count: supplementary.count, with: supplementary)
        let terminator: [UInt8] = [255] + Array("CD001".utf8) + [1]
        image.replaceSubrange(at(18), count: terminator.count, with: terminator)
    }

    private func at(_ sector: Int) -> Int { sector * Self.sectorSize }

    // MARK: validation

    private func validateVolumeIdentifier() throws(ISO9660Error) {
        let id = volumeIdentifier
        // 16 characters is what fits the Joliet descriptor's 32-byte UCS-2 field.
        let allowed = id.unicodeScalars.allSatisfy {
            $0.isASCII
                && (("a"..."z").contains($0) || ("A"..."Z").contains($0)
                    || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
        }
        guard !id.isEmpty, id.unicodeScalars.count <= 16, allowed else {
            throw .invalidVolumeIdentifier(id)
        }
    }

    static func validateJolietName(_ name: String) throws(ISO9660Error) {
        guard !name.isEmpty else { throw .invalidName(name, reason: "it is empty") }
        guard name != ".", name != ".." else {
            throw .invalidName(name, reason: "'.' and '..' are reserved")
        }
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                throw .invalidName(name, reason: "it contains a control character")
            }
            if "*/:;?\\".unicodeScalars.contains(scalar) {
                throw .invalidName(name, reason: "Joliet forbids the characters * / : ; ? \\")
            }
            if scalar.value > 0xFFFF {
                throw .invalidName(name, reason: "Joliet (UCS-2) holds only characters up to U+FFFF")
            }
        }
        guard name.utf16.count <= maxJolietNameLength else {
            throw .invalidName(name, reason: "it is longer than \(maxJolietNameLength) characters")
        }
    }

    // MARK: names

    static func ucs2(of name: String) -> [UInt8] {
        name.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Unique ISO 9660 level 1 identifiers (`NAME.EXT;1`) for the given names, in order.
    static func primaryAliases(for names: [String]) -> [[UInt8]] {
        var used = Set<[UInt8]>()
        return names.map { name in
            let (base, ext) = level1Parts(of: name)
            var candidate = base
            var counter = 1
            while used.contains(identifier(base: candidate, ext: ext)) {
                // Replace the tail of the base with a counter until the alias is unique.
                let suffix = Array(String(counter).utf8)
                candidate = Array(base.prefix(8 - suffix.count)) + suffix
                counter += 1
            }
            let id = identifier(base: candidate, ext: ext)
            used.insert(id)
            return id
        }
    }

    private static func identifier(base: [UInt8], ext: [UInt8]) -> [UInt8] {
        base + Array(".".utf8) + ext + Array(";1".utf8)
    }

    private static func level1Parts(of name: String) -> (base: [UInt8], ext: [UInt8]) {
        let dChars: (Character) -> UInt8 = { ch in
            guard ch.isASCII, let ascii = ch.uppercased().first?.asciiValue else { return UInt8(ascii: "_") }
            switch ascii {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return ascii
            default: return UInt8(ascii: "_")
            }
        }
        var stem = Substring(name)
        var ext = Substring("")
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            stem = name[..<dot]
            ext = name[name.index(after: dot)...]
        }
        var base = Array(stem.map(dChars).prefix(8))
        if base.isEmpty { base = Array("_".utf8) }
        return (base, Array(ext.map(dChars).prefix(3)))
    }

    // MARK: records

    static func recordLength(identifierLength: Int) -> Int {
        33 + identifierLength + (identifierLength % 2 == 0 ? 1 : 0)
    }

    static func sectors(for bytes: Int) -> Int {
        (bytes + sectorSize - 1) / sectorSize
    }

    /// Sectors a directory needs: "." and ".." first, and no record may cross a sector.
    static func directorySectors(recordSizes: [Int]) -> Int {
        var sectors = 1
        var used = 2 * recordLength(identifierLength: 1)
        for size in recordSizes {
            if used + size > sectorSize {
                sectors += 1
                used = 0
            }
            used += size
        }
        return sectors
    }

    static func directory(
        selfSector: Int, selfSectors: Int, date: ISOTimestamp, entries: [([UInt8], Int, Int)]
    ) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: selfSectors * sectorSize)
        var offset = 0
        func append(_ record: [UInt8]) {
            if offset % sectorSize + record.count > sectorSize {
                offset += sectorSize - offset % sectorSize
            }
            bytes.replaceSubrange(offset..<(offset + record.count), with: record)
            offset += record.count
        }
        let size = selfSectors * sectorSize
        // The root is its own parent.
        append(record(extent: selfSector, size: size, isDirectory: true, identifier: [0], date: date))
        append(record(extent: selfSector, size: size, isDirectory: true, identifier: [1], date: date))
        for (identifier, extent, length) in entries {
            append(record(extent: extent, size: length, isDirectory: false, identifier: identifier, date: date))
        }
        return bytes
    }

    static func record(extent: Int, size: Int, isDirectory: Bool, identifier: [UInt8], date: ISOTimestamp) -> [UInt8] {
        var r: [UInt8] = []
        r.append(UInt8(recordLength(identifierLength: identifier.count)))
        r.append(0)  // extended attribute record length
        r += bothEndian32(UInt32(extent))
        r += bothEndian32(UInt32(size))
        r += date.recordBytes
        r.append(isDirectory ? 0x02 : 0x00)
        r.append(0)  // file unit size
        r.append(0)  // interleave gap
        r += bothEndian16(1)  // volume sequence number
        r.append(UInt8(identifier.count))
        r += identifier
        if identifier.count % 2 == 0 { r.append(0) }
        return r
    }

    static func rootPathTableEntry(dirSector: Int, bigEndian: Bool) -> [UInt8] {
        var e: [UInt8] = [1, 0]
        e += bigEndian ? be32(UInt32(dirSector)) : le32(UInt32(dirSector))
        e += bigEndian ? [0, 1] : [1, 0]  // parent directory number
        e += [0, 0]  // root identifier and padding
        return e
    }

    // MARK: volume descriptors

    private func volumeDescriptor(
        joliet: Bool, totalSectors: Int, rootSector: Int, rootSectors: Int,
        pathTableL: Int, pathTableM: Int, stamp: ISOTimestamp
    ) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: Self.sectorSize)
        func put(_ bytes: [UInt8], _ offset: Int) {
            d.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        }
        // Text fields: ASCII padded with spaces, or UCS-2 big-endian padded with U+0020.
        func text(_ string: String, length: Int) -> [UInt8] {
            if joliet {
                var out = Self.ucs2(of: string)
                while out.count + 2 <= length { out += [0x00, 0x20] }
                while out.count < length { out.append(0) }
                return out
            }
            var out = Array(string.utf8)
            while out.count < length { out.append(0x20) }
            return out
        }

        d[0] = joliet ? 2 : 1
        put(Array("CD001".utf8), 1)
        d[6] = 1
        put(text("LINUX", length: 32), 8)
        put(text(volumeIdentifier, length: 32), 40)
        put(Self.bothEndian32(UInt32(totalSectors)), 80)
        if joliet { put(Array("%/E".utf8), 88) }  // UCS-2 level 3
        put(Self.bothEndian16(1), 120)  // volume set size
        put(Self.bothEndian16(1), 124)  // volume sequence number
        put(Self.bothEndian16(UInt16(Self.sectorSize)), 128)
        put(Self.bothEndian32(10), 132)  // path table size: one root entry
        put(Self.le32(UInt32(pathTableL)), 140)
        put(Self.be32(UInt32(pathTableM)), 148)
        put(
            Self.record(
                extent: rootSector, size: rootSectors * Self.sectorSize, isDirectory: true,
                identifier: [0], date: stamp), 156)
        put(text("", length: 128), 190)  // volume set
        put(text("", length: 128), 318)  // publisher
        put(text("", length: 128), 446)  // data preparer
        put(text("NESTLAB", length: 128), 574)  // application
        put(text("", length: 37), 702)  // copyright file
        put(text("", length: 37), 739)  // abstract file
        put(text("", length: 37), 776)  // bibliographic file
        put(stamp.descriptorBytes, 813)  // creation
        put(stamp.descriptorBytes, 830)  // modification
        put(ISOTimestamp.unsetDescriptorBytes, 847)  // expiration
        put(stamp.descriptorBytes, 864)  // effective
        d[881] = 1  // file structure version
        return d
    }

    // MARK: integers

    static func le32(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
    }
    static func be32(_ v: UInt32) -> [UInt8] { le32(v).reversed() }
    static func bothEndian32(_ v: UInt32) -> [UInt8] { le32(v) + be32(v) }
    static func bothEndian16(_ v: UInt16) -> [UInt8] {
        [UInt8(v & 0xFF), UInt8(v >> 8), UInt8(v >> 8), UInt8(v & 0xFF)]
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func replaceSubrange<C: Collection<UInt8>>(_ start: Int, count: Int, with bytes: C) {
        replaceSubrange(start..<(start + count), with: bytes)
    }
}
