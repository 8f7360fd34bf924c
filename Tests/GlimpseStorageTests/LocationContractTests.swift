import Foundation
import GlimpseCore
import GlimpseStorage
import Testing

/// The location part of the `MetadataStore` contract: ordered, durable, gone with their image.
@Suite("MetadataStore locations contract")
struct LocationContractTests {
    @Test(arguments: MetadataBackend.allCases)
    func locationsAreKeptInOrderAndGoWithTheirImage(_ backend: MetadataBackend) async throws {
        let (store, reopen) = try await backend.make()
        let img = MetadataStoreContractTests.image(1)
        try await store.insertImage(img)
        #expect(try await store.locations(imageID: img.id) == [])
        try await store.addLocation(ImageLocation(url: "http://a/1"), imageID: img.id)
        try await store.addLocation(ImageLocation(url: "http://b/2", metadataJSON: #"{"store":"web"}"#), imageID: img.id)
        let expected = [ImageLocation(url: "http://a/1"), ImageLocation(url: "http://b/2", metadataJSON: #"{"store":"web"}"#)]
        #expect(try await store.locations(imageID: img.id) == expected)
        #expect(try await reopen().locations(imageID: img.id) == expected, "a reopened store returns the same locations")

        _ = try await store.deleteImage(id: img.id, onlyIf: { _ in })
        #expect(try await store.locations(imageID: img.id) == [])
        try await store.insertImage(img)
        #expect(try await store.locations(imageID: img.id) == [], "a new image with the same id starts without locations")
    }

    @Test(arguments: MetadataBackend.allCases)
    func addingALocationToAMissingImageIs404(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        let id = MetadataStoreContractTests.image(9).id
        await #expect(throws: GlimpseError.noImage(id)) {
            try await store.addLocation(ImageLocation(url: "http://a/1"), imageID: id)
        }
    }
}
