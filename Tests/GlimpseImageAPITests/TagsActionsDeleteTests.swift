import HTTPTypes
import Testing

/// `PUT/DELETE /v2/images/{id}/tags/{tag}` (C.11).
@Suite struct TagTests {
    @Test func addAndDeleteTags() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"tags":["a"]}"#)
            let put = try await api.send(.put, "/v2/images/\(id)/tags/b")
            #expect(put.status == .noContent, "\(put)")
            #expect(put.body.readableBytes == 0)
            #expect(try await api.send(.put, "/v2/images/\(id)/tags/b").status == .noContent, "idempotent")
            #expect(try await api.image(id)["tags"]?.strings?.sorted() == ["a", "b"])
            #expect(try await api.delete("/v2/images/\(id)/tags/a").status == .noContent)
            #expect(try await api.image(id)["tags"]?.strings == ["b"])
            expectError(try await api.delete("/v2/images/\(id)/tags/a"), .notFound)
            expectError(try await api.delete("/v2/images/\(id)/tags/never"), .notFound)
        }
    }

    @Test func tagsWithSpacesAndDots() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.send(.put, "/v2/images/\(id)/tags/with%20space.v1").status == .noContent)
            #expect(try await api.image(id)["tags"]?.strings == ["with space.v1"])
            #expect(try await api.listIDs("tag=with%20space.v1") == [id])
            #expect(try await api.delete("/v2/images/\(id)/tags/with%20space.v1").status == .noContent)
        }
    }

    @Test func tagLimits() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.send(.put, "/v2/images/\(id)/tags/\(String(repeating: "t", count: 256))"), .badRequest)
            let tags = "[" + (0..<128).map { #""t\#($0)""# }.joined(separator: ",") + "]"
            let full = try await api.createImage(#"{"tags":\#(tags)}"#)
            expectError(try await api.send(.put, "/v2/images/\(full)/tags/one-more"), .contentTooLarge)
            #expect(try await api.send(.put, "/v2/images/\(full)/tags/t0").status == .noContent, "existing tag")
        }
    }

    @Test func tagPermissions() async throws {
        try await withGlimpse { api in
            let pub = try await api.createImage(#"{"visibility":"public","tags":["x"]}"#, as: .admin)
            let priv = try await api.createImage(#"{"visibility":"private","tags":["x"]}"#, as: .admin)
            expectError(try await api.send(.put, "/v2/images/\(pub)/tags/y", as: .owner), .forbidden)
            expectError(try await api.delete("/v2/images/\(pub)/tags/x", as: .owner), .forbidden)
            expectError(try await api.send(.put, "/v2/images/\(priv)/tags/y", as: .owner), .notFound)
            expectError(try await api.delete("/v2/images/\(priv)/tags/x", as: .owner), .notFound)
            let mine = try await api.createImage(#"{"tags":["x"]}"#)
            expectError(try await api.send(.put, "/v2/images/\(mine)/tags/y", as: .ownerReader), .forbidden)
            expectError(
                try await api.send(.put, "/v2/images/00000000-0000-0000-0000-000000000000/tags/y"), .notFound)
        }
    }
}

/// `POST /v2/images/{id}/actions/deactivate|reactivate` (C.7; policies `deactivate`, `reactivate`).
@Suite struct ActionTests {
    @Test func deactivateAndReactivate() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            let d = try await api.post("/v2/images/\(id)/actions/deactivate")
            #expect(d.status == .noContent, "\(d)")
            #expect(try await api.image(id)["status"]?.string == "deactivated")
            #expect(try await api.post("/v2/images/\(id)/actions/deactivate").status == .noContent, "idempotent")
            // Still shown and listed, but its data is off limits to all but admins.
            #expect(try await api.listIDs() == [id])
            expectError(
                try await api.get("/v2/images/\(id)/file"), .forbidden, containing: "deactivated")
            let adminDownload = try await api.get("/v2/images/\(id)/file", as: .admin)
            #expect(adminDownload.status == .ok)
            #expect(adminDownload.bytes == Payload.hello)
            let r = try await api.post("/v2/images/\(id)/actions/reactivate")
            #expect(r.status == .noContent)
            #expect(try await api.image(id)["status"]?.string == "active")
            #expect(try await api.post("/v2/images/\(id)/actions/reactivate").status == .noContent, "idempotent")
            #expect(try await api.get("/v2/images/\(id)/file").bytes == Payload.hello)
        }
    }

    @Test func deactivatedPublicImageDownloadByOthers() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(
                #"{"visibility":"public","disk_format":"raw","container_format":"bare"}"#, as: .admin)
            try await api.upload(id, Payload.hello, as: .admin)
            #expect(try await api.post("/v2/images/\(id)/actions/deactivate", as: .admin).status == .noContent)
            expectError(try await api.get("/v2/images/\(id)/file", as: .other), .forbidden)
            // Others may not reactivate it.
            expectError(try await api.post("/v2/images/\(id)/actions/reactivate", as: .other), .forbidden)
        }
    }

    @Test func onlyActiveImagesDeactivate() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.post("/v2/images/\(id)/actions/deactivate"), .forbidden)
            expectError(try await api.post("/v2/images/\(id)/actions/reactivate"), .forbidden)
            #expect(try await api.image(id)["status"]?.string == "queued")
        }
    }

    @Test func actionPermissions() async throws {
        try await withGlimpse { api in
            let pub = try await api.createImage(
                #"{"visibility":"public","disk_format":"raw","container_format":"bare"}"#, as: .admin)
            try await api.upload(pub, Payload.hello, as: .admin)
            let priv = try await api.createImage(
                #"{"visibility":"private","disk_format":"raw","container_format":"bare"}"#, as: .other)
            try await api.upload(priv, Payload.hello, as: .other)
            expectError(try await api.post("/v2/images/\(pub)/actions/deactivate", as: .owner), .forbidden)
            expectError(try await api.post("/v2/images/\(priv)/actions/deactivate", as: .owner), .notFound)
            let mine = try await api.createImage()
            try await api.upload(mine, Payload.hello)
            expectError(try await api.post("/v2/images/\(mine)/actions/deactivate", as: .ownerReader), .forbidden)
            // Glance 33's default rule lets a project member (de)activate its own images.
            #expect(try await api.post("/v2/images/\(mine)/actions/deactivate", as: .owner).status == .noContent)
            #expect(try await api.post("/v2/images/\(priv)/actions/deactivate", as: .admin).status == .noContent)
            expectError(
                try await api.post("/v2/images/00000000-0000-0000-0000-000000000000/actions/deactivate"), .notFound)
        }
    }

    @Test func unknownActionIs404() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.post("/v2/images/\(id)/actions/explode"), .notFound)
        }
    }
}

/// `DELETE /v2/images/{id}` (C.8; glance-observed 26–30).
@Suite struct DeleteTests {
    @Test func deleteIs204AndTwiceIs404() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            #expect(api.blobFiles().count == 1)
            let r = try await api.delete("/v2/images/\(id)")
            #expect(r.status == .noContent, "\(r)")
            #expect(r.body.readableBytes == 0)
            expectError(try await api.get("/v2/images/\(id)"), .notFound)
            expectError(try await api.get("/v2/images/\(id)/file"), .notFound)
            #expect(try await api.listIDs().isEmpty)
            #expect(api.blobFiles().isEmpty, "the data is gone: \(api.blobFiles())")
            expectError(
                try await api.delete("/v2/images/\(id)"), .notFound, containing: "Failed to find image \(id) to delete")
        }
    }

    @Test func protectedImageIs403() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"protected":true}"#)
            expectError(
                try await api.delete("/v2/images/\(id)"), .forbidden,
                containing: "Image \(id) is protected and cannot be deleted.")
            expectError(try await api.delete("/v2/images/\(id)", as: .admin), .forbidden)
            #expect(try await api.patch(id, #"[{"op":"replace","path":"/protected","value":false}]"#).status == .ok)
            #expect(try await api.delete("/v2/images/\(id)").status == .noContent)
        }
    }

    @Test func deletePermissions() async throws {
        try await withGlimpse { api in
            let pub = try await api.createImage(#"{"visibility":"public"}"#, as: .admin)
            let priv = try await api.createImage(#"{"visibility":"private"}"#, as: .other)
            expectError(try await api.delete("/v2/images/\(pub)"), .forbidden)
            expectError(try await api.delete("/v2/images/\(priv)"), .notFound)
            let mine = try await api.createImage()
            expectError(try await api.delete("/v2/images/\(mine)", as: .ownerReader), .forbidden)
            expectError(try await api.delete("/v2/images/not-a-uuid"), .notFound)
            #expect(try await api.delete("/v2/images/\(priv)", as: .admin).status == .noContent)
            #expect(try await api.delete("/v2/images/\(mine)").status == .noContent)
        }
    }
}
