/// A UTC instant with microsecond resolution. Microseconds keep creation order stable inside one second;
/// the wire shows whole seconds as Glance does (`2026-11-23T06:45:25Z`).
public struct Timestamp: Sendable, Hashable, Comparable {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// `YYYY-MM-DDTHH:MM:SSZ`
    public var iso8601: String {
        let secs = floorDiv(microseconds, 1_000_000)
        let days = floorDiv(secs, 86_400)
        let rem = secs - days * 86_400
        let (y, m, d) = Self.civil(fromDays: days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2))Z"
    }

    /// Parses ISO 8601 date-times as Glance's filters accept them: `2026-11-23T06:45:25Z`, with optional fraction
    /// and `Z` or `±hh:mm` offset; a date alone means midnight UTC.
    public init?(iso8601 text: String) {
        let c = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= c.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + len) {
                guard c[i] >= 48, c[i] <= 57 else { return nil }
                v = v * 10 + Int64(c[i] - 48)
            }
            return v
        }
        guard let y = num(0, 4), c.count >= 10, c[4] == 45, let mo = num(5, 2), c[7] == 45, let d = num(8, 2),
            (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        var h: Int64 = 0, mi: Int64 = 0, s: Int64 = 0, micros: Int64 = 0, offset: Int64 = 0
        var i = 10
        if i < c.count {
            guard c[i] == 84 || c[i] == 116 || c[i] == 32, let hh = num(11, 2), c.count > 13, c[13] == 58,
                let mm = num(14, 2)
            else { return nil }
            h = hh
            mi = mm
            i = 16
            if i < c.count, c[i] == 58 {
                guard let ss = num(17, 2) else { return nil }
                s = ss
                i = 19
            }
            if i < c.count, c[i] == 46 {
                i += 1
                var digits = 0
                while i < c.count, c[i] >= 48, c[i] <= 57 {
                    if digits < 6 { micros = micros * 10 + Int64(c[i] - 48) }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                // More than six digits: the rest were read and dropped (a `digits..<6` range would trap).
                if digits < 6 {
                    for _ in digits..<6 { micros *= 10 }
                }
            }
            if i < c.count {
                if c[i] == 90 || c[i] == 122 {
                    i += 1
                } else if c[i] == 43 || c[i] == 45 {
                    let sign: Int64 = c[i] == 43 ? 1 : -1
                    guard let oh = num(i + 1, 2) else { return nil }
                    var om: Int64 = 0
                    if i + 3 < c.count, c[i + 3] == 58, let m2 = num(i + 4, 2) {
                        om = m2
                        i += 6
                    } else if let m2 = num(i + 3, 2) {
                        om = m2
                        i += 5
                    } else {
                        i += 3
                    }
                    offset = sign * (oh * 3600 + om * 60)
                } else {
                    return nil
                }
            }
            guard i == c.count, h < 24, mi < 60, s < 61 else { return nil }
        }
        let days = Self.days(fromCivil: y, mo, d)
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset
        self.microseconds = secs * 1_000_000 + micros
    }

    // Howard Hinnant's civil-calendar algorithms.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
