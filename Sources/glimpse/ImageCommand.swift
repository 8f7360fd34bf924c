// `glimpse image …`: client commands that act on images of a running Glimpse (or any cloud with its extensions).

import ArgumentParser

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Act on images through a running Glimpse.", subcommands: [ImageBootTest.self])
}
