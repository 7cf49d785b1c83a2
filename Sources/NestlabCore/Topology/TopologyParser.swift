import Crypto
import Foundation
import Yams

/// Reads a topology file into a `Topology`, collecting every problem.
///
/// Parsing checks shape (keys, types, units, syntax); `TopologyValidator`
/// checks meaning (references, addresses, pinning, clusters).
public struct TopologyParser {
    public var environment: [String: String]
    /// Whether local files (images, kernels, initrds) must exist and be readable: `validate`,
    /// `plan` and `up` check them, so that a missing image is an error at its line before
    /// anything is created; commands that only find a lab's objects (`down`) do not.
    public var checksFiles: Bool

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, checksFiles: Bool = false) {
        self.environment = environment
        self.checksFiles = checksFiles
    }

    /// Parses and validates a file; throws `TopologyError` with every error,
    /// and returns the warnings with the topology.
    public func load(path: String) throws -> (Topology, [Diagnostic]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TopologyError([
                Diagnostic(
                    .error, at: nil, path: "", "cannot read \(path): \(error.localizedDescription)",
                    hint: "give the path of a topology YAML file")
            ])
        }
        return try load(data: data, file: path)
    }

    public func load(data: Data, file: String) throws -> (Topology, [Diagnostic]) {
        ParseCount.current?.add()
        var d = Diagnostics()
        let topology = parse(data: data, file: file, &d)
        if let topology {
            TopologyValidator(topology: topology).validate(&d)
            if checksFiles { LocalFiles.check(topology, &d) }
        }
        if d.hasErrors || topology == nil { throw TopologyError(d.sorted) }
        return (topology!, d.sorted)
    }

    public func parse(data: Data, file: String, _ d: inout Diagnostics) -> Topology? {
        guard let text = String(data: data, encoding: .utf8) else {
            let (offset, at) = Self.firstInvalidUTF8(data, file: file)
            d.error(
                "", at: at,
                "byte 0x\(String(format: "%02X", data[data.startIndex + offset])) at offset \(offset) is not UTF-8",
                hint: "save the file as UTF-8 text")
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            d.add(Self.diagnostic(for: e, file: file, text: text))
            return nil
        } catch {
            d.error("", at: FileLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")
            return nil
        }
        guard let root else {
            d.error(
                "", at: FileLocation(file: file, line: 1, column: 1), "the file is empty",
                hint: "a topology needs at least 'name', 'networks' and 'machines'")
            return nil
        }
        var ctx = Context(
            file: file, dir: URL(fileURLWithPath: file).deletingLastPathComponent().path,
            env: environment)
        let topology = ctx.topology(YNode(node: root, path: "", file: file, text: text), &d)
        guard var topology else { return nil }
        topology.digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        topology.locations = ctx.locations
        return topology
    }

    /// Turns a Yams error into `file:line:col: error: ...`.
    static func diagnostic(for e: YamlError, file: String, text: String) -> Diagnostic {
        func loc(_ m: Mark) -> FileLocation { FileLocation(file: file, line: m.line, column: m.column) }
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var msg = "YAML syntax: \(problem)"
            if let context { msg += " (\(context.text) at line \(context.mark.line))" }
            return Diagnostic(
                .error, at: loc(mark), path: "", msg, hint: "check indentation, colons and quotes near this line")
        case .duplicatedKeysInMapping(let keys, let context):
            let key = keys.first ?? "?"
            let first = loc(context.mark)
            let at =
                secondOccurrence(of: key, after: (context.mark.line, context.mark.column), in: text)
                .map { FileLocation(file: file, line: $0.line, column: $0.column) } ?? first
            return Diagnostic(
                .error, at: at, path: key, "duplicate key '\(key)'",
                hint: "each key may appear once per mapping (first at line \(context.mark.line))")
        case .reader(let problem, _, _, _):
            return Diagnostic(
                .error, at: FileLocation(file: file, line: 1, column: 1), path: "", "cannot read YAML: \(problem)")
        default:
            return Diagnostic(
                .error, at: FileLocation(file: file, line: 1, column: 1), path: "", "cannot parse YAML: \(e)")
        }
    }

    /// The byte offset of the first byte that is not UTF-8, and its line and (byte) column.
    static func firstInvalidUTF8(_ data: Data, file: String) -> (Int, FileLocation) {
        var bytes = data.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid(let s): offset += s.count
            case .emptyInput, .error: break loop
            }
        }
        offset = min(offset, data.count - 1)
        let head = data.prefix(offset)
        let lineStart = head.lastIndex(of: 0x0A).map { head.distance(from: head.startIndex, to: $0) + 1 } ?? 0
        let line = head.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        return (offset, FileLocation(file: file, line: line, column: offset - lineStart + 1))
    }

    /// Yams reports a duplicate key at its first occurrence; point at the second.
    static func secondOccurrence(of key: String, after first: (line: Int, column: Int), in text: String) -> (
        line: Int, column: Int
    )? {
        // Characters, not "\n": in a CRLF file "\r\n" is one Character.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { Array($0) }
        guard first.line >= 1 && first.line <= lines.count, first.column >= 1,
            first.column <= lines[first.line - 1].count
        else { return nil }
        let column = first.column
        let before = lines[first.line - 1][..<(column - 1)].last { $0 != " " && $0 != "\t" }
        if before == "{" || before == "," { return flowOccurrence(of: key, after: first, in: lines) }
        for (i, line) in lines.enumerated().dropFirst(first.line) {
            let chars = line
            guard chars.count >= column else { continue }
            let indent = chars.prefix { $0 == " " || $0 == "-" }.count
            let trimmed = String(line).trimmingCharacters(in: .whitespaces)
            if indent + 1 < column, !trimmed.isEmpty, !trimmed.hasPrefix("#") {
                return nil  // left the mapping
            }
            if startsWithKey(key, chars[(column - 1)...]) { return (i + 1, column) }
        }
        return nil
    }

    /// The next `key:` of the flow mapping (`{a: 1, a: 2}`) whose first key is at `first`.
    static func flowOccurrence(of key: String, after first: (line: Int, column: Int), in lines: [[Character]]) -> (
        line: Int, column: Int
    )? {
        var depth = 0
        var quote: Character?
        var afterComma = false
        for i in (first.line - 1)..<lines.count {
            let line = lines[i]
            var c = i == first.line - 1 ? first.column : 0
            while c < line.count {
                let ch = line[c]
                if let q = quote {
                    if ch == q { quote = nil }
                } else if afterComma && !ch.isWhitespace {
                    afterComma = false
                    if depth == 0 && startsWithKey(key, line[c...]) { return (i + 1, c + 1) }
                    continue
                } else {
                    switch ch {
                    case "\"", "'": quote = ch
                    case "{", "[": depth += 1
                    case "}", "]":
                        depth -= 1
                        if depth < 0 { return nil }
                    case ",": afterComma = depth == 0
                    case "#" where c == 0 || line[c - 1].isWhitespace:
                        c = line.count
                        continue
                    default: break
                    }
                }
                c += 1
            }
        }
        return nil
    }

    static func startsWithKey(_ key: String, _ rest: ArraySlice<Character>) -> Bool {
        let s = String(rest)
        return ["\(key)", "\"\(key)\"", "'\(key)'"].contains { k in
            s.hasPrefix(k) && s.dropFirst(k.count).drop { $0 == " " }.hasPrefix(":")
        }
    }
}

/// Parsing state: locations of names, and path expansion.
private struct Context {
    let file: String
    let dir: String
    let env: [String: String]
    var locations: [String: FileLocation] = [:]

    init(file: String, dir: String, env: [String: String]) {
        self.file = file
        self.dir = dir
        self.env = env
    }

    mutating func note(_ n: YNode) {
        if let l = n.location { locations[n.path] = l }
    }

    mutating func note(_ path: String, _ loc: FileLocation?) {
        if let loc { locations[path] = loc }
    }

    // MARK: top level

    mutating func topology(_ root: YNode, _ d: inout Diagnostics) -> Topology? {
        let keys = ["name", "hosts", "images", "networks", "profiles", "machines", "clusters", "handoff"]
        guard let f = root.fields(&d, keys: keys) else { return nil }
        let name = labName(f, &d)
        let hosts = self.hosts(f["hosts"], &d)
        let images = named(f["images"], &d) { $0.image($1, $2, &$3) }
        let networks = named(f["networks"], &d) { $0.network($1, $2, &$3) }
        let profiles = named(f["profiles"], &d) { $0.profile($1, $2, &$3) }
        let machines = self.machines(f, hosts: hosts, images: images, networks: networks, &d)
        var clusters: [Cluster] = []
        if let c = f["clusters"] {
            for (i, e) in (c.sequence(&d) ?? []).enumerated() {
                if let cl = cluster(e.named(under: "clusters"), index: i, &d) { clusters.append(cl) }
            }
        }

        var handoff: Handoff?
        if let h = f["handoff"] { handoff = self.handoff(h, &d) }

        return Topology(
            name: name, file: file, hosts: hosts, images: images, networks: networks, profiles: profiles,
            machines: machines, clusters: clusters, handoff: handoff, digest: "", locations: [:])
    }

    /// The lab's `name`, checked; "" when missing or not a string.
    private mutating func labName(_ f: Fields, _ d: inout Diagnostics) -> String {
        guard let n = f.required("name", &d, hint: "a lab name such as 'nested-tuned'") else { return "" }
        note(n)
        guard let s = n.string(&d) else { return "" }
        if s.range(of: #"^[a-z][a-z0-9-]{0,29}$"#, options: .regularExpression) == nil || s.hasSuffix("-") {
            d.error(
                "name", at: n.location, "'\(s)' is not a valid lab name",
                hint: "lower-case letters, digits and '-', starting with a letter, at most 30 characters")
        }
        return s
    }

    /// The `hosts` list, or the one default host when the key is absent.
    private mutating func hosts(_ h: YNode?, _ d: inout Diagnostics) -> [LabHost] {
        guard let h else { return [LabHost(name: LabHost.defaultName)] }
        var hosts: [LabHost] = []
        for (i, e) in (h.sequence(&d) ?? []).enumerated() {
            if let host = self.host(e.named(under: "hosts"), index: i, &d) { hosts.append(host) }
        }
        return hosts
    }

    /// The entries of a mapping from names to definitions (`images`, `networks`, `profiles`), each parsed by `parse`.
    private mutating func named<T>(
        _ n: YNode?, _ d: inout Diagnostics, _ parse: (inout Context, String, YNode, inout Diagnostics) -> T?
    ) -> [T] {
        var out: [T] = []
        guard let n, let entries = n.mapping(&d, keys: []) else { return out }
        for e in entries {
            note(e.keyNode)
            if let value = parse(&self, e.key, e.value, &d) { out.append(value) }
        }
        return out
    }

    /// The `machines` list (required).
    private mutating func machines(
        _ f: Fields, hosts: [LabHost], images: [Image], networks: [Network], _ d: inout Diagnostics
    ) -> [MachineGroup] {
        var machines: [MachineGroup] = []
        guard let m = f.required("machines", &d, hint: "a list of machines, each with at least 'name'") else {
            return machines
        }
        for (i, e) in (m.sequence(&d) ?? []).enumerated() {
            if let mg = machine(
                e.named(under: "machines"), index: i, hosts: hosts, images: images, networks: networks, &d)
            {
                machines.append(mg)
            }
        }
        return machines
    }

    // MARK: hosts

    mutating func host(_ n: YNode, index: Int, _ d: inout Diagnostics) -> LabHost? {
        let keys = [
            "name", "libvirt", "ssh", "accel", "storageDir", "cpus", "reservedCPUs", "overcommit", "cpuVendor", "os",
            "address",
        ]
        guard let f = n.fields(&d, keys: keys) else { return nil }
        guard let nameNode = f.required("name", &d, hint: "a host name such as 'node1'"),
            let name = nameNode.nonEmptyString(&d)
        else { return nil }
        note("hosts.\(name)", nameNode.location)
        note("hosts.\(name).@", n.location)
        var h = LabHost(name: name)
        if let v = f["libvirt"], let raw = v.nonEmptyString(&d), let s = expand(raw, v, &d) {
            if !s.contains(":/") {
                d.error(
                    v.path, at: v.location, "'\(s)' is not a libvirt URI",
                    hint: "a URI such as qemu:///system or qemu+ssh://root@node1/system")
            }
            h.libvirt = s
        }
        if let v = f["ssh"] { h.ssh = v.nonEmptyString(&d).flatMap { expand($0, v, &d) } }
        if let v = f["accel"] { h.accel = v.oneOf(&d, Accel.self) ?? .auto }
        if let v = f["storageDir"], let s = v.nonEmptyString(&d) {
            if !s.hasPrefix("/") {
                d.error(
                    v.path, at: v.location, "'\(s)' is not an absolute path",
                    hint: "a directory on the host such as /var/lib/libvirt/images/nestlab")
            }
            h.storageDir = s
        }
        if let v = f["cpus"] {
            h.cpus = v.cpuSet(&d)
            note(v)
        }
        if let v = f["reservedCPUs"] {
            h.reservedCPUs = v.cpuSet(&d)
            note(v)
        }
        if let v = f["overcommit"] { h.overcommit = v.bool(&d) ?? false }
        if let v = f["cpuVendor"] { h.cpuVendor = v.oneOf(&d, CPUVendor.self) }
        if let v = f["os"] { h.os = v.oneOf(&d, NodeOS.self) ?? .debian12 }
        if let v = f["address"] {
            h.address = v.ipv4(&d)
            note("hosts.\(name).address", v.location)
        }
        return h
    }

    // MARK: images

    mutating func image(_ name: String, _ n: YNode, _ d: inout Diagnostics) -> Image? {
        let keys = ["file", "url", "sha256", "checksums", "format", "kernel", "initrd", "cmdline", "os"]
        guard let f = n.fields(&d, keys: keys) else { return nil }
        let source = imageSource(name, n, f, &d)
        var format: Image.Format = .qcow2
        if let v = f["format"] {
            format = v.oneOf(&d, Image.Format.self) ?? .qcow2
        } else if case .file(let p)? = source,
            p.hasSuffix(".raw") || p.hasSuffix(".img") && !p.hasSuffix("cloudimg-amd64.img")
        {
            format = .raw
        }
        var img = Image(name: name, source: source ?? .file(path: ""), format: format)
        if let v = f["os"] {
            img.os = v.oneOf(&d, NodeOS.self) ?? .debian12
        } else if let source {
            switch source {
            case .file(let p): img.os = NodeOS.guess(p)
            case .url(let u, _, _): img.os = NodeOS.guess(u)
            }
        }
        directBoot(&img, n, f, &d)
        // An image whose source was refused is kept (without a file), so that the machines using
        // it are not also refused for naming an image that does not exist.
        return img
    }

    /// An image's `file` or `url` (exactly one of them).
    private mutating func imageSource(_ name: String, _ n: YNode, _ f: Fields, _ d: inout Diagnostics) -> Image.Source?
    {
        switch (f["file"], f["url"]) {
        case (let file?, nil):
            note(file)
            var source: Image.Source?
            if let p = file.nonEmptyString(&d), let resolved = path(p, file, &d) { source = .file(path: resolved) }
            for k in ["sha256", "checksums"] where f.has(k) {
                d.warning(
                    "\(n.path).\(k)", at: f.location(of: k), "'\(k)' is ignored for a local file",
                    hint: "local files are used as they are")
            }
            return source
        case (nil, let url?):
            return urlSource(name, n, f, url, &d)
        case (.some, .some):
            d.error(
                n.path, at: n.location, "image '\(name)' has both 'file' and 'url'", hint: "give exactly one of them")
        case (nil, nil):
            d.error(
                n.path, at: n.location, "image '\(name)' has neither 'file' nor 'url'",
                hint: "add 'url: https://...' with 'sha256', or 'file: path/to/image.qcow2'")
        }
        return nil
    }

    /// An image's `url`, with the `sha256` or `checksums` that verify it.
    private func urlSource(_ name: String, _ n: YNode, _ f: Fields, _ url: YNode, _ d: inout Diagnostics)
        -> Image.Source?
    {
        guard let u = url.nonEmptyString(&d) else { return nil }
        if !(u.hasPrefix("https://") || u.hasPrefix("http://")) {
            d.error(
                url.path, at: url.location, "'\(u)' is not an http(s) URL",
                hint: "an https:// URL, or use 'file' for a local image")
        }
        var sha: String?
        if let s = f["sha256"], let v = s.string(&d) {
            let hex = v.hasPrefix("sha256:") ? String(v.dropFirst(7)) : v
            if hex.count != 64 || !hex.allSatisfy({ $0.isASCIIHexDigit && !$0.isUppercase }) {
                d.error(s.path, at: s.location, "'\(v)' is not a SHA-256 digest", hint: "64 lower-case hex digits")
            } else {
                sha = hex
            }
        }
        let sums = f["checksums"].flatMap { $0.nonEmptyString(&d) }
        if sha == nil && sums == nil && !f.has("sha256") {
            d.error(
                n.path, at: n.location, "image '\(name)' has a URL but no way to verify it",
                hint: "add 'sha256: <digest>' or 'checksums: <URL of a SHA256SUMS file>'")
        }
        return .url(u, sha256: sha, checksums: sums)
    }

    /// An image's `kernel`, `initrd` and `cmdline` for direct kernel boot.
    private mutating func directBoot(_ img: inout Image, _ n: YNode, _ f: Fields, _ d: inout Diagnostics) {
        if let v = f["kernel"], let p = v.nonEmptyString(&d) {
            img.kernel = path(p, v, &d)
            note(v)
        }
        if let v = f["initrd"], let p = v.nonEmptyString(&d) {
            img.initrd = path(p, v, &d)
            note(v)
        }
        if let v = f["cmdline"] { img.cmdline = v.string(&d) }
        if img.initrd != nil && img.kernel == nil {
            d.error(
                "\(n.path).initrd", at: f.location(of: "initrd"), "'initrd' without 'kernel'",
                hint: "add 'kernel', or remove 'initrd'")
        }
        if img.cmdline != nil && img.kernel == nil {
            d.error(
                "\(n.path).cmdline", at: f.location(of: "cmdline"), "'cmdline' without 'kernel'",
                hint: "add 'kernel', or remove 'cmdline'")
        }
        if img.kernel != nil && img.cmdline == nil { img.cmdline = "root=/dev/vda console=ttyS0" }
    }

    /// Expands `~`, `${VAR}` and `${VAR:-default}`, and resolves relative paths against the topology's folder.
    func path(_ raw: String, _ n: YNode, _ d: inout Diagnostics) -> String? {
        guard var out = expand(raw, n, &d) else { return nil }
        if out == "~" || out.hasPrefix("~/") {
            out = (env["HOME"] ?? NSHomeDirectory()) + out.dropFirst()
        }
        if !out.hasPrefix("/") { out = URL(fileURLWithPath: dir).appendingPathComponent(out).standardizedFileURL.path }
        return out
    }

    /// Expands `${VAR}` and `${VAR:-default}` (paths, libvirt URIs, SSH targets and bridge names,
    /// so that one topology serves several machines).
    func expand(_ raw: String, _ n: YNode, _ d: inout Diagnostics) -> String? {
        var out = ""
        var rest = Substring(raw)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                d.error(
                    n.path, at: n.location, "unterminated '${' in '\(raw)'", hint: "write ${VAR} or ${VAR:-default}")
                return nil
            }
            let expr = rest[start.upperBound..<end]
            let (name, fallback): (Substring, Substring?) = {
                if let r = expr.range(of: ":-") { return (expr[..<r.lowerBound], expr[r.upperBound...]) }
                return (expr, nil)
            }()
            if let v = env[String(name)], !v.isEmpty {
                out += v
            } else if let fallback {
                out += fallback
            } else {
                d.error(
                    n.path, at: n.location, "environment variable '\(name)' is not set",
                    hint: "set it, or give a default: ${\(name):-DEFAULT}")
                return nil
            }
            rest = rest[rest.index(after: end)...]
        }
        out += rest
        return out
    }

    // MARK: networks

    mutating func network(_ name: String, _ n: YNode, _ d: inout Diagnostics) -> Network? {
        guard let f = n.fields(&d, keys: ["mode", "cidr", "bridge", "gateway", "dns"]) else { return nil }
        if name.range(of: #"^[a-z][a-z0-9-]{0,14}$"#, options: .regularExpression) == nil {
            d.error(
                n.path, at: locations[n.path] ?? n.location, "'\(name)' is not a valid network name",
                hint: "lower-case letters, digits and '-', starting with a letter, at most 15 characters")
        }
        let mode = f["mode"].flatMap { $0.oneOf(&d, Network.Mode.self) } ?? .nat
        guard let cidrNode = f.required("cidr", &d, hint: "a network such as 10.77.0.0/24"),
            let cidr = cidrNode.cidr(&d)
        else { return nil }
        note(cidrNode)
        var net = Network(name: name, mode: mode, cidr: cidr, bridge: nil, gateway: nil, dns: [])
        if let b = f["bridge"] {
            net.bridge = b.nonEmptyString(&d).flatMap { expand($0, b, &d) }
            if let name = net.bridge, let problem = ExpandedNames.interfaceProblem(name) {
                d.error(b.path, at: b.location, "bridge '\(shown(name))' \(problem)", hint: ExpandedNames.interfaceHint)
            }
            if mode != .bridge {
                d.error(
                    b.path, at: b.location, "'bridge' is only used with mode: bridge",
                    hint: "remove it, or set mode: bridge")
            }
        } else if mode == .bridge {
            d.error(
                n.path, at: n.location, "mode: bridge needs 'bridge'",
                hint: "the name of an existing host bridge, e.g. bridge: br0")
        }
        if let g = f["gateway"], let ip = g.ipv4(&d) {
            note(g)
            if !cidr.contains(ip) {
                d.error(g.path, at: g.location, "gateway \(ip) is outside \(cidr)", hint: "an address inside \(cidr)")
            } else if mode != .bridge && ip != cidr.firstHost {
                d.error(
                    g.path, at: g.location,
                    "libvirt's \(mode.rawValue) network is its own gateway at \(cidr.firstHost)",
                    hint: "remove 'gateway', or set it to \(cidr.firstHost)")
            }
            net.gateway = ip
        } else if mode == .bridge {
            d.warning(
                n.path, at: n.location, "bridge network '\(name)' has no gateway, so guests get no default route",
                hint: "add 'gateway: <router address>' if guests need to reach other networks")
        }
        if let dns = f["dns"] {
            for e in dns.sequence(&d) ?? [] { if let ip = e.ipv4(&d) { net.dns.append(ip) } }
        }
        return net
    }

    // MARK: profiles

    mutating func profile(_ name: String, _ n: YNode, _ d: inout Diagnostics) -> Profile? {
        guard let f = n.fields(&d, keys: ["extends", "cpu", "memory", "disk", "net"]) else { return nil }
        var p = Profile(name: name)
        if let e = f["extends"] {
            p.extends = e.nonEmptyString(&d)
            note(e)
        }
        if let c = f["cpu"], let cf = c.fields(&d, keys: ["mode", "nested", "pinning", "emulatorPin", "iothreadPin"]) {
            if let v = cf["mode"] { p.cpuMode = v.oneOf(&d, CPUMode.self) }
            if let v = cf["nested"] {
                p.nested = v.bool(&d)
                note(v)
            }
            if let v = cf["pinning"] {
                p.pinning = pinning(v, &d)
                note(v)
            }
            if let v = cf["emulatorPin"] { p.emulatorPin = pinning(v, &d) }
            if let v = cf["iothreadPin"] { p.iothreadPin = pinning(v, &d) }
        }
        if let m = f["memory"], let mf = m.fields(&d, keys: ["hugepages", "numa", "numaNode"]) {
            if let v = mf["hugepages"] {
                note(v)
                if let s = v.string(&d) { hugepages(s, v, into: &p, &d) }
            }
            if let v = mf["numa"] { p.numa = v.oneOf(&d, NUMAMode.self) }
            if let v = mf["numaNode"] { p.numaNode = v.int(&d, in: 0...1023) }
        }
        if let k = f["disk"], let kf = k.fields(&d, keys: ["cache", "io", "iothread"]) {
            if let v = kf["cache"] { p.diskCache = v.oneOf(&d, DiskCache.self) }
            if let v = kf["io"] { p.diskIO = v.oneOf(&d, DiskIO.self) }
            if let v = kf["iothread"] { p.iothread = v.bool(&d) }
        }
        if let k = f["net"], let kf = k.fields(&d, keys: ["queues", "vhost"]) {
            if let v = kf["queues"], let s = v.string(&d) { netQueues(s, v, into: &p, &d) }
            if let v = kf["vhost"] { p.vhost = v.bool(&d) }
        }
        return p
    }

    /// A profile's `memory.hugepages`.
    private func hugepages(_ s: String, _ v: YNode, into p: inout Profile, _ d: inout Diagnostics) {
        switch s {
        case "none", "false": p.hugepages = HugePages.none
        case "2M", "2MiB": p.hugepages = .size2M
        case "1G", "1GiB": p.hugepages = .size1G
        default:
            d.error(
                v.path, at: v.location, "hugepage size '\(s)' is not supported",
                hint: "2M or 1G (the x86-64 page sizes), or none")
        }
    }

    /// A profile's `net.queues`.
    private func netQueues(_ s: String, _ v: YNode, into p: inout Profile, _ d: inout Diagnostics) {
        switch s {
        case "none": p.netQueues = Queues.none
        case "auto": p.netQueues = .auto
        default:
            if let q = Int(s), (1...256).contains(q) {
                p.netQueues = .count(q)
            } else {
                d.error(
                    v.path, at: v.location, "'\(s)' is not a queue count",
                    hint: "auto (one per vCPU), none, or a number from 1 to 256")
            }
        }
    }

    func pinning(_ n: YNode, _ d: inout Diagnostics) -> Pinning? {
        if case .scalar(let s) = n.node {
            if s.string == "none" || s.string == "false" { return Pinning.none }
            if s.string == "auto" { return .auto }
        }
        guard let set = n.cpuSet(&d) else { return nil }
        return .cpus(set)
    }

    // MARK: machines

    mutating func machine(
        _ n: YNode, index: Int, hosts: [LabHost], images: [Image], networks: [Network],
        _ d: inout Diagnostics
    ) -> MachineGroup? {
        let keys = [
            "name", "count", "host", "image", "profile", "vcpus", "memory", "disk", "accel", "network",
            "pinning", "numaNode",
        ]
        guard let f = n.fields(&d, keys: keys) else { return nil }
        guard let nameNode = f.required("name", &d, hint: "a machine name such as 'cp' or 'worker'"),
            let name = nameNode.nonEmptyString(&d)
        else { return nil }
        let path = "machines.\(name)"
        note(path, nameNode.location)
        if name.range(of: #"^[a-z][a-z0-9-]*$"#, options: .regularExpression) == nil || name.hasSuffix("-") {
            d.error(
                nameNode.path, at: nameNode.location, "'\(shown(name))' is not a valid machine name",
                hint: "a host name: lower-case letters, digits and '-', starting with a letter")
        }
        var count: Int?
        if let c = f["count"] {
            count = c.int(&d, in: 1...4096)
            note("\(path).count", c.location)
        }
        let host = defaulted("host", hosts.map(\.name), what: "host", f, n, machine: name, &d) ?? ""
        let image = defaulted("image", images.map(\.name), what: "image", f, n, machine: name, &d) ?? ""
        var profile = Presets.defaultProfileName
        if let v = f["profile"] {
            profile = v.nonEmptyString(&d) ?? profile
            note("\(path).profile", v.location)
        }
        let (vcpus, memory, disk) = machineSizes(f, path: path, &d)
        var accel: Accel?
        if let v = f["accel"] {
            accel = v.oneOf(&d, Accel.self)
            note("\(path).accel", v.location)
        }
        let nets = machineNetworks(f, n, machine: name, networks: networks, &d)
        var pin: CPUSet?
        if let v = f["pinning"] {
            pin = v.cpuSet(&d)
            note("\(path).pinning", v.location)
        }
        let numaNode = f["numaNode"].flatMap { $0.int(&d, in: 0...1023) }
        return MachineGroup(
            name: name, count: count, host: host, image: image, profile: profile, vcpus: vcpus,
            memory: memory, disk: disk, accel: accel, networks: nets, pinning: pin, numaNode: numaNode)
    }

    /// A machine's `host` or `image`: the one given, or the only one defined.
    private mutating func defaulted(
        _ key: String, _ all: [String], what: String, _ f: Fields, _ n: YNode, machine name: String,
        _ d: inout Diagnostics
    ) -> String? {
        if let v = f[key] {
            note("machines.\(name).\(key)", v.location)
            return v.nonEmptyString(&d)
        }
        if all.count == 1 { return all[0] }
        d.error(
            "\(n.path).\(key)", at: n.location,
            all.isEmpty
                ? "machine '\(name)' needs \(what), and none is defined"
                : "machine '\(name)' needs '\(key)' because there are several \(what)s",
            hint: all.isEmpty
                ? "define one under '\(key == "image" ? "images" : key + "s")'"
                : "one of: \(all.joined(separator: ", "))")
        return nil
    }

    /// A machine's `vcpus`, `memory` and `disk`, with their defaults.
    private mutating func machineSizes(_ f: Fields, path: String, _ d: inout Diagnostics) -> (Int, ByteSize, ByteSize) {
        let vcpus = f["vcpus"].flatMap { $0.int(&d, in: 1...512) } ?? 2
        if let v = f["vcpus"] { note("\(path).vcpus", v.location) }
        let memory = f["memory"].flatMap { $0.size(&d, max: .largestMemory) } ?? .gib(2)
        if let v = f["memory"] {
            note("\(path).memory", v.location)
            if memory < .mib(256) {
                d.error(
                    v.path, at: v.location, "\(memory) is too little memory for a Linux guest", hint: "at least 256MiB")
            }
        }
        let disk = f["disk"].flatMap { $0.size(&d) } ?? .gib(20)
        if let v = f["disk"] {
            note("\(path).disk", v.location)
            if disk < .gib(1) {
                d.error(v.path, at: v.location, "\(disk) is too small for a disk", hint: "at least 1GiB")
            }
        }
        return (vcpus, memory, disk)
    }

    /// A machine's `network`: a name, a list of names, or a mapping from names to addresses (or `auto`).
    private mutating func machineNetworks(
        _ f: Fields, _ n: YNode, machine name: String, networks: [Network], _ d: inout Diagnostics
    ) -> [(String, IPv4?)] {
        let path = "machines.\(name)"
        var nets: [(String, IPv4?)] = []
        if let v = f["network"] {
            note("\(path).network", v.location)
            switch v.node {
            case .scalar:
                if let s = v.nonEmptyString(&d) { nets.append((s, nil)) }
            case .sequence:
                for e in v.sequence(&d) ?? [] { if let s = e.nonEmptyString(&d) { nets.append((s, nil)) } }
            case .mapping:
                for e in v.mapping(&d, keys: []) ?? [] {
                    note("\(path).network.\(e.key)", e.value.location)
                    if e.value.isNull || (e.value.node.scalar?.string == "auto") {
                        nets.append((e.key, nil))
                    } else if let ip = e.value.ipv4(&d) {
                        nets.append((e.key, ip))
                    }
                }
            case .alias:
                d.error(v.path, at: v.location, "aliases are not supported here")
            }
        } else if networks.count == 1 {
            nets = [(networks[0].name, nil)]
        } else {
            d.error(
                "\(n.path).network", at: n.location,
                networks.isEmpty
                    ? "machine '\(name)' needs a network, and none is defined"
                    : "machine '\(name)' needs 'network' because there are several networks",
                hint: networks.isEmpty
                    ? "define one, e.g. networks: {lab: {mode: nat, cidr: 10.77.0.0/24}}"
                    : "e.g. network: {\(networks[0].name): auto}")
        }
        return nets
    }

    // MARK: clusters

    mutating func cluster(_ n: YNode, index: Int, _ d: inout Diagnostics) -> Cluster? {
        let keys = [
            "name", "kubernetes", "controlPlane", "workers", "cni", "podCIDR", "serviceCIDR", "containerd",
            "runtimes", "kubelet",
        ]
        guard let f = n.fields(&d, keys: keys) else { return nil }
        guard let nameNode = f.required("name", &d, hint: "a cluster name such as 'nested'"),
            let name = nameNode.nonEmptyString(&d)
        else { return nil }
        let path = "clusters.\(name)"
        note(path, nameNode.location)
        if name.range(of: #"^[a-z][a-z0-9-]{0,29}$"#, options: .regularExpression) == nil {
            d.error(
                nameNode.path, at: nameNode.location, "'\(name)' is not a valid cluster name",
                hint: "lower-case letters, digits and '-', starting with a letter")
        }
        var kube = Versions.defaultKubernetes
        if let v = f["kubernetes"], let s = v.nonEmptyString(&d) {
            kube = s
            note("\(path).kubernetes", v.location)
        }
        let cp = refs(f, "controlPlane", path: path, &d)
        let workers = refs(f, "workers", path: path, &d)
        let (cni, cniVersion) = self.cni(f["cni"], &d)
        var podCIDR = IPv4Network(address: IPv4("10.244.0.0")!, prefix: 16)
        if let v = f["podCIDR"], let c = v.cidr(&d) {
            podCIDR = c
            note("\(path).podCIDR", v.location)
        }
        var serviceCIDR = IPv4Network(address: IPv4("10.96.0.0")!, prefix: 12)
        if let v = f["serviceCIDR"], let c = v.cidr(&d) {
            serviceCIDR = c
            note("\(path).serviceCIDR", v.location)
        }
        let containerd = self.containerd(f["containerd"], &d)
        var runtimes: [RuntimeSpec] = []
        if let v = f["runtimes"] {
            note("\(path).runtimes", v.location)
            runtimes = self.runtimes(v, clusterPath: path, &d)
        }
        if !runtimes.contains(.runc) { runtimes.insert(.runc, at: 0) }
        let (cpuPolicy, reserved, topoPolicy) = kubelet(f["kubelet"], path: path, &d)
        return Cluster(
            name: name, kubernetes: kube, controlPlane: cp, workers: workers, cni: cni, cniVersion: cniVersion,
            podCIDR: podCIDR, serviceCIDR: serviceCIDR, containerd: containerd, runtimes: runtimes,
            cpuManagerPolicy: cpuPolicy, reservedCPUs: reserved, topologyManagerPolicy: topoPolicy)
    }

    /// A cluster's `controlPlane` or `workers`: one node or a list, each a machine or `host:<name>`.
    private mutating func refs(_ f: Fields, _ key: String, path: String, _ d: inout Diagnostics) -> [NodeRef] {
        guard let v = f[key] else { return [] }
        note("\(path).\(key)", v.location)
        var out: [NodeRef] = []
        let items: [YNode]
        if case .scalar = v.node { items = [v] } else { items = v.sequence(&d) ?? [] }
        for e in items {
            guard let s = e.nonEmptyString(&d) else { continue }
            let ref: NodeRef = s.hasPrefix("host:") ? .host(String(s.dropFirst(5))) : .machine(s)
            note("\(path).\(key).\(ref)", e.location)
            out.append(ref)
        }
        return out
    }

    /// A cluster's `cni`: a name, or `{name, version}`.
    private func cni(_ v: YNode?, _ d: inout Diagnostics) -> (Cluster.CNI, String?) {
        var cni = Cluster.CNI.flannel
        var cniVersion: String?
        guard let v else { return (cni, cniVersion) }
        if case .mapping = v.node, let cf = v.fields(&d, keys: ["name", "version"]) {
            if let c = cf["name"] { cni = c.oneOf(&d, Cluster.CNI.self) ?? .flannel }
            if let c = cf["version"], let s = c.nonEmptyString(&d) {
                cniVersion = release(s, c, .prefixed, what: "CNI", example: Versions.flannel, &d)
            }
        } else {
            cni = v.oneOf(&d, Cluster.CNI.self) ?? .flannel
        }
        return (cni, cniVersion)
    }

    /// `s` when it is a release version in `grammar`; otherwise nil, with an error naming `what`.
    private func release(
        _ s: String, _ v: YNode, _ grammar: VersionGrammar, what: String, example: String, _ d: inout Diagnostics
    ) -> String? {
        if grammar.matches(s) { return s }
        d.error(
            v.path, at: v.location, "'\(s.prefix(64))' is not a \(what) release version",
            hint: grammar.hint(example: example))
        return nil
    }

    /// A cluster's `containerd`: `distro` or a 2.x release.
    private func containerd(_ v: YNode?, _ d: inout Diagnostics) -> String {
        guard let v, let s = v.nonEmptyString(&d) else { return "distro" }
        if s != "distro" && s.range(of: #"^2\.[0-9]+\.[0-9]+$"#, options: .regularExpression) == nil {
            d.error(
                v.path, at: v.location, "'\(s)' is not a containerd version nestlab installs",
                hint: "distro (the OS package), or a 2.x release such as 2.1.4")
        }
        return s
    }

    /// A cluster's `kubelet` settings: CPU manager policy, reserved CPUs and topology manager policy.
    private mutating func kubelet(_ k: YNode?, path: String, _ d: inout Diagnostics) -> (
        Cluster.CPUManagerPolicy, CPUSet?, Cluster.TopologyManagerPolicy
    ) {
        var cpuPolicy = Cluster.CPUManagerPolicy.none
        var reserved: CPUSet?
        var topoPolicy = Cluster.TopologyManagerPolicy.none
        if let k, let kf = k.fields(&d, keys: ["cpuManagerPolicy", "reservedCPUs", "topologyManagerPolicy"]) {
            if let v = kf["cpuManagerPolicy"] {
                cpuPolicy = v.oneOf(&d, Cluster.CPUManagerPolicy.self) ?? .none
                note("\(path).kubelet.cpuManagerPolicy", v.location)
            }
            if let v = kf["reservedCPUs"] {
                reserved = v.cpuSet(&d)
                note("\(path).kubelet.reservedCPUs", v.location)
            }
            if let v = kf["topologyManagerPolicy"] {
                topoPolicy = v.oneOf(&d, Cluster.TopologyManagerPolicy.self) ?? .none
                note("\(path).kubelet.topologyManagerPolicy", v.location)
            }
        }
        return (cpuPolicy, reserved, topoPolicy)
    }

    /// `runtimes: [runc, kata]` or `runtimes: {kata: {version: 3.20.0, ...}, urunc: {}}`.
    mutating func runtimes(_ n: YNode, clusterPath: String, _ d: inout Diagnostics) -> [RuntimeSpec] {
        let known = ["runc", "crun", "kata", "urunc", "kubevirt"]
        var out: [RuntimeSpec] = []
        var seen = Set<String>()
        for (name, body, at) in runtimeEntries(n, &d) {
            note("\(clusterPath).runtimes.\(name)", at.location)
            if !seen.insert(name).inserted {
                d.error(at.path, at: at.location, "runtime '\(name)' is listed twice", hint: "list each runtime once")
                continue
            }
            switch name {
            case "runc":
                out.append(.runc)
                body?.emptyMapping(&d, what: name)
            case "crun":
                out.append(.crun)
                body?.emptyMapping(&d, what: name)
            case "kata":
                out.append(.kata(kata(body, at: at, clusterPath: clusterPath, &d)))
            case "urunc":
                out.append(.urunc(urunc(body, &d)))
            case "kubevirt":
                out.append(.kubevirt(kubevirt(body, clusterPath: clusterPath, &d)))
            default:
                var hint = "one of: \(known.joined(separator: ", "))"
                if let near = Spelling.closest(to: name, in: known) { hint = "did you mean '\(near)'? (\(hint))" }
                d.error(at.path, at: at.location, "unknown runtime '\(shown(name))'", hint: hint)
            }
        }
        return out
    }

    /// The runtimes listed, each with its options (if any) and the node that names it.
    private func runtimeEntries(_ n: YNode, _ d: inout Diagnostics) -> [(String, YNode?, YNode)] {
        var entries: [(String, YNode?, YNode)] = []
        switch n.node {
        case .sequence:
            for e in n.sequence(&d) ?? [] { if let s = e.nonEmptyString(&d) { entries.append((s, nil, e)) } }
        case .mapping:
            for e in n.mapping(&d, keys: []) ?? [] {
                entries.append((e.key, e.value.isNull ? nil : e.value, e.keyNode))
            }
        default:
            d.error(
                n.path, at: n.location, "expected a list or a mapping of runtimes, found \(n.kindName)",
                hint: "e.g. runtimes: [runc, kata, urunc, kubevirt]")
        }
        return entries
    }

    /// The options of the `kata` runtime.
    private func kata(_ body: YNode?, at: YNode, clusterPath: String, _ d: inout Diagnostics) -> KataOptions {
        var k = KataOptions(
            version: Versions.kata, hypervisors: [.qemu], defaultVCPUs: 1, defaultMemory: .mib(2048),
            enableHugepages: false, sharedFS: .virtioFS, virtioFSCache: "auto")
        let keys = [
            "version", "hypervisors", "defaultVCPUs", "defaultMemory", "enableHugepages", "sharedFS", "virtioFSCache",
        ]
        if let body, let f = body.fields(&d, keys: keys) { kataFields(f, into: &k, &d) }
        if k.hypervisors.contains(.clh) && k.sharedFS == .virtio9p {
            d.error(
                "\(clusterPath).runtimes.kata", at: at.location, "kata-clh cannot share files over virtio-9p",
                hint: "use sharedFS: virtio-fs (or none), or drop clh")
        }
        if k.defaultMemory < .mib(256) {
            d.error(
                "\(clusterPath).runtimes.kata.defaultMemory", at: at.location,
                "Kata guests need at least 256MiB",
                hint: "defaultMemory: 2048MiB is Kata's own default")
        }
        return k
    }

    /// The keys given under the `kata` runtime, over the defaults in `k`.
    private func kataFields(_ f: Fields, into k: inout KataOptions, _ d: inout Diagnostics) {
        if let v = f["version"], let s = v.nonEmptyString(&d) {
            if let r = release(s, v, .plain, what: "Kata Containers", example: Versions.kata, &d) { k.version = r }
        }
        if let v = f["hypervisors"] {
            var hs: [KataOptions.Hypervisor] = []
            for e in v.sequence(&d) ?? [] {
                if let h = e.oneOf(&d, KataOptions.Hypervisor.self) { hs.append(h) }
            }
            if hs.isEmpty {
                d.error(v.path, at: v.location, "no hypervisor listed", hint: "one or more of qemu, clh, fc")
            }
            k.hypervisors = hs
        }
        if let v = f["defaultVCPUs"] { k.defaultVCPUs = v.int(&d, in: 1...256) ?? 1 }
        if let v = f["defaultMemory"], let s = v.size(&d, max: .largestMemory) { k.defaultMemory = s }
        if let v = f["enableHugepages"] { k.enableHugepages = v.bool(&d) ?? false }
        if let v = f["sharedFS"] { k.sharedFS = v.oneOf(&d, KataOptions.SharedFS.self) ?? .virtioFS }
        if let v = f["virtioFSCache"], let s = v.string(&d) {
            if ["auto", "always", "never", "metadata"].contains(s) {
                k.virtioFSCache = s
            } else {
                d.error(
                    v.path, at: v.location, "'\(s)' is not a virtio-fs cache mode",
                    hint: "one of: auto, always, never, metadata")
            }
        }
    }

    /// The options of the `urunc` runtime.
    private func urunc(_ body: YNode?, _ d: inout Diagnostics) -> UruncOptions {
        var u = UruncOptions(version: Versions.urunc, monitors: [.qemu, .firecracker], thinPoolSize: .gib(20))
        guard let body, let f = body.fields(&d, keys: ["version", "monitors", "thinPoolSize"]) else { return u }
        if let v = f["version"], let s = v.nonEmptyString(&d) {
            if let r = release(s, v, .plain, what: "urunc", example: Versions.urunc, &d) { u.version = r }
        }
        if let v = f["monitors"] {
            var ms: [UruncOptions.Monitor] = []
            for e in v.sequence(&d) ?? [] {
                guard let m = e.oneOf(&d, UruncOptions.Monitor.self) else { continue }
                if m == .solo5Hvt || m == .solo5Spt {
                    // Solo5 ships sources only; building it on every node is out of scope for now.
                    d.error(
                        e.path, at: e.location,
                        "nestlab cannot install the \(m.rawValue) monitor yet (Solo5 publishes no release binaries)",
                        hint: "use qemu or firecracker")
                    continue
                }
                ms.append(m)
            }
            if ms.isEmpty {
                d.error(v.path, at: v.location, "no monitor listed", hint: "one or more of qemu, firecracker")
            }
            u.monitors = ms
        }
        if let v = f["thinPoolSize"], let s = v.size(&d) { u.thinPoolSize = s }
        return u
    }

    /// The options of the `kubevirt` runtime.
    private mutating func kubevirt(_ body: YNode?, clusterPath: String, _ d: inout Diagnostics) -> KubeVirtOptions {
        var k = KubeVirtOptions(version: Versions.kubevirt, emulation: .auto)
        guard let body, let f = body.fields(&d, keys: ["version", "emulation"]) else { return k }
        if let v = f["version"], let s = v.nonEmptyString(&d) {
            if let r = release(s, v, .prefixed, what: "KubeVirt", example: Versions.kubevirt, &d) { k.version = r }
        }
        if let v = f["emulation"] {
            note("\(clusterPath).runtimes.kubevirt.emulation", v.location)
            if case .scalar(let s) = v.node, s.string == "true" {
                k.emulation = .on
            } else if case .scalar(let s) = v.node, s.string == "false" {
                k.emulation = .off
            } else {
                k.emulation = v.oneOf(&d, KubeVirtOptions.Emulation.self) ?? .auto
            }
        }
        return k
    }

    // MARK: handoff

    mutating func handoff(_ n: YNode, _ d: inout Diagnostics) -> Handoff? {
        guard let f = n.fields(&d, keys: ["command", "env", "workdir"]) else { return nil }
        guard
            let c = f.required("command", &d, hint: "the benchmark runner, e.g. command: [./bench/run, --suite, paper]")
        else { return nil }
        note("handoff.command", c.location)
        var command: [String] = []
        if case .scalar = c.node {
            d.error(
                c.path, at: c.location, "expected a list of arguments, found \(c.kindName)",
                hint: "write the command as a list, e.g. [./bench/run, --suite, paper]; nestlab runs it without a shell"
            )
        } else {
            command = c.stringList(&d) ?? []
            if command.isEmpty {
                d.error(c.path, at: c.location, "the command is empty", hint: "at least the program to run")
            }
        }
        var env: [String: String] = [:]
        if let e = f["env"] {
            for kv in e.mapping(&d, keys: []) ?? [] {
                if kv.key.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) == nil {
                    d.error(
                        kv.keyNode.path, at: kv.keyNode.location, "'\(kv.key)' is not an environment variable name",
                        hint: "letters, digits and '_', not starting with a digit")
                }
                if let v = kv.value.string(&d) { env[kv.key] = v }
            }
        }
        var workdir: String?
        if let w = f["workdir"], let p = w.nonEmptyString(&d) { workdir = path(p, w, &d) }
        return Handoff(command: command, env: env, workdir: workdir)
    }
}

extension Node {
    var scalar: Node.Scalar? {
        if case .scalar(let s) = self { return s }
        return nil
    }
}
