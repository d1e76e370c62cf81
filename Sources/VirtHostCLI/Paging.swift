import ArgumentParser
import SwiftProtobuf
import VirtHostClient

/// `--limit`, `--page-token` and `--prefix` of the list commands.
///
/// With `--json` a list command makes one call and prints the response as
/// the agent sent it: the items, `next_page_token` (set when more follow)
/// and, for libvirt's objects, `event_sequence`/`event_epoch` (where
/// `virthost events --since` goes on without missing a change). The table
/// walks every page.
struct PageOptions: ParsableArguments {
    @OptionGroup var tokens: PageTokenOptions
    @Option(help: "Only names that start with this.")
    var prefix: String = ""

    var limit: UInt32 { tokens.limit }
    var pageToken: String { tokens.pageToken }

    /// See ``PageTokenOptions/items(_:_:token:_:page:)``.
    func items<Request, Response: SwiftProtobuf.Message, Item>(
        _ options: ClientOptions, _ request: Request, token: WritableKeyPath<Request, String>,
        _ call: (VirtHostClient, Request) async throws -> Response, page: (Response) -> (items: [Item], next: String)
    ) async throws -> [Item]? {
        try await tokens.items(options, request, token: token, call, page: page)
    }
}

/// `--limit` and `--page-token` alone, for lists without names to filter
/// on (`net leases`).
struct PageTokenOptions: ParsableArguments {
    @Option(help: "Items per call, at most 1000 (0: all in one call). With --json one page is printed; the table walks every page.")
    var limit: UInt32 = 0
    @Option(name: .customLong("page-token"), help: "Go on after a page: a --json output's next_page_token.")
    var pageToken: String = ""

    /// A list command's calls, on a client of `options`: `request` with the
    /// page token at `token` set. With `--json`: one call from --page-token, its
    /// response printed, nil returned. Otherwise a call with each page's
    /// token from --page-token on, until `page` says no next page is left;
    /// every item is returned, for the table.
    func items<Request, Response: SwiftProtobuf.Message, Item>(
        _ options: ClientOptions, _ request: Request, token: WritableKeyPath<Request, String>,
        _ call: (VirtHostClient, Request) async throws -> Response, page: (Response) -> (items: [Item], next: String)
    ) async throws -> [Item]? {
        try await options.withClient { client in
            func from(_ pageToken: String) async throws -> Response {
                var request = request
                request[keyPath: token] = pageToken
                return try await call(client, request)
            }
            if options.json {
                try Output.json(try await from(pageToken))
                return nil
            }
            var token = pageToken
            var all: [Item] = []
            repeat {
                let (items, next) = page(try await from(token))
                all += items
                token = next
            } while !token.isEmpty
            return all
        }
    }
}
