/// Suggests the closest candidate to a misspelt word ("did you mean").
///
/// The edit distance is quadratic in the lengths it compares, so the work is bounded: a word
/// or candidate longer than `longestWord` gets no suggestion, at most `mostCandidates` are
/// compared, and a candidate whose length alone puts it out of reach is skipped (issue 21: a
/// 100,000-character unknown key compared against every valid key took minutes).
enum Spelling {
    static let longestWord = 64
    static let mostCandidates = 256

    static func closest(to word: String, in candidates: [String]) -> String? {
        guard word.utf8.count <= longestWord * 4 else { return nil }
        let w = Array(word.lowercased())
        guard w.count <= longestWord else { return nil }
        var best: (String, Int)?
        for c in candidates.prefix(mostCandidates) where c.utf8.count <= longestWord * 4 {
            let cc = Array(c.lowercased())
            guard cc.count <= longestWord, abs(cc.count - w.count) <= limit(w.count, cc.count) else { continue }
            let d = distance(w, cc)
            if best == nil || d < best!.1 { best = (c, d) }
        }
        guard let (candidate, d) = best else { return nil }
        return d <= limit(w.count, candidate.count) ? candidate : nil
    }

    /// The largest distance still worth suggesting.
    static func limit(_ a: Int, _ b: Int) -> Int { max(2, min(a, b) / 3) }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
