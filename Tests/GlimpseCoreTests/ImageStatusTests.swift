import GlimpseCore
import Testing

@Suite("Image status transitions")
struct ImageStatusTests {
    @Test func uploadsMayOnlyStartFromQueued() {
        for status in ImageStatus.allCases {
            #expect(status.canMove(to: .saving) == (status == .queued), "\(status)")
        }
    }

    @Test func aFailedUploadGoesBackToQueued() {
        #expect(ImageStatus.saving.canMove(to: .queued))
        #expect(ImageStatus.saving.canMove(to: .active))
        #expect(!ImageStatus.active.canMove(to: .queued))
    }

    @Test func refusalsUseGlancesWording() {
        #expect(ImageStatus.active.transitionError(to: .saving)
            == .conflict("Image status transition from active to saving is not allowed"))
    }

    @Test func onlyStatusesWithStoredDataHaveData() {
        #expect(ImageStatus.allCases.filter(\.hasData) == [.active, .pendingDelete, .deactivated])
    }
}
