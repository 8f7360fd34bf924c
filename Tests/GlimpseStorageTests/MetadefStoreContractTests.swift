import Foundation
import GlimpseCore
import GlimpsePostgres
import GlimpsePostgresTesting
import GlimpseStorage
import Logging
import Testing

/// The contract every `MetadefStore` backend must meet: what it keeps, in which order it lists it, which name
/// clashes it refuses, what goes with a namespace, and that two nodes racing on one name get one success.
@Suite("MetadefStore contract")
struct MetadefStoreContractTests {
    static let t0: Int64 = 1_700_000_000_000_000

    static func namespace(
        _ name: String, owner: String? = "p1", visibility: String = "private", displayName: String? = nil,
        at offset: Int64 = 0
    ) -> MetadefNamespaceRecord {
        MetadefNamespaceRecord(
            namespace: name, displayName: displayName, description: "about \(name)", visibility: visibility,
            protected: false, owner: owner, createdAt: t0 + offset, updatedAt: t0 + offset)
    }

    static func object(_ name: String) -> MetadefObjectRecord {
        MetadefObjectRecord(
            name: name, description: nil, required: ["a", "b"], properties: #"{"a":{"type":"string"}}"#,
            createdAt: t0, updatedAt: t0)
    }

    static func property(_ name: String) -> MetadefPropertyRecord {
        MetadefPropertyRecord(name: name, schema: #"{"type":"integer","minimum":0}"#, createdAt: t0, updatedAt: t0)
    }

    static func tag(_ name: String, at offset: Int64 = 0) -> MetadefTagRecord {
        MetadefTagRecord(name: name, createdAt: t0 + offset, updatedAt: t0 + offset)
    }

    static func association(_ name: String, prefix: String? = nil, at offset: Int64 = 0) -> MetadefAssociationRecord {
        MetadefAssociationRecord(
            name: name, prefix: prefix, propertiesTarget: nil, createdAt: t0 + offset, updatedAt: t0 + offset)
    }

    static func create(_ store: any MetadefStore, _ ns: MetadefNamespaceRecord) async throws -> MetadefNamespaceRecord {
        try await store.createNamespace(ns, associations: [], objects: [], properties: [], tags: [])
    }

    /// The error `body` threw, or nil when it returned.
    static func failure(_ body: () async throws -> Void) async -> (any Error)? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: MetadefBackend.allCases)
    func aNewStoreHasTheStandardResourceTypesOnce(_ backend: MetadefBackend) async throws {
        let (store, reopen) = try await backend.make()
        let types = try await store.resourceTypes()
        #expect(types.map(\.name) == MetadefResourceTypeRecord.standardNames)
        let allProtected = types.allSatisfy(\.protected)
        #expect(allProtected)
        let again = try await reopen().resourceTypes().map(\.name)
        #expect(again == MetadefResourceTypeRecord.standardNames, "reopening seeds nothing twice")
    }

    @Test(arguments: MetadefBackend.allCases)
    func aNamespaceAndItsContentSurviveReopening(_ backend: MetadefBackend) async throws {
        let (store, reopen) = try await backend.make()
        let ns = Self.namespace("OS::Compute::Watchdog", displayName: "Watchdog")
        let created = try await store.createNamespace(
            ns, associations: [Self.association("OS::Glance::Image", prefix: "hw_")],
            objects: [Self.object("o1")], properties: [Self.property("p1")], tags: [Self.tag("t1")])
        #expect(created.id > 0)
        var expected = ns
        expected.id = created.id
        #expect(created == expected)

        let reopened = try await reopen()
        #expect(try await reopened.namespace(named: ns.namespace) == expected)
        #expect(try await reopened.namespace(named: "os::compute::watchdog") == nil, "namespace names match exactly")
        let objects = try await reopened.objects(namespaceID: created.id)
        #expect(objects.count == 1)
        #expect(objects.first?.required == ["a", "b"])
        #expect(objects.first?.properties == Self.object("o1").properties)
        #expect(try await reopened.object(namespaceID: created.id, name: "o1") == objects.first)
        let property = try await reopened.property(namespaceID: created.id, name: "p1")
        #expect(property?.schema == Self.property("p1").schema)
        #expect(try await reopened.tag(namespaceID: created.id, name: "t1")?.name == "t1")
        let associations = try await reopened.associations(namespaceID: created.id)
        #expect(associations == [Self.association("OS::Glance::Image", prefix: "hw_")])
    }

    @Test(arguments: MetadefBackend.allCases)
    func nameClashesThrowTheirKindAndChangeNothing(_ backend: MetadefBackend) async throws {
        let store = try await backend.make().store
        let ns = try await store.createNamespace(
            Self.namespace("ns"), associations: [Self.association("OS::Nova::Flavor")], objects: [Self.object("o")],
            properties: [Self.property("p")], tags: [Self.tag("Tag")])
        let other = try await Self.create(store, Self.namespace("other"))

        let namespaceClash = await Self.failure { _ = try await Self.create(store, Self.namespace("ns")) }
        #expect(namespaceClash as? MetadefDuplicateError == MetadefDuplicateError(.namespace, "ns"))
        let objectClash = await Self.failure { _ = try await store.insertObject(Self.object("o"), namespaceID: ns.id) }
        #expect(objectClash as? MetadefDuplicateError == MetadefDuplicateError(.object, "o"))
        let propertyClash = await Self.failure {
            _ = try await store.insertProperty(Self.property("p"), namespaceID: ns.id)
        }
        #expect(propertyClash as? MetadefDuplicateError == MetadefDuplicateError(.property, "p"))
        let tagClash = await Self.failure { _ = try await store.insertTag(Self.tag("TAG"), namespaceID: ns.id) }
        #expect(tagClash as? MetadefDuplicateError == MetadefDuplicateError(.tag, "TAG"), "tag names ignore case")
        let associationClash = await Self.failure {
            try await store.addAssociation(Self.association("OS::Nova::Flavor"), namespaceID: ns.id)
        }
        #expect(associationClash as? MetadefDuplicateError == MetadefDuplicateError(.association, "OS::Nova::Flavor"))

        // The same names in another namespace are fine.
        _ = try await store.insertObject(Self.object("o"), namespaceID: other.id)
        _ = try await store.insertProperty(Self.property("p"), namespaceID: other.id)
        _ = try await store.insertTag(Self.tag("tag"), namespaceID: other.id)
        try await store.addAssociation(Self.association("OS::Nova::Flavor"), namespaceID: other.id)

        // A namespace whose initial content clashes is not created at all.
        let contentClash = await Self.failure {
            _ = try await store.createNamespace(
                Self.namespace("half"), associations: [], objects: [Self.object("x"), Self.object("x")],
                properties: [], tags: [])
        }
        #expect(contentClash as? MetadefDuplicateError == MetadefDuplicateError(.object, "x"))
        #expect(try await store.namespace(named: "half") == nil)
        #expect(try await store.objects(namespaceID: ns.id).count == 1)
    }

    @Test(arguments: MetadefBackend.allCases)
    func updatesRenameRefuseClashesAndReportMissingRows(_ backend: MetadefBackend) async throws {
        let store = try await backend.make().store
        var ns = try await Self.create(store, Self.namespace("first"))
        _ = try await Self.create(store, Self.namespace("second"))
        ns.namespace = "renamed"
        ns.visibility = "public"
        ns.updatedAt = Self.t0 + 5
        #expect(try await store.updateNamespace(ns))
        #expect(try await store.namespace(named: "renamed") == ns)
        #expect(try await store.namespace(named: "first") == nil)
        ns.namespace = "second"
        let clash = await Self.failure { _ = try await store.updateNamespace(ns) }
        #expect(clash as? MetadefDuplicateError == MetadefDuplicateError(.namespace, "second"))
        var gone = ns
        gone.id = ns.id + 1000
        gone.namespace = "gone"
        #expect(try await store.updateNamespace(gone) == false)

        var object = try await store.insertObject(Self.object("o1"), namespaceID: ns.id)
        _ = try await store.insertObject(Self.object("o2"), namespaceID: ns.id)
        object.name = "o3"
        object.required = []
        #expect(try await store.updateObject(object))
        #expect(try await store.object(namespaceID: ns.id, name: "o3") == object)
        object.name = "o2"
        let objectClash = await Self.failure { _ = try await store.updateObject(object) }
        #expect(objectClash as? MetadefDuplicateError == MetadefDuplicateError(.object, "o2"))
        object.id += 1000
        object.name = "o9"
        #expect(try await store.updateObject(object) == false)

        var property = try await store.insertProperty(Self.property("p1"), namespaceID: ns.id)
        property.name = "p2"
        property.schema = #"{"type":"string"}"#
        #expect(try await store.updateProperty(property))
        #expect(try await store.property(namespaceID: ns.id, name: "p2") == property)
        property.id += 1000
        #expect(try await store.updateProperty(property) == false)

        var tag = try await store.insertTag(Self.tag("a"), namespaceID: ns.id)
        _ = try await store.insertTag(Self.tag("b"), namespaceID: ns.id)
        tag.name = "A"
        #expect(try await store.updateTag(tag), "a tag may change the case of its own name")
        #expect(try await store.tag(namespaceID: ns.id, name: "a") == tag)
        tag.name = "B"
        let tagClash = await Self.failure { _ = try await store.updateTag(tag) }
        #expect(tagClash as? MetadefDuplicateError == MetadefDuplicateError(.tag, "B"))
        tag.id += 1000
        tag.name = "z"
        #expect(try await store.updateTag(tag) == false)
    }

    @Test(arguments: MetadefBackend.allCases)
    func deletingANamespaceTakesItsContentButNotResourceTypes(_ backend: MetadefBackend) async throws {
        let store = try await backend.make().store
        let ns = try await store.createNamespace(
            Self.namespace("doomed"), associations: [Self.association("Custom::Type")], objects: [Self.object("o")],
            properties: [Self.property("p")], tags: [Self.tag("t")])
        let kept = try await store.createNamespace(
            Self.namespace("kept"), associations: [Self.association("Custom::Type")], objects: [Self.object("o")],
            properties: [Self.property("p")], tags: [Self.tag("t")])
        try await store.deleteNamespace(id: ns.id)
        #expect(try await store.namespace(named: "doomed") == nil)
        #expect(try await store.objects(namespaceID: ns.id).isEmpty)
        #expect(try await store.properties(namespaceID: ns.id).isEmpty)
        let tags = try await store.tags(namespaceID: ns.id, ascending: true, sortByName: false, markerName: nil, limit: nil)
        #expect(tags.isEmpty)
        #expect(try await store.associations(namespaceID: ns.id).isEmpty)
        let custom = try await store.resourceTypes().first { $0.name == "Custom::Type" }
        #expect(custom?.protected == false, "a type made by an association is unprotected and stays")
        #expect(try await store.objects(namespaceID: kept.id).count == 1)

        try await store.deleteContent(.objects, namespaceID: kept.id)
        #expect(try await store.objects(namespaceID: kept.id).isEmpty)
        #expect(try await store.properties(namespaceID: kept.id).count == 1)
        try await store.deleteContent(.properties, namespaceID: kept.id)
        #expect(try await store.properties(namespaceID: kept.id).isEmpty)
        try await store.deleteContent(.tags, namespaceID: kept.id)
        #expect(try await store.tag(namespaceID: kept.id, name: "t") == nil)
        #expect(try await store.associations(namespaceID: kept.id).count == 1)

        let object = try await store.insertObject(Self.object("x"), namespaceID: kept.id)
        try await store.deleteObject(id: object.id)
        let property = try await store.insertProperty(Self.property("x"), namespaceID: kept.id)
        try await store.deleteProperty(id: property.id)
        let tag = try await store.insertTag(Self.tag("x"), namespaceID: kept.id)
        try await store.deleteTag(id: tag.id)
        #expect(try await store.object(namespaceID: kept.id, name: "x") == nil)
        #expect(try await store.property(namespaceID: kept.id, name: "x") == nil)
        #expect(try await store.tag(namespaceID: kept.id, name: "x") == nil)
    }

    @Test(arguments: MetadefBackend.allCases)
    func namespaceListsFilterSortAndPage(_ backend: MetadefBackend) async throws {
        let store = try await backend.make().store
        let mine = try await Self.create(store, Self.namespace("b", owner: "p1", displayName: "Zed", at: 1))
        let theirs = try await Self.create(store, Self.namespace("A", owner: "p2", at: 2))
        let shared = try await Self.create(store, Self.namespace("a", owner: "p2", visibility: "public", at: 3))
        let unowned = try await Self.create(store, Self.namespace("c", owner: nil, displayName: "Alpha", at: 4))
        try await store.addAssociation(Self.association("OS::Nova::Flavor"), namespaceID: mine.id)
        try await store.addAssociation(Self.association("OS::Glance::Image"), namespaceID: shared.id)

        let all = try await store.namespaces(MetadefNamespaceQuery(seesAll: true, project: nil))
        #expect(all.map(\.namespace) == ["c", "a", "A", "b"], "newest first by default")
        let visible = try await store.namespaces(MetadefNamespaceQuery(seesAll: false, project: "p1", ascending: true))
        #expect(visible.map(\.id) == [mine.id, shared.id, unowned.id], "p2's private namespace is hidden from p1")
        let anonymous = try await store.namespaces(MetadefNamespaceQuery(seesAll: false, project: nil, ascending: true))
        #expect(anonymous.map(\.id) == [shared.id, unowned.id])
        let publicOnes = try await store.namespaces(MetadefNamespaceQuery(seesAll: true, project: nil, visibility: "public"))
        #expect(publicOnes.map(\.id) == [shared.id])

        let byName = try await store.namespaces(
            MetadefNamespaceQuery(seesAll: true, project: nil, sortKey: .namespace, ascending: true))
        #expect(byName.map(\.namespace) == ["A", "a", "b", "c"], "names sort byte by byte")
        let byDisplayName = try await store.namespaces(
            MetadefNamespaceQuery(seesAll: true, project: nil, sortKey: .displayName, ascending: true))
        #expect(byDisplayName.map(\.namespace) == ["A", "a", "c", "b"], "no display name sorts as empty, then created_at")
        let byOwner = try await store.namespaces(
            MetadefNamespaceQuery(seesAll: true, project: nil, sortKey: .owner, ascending: false))
        #expect(byOwner.map(\.namespace) == ["a", "A", "b", "c"])

        let firstPage = try await store.namespaces(
            MetadefNamespaceQuery(seesAll: true, project: nil, limit: 2, sortKey: .namespace, ascending: true))
        #expect(firstPage.map(\.namespace) == ["A", "a"])
        let secondPage = try await store.namespaces(
            MetadefNamespaceQuery(
                seesAll: true, project: nil, marker: firstPage.last, limit: 2, sortKey: .namespace, ascending: true))
        #expect(secondPage.map(\.namespace) == ["b", "c"])
        let pageByID = try await store.namespaces(
            MetadefNamespaceQuery(seesAll: true, project: nil, marker: theirs, sortKey: .id, ascending: false))
        #expect(pageByID.map(\.id) == [mine.id])
        let none = try await store.namespaces(MetadefNamespaceQuery(seesAll: true, project: nil, limit: 0))
        #expect(none.isEmpty)

        let typed = try await store.namespaces(
            MetadefNamespaceQuery(seesAll: true, project: nil, resourceTypes: ["OS::Glance::Image", "OS::Nova::Flavor"]))
        #expect(typed.map(\.id) == [shared.id, mine.id])
        let noTypes = try await store.namespaces(MetadefNamespaceQuery(seesAll: true, project: nil, resourceTypes: []))
        #expect(noTypes.isEmpty)
    }

    @Test(arguments: MetadefBackend.allCases)
    func tagsListByTimeOrNameIgnoringCaseWithMarkerAndLimit(_ backend: MetadefBackend) async throws {
        let store = try await backend.make().store
        let ns = try await Self.create(store, Self.namespace("tags"))
        try await store.insertTags(
            [Self.tag("b", at: 1), Self.tag("Z", at: 2), Self.tag("A", at: 3), Self.tag("c", at: 3)],
            namespaceID: ns.id, append: true)
        func names(ascending: Bool, byName: Bool, marker: String? = nil, limit: Int? = nil) async throws -> [String] {
            try await store.tags(
                namespaceID: ns.id, ascending: ascending, sortByName: byName, markerName: marker, limit: limit
            ).map(\.name)
        }
        #expect(try await names(ascending: false, byName: false) == ["c", "A", "Z", "b"], "newest first, then by id")
        #expect(try await names(ascending: true, byName: false) == ["b", "Z", "A", "c"])
        #expect(try await names(ascending: true, byName: true) == ["A", "b", "c", "Z"], "names sort ignoring case")
        #expect(try await names(ascending: false, byName: true, marker: "c") == ["b", "A"])
        #expect(try await names(ascending: true, byName: true, marker: "B", limit: 1) == ["c"], "the marker ignores case")
        #expect(try await names(ascending: true, byName: false, marker: "Z") == ["A", "c"])
        #expect(try await names(ascending: true, byName: false, limit: 2) == ["b", "Z"])
        let missing = await Self.failure { _ = try await names(ascending: true, byName: true, marker: "nope") }
        #expect(missing as? GlimpseError == GlimpseError.notFound("Could not find metadata tag nope"))
        #expect(try await store.tag(namespaceID: ns.id, name: "z")?.name == "Z", "a tag is found ignoring case")
        // Case is folded for ASCII letters only, as SQLite's NOCASE does: these two are different tags.
        _ = try await store.insertTag(Self.tag("É", at: 4), namespaceID: ns.id)
        _ = try await store.insertTag(Self.tag("é", at: 5), namespaceID: ns.id)
        #expect(try await store.tag(namespaceID: ns.id, name: "é")?.name == "é")

        try await store.insertTags([Self.tag("new")], namespaceID: ns.id, append: false)
        #expect(try await names(ascending: true, byName: true) == ["new"], "without append the tags are replaced")
        let clash = await Self.failure {
            try await store.insertTags([Self.tag("x"), Self.tag("X")], namespaceID: ns.id, append: false)
        }
        #expect(clash as? MetadefDuplicateError == MetadefDuplicateError(.tag, "X"))
        #expect(try await names(ascending: true, byName: true) == ["new"], "a failed replacement changes nothing")
    }

    @Test(arguments: MetadefBackend.allCases)
    func associationsListInOrderAndCanBeRemoved(_ backend: MetadefBackend) async throws {
        let store = try await backend.make().store
        let one = try await Self.create(store, Self.namespace("one"))
        let two = try await Self.create(store, Self.namespace("two"))
        let three = try await Self.create(store, Self.namespace("three"))
        try await store.addAssociation(Self.association("OS::Nova::Server"), namespaceID: one.id)
        try await store.addAssociation(Self.association("Custom::Later", prefix: "x_"), namespaceID: one.id)
        try await store.addAssociation(Self.association("Custom::Earlier", at: -1), namespaceID: one.id)
        try await store.addAssociation(Self.association("OS::Nova::Server"), namespaceID: two.id)
        let names = try await store.associations(namespaceID: one.id).map(\.name)
        #expect(names == ["Custom::Earlier", "OS::Nova::Server", "Custom::Later"], "by created_at, then insertion")
        let byNamespace = try await store.associations(namespaceIDs: [one.id, two.id, three.id])
        #expect(byNamespace[one.id]?.map(\.name) == names)
        #expect(byNamespace[two.id]?.map(\.name) == ["OS::Nova::Server"])
        #expect(byNamespace[three.id] == nil)
        #expect(try await store.associations(namespaceIDs: []).isEmpty)
        let types = try await store.resourceTypes().map(\.name)
        #expect(types == MetadefResourceTypeRecord.standardNames + ["Custom::Later", "Custom::Earlier"])

        #expect(try await store.removeAssociation(namespaceID: one.id, resourceType: "OS::Nova::Server"))
        #expect(try await store.removeAssociation(namespaceID: one.id, resourceType: "OS::Nova::Server") == false)
        #expect(try await store.removeAssociation(namespaceID: one.id, resourceType: "Unknown::Type") == false)
        #expect(try await store.associations(namespaceID: two.id).count == 1, "other namespaces keep theirs")
    }

    /// Two nodes (two stores on one database) creating the same names at the same moment: exactly one wins each
    /// race, the other gets the duplicate error, and nothing is stored twice.
    @Test(arguments: MetadefBackend.allCases)
    func concurrentCreatesOfOneNameGiveOneSuccess(_ backend: MetadefBackend) async throws {
        let (first, reopen) = try await backend.make()
        let second = try await reopen()
        let nodes: [any MetadefStore] = [first, second, first, second]
        for round in 0..<6 {
            let name = "race-\(round)"
            let outcomes = await withTaskGroup(of: (any Error)?.self) { group in
                for node in nodes {
                    group.addTask {
                        await Self.failure {
                            _ = try await node.createNamespace(
                                Self.namespace(name), associations: [Self.association("Race::Type\(round)")],
                                objects: [], properties: [], tags: [Self.tag("t")])
                        }
                    }
                }
                var all: [(any Error)?] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            let successes = outcomes.filter { $0 == nil }.count
            let duplicates = outcomes.filter { $0 as? MetadefDuplicateError == MetadefDuplicateError(.namespace, name) }
            #expect(successes == 1, "round \(round): \(outcomes)")
            #expect(duplicates.count == nodes.count - 1, "round \(round): \(outcomes)")
        }
        let listed = try await second.namespaces(MetadefNamespaceQuery(seesAll: true, project: nil, limit: 100))
        #expect(listed.count == 6)
        let raceTypes = try await first.resourceTypes().filter { $0.name.hasPrefix("Race::") }
        #expect(raceTypes.count == 6, "each new resource type is stored once")
    }

    /// Nodes associating different namespaces with one new resource type at once all succeed, sharing one type.
    @Test(arguments: MetadefBackend.allCases)
    func concurrentAssociationsShareANewResourceType(_ backend: MetadefBackend) async throws {
        let (first, reopen) = try await backend.make()
        let second = try await reopen()
        var ids: [Int64] = []
        for n in 0..<6 { ids.append(try await Self.create(first, Self.namespace("ns-\(n)")).id) }
        let namespaceIDs = ids
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, id) in namespaceIDs.enumerated() {
                let node = n % 2 == 0 ? first : second
                group.addTask { try await node.addAssociation(Self.association("Shared::New"), namespaceID: id) }
            }
            try await group.waitForAll()
        }
        let shared = try await second.resourceTypes().filter { $0.name == "Shared::New" }
        #expect(shared.count == 1)
        let byNamespace = try await first.associations(namespaceIDs: namespaceIDs)
        let associated = byNamespace.values.map(\.count).reduce(0, +)
        #expect(associated == namespaceIDs.count)
    }

    /// Nodes starting at once on an empty database all come up, and the standard resource types are seeded once
    /// (the seed is part of the migration, which runs under the migration lock).
    @Test func postgresNodesStartingAtOnceSeedOnce() async throws {
        let database = try await PostgresTestCluster.shared.makeDatabase().configuration
        let logger = Logger(label: "glimpse.test.postgres")
        let stores = try await withThrowingTaskGroup(of: PostgresMetadefStore.self) { group in
            // A generous start-up limit: six migrations queue on one lock, and a loaded machine runs them slowly.
            for _ in 0..<6 { group.addTask { try await PostgresMetadefStore.open(database, startupTimeout: .seconds(120), logger: logger) } }
            var opened: [PostgresMetadefStore] = []
            for try await store in group { opened.append(store) }
            return opened
        }
        for store in stores {
            let names = try await store.resourceTypes().map(\.name)
            #expect(names == MetadefResourceTypeRecord.standardNames)
        }
    }
}
