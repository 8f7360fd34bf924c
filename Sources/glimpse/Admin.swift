// `glimpse admin ...`: operator commands run beside (or without) the serving nodes.
import ArgumentParser

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operator commands on a deployment's stores.", subcommands: [GarbageCollect.self])
}
