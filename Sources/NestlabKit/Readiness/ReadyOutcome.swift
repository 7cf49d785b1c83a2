import Foundation
import Libvirt
import NestlabCore
import Synchronization

/// The outcome of waiting for a guest.
public enum ReadyOutcome: Sendable, Equatable {
    case ready(instance: String)
    /// cloud-init finished with an error; the last failed node-script phase if one was reported.
    case failed(code: Int, phase: String?, detail: String?)
    case kernelPanic(String)
    case timedOut
    case consoleUnavailable(String)
    /// The kernel stopped printing before it started init, also after `resets` resets.
    case bootStalled(lastLine: String, silence: Int, resets: Int)
}
