import Foundation

/// A report as typed blocks, and the two writers (Markdown, HTML) that escape everything they print.
public struct BenchReportDocument: Sendable, Hashable {
    public enum Span: Sendable, Hashable {
        case text(String)
        case strong(String)
    }

    public struct Table: Sendable, Hashable {
        public var header: [String]
        /// Right-aligned columns.
        public var numeric: [Bool]
        public var rows: [[String]]
    }

    public enum Block: Sendable, Hashable {
        case heading(Int, String)
        case paragraph([Span])
        case list([[Span]])
        case table(Table)
        /// A chart: a PNG next to report.md, embedded in report.html.
        case image(file: String, alt: String)
    }

    public var title: String
    public var blocks: [Block]

    // MARK: Markdown

    /// Backslash-escapes Markdown's punctuation; a line break becomes a space. Brackets stay
    /// readable (`[0.95, 1.02]`): a `]` is escaped only where it could end a link or a link
    /// definition (before `(`, `[` or `:`), which is all a bracket can do in CommonMark.
    static func md(_ s: String) -> String {
        var out = ""
        let chars = Array(s)
        for (i, c) in chars.enumerated() {
            switch c {
            case "\\", "`", "*", "_", "<", ">", "|", "#", "&":
                out.append("\\")
                out.append(c)
            case "]" where i + 1 < chars.count && "([:".contains(chars[i + 1]):
                out.append("\\]")
            case "\n", "\r", "\r\n":
                out.append(" ")
            default:
                out.append(c)
            }
        }
        return out
    }

    static func md(_ spans: [Span]) -> String {
        spans.map {
            switch $0 {
            case .text(let t): return md(t)
            case .strong(let t): return "**" + md(t) + "**"
            }
        }.joined()
    }

    public func markdown() -> String {
        var parts = ["# " + Self.md(title)]
        for block in blocks {
            switch block {
            case .heading(let level, let text):
                parts.append(String(repeating: "#", count: max(1, min(6, level))) + " " + Self.md(text))
            case .paragraph(let spans):
                parts.append(Self.md(spans))
            case .list(let items):
                parts.append(items.map { "- " + Self.md($0) }.joined(separator: "\n"))
            case .table(let t):
                var lines = ["| " + t.header.map(Self.md).joined(separator: " | ") + " |"]
                lines.append(
                    "|"
                        + t.header.indices.map { i in
                            (t.numeric.indices.contains(i) && t.numeric[i]) ? "---:|" : "---|"
                        }.joined())
                for row in t.rows { lines.append("| " + row.map(Self.md).joined(separator: " | ") + " |") }
                parts.append(lines.joined(separator: "\n"))
            case .image(let file, let alt):
                parts.append("![" + Self.md(alt) + "](" + file + ")")
            }
        }
        return parts.joined(separator: "\n\n") + "\n"
    }

    // MARK: HTML

    /// Escapes text and attribute values.
    public static func h(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func h(_ spans: [Span]) -> String {
        spans.map {
            switch $0 {
            case .text(let t): return h(t)
            case .strong(let t): return "<strong>" + h(t) + "</strong>"
            }
        }.joined()
    }

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
        h1, h2, h3 { font-weight: 600; }
        h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
        table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
        th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
        th { background: #f3f3f3; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        figure { margin: 0.5em 0 1.5em; }
        figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
        figcaption { font-size: 0.85em; color: #555; }
        p.missing { color: #a00; }
        """

    /// Nothing but inline style and data: images may load.
    static let policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

    /// A self-contained page: inline style, charts as data: URLs, and a policy that forbids
    /// loading anything else (so a stray external reference shows up as a console error).
    public func html(images: [String: Data]) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="\(Self.policy)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.h(title))</title>
            <style>
            \(Self.style)
            </style>
            </head>
            <body>
            <h1>\(Self.h(title))</h1>

            """
        for block in blocks {
            switch block {
            case .heading(let level, let text):
                let l = max(1, min(6, level))
                out += "<h\(l)>\(Self.h(text))</h\(l)>\n"
            case .paragraph(let spans):
                out += "<p>\(Self.h(spans))</p>\n"
            case .list(let items):
                out += "<ul>\n" + items.map { "<li>\(Self.h($0))</li>\n" }.joined() + "</ul>\n"
            case .table(let t):
                out +=
                    "<table>\n<thead><tr>" + t.header.map { "<th>\(Self.h($0))</th>" }.joined()
                    + "</tr></thead>\n<tbody>\n"
                for row in t.rows {
                    out +=
                        "<tr>"
                        + row.indices.map { i in
                            let num = t.numeric.indices.contains(i) && t.numeric[i]
                            return (num ? "<td class=\"num\">" : "<td>") + Self.h(row[i]) + "</td>"
                        }.joined() + "</tr>\n"
                }
                out += "</tbody>\n</table>\n"
            case .image(let file, let alt):
                if let png = images[file] {
                    out +=
                        "<figure><img src=\"data:image/png;base64,\(png.base64EncodedString())\" "
                        + "alt=\"\(Self.h(alt))\"><figcaption>\(Self.h(alt))</figcaption></figure>\n"
                } else {
                    out += "<p class=\"missing\">chart \(Self.h(file)) was not drawn</p>\n"
                }
            }
        }
        out += "</body>\n</html>\n"
        return out
    }
}
