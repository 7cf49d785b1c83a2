import Foundation
public enum Placeholder { public static func resource() -> URL? { Bundle.module.url(forResource: "Resources/cloud-init/placeholder", withExtension: "sh") } }
