import Foundation

/// Guests of clusters whose artifacts are all cached install them from here, not the internet:
/// a read-only HTTP server on each such lab network's gateway, until `up` returns.
struct ServeArtifactMirror: UpStep {
    let name = "serve the artifact mirror"

    func run(_ context: UpContext) async throws {
        let s = context.s
        if !s.mirrorAddresses.isEmpty && !context.options.wait {
            context.progress.note(
                "warning: --no-wait stops the artifact mirror when up returns, while the nodes may still be installing from it"
            )
        }
        for address in s.mirrorAddresses {
            // The seeds point the guests here: without the mirror they could not install anything.
            context.keep(
                try ErrorWithContext.wrap("serving the artifact cache on the lab network") {
                    try ArtifactMirror(cacheRoot: s.cacheRoot, address: address)
                })
            context.progress.note(
                "serving the artifact cache to guests at http://\(address):\(ArtifactMirror.defaultPort)")
        }
    }
}
