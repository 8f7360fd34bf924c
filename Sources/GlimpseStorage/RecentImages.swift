import GlimpseCore
import NIOConcurrencyHelpers

/// Images read recently, so that `GET /v2/images/{id}` does not go to SQLite every time.
///
/// Correct only while this process is the database's only writer, which holds for the embedded store (`glimpse
/// serve` locks its data directory). Every write clears the cache and bumps a generation; a reader stores what it
/// read only if no write finished while it was reading, so a value loaded before a commit can never outlive it.
final class RecentImages: Sendable {
    private struct State {
        var images: [String: Image] = [:]
        var generation: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var generation: UInt64 { state.withLockedValue { $0.generation } }

    func image(_ id: String) -> Image? { state.withLockedValue { $0.images[id] } }

    func remember(_ image: Image, readAt generation: UInt64) {
        state.withLockedValue { s in
            guard s.generation == generation else { return }
            if s.images.count >= capacity, s.images[image.id] == nil { s.images.remove(at: s.images.startIndex) }
            s.images[image.id] = image
        }
    }

    func invalidateAll() {
        state.withLockedValue { s in
            s.generation &+= 1
            s.images.removeAll(keepingCapacity: true)
        }
    }
}
