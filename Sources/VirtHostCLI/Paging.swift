import ArgumentParser
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

    /// Calls `fetch` with each page's token, from --page-token on, until no
    /// next page is left; returns every item.
    func walk<Item>(_ fetch: (String) async throws -> (items: [Item], next: String)) async throws -> [Item] {
        try await tokens.walk(fetch)
    }
}

/// `--limit` and `--page-token` alone, for lists without names to filter
/// on (`net leases`).
struct PageTokenOptions: ParsableArguments {
    @Option(help: "Items per call, at most 1000 (0: all in one call). With --json one page is printed; the table walks every page.")
    var limit: UInt32 = 0
    @Option(name: .customLong("page-token"), help: "Go on after a page: a --json output's next_page_token.")
    var pageToken: String = ""

    /// Calls `fetch` with each page's token, from --page-token on, until no
    /// next page is left; returns every item.
    func walk<Item>(_ fetch: (String) async throws -> (items: [Item], next: String)) async throws -> [Item] {
        var token = pageToken
        var all: [Item] = []
        repeat {
            let (items, next) = try await fetch(token)
            all += items
            token = next
        } while !token.isEmpty
        return all
    }
}
