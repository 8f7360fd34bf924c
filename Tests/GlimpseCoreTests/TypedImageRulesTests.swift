// The typed image calls (drafts and amendments) keep the rules a create body or a JSON-patch has.

import GlimpseCore
import Testing

@Suite struct TypedImageRulesTests {
    let member = Caller(userID: "u1", projectID: "p1", roles: ["member", "reader"])
    let now = Timestamp(microseconds: 1_000)

    @Test func aDraftBecomesAQueuedImageOwnedByTheCaller() throws {
        let draft = ImageDraft(
            name: "snap", visibility: .shared, minRAM: 64, minDisk: 2, properties: ["image_type": "snapshot"])
        let image = try ImageRules.newImage(from: draft, caller: member, id: "id-1", now: now)
        #expect(image.status == .queued && image.owner == "p1" && image.visibility == .shared)
        #expect(image.name == "snap" && image.minRAM == 64 && image.minDisk == 2)
        #expect(image.properties == ["image_type": "snapshot"] && image.diskFormat == nil)
    }

    @Test func aDraftIsRefusedWhatABodyIsRefused() {
        for key in ["status", "size", "locations", "os_glance_import_method", "name", "min_ram"] {
            let draft = ImageDraft(name: "x", properties: [key: "v"])
            #expect(throws: GlimpseError.self, "\(key)") { try ImageRules.newImage(from: draft, caller: member, id: "i", now: now) }
        }
        let tooMany = ImageDraft(name: "x", properties: Dictionary(uniqueKeysWithValues: (0...Image.maxProperties).map { ("k\($0)", "v") }))
        let quota = #expect(throws: GlimpseError.self) { try ImageRules.newImage(from: tooMany, caller: member, id: "i", now: now) }
        #expect(quota?.kind == .tooLarge)
        let publicByMember = ImageDraft(name: "x", visibility: .public)
        #expect(throws: GlimpseError.self) { try ImageRules.newImage(from: publicByMember, caller: member, id: "i", now: now) }
        let negative = ImageDraft(name: "x", minDisk: -1)
        #expect(throws: GlimpseError.self) { try ImageRules.newImage(from: negative, caller: member, id: "i", now: now) }
        let badFormat = ImageDraft(name: "x", diskFormat: "exe")
        #expect(throws: GlimpseError.self) { try ImageRules.newImage(from: badFormat, caller: member, id: "i", now: now) }
    }

    @Test func anAmendmentSetsFormatsOnlyWhileQueued() throws {
        var image = try ImageRules.newImage(from: ImageDraft(name: "snap"), caller: member, id: "i", now: now)
        let change = ImageAmendment(diskFormat: "qcow2", containerFormat: "bare", properties: ["glimpse_consistency": "cold"])
        let later = Timestamp(microseconds: 2_000)
        let amended = try ImageRules.apply(change, to: image, now: later)
        #expect(amended.diskFormat == "qcow2" && amended.containerFormat == "bare" && amended.updatedAt == later)
        #expect(amended.properties["glimpse_consistency"] == "cold")

        image.status = .active
        image.diskFormat = "raw"
        image.containerFormat = "bare"
        let refused = #expect(throws: GlimpseError.self) { try ImageRules.apply(change, to: image, now: later) }
        #expect(refused?.kind == .forbidden)
        let unchangedFormats = try ImageRules.apply(ImageAmendment(properties: ["a": "b"]), to: image, now: later)
        #expect(unchangedFormats.diskFormat == "raw" && unchangedFormats.properties["a"] == "b")
        #expect(throws: GlimpseError.self) { try ImageRules.apply(ImageAmendment(properties: ["checksum": "x"]), to: image, now: later) }
    }
}
