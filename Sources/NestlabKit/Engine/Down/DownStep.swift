import Foundation
import NestlabCore
import Synchronization

/// One step of `down` on one host: a small type that removes one kind of the lab's objects.
protocol DownStep: Sendable {
    var name: String { get }
    func run(_ host: DownHost) throws
}
