import HTTPTypes
import Testing

/// `/v2/images/{id}/members[/{member}]` (wire facts A.8, C.6).
@Suite struct MembersTests {
    @Test func addMemberIsPending() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-pending"}"#)
            #expect(r.status == .ok, "\(r)")
            #expect(r.header("Content-Type") == "application/json")
            #expect(r["member_id"]?.string == "p-pending")
            #expect(r["image_id"]?.string == id)
            #expect(r["status"]?.string == "pending")
            #expect(r["schema"]?.string == "/v2/schemas/member")
            let created = try #require(r["created_at"]?.string)
            #expect(created.hasSuffix("Z"))
            #expect(r["updated_at"]?.string == created)
        }
    }

    @Test func duplicateMemberIs409() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-x"}"#).status == .ok)
            expectError(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-x"}"#), .conflict)
        }
    }

    @Test(arguments: ["private", "public", "community"])
    func onlySharedImagesHaveMembers(visibility: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"visibility":"\#(visibility)"}"#, as: .admin)
            expectError(
                try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-x"}"#, as: .admin), .forbidden,
                containing: "Only shared images have members")
        }
    }

    @Test(arguments: [#"{}"#, #"{"member":""}"#, "[]", "nope"])
    func badAddMemberBodyIs400(body: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            expectError(try await api.post("/v2/images/\(id)/members", json: body), .badRequest)
        }
    }

    @Test func listAndShowMembers() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            for p in ["p-pending", "p-accepted"] {
                #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"\#(p)"}"#).status == .ok)
            }
            let list = try await api.get("/v2/images/\(id)/members")
            #expect(list.status == .ok)
            #expect(list["schema"]?.string == "/v2/schemas/members")
            #expect(Set(list["members"]?.array?.compactMap { $0["member_id"]?.string } ?? []) == ["p-pending", "p-accepted"])
            let one = try await api.get("/v2/images/\(id)/members/p-accepted")
            #expect(one.status == .ok)
            #expect(one["member_id"]?.string == "p-accepted")
            #expect(one["status"]?.string == "pending")
            expectError(try await api.get("/v2/images/\(id)/members/p-nobody"), .notFound)
            // A member sees its own membership only.
            let mine = try await api.get("/v2/images/\(id)/members", as: .accepted)
            #expect(mine.status == .ok)
            #expect(mine["members"]?.array?.compactMap { $0["member_id"]?.string } == ["p-accepted"])
            #expect(try await api.get("/v2/images/\(id)/members/p-accepted", as: .accepted).status == .ok)
            expectError(try await api.get("/v2/images/\(id)/members/p-pending", as: .accepted), .notFound)
            // Readers may read memberships too.
            #expect(try await api.get("/v2/images/\(id)/members", as: .ownerReader).status == .ok)
            // A project that is not a member does not see the image at all.
            expectError(try await api.get("/v2/images/\(id)/members", as: .other), .notFound)
            expectError(try await api.get("/v2/images/\(id)/members/p-accepted", as: .other), .notFound)
            // Admins see everything.
            #expect(try await api.get("/v2/images/\(id)/members", as: .admin)["members"]?.array?.count == 2)
        }
    }

    /// `openstack image set --accept` (A.8): the member finds the image, then PUTs its own status with an extra
    /// `member` key, which is ignored.
    @Test func memberAcceptsRejectsAndGoesBackToPending() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-accepted"}"#).status == .ok)
            #expect(try await api.get("/v2/images/\(id)", as: .accepted).status == .ok, "pending members see it")
            #expect(try await api.listIDs(as: .accepted) == [], "but it is not listed while pending")
            let r = try await api.putJSON(
                "/v2/images/\(id)/members/p-accepted", json: #"{"status":"accepted","member":"p-accepted"}"#,
                as: .accepted)
            #expect(r.status == .ok, "\(r)")
            #expect(r["status"]?.string == "accepted")
            #expect(r["member_id"]?.string == "p-accepted")
            #expect(try await api.listIDs(as: .accepted) == [id])
            let rej = try await api.putJSON(
                "/v2/images/\(id)/members/p-accepted", json: #"{"status":"rejected"}"#, as: .accepted)
            #expect(rej["status"]?.string == "rejected")
            #expect(try await api.listIDs(as: .accepted) == [])
            #expect(try await api.get("/v2/images/\(id)", as: .accepted).status == .ok, "rejected members see it")
            let back = try await api.putJSON(
                "/v2/images/\(id)/members/p-accepted", json: #"{"status":"pending"}"#, as: .accepted)
            #expect(back["status"]?.string == "pending")
        }
    }

    @Test func ownerCannotChangeAMembersStatus() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-pending"}"#).status == .ok)
            expectError(
                try await api.putJSON("/v2/images/\(id)/members/p-pending", json: #"{"status":"accepted"}"#),
                .forbidden)
            // Nor may another member change it.
            #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-accepted"}"#).status == .ok)
            expectError(
                try await api.putJSON(
                    "/v2/images/\(id)/members/p-pending", json: #"{"status":"accepted"}"#, as: .accepted),
                .notFound)
            #expect(try await api.get("/v2/images/\(id)/members/p-pending")["status"]?.string == "pending")
            // Admins may.
            let admin = try await api.putJSON(
                "/v2/images/\(id)/members/p-pending", json: #"{"status":"accepted"}"#, as: .admin)
            #expect(admin.status == .ok)
            #expect(admin["status"]?.string == "accepted")
        }
    }

    @Test(arguments: [#"{"status":"maybe"}"#, #"{}"#, #"{"status":1}"#, #"{"status":"ACCEPTED"}"#])
    func badMemberStatusIs400(body: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-pending"}"#).status == .ok)
            expectError(try await api.putJSON("/v2/images/\(id)/members/p-pending", json: body, as: .pending), .badRequest)
        }
    }

    @Test func deleteMember() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-accepted"}"#).status == .ok)
            // The member may not remove itself (delete_member is the owner's).
            expectError(try await api.delete("/v2/images/\(id)/members/p-accepted", as: .accepted), .forbidden)
            let r = try await api.delete("/v2/images/\(id)/members/p-accepted")
            #expect(r.status == .noContent, "\(r)")
            expectError(try await api.get("/v2/images/\(id)", as: .accepted), .notFound, containing: id)
            expectError(try await api.delete("/v2/images/\(id)/members/p-accepted"), .notFound)
            #expect(try await api.get("/v2/images/\(id)/members")["members"]?.array == [])
        }
    }

    @Test func memberManagementPermissions() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            #expect(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-accepted"}"#).status == .ok)
            // A member may not add others; a reader owner may not either; a stranger does not see the image.
            expectError(
                try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-x"}"#, as: .accepted), .forbidden)
            expectError(
                try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-x"}"#, as: .ownerReader),
                .forbidden)
            expectError(
                try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-x"}"#, as: .other), .notFound)
            // Admins may.
            #expect(
                try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-x"}"#, as: .admin).status == .ok)
            expectError(
                try await api.post(
                    "/v2/images/00000000-0000-0000-0000-000000000000/members", json: #"{"member":"p-x"}"#),
                .notFound)
        }
    }

    @Test func memberQuotaIs413() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            for n in 0..<128 {
                let r = try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-\#(n)"}"#)
                #expect(r.status == .ok, "\(r)")
            }
            expectError(try await api.post("/v2/images/\(id)/members", json: #"{"member":"p-128"}"#), .contentTooLarge)
        }
    }

    @Test func membersOfANonSharedImage() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"visibility":"private"}"#)
            expectError(try await api.get("/v2/images/\(id)/members"), .forbidden)
        }
    }
}
