/// Keeps host paths out of what users and logs see: faults and API errors name images and servers, never where
/// Glimpse keeps their files (which would tell a tenant the host's layout).
enum HostPaths {
    /// `text` with every absolute path (a `/` at the start or after a space, quote, parenthesis, `=` or `:`,
    /// up to the next space or quote) replaced by `<path>`.
    static func redact(_ text: String) -> String {
        var out = ""
        var inPath = false
        var previous: Character = " "
        for c in text {
            if inPath {
                if c == " " || c == "'" || c == "\"" || c == "\n" || c == ")" || c == "," {
                    inPath = false
                    out.append(c)
                }
            } else if c == "/", " '\"(=:\n\t".contains(previous) || out.isEmpty {
                inPath = true
                out += "<path>"
            } else {
                out.append(c)
            }
            previous = c
        }
        return out
    }
}
