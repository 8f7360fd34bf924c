#if canImport(Glibc)
import Glibc
#endif

/// SHA-512 from the system's OpenSSL, when it can be loaded.
///
/// Why: swift-crypto's bundled BoringSSL only enables its AVX SHA-512 code on Intel CPUs, so on AMD it runs the
/// portable code at about 60% of the speed OpenSSL reaches with AVX2 on the same core; SHA-512 is the critical path
/// of every upload. The library is opened at run time, so building needs no OpenSSL headers and a machine without
/// it still works: `make()` returns nil and the caller falls back to swift-crypto. `GLIMPSE_SYSTEM_SHA512=0` turns
/// it off.
final class SystemSHA512: @unchecked Sendable {
    // One context, driven by one thread at a time (the upload's SHA lane processes chunks strictly in order).
    private let ctx: OpaquePointer
    private let api: API

    struct API: @unchecked Sendable {
        typealias NewCtx = @convention(c) () -> OpaquePointer?
        typealias FreeCtx = @convention(c) (OpaquePointer?) -> Void
        typealias Algorithm = @convention(c) () -> OpaquePointer?
        typealias Init = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
        typealias Update = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> Int32
        typealias Final = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?) -> Int32

        let newCtx: NewCtx
        let freeCtx: FreeCtx
        let sha512: Algorithm
        let initialize: Init
        let update: Update
        let final: Final

        /// Loaded once per process; nil when no usable libcrypto is installed.
        static let shared: API? = load()

        static func load() -> API? {
            if getenv("GLIMPSE_SYSTEM_SHA512").map({ String(cString: $0) }) == "0" { return nil }
            for name in ["libcrypto.so.3", "libcrypto.so.1.1"] {
                guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
                func symbol<T>(_ s: String, as: T.Type) -> T? {
                    dlsym(handle, s).map { unsafeBitCast($0, to: T.self) }
                }
                if let newCtx = symbol("EVP_MD_CTX_new", as: NewCtx.self),
                   let freeCtx = symbol("EVP_MD_CTX_free", as: FreeCtx.self),
                   let sha512 = symbol("EVP_sha512", as: Algorithm.self),
                   let initialize = symbol("EVP_DigestInit_ex", as: Init.self),
                   let update = symbol("EVP_DigestUpdate", as: Update.self),
                   let final = symbol("EVP_DigestFinal_ex", as: Final.self) {
                    let api = API(newCtx: newCtx, freeCtx: freeCtx, sha512: sha512, initialize: initialize,
                                  update: update, final: final)
                    if api.selfTestPasses() { return api }
                }
                dlclose(handle)
            }
            return nil
        }

        /// A library that loads but answers wrongly must never be trusted with checksums.
        func selfTestPasses() -> Bool {
            guard let h = SystemSHA512(api: self) else { return false }
            let abc: [UInt8] = Array("abc".utf8)
            abc.withUnsafeBytes { h.update($0) }
            return h.finalize().prefix(8) == [0xdd, 0xaf, 0x35, 0xa1, 0x93, 0x61, 0x7a, 0xba]
        }
    }

    static var isAvailable: Bool { API.shared != nil }

    static func make() -> SystemSHA512? { API.shared.flatMap { SystemSHA512(api: $0) } }

    private init?(api: API) {
        guard let ctx = api.newCtx() else { return nil }
        guard api.initialize(ctx, api.sha512(), nil) == 1 else {
            api.freeCtx(ctx)
            return nil
        }
        self.ctx = ctx
        self.api = api
    }

    deinit { api.freeCtx(ctx) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        // EVP_DigestUpdate only fails on a context that was never initialised, which init? rules out.
        _ = api.update(ctx, bytes.baseAddress, bytes.count)
    }

    func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        _ = out.withUnsafeMutableBufferPointer { api.final(ctx, $0.baseAddress, &length) }
        return out
    }
}
