import Foundation
import NestlabCore

/// `nestlab report`: reads results.jsonl files, writes report.md, the chart PNGs (drawn by
/// plot.py with matplotlib) and a self-contained report.html.
public enum ReportWriter {
    public static let markdownName = "report.md"
    public static let htmlName = "report.html"
    /// The data behind the charts, as plot.py reads it.
    public static let specName = "charts.json"

    /// The python3 interpreters tried for the charts, in order: `NESTLAB_PYTHON` alone when set;
    /// else the `python3` on PATH, then Debian's (a pyenv or venv python3 often lacks matplotlib).
    public static func defaultPythons(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> [String]
    {
        if let p = environment["NESTLAB_PYTHON"], !p.isEmpty { return [p] }
        return ["python3", "/usr/bin/python3"]
    }

    /// Reads and merges the samples of every input: a results.jsonl, or a folder holding one.
    public static func loadSamples(_ inputs: [String]) throws -> [BenchSample] {
        guard !inputs.isEmpty else {
            throw UsageError("no results given: name results.jsonl files or folders holding one")
        }
        var problems: [String] = []
        var samples: [BenchSample] = []
        for input in inputs {
            let file: String
            switch kind(input) {
            case .missing:
                problems.append("\(input): no such file or folder")
                continue
            case .other:
                problems.append("\(input): neither a file nor a folder")
                continue
            case .file:
                file = input
            case .directory:
                file = URL(fileURLWithPath: input).appendingPathComponent(ResultsFile.name).path
                guard kind(file) == .file else {
                    problems.append("\(input): a folder without \(ResultsFile.name)")
                    continue
                }
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                problems.append("\(file): cannot be read (\(String(cString: strerror(errno))))")
                continue
            }
            do {
                samples += try ResultsFile.parse(String(decoding: data, as: UTF8.self), file: file)
            } catch {
                problems.append("\(error)")
            }
        }
        if !problems.isEmpty { throw UsageError(problems.joined(separator: "\n")) }
        return samples
    }

    enum PathKind { case missing, file, directory, other }

    /// What a path is, following symbolic links.
    static func kind(_ path: String) -> PathKind {
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Builds the report, with input problems (unknown baseline, inconsistent units) as usage errors.
    public static func build(samples: [BenchSample], baseline: String) throws -> BenchReport {
        do {
            return try BenchReport.build(samples: samples, baseline: baseline)
        } catch let e as BenchReportError {
            throw UsageError(e.description)
        }
    }

    /// Writes report.md, charts.json, the PNGs and report.html into `out` (made with mode 0755).
    /// `wrote` sees each file as soon as it is written. Without a python3 that has matplotlib,
    /// report.md is written and the error names the package to install.
    @discardableResult
    public static func write(
        inputs: [String], baseline: String, out: String, pythons: [String]? = nil,
        wrote: (String) -> Void = { _ in }
    ) throws -> ReportOutcome {
        let samples = try loadSamples(inputs)
        let report = try build(samples: samples, baseline: baseline)
        let dir = URL(fileURLWithPath: out)
        try makeDirectory(dir)
        var outcome = ReportOutcome(
            directory: dir.path, baseline: baseline, samples: report.sampleCount, files: [],
            charts: [])
        func save(_ data: Data, _ name: String) throws {
            let url = dir.appendingPathComponent(name)
            do {
                try data.write(to: url, options: .atomic)
            } catch {
                throw OperationError("cannot write \(url.path): \(error.localizedDescription)")
            }
            outcome.files.append(url.path)
            wrote(url.path)
        }

        try save(Data(report.markdown().utf8), markdownName)
        var images: [String: Data] = [:]
        if !report.charts.isEmpty {
            try save(try BenchChart.spec(report.charts), specName)
            try draw(spec: dir.appendingPathComponent(specName), into: dir, pythons: pythons ?? defaultPythons())
            for chart in report.charts {
                let url = dir.appendingPathComponent(chart.file)
                guard let png = FileManager.default.contents(atPath: url.path) else {
                    throw OperationError("plot.py did not draw \(url.path)")
                }
                images[chart.file] = png
                outcome.files.append(url.path)
                outcome.charts.append(url.path)
                wrote(url.path)
            }
        }
        try save(Data(report.html(images: images).utf8), htmlName)
        return outcome
    }

    static func makeDirectory(_ dir: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw UsageError("--out \(dir.path) is a file, not a folder") }
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: dir, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        } catch {
            throw OperationError("cannot make \(dir.path): \(error.localizedDescription)")
        }
    }

    /// Runs `python3 plot.py SPEC OUTDIR` with the first interpreter that has matplotlib.
    static func draw(spec: URL, into dir: URL, pythons: [String]) throws {
        let script = try BenchPlotScript.url()
        var tried: [String] = []
        for python in pythons {
            let result: ChildProcess.Captured
            do {
                result = try ChildProcess.capture([python, script.path, spec.path, dir.path], timeout: 300)
            } catch {
                tried.append("\(python): not found")
                continue
            }
            switch result.status {
            case 0:
                return
            case 3:
                tried.append("\(python): no matplotlib")
            default:
                let tail = result.stderr.split(separator: "\n").suffix(15).joined(separator: "\n")
                throw OperationError(
                    "plot.py failed with \(python) (exit \(result.status)"
                        + (result.timedOut ? ", timed out" : "") + "):\n" + tail)
            }
        }
        throw OperationError(
            "cannot draw the charts: no python3 with matplotlib (\(tried.joined(separator: "; "))); "
                + "install the Debian package python3-matplotlib "
                + "(apt-get install python3-matplotlib), or point NESTLAB_PYTHON at a python3 that has "
                + "matplotlib. \(markdownName) was written; \(htmlName) was not")
    }
}
