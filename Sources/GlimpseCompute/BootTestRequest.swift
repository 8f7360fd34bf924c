// What a caller asks of a boot test (`POST /v2.1/os-glimpse-boot-tests`), validated before anything runs.

import Foundation
import GlimpseCore

/// A command to run in the booted guest through its agent; the test passes when it exits 0.
public struct BootTestCheck: Sendable, Equatable {
    public var path: String
    public var arguments: [String]

    public init(path: String, arguments: [String]) {
        self.path = path
        self.arguments = arguments
    }
}

/// A boot test request: the image, optionally the flavor (else the smallest that fits), how long the guest gets to
/// show it is up, how it shows it (the agent answering, or a console line matching `consolePattern`) and an
/// optional check.
public struct BootTestRequest: Sendable {
    public var imageRef: String
    public var flavorRef: String?
    public var timeoutSeconds: Int
    public var consolePattern: String?
    public var check: BootTestCheck?

    /// Seconds a test may run: enough for a slow emulated boot, short enough that a server is not held for long.
    public static let timeoutRange = 10...3600
    public static let defaultTimeoutSeconds = 300
    static let maxReferenceLength = 255
    static let maxPathLength = 4096
    static let maxArguments = 64
    static let maxArgumentBytes = 64 * 1024

    public init(
        imageRef: String, flavorRef: String? = nil, timeoutSeconds: Int = defaultTimeoutSeconds,
        consolePattern: String? = nil, check: BootTestCheck? = nil
    ) {
        self.imageRef = imageRef
        self.flavorRef = flavorRef
        self.timeoutSeconds = timeoutSeconds
        self.consolePattern = consolePattern
        self.check = check
    }

    static func invalid(_ field: String, _ value: JSONValue?, _ why: String) -> GlimpseError {
        .badRequest("Invalid input for field/attribute \(field). Value: \(value?.pythonRepr ?? "None"). \(why)")
    }

    /// Parses and checks a request body (`{"boot_test": {...}}`); every failure is a 400 in Nova's wording.
    public static func parse(_ body: [String: JSONValue]) throws -> BootTestRequest {
        if let extra = body.keys.sorted().first(where: { $0 != "boot_test" }) {
            throw GlimpseError.badRequest("Additional properties are not allowed ('\(extra)' was unexpected)")
        }
        guard let o = body["boot_test"]?.objectValue else {
            throw invalid("boot_test", body["boot_test"], "'boot_test' is a required property and must be an object")
        }
        let known: Set<String> = ["image_ref", "flavor_ref", "timeout", "console_pattern", "check"]
        if let extra = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw GlimpseError.badRequest(
                "Invalid input for field/attribute boot_test. Additional properties are not allowed ('\(extra)' was unexpected)")
        }
        guard let image = o["image_ref"], case .string(let imageRef) = image else {
            throw invalid("image_ref", o["image_ref"], "'image_ref' is a required property of type 'string'")
        }
        guard (1...maxReferenceLength).contains(imageRef.count) else {
            throw invalid("image_ref", image, "It must be 1 to \(maxReferenceLength) characters.")
        }
        var request = BootTestRequest(imageRef: imageRef)
        if let raw = o["flavor_ref"], raw != .null {
            let ref: String
            switch raw {
            case .string(let s): ref = s
            case .int(let i): ref = String(i)
            default: throw invalid("flavor_ref", raw, "It must be a string or an integer.")
            }
            guard (1...maxReferenceLength).contains(ref.count) else {
                throw invalid("flavor_ref", raw, "It must be 1 to \(maxReferenceLength) characters.")
            }
            request.flavorRef = ref
        }
        if let raw = o["timeout"], raw != .null {
            guard case .int(let seconds) = raw, seconds >= Int64(timeoutRange.lowerBound),
                seconds <= Int64(timeoutRange.upperBound)
            else {
                throw invalid(
                    "timeout", raw,
                    "It must be an integer number of seconds from \(timeoutRange.lowerBound) to \(timeoutRange.upperBound).")
            }
            request.timeoutSeconds = Int(seconds)
        }
        if let raw = o["console_pattern"], raw != .null {
            guard case .string(let pattern) = raw, !pattern.isEmpty else {
                throw invalid("console_pattern", raw, "It must be a non-empty string.")
            }
            // Compiled here, bounded in length and to the linear-time subset, so a hostile pattern is a 400.
            do {
                _ = try NamePattern(pattern)
            } catch let e as GlimpseError {
                throw invalid("console_pattern", raw, e.message)
            }
            request.consolePattern = pattern
        }
        if let raw = o["check"], raw != .null {
            request.check = try parseCheck(raw)
        }
        return request
    }

    static func parseCheck(_ raw: JSONValue) throws -> BootTestCheck {
        guard let c = raw.objectValue else { throw invalid("check", raw, "It must be an object.") }
        if let extra = c.keys.sorted().first(where: { $0 != "path" && $0 != "args" }) {
            throw GlimpseError.badRequest(
                "Invalid input for field/attribute check. Additional properties are not allowed ('\(extra)' was unexpected)")
        }
        guard let p = c["path"], case .string(let path) = p else {
            throw invalid("check.path", c["path"], "'path' is a required property of type 'string'")
        }
        guard path.hasPrefix("/"), path.utf8.count <= maxPathLength, !path.utf8.contains(0) else {
            throw invalid("check.path", p, "It must be an absolute path of at most \(maxPathLength) bytes.")
        }
        var arguments: [String] = []
        if let a = c["args"], a != .null {
            guard case .array(let items) = a, items.count <= maxArguments else {
                throw invalid("check.args", a, "It must be an array of at most \(maxArguments) strings.")
            }
            var bytes = 0
            for item in items {
                guard case .string(let s) = item, !s.utf8.contains(0) else {
                    throw invalid("check.args", a, "Every argument must be a string without NUL characters.")
                }
                bytes += s.utf8.count
                arguments.append(s)
            }
            guard bytes <= maxArgumentBytes else {
                throw invalid("check.args", nil, "The arguments must total at most \(maxArgumentBytes) bytes.")
            }
        }
        return BootTestCheck(path: path, arguments: arguments)
    }
}
