import GlimpseCore
import GlimpseDiskFormats
import GlimpseStorage
import NIOCore

/// The one write path for image data, used by every way data enters the store (PUT /file, stage, glance-direct,
/// web-download, locations, server snapshots): it applies the size cap, reserves the project's quota before bytes
/// are accepted, streams through the upload pipeline while the disk-format inspector reads the headers as they
/// pass, applies Glance's safety and format-match rules to the declared disk format, checks a declared size, and
/// commits or cancels the blob: nothing refused is ever committed.
extension ImageService {
    /// What reached the store, and the quota hold the caller releases once the image's size is recorded.
    struct IngestedData: Sendable {
        var size: Int64
        var md5: String
        var sha512: String
        /// The virtual size recorded for the declared disk format (nil when not inspected or unknown).
        var virtualSize: Int64?
        var quotaHold: QuotaReservation?

        /// Gives the quota reservation back: call after the metadata store records the size (or on failure).
        func releaseQuota() { quotaHold?.release() }
    }

    /// Who pays for the bytes: the owning project, or nobody when they are counted already (the staged copy of an
    /// image being imported by glance-direct is part of the project's usage).
    enum QuotaCharge: Sendable {
        case project(String?)
        case alreadyCounted
    }

    /// Streams `body` into the blob `key`. With a `diskFormat`, the data must be that format and pass the safety
    /// checks (415 otherwise, Glance's message); staging passes nil, its data is inspected when it is imported.
    /// On any failure the blob is cancelled (nothing kept) and the reservation released; on success the blob is
    /// committed and the caller owns `quotaHold`.
    func ingest<Body: AsyncSequence & Sendable>(
        _ body: Body, key: String, diskFormat: String?, containerFormat: String? = nil, declaredSize: Int64?,
        announcedSize: Int64? = nil, charge: QuotaCharge,
        sizeCapMessage: String
    ) async throws -> IngestedData where Body.Element == ByteBuffer {
        let cap = limits.imageSizeCap
        if let declaredSize, declaredSize > cap { throw GlimpseError.tooLarge(sizeCapMessage) }
        var reservation: QuotaReservation?
        if case .project(let owner?) = charge, let quota = limits.projectQuota {
            reservation = sharedQuotaReservation(owner: owner, quota: quota)
        }
        do {
            // A declared size is reserved whole before any byte flows: a write that cannot fit fails at once.
            if let declaredSize, let reservation { try await reservation.cover(exactly: declaredSize) }
            // A size the source announced (a remote's Content-Length) is reserved at once too, so that concurrent
            // fetches do not share the quota out step by step; the data may still differ, the stream is what counts.
            if declaredSize == nil, let announcedSize {
                if announcedSize > cap { throw GlimpseError.tooLarge(sizeCapMessage) }
                try await reservation?.cover(exactly: announcedSize)
            }
            let writer = try await blobs.makeWriter(key: key)
            do {
                let result = try await pipeline.copy(
                    body, into: writer, limit: cap, limitError: .tooLarge(sizeCapMessage), reservation: reservation,
                    inspect: diskFormat != nil)
                if let declaredSize, declaredSize != result.size {
                    throw GlimpseError.badRequest(
                        "The size of the uploaded data (\(result.size) bytes) does not match the declared size (\(declaredSize) bytes).")
                }
                var virtualSize: Int64?
                if let diskFormat, let inspection = result.inspection {
                    // As Glance: the format must match only for bare containers (an ova or ovf holds other
                    // things) and when the operator requires it; the safety checks of whatever the data is apply
                    // always.
                    let bare = containerFormat == nil || containerFormat == "bare"
                    var verdict = inspection.verdict(declaredFormat: diskFormat)
                    var recordsSize = true
                    if case .refused(.formatMismatch) = verdict, !bare || !limits.requireImageFormatMatch {
                        verdict = inspection.verdict(declaredFormat: DiskFormat.raw.rawValue)
                        recordsSize = false
                    }
                    switch verdict {
                    case .accepted(let size):
                        virtualSize = recordsSize ? size : nil
                    case .refused(let refusal):
                        logger.warning(
                            "data for \(key) refused: \(refusal.message) (detected \(inspection.format.rawValue); \(inspection.safetyViolations.joined(separator: "; ")))")
                        throw GlimpseError.unsupportedMedia(refusal.message)
                    }
                }
                try await writer.commit()
                return IngestedData(
                    size: result.size, md5: result.md5, sha512: result.sha512, virtualSize: virtualSize,
                    quotaHold: reservation)
            } catch {
                await writer.cancel()
                throw error
            }
        } catch {
            reservation?.release()
            throw error
        }
    }
}
