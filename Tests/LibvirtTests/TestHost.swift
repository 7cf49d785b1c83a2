import Foundation
import Libvirt

/// The libvirt test driver's fake host, described by a node XML file.
///
/// Each test opens its own `test:///abs/path/node.xml`: the test driver builds a fresh
/// in-memory host on every open of a custom file (unlike `test:///default`, whose state is
/// shared by the whole process), so tests stay independent and may run in parallel.
enum TestHost {
    /// Host CPUs in `nodeXML`: 1 NUMA node × 1 socket × 4 cores × 2 threads.
    static let cpuCount = 8
    static let memoryKiB: UInt64 = 4_194_304

    static func nodeXML(children: String) -> String {
        """
        <?xml version="1.0"?>
        <node>
          <cpu>
            <mhz>2400</mhz>
            <model>i686</model>
            <active>8</active>
            <nodes>1</nodes>
            <sockets>1</sockets>
            <cores>4</cores>
            <threads>2</threads>
          </cpu>
          <memory>\(memoryKiB)</memory>
        \(children)
        </node>
        """
    }

    /// Writes a node file with `children` (domains, networks, pools) and opens it.
    ///
    /// The file is removed right after the open: the driver reads it only then.
    static func open(children: String = "") throws -> (connection: Connection, uri: String) {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("nestlab-libvirt-\(UUID().uuidString).xml").path
        try nodeXML(children: children).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let uri = "test://\(path)"
        return (try Connection(uri: uri), uri)
    }

    static func connect(children: String = "") throws -> Connection {
        try open(children: children).connection
    }
}

/// Namespace for nestlab's domain metadata in tests.
let labNamespace = "https://nestlab.dev/xmlns/lab/1"

/// A test-driver domain with the pinning layout nestlab renders (FACTS.md section 2).
func pinnedDomainXML(name: String, metadata: String = "") -> String {
    """
    <domain type='test'>
      <name>\(name)</name>
      <metadata>\(metadata)</metadata>
      <memory unit='MiB'>512</memory>
      <vcpu placement='static'>2</vcpu>
      <iothreads>1</iothreads>
      <cputune>
        <vcpupin vcpu='0' cpuset='2'/>
        <vcpupin vcpu='1' cpuset='3'/>
        <emulatorpin cpuset='0-1'/>
        <iothreadpin iothread='1' cpuset='0-1'/>
      </cputune>
      <os><type>hvm</type></os>
      <devices>
        <interface type='network'>
          <mac address='52:54:00:00:00:11'/>
          <source network='default'/>
        </interface>
      </devices>
    </domain>
    """
}

/// A minimal test-driver domain without pinning.
func plainDomainXML(name: String, vcpus: Int = 1) -> String {
    """
    <domain type='test'>
      <name>\(name)</name>
      <memory unit='MiB'>256</memory>
      <vcpu>\(vcpus)</vcpu>
      <os><type>hvm</type></os>
    </domain>
    """
}
